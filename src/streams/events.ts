import { eventsPath } from '../scarf/endpoints.js';
import { dayWindows } from './days.js';
import { STREAMS } from './definitions.js';
import { splitByDays } from './ranges.js';
import { coverageMark, resumeDay } from './resume.js';
import { runWindows } from './runner.js';
import { StreamState } from './stream-state.js';
import type { StreamReader } from './types.js';

/** Raw events in UTC-day windows; each window's bookmark is a coverage mark (docs/DESIGN.md). */
export const readEvents: StreamReader = (ctx, selection, sink, stats) => {
  const state = new StreamState(ctx.state, selection);
  const start = resumeDay(ctx, state.bookmark(), ctx.settings.lookback_days);
  return runWindows(
    ctx,
    {
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
    },
    sink,
    stats,
  );
};
