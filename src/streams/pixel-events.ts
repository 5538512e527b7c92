// Tracking-pixel views from their own export (GET /v2/tracking-pixels/{owner}/events): the
// events columns and rules, so the same windows, bookmark and lookback as events. Whether the
// entity-wide events export holds these views too is not documented (docs/scarf-api.md "More
// v2 exports"): the ids are the same either way, so a target keyed by id never double-counts
// within one table, and the README says which of the two streams to select.
import type { StreamSelection } from '../catalog.js';
import { pixelEventsPath } from '../scarf/endpoints.js';
import { dayWindows, type Window } from './days.js';
import { STREAMS } from './definitions.js';
import { plural, type StreamPlanner, windowedPlan } from './planned.js';
import { splitByDays } from './ranges.js';
import { coverageMark, resumeDay } from './resume.js';
import { runWindows, type WindowedStream } from './runner.js';
import { StreamState } from './stream-state.js';
import type { StreamReader, SyncContext } from './types.js';

/** UTC-day windows of events_window_days; each window's bookmark is a coverage mark, as for events. */
function pixelEventsStream(ctx: SyncContext, selection: StreamSelection): WindowedStream<Window> {
  const state = new StreamState(ctx.state, selection);
  const start = resumeDay(ctx, state.bookmark(), ctx.settings.lookback_days);
  return {
    declaration: STREAMS.pixel_events,
    windows: dayWindows(start, ctx.endDay, ctx.settings.events_window_days),
    split: splitByDays,
    concurrent: true,
    // No `query`: package_query names packages, and this export holds none.
    request: (_window, w) => ({
      path: pixelEventsPath(ctx.settings.owner),
      query: { start_date: w.start, end_date: w.end },
      label: `pixel_events ${w.start}..${w.end}`,
    }),
    commit: (_window, w) => state.commit(coverageMark(ctx, w.end, state.bookmark())),
  };
}

export const readPixelEvents: StreamReader = (ctx, selection, sink, stats) =>
  runWindows(ctx, pixelEventsStream(ctx, selection), sink, stats);

export const planPixelEvents: StreamPlanner = (ctx, selection) => {
  const stream = pixelEventsStream(ctx, selection);
  const first = stream.windows[0];
  return windowedPlan(
    stream,
    first
      ? `${plural(stream.windows.length, 'window')} of ${plural(ctx.settings.events_window_days, 'day')}, ${first.start}..${ctx.endDay}`
      : 'nothing to read',
  );
};
