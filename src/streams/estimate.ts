// How many requests (Scarf Runs, which the user pays for) a sync is about to make, worked
// out from the windows each stream will request, so a start_date decades back is pointed
// out before the Runs are spent, not after.
import type { StreamSelection } from '../catalog.js';
import { log } from '../log.js';
import { dayWindows, minDay, periodWindows, type Rollup } from './days.js';
import { resumeDay } from './resume.js';
import { StreamState } from './stream-state.js';
import type { SyncContext } from './types.js';

/** Above this many requests the sync says how many it is about to make. */
export const MANY_REQUESTS = 1000;

/** Requests per stream: a lower bound (range-too-long splits and retries add to it). */
export function estimateRequests(ctx: SyncContext, selections: StreamSelection[]): Map<string, number> {
  const s = ctx.settings;
  const out = new Map<string, number>();
  const names = selections.map((x) => x.stream);
  for (const sel of selections) {
    const state = new StreamState(ctx.state, sel, ctx.settings.owner);
    switch (sel.stream) {
      case 'events': {
        const start = resumeDay(ctx, state.bookmark(), s.lookback_days);
        out.set('events', dayWindows(start, ctx.endDay, s.events_window_days).length);
        break;
      }
      case 'aggregates': {
        const start = s.aggregates_breakdowns
          .map((b) => resumeDay(ctx, state.breakdown(b), s.aggregates_lookback_days))
          .reduce(minDay);
        out.set('aggregates', periodWindows(start, ctx.endDay, s.aggregates_window_days, s.aggregates_rollup as Rollup).length);
        break;
      }
      case 'company_rollup':
        out.set('company_rollup', 1);
        break;
      case 'company_events':
        // One request per company over its whole pending range; without a list, the number of
        // active companies is only known after the rollup is read (one request).
        out.set('company_events', s.company_domains ? s.company_domains.length : names.includes('company_rollup') ? 0 : 1);
        break;
    }
  }
  return out;
}

export function warnIfManyRequests(ctx: SyncContext, selections: StreamSelection[]): void {
  const perStream = estimateRequests(ctx, selections);
  const total = [...perStream.values()].reduce((a, b) => a + b, 0);
  if (total <= MANY_REQUESTS) return;
  log.warn(
    `This sync will make about ${total} API requests (Scarf Runs) — an estimate from the windows of days ${ctx.startDay}..${ctx.endDay}: ${[
      ...perStream,
    ]
      .map(([k, v]) => `${k} ~${v}`)
      .join(
        ', ',
      )}${selections.some((x) => x.stream === 'company_events') && !ctx.settings.company_domains ? ', plus one per active company for company_events' : ''}; Scarf refusing a long range adds more. If that is not intended, stop now and set a later start_date, or larger events_window_days / aggregates_window_days.`,
  );
}
