// A stream is one module exporting one StreamModule: its declaration, its reader and its
// planner (src/streams/registry.ts lists them; docs/DESIGN.md "Adding a stream").
import type { Settings } from '../../config/load.js';
import type { StreamName } from '../../schemas.js';
import type { StreamDeclaration } from './definitions.js';
import type { StreamPlanner } from './stream-plan.js';
import type { StreamReader, SyncContext } from './types.js';

/** A request `tap-scarf --plan` makes before it can count a stream's requests (company_events: the company-rollup snapshot). */
export interface PlanPrerequisite {
  /** Whether the plan of these selected streams under these settings needs it. */
  needed(settings: Settings, selected: readonly StreamName[]): boolean;
  /** Makes it, leaving what the planner needs on ctx. */
  read(ctx: SyncContext): Promise<void>;
  /** What the plan's log says it read. */
  said: string;
}

export interface StreamModule {
  declaration: StreamDeclaration;
  read: StreamReader;
  /** The requests `read` would make (src/streams/engine/stream-plan.ts), for the plan and the budget. */
  plan: StreamPlanner;
  planPrerequisite?: PlanPrerequisite;
}
