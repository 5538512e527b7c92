// Tracking-pixel views from their own export (GET /v2/tracking-pixels/{owner}/events): the
// events columns and rules, so the same windows, bookmark and lookback as events. Whether the
// entity-wide events export holds these views too is not documented (docs/scarf-api.md "More
// v2 exports"): the ids are the same either way, so a target keyed by id never double-counts
// within one table, and the README says which of the two streams to select.
import { pixelEventsPath } from '../scarf/endpoints.js';
import type { Window } from './engine/days.js';
import type { StreamSelection } from './engine/definitions.js';
import type { StreamDeclaration } from './engine/definitions.js';
import type { StreamModule } from './engine/module.js';
import { runWindows, type WindowedStream } from './engine/runner.js';
import type { SyncContext } from './engine/types.js';
import { eventDayPlan, eventDayStream, eventRowsDeclaration } from './events.js';

const declaration: StreamDeclaration = {
  name: 'pixel_events',
  endpoint: 'pixel-events',
  ...eventRowsDeclaration,
  // The endpoint takes no package query: only start_date narrows what it reads.
  coveredBy: { start_date: 'start_date' },
  optIn: true,
};

/** The windows, bookmark and lookback of events, on the pixel export; not verified, so no open days. */
function pixelEventsStream(ctx: SyncContext, selection: StreamSelection): WindowedStream<Window> {
  // No `query`: package_query names packages, and this export holds none.
  return eventDayStream(ctx, selection, declaration, (w) => ({
    path: pixelEventsPath(ctx.settings.owner),
    query: { start_date: w.start, end_date: w.end },
    label: `pixel_events ${w.start}..${w.end}`,
  }));
}

export const pixelEvents: StreamModule = {
  declaration,
  read: (run) => runWindows(run, pixelEventsStream(run.ctx, run.selection)),
  plan: (ctx, selection) => eventDayPlan(ctx, pixelEventsStream(ctx, selection)),
};
