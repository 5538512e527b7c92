import { eventsPath } from '../scarf/endpoints.js';
import { dayWindows, type Window } from './engine/days.js';
import type { StreamSelection } from './engine/definitions.js';
import type { StreamDeclaration } from './engine/definitions.js';
import type { StreamModule } from './engine/module.js';
import { splitByDays } from './engine/ranges.js';
import { coverageMark, resumeDay } from './engine/resume.js';
import { runWindows, type WindowedStream, type WindowRequest } from './engine/runner.js';
import { plural, type StreamPlan, windowsPlan } from './engine/stream-plan.js';
import { StreamState } from './engine/stream-state.js';
import type { SyncContext } from './engine/types.js';

/**
 * Rows of the events columns in UTC-day windows of events_window_days from the bookmark minus
 * lookback_days; each window's bookmark is a coverage mark (docs/DESIGN.md). events, and
 * pixel_events on its own export, differ only in their declaration and request.
 */
export function eventDayStream(
  ctx: SyncContext,
  selection: StreamSelection,
  declaration: StreamDeclaration,
  request: (w: Window) => WindowRequest,
): WindowedStream<Window> {
  const state = new StreamState(ctx.state, declaration, selection);
  const start = resumeDay(ctx, state.bookmark(), ctx.settings.lookback_days);
  return {
    declaration,
    windows: dayWindows(start, ctx.endDay, ctx.settings.events_window_days),
    split: splitByDays,
    concurrent: true,
    request: (_window, w) => request(w),
    commit: (_window, w) => state.commit(coverageMark(ctx, w.end, state.bookmark())),
  };
}

/** The plan of an eventDayStream. */
export function eventDayPlan(ctx: SyncContext, stream: WindowedStream<Window>): StreamPlan {
  return windowsPlan(ctx, stream, plural(ctx.settings.events_window_days, 'day'));
}

/**
 * What events and pixel_events declare alike (pixel_events reads the events columns from its
 * own export): the key, the cursor, the day windows and their lookback, the CSV fast path.
 * Alike in shape to periodRowsDeclaration (aggregates.ts) by design: every stream declares the
 * same fields (docs/DESIGN.md "Adding a stream", "Repeated shapes").
 */
export const eventRowsDeclaration = {
  format: 'csv',
  keyProperties: ['owner', 'id'],
  validReplicationKeys: ['time'],
  defaultReplicationKey: 'time',
  userChoosableCursor: false,
  dependsOn: [],
  window: 'days',
  lookback: 'lookback_days',
  pastSignpost: 'signpost',
  fastCsv: true,
} satisfies Partial<StreamDeclaration>;

const declaration: StreamDeclaration = {
  name: 'events',
  endpoint: 'events',
  ...eventRowsDeclaration,
  coveredBy: { start_date: 'start_date', package_query: 'package_query' },
  verifiedAgainst: 'total',
  tallyField: 'time',
};

/** Raw events; verified against Scarf's counts, so its open days are read again as one-day windows. */
function eventsStream(ctx: SyncContext, selection: StreamSelection): WindowedStream<Window> {
  return {
    ...eventDayStream(ctx, selection, declaration, (w) => ({
      path: eventsPath(ctx.settings.owner),
      query: { start_date: w.start, end_date: w.end, query: ctx.settings.package_query },
      label: `events ${w.start}..${w.end}`,
    })),
    openWindow: (e) => (e.company_domain === undefined ? { start: e.day, end: e.day } : undefined),
  };
}

export const events: StreamModule = {
  declaration,
  read: (run) => runWindows(run, eventsStream(run.ctx, run.selection)),
  plan: (ctx, selection) => eventDayPlan(ctx, eventsStream(ctx, selection)),
};
