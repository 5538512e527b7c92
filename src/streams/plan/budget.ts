// max_requests_per_sync without livelock (docs/reliability.md "The request budget"):
// - Every selected stream must be able to make progress within the budget on its own: its
//   requests up to the first one that moves its state (Scarf's counts, a lookback re-read,
//   the rollup snapshot included). A budget below that is refused before the first request,
//   naming the smallest budget that works.
// - A stream the budget stopped before it moved, or never started, is marked starved in its
//   state entry ("starved_since": the sync's signpost); the next sync serves the starved
//   streams first, the longest starved first, so no stream waits forever behind another's
//   lookback. A stream that moved, or finished, is unmarked.
import { ConfigError } from '../../errors.js';
import type { StreamName } from '../../schemas.js';
import { StateStore } from '../../state.js';
import type { StreamSelection } from '../engine/definitions.js';
import type { SyncContext } from '../engine/types.js';
import { STREAMS } from '../registry.js';
import { progressOf } from './starved.js';
import { planStreams } from './sync-plan.js';

/**
 * Requests the stream needs, read first, before its state moves: undefined when no request
 * would move it (it is up to date). A stream whose requests cannot be counted before the
 * rollup snapshot (company_events) is counted as the snapshot, its counts and one company.
 */
export function firstStep(ctx: SyncContext, selections: StreamSelection[], stream: StreamName): number | undefined {
  const sel = selections.find((s) => s.stream === stream)!;
  const deps = STREAMS[stream].dependsOn.flatMap((d) => selections.filter((s) => s.stream === d));
  const copy: SyncContext = { ...ctx, state: new StateStore(ctx.state.snapshot()) };
  const plan = planStreams(copy, [...deps, sel]);
  const requests = plan.streams.flatMap((p) => p.requests);
  const start = progressOf(copy.state, stream);
  for (let i = 0; i < requests.length; i++) {
    requests[i]!.commit?.();
    if (progressOf(copy.state, stream) !== start) return i + 1;
  }
  const own = plan.streams.find((p) => p.stream === stream);
  if (own?.bound === 'unknown') return requests.length + (ctx.settings.verify_counts ? 1 : 0) + 1;
  return undefined;
}

/** Refuses a budget some selected stream cannot make progress within, before any request. */
export function checkBudget(ctx: SyncContext, selections: StreamSelection[]): void {
  const budget = ctx.settings.max_requests_per_sync;
  if (budget === undefined) return;
  let need = 0;
  let who: StreamName | undefined;
  for (const s of selections) {
    const n = firstStep(ctx, selections, s.stream);
    if (n !== undefined && n > need) {
      need = n;
      who = s.stream;
    }
  }
  if (need > budget)
    throw new ConfigError(
      `max_requests_per_sync is ${budget}, but ${who} needs ${need} requests before its bookmark can move (from this state: ${ctx.settings.verify_counts ? "Scarf's counts, " : ''}its lookback and its next window${STREAMS[who!].dependsOn.length ? ', the rollup snapshot' : ''}), so every sync would spend the budget without progress. Set max_requests_per_sync to at least ${need}, or remove it. No request was made.`,
    );
}
