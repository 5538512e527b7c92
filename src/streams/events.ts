import type { StreamSelection } from '../catalog.js';
import { eventsPath } from '../scarf/endpoints.js';
import { dayWindows, type Window } from './days.js';
import { STREAMS } from './definitions.js';
import { plural, type StreamPlanner, windowedPlan } from './planned.js';
import { splitByDays } from './ranges.js';
import { coverageMark, resumeDay } from './resume.js';
import { runWindows, type WindowedStream } from './runner.js';
import { StreamState } from './stream-state.js';
import type { StreamReader, SyncContext } from './types.js';

/** Raw events in UTC-day windows; each window's bookmark is a coverage mark (docs/DESIGN.md). */
function eventsStream(ctx: SyncContext, selection: StreamSelection): WindowedStream<Window> {
  const state = new StreamState(ctx.state, selection);
  const start = resumeDay(ctx, state.bookmark(), ctx.settings.lookback_days);
  return {
    declaration: STREAMS.events,
    windows: dayWindows(start, ctx.endDay, ctx.settings.events_window_days),
    split: splitByDays,
    concurrent: true,
    request: (_window, w) => ({
      path: eventsPath(ctx.settings.owner),
      query: { start_date: w.start, end_date: w.end, query: ctx.settings.package_query },
      label: `events ${w.start}..${w.end}`,
    }),
    commit: (_window, w) => state.commit(coverageMark(ctx, w.end, state.bookmark())),
    openWindow: (e) => (e.company_domain === undefined ? { start: e.day, end: e.day } : undefined),
  };
}

export const readEvents: StreamReader = (ctx, selection, sink, stats) =>
  runWindows(ctx, eventsStream(ctx, selection), sink, stats);

export const planEvents: StreamPlanner = (ctx, selection) => {
  const stream = eventsStream(ctx, selection);
  const first = stream.windows[0];
  return windowedPlan(
    stream,
    first
      ? `${plural(stream.windows.length, 'window')} of ${plural(ctx.settings.events_window_days, 'day')}, ${first.start}..${ctx.endDay}`
      : 'nothing to read',
    ctx,
  );
};
