import { eventsPath } from '../scarf/endpoints.js';
import { dayWindows } from './days.js';
import { fetchRecords } from './fetch.js';
import { forEachRange, splitByDays } from './ranges.js';
import { coverageMark, resumeDay } from './resume.js';
import type { StreamReader } from './types.js';

/** Raw events in UTC-day windows; each window's bookmark is committed after its last record. */
export const readEvents: StreamReader = async (ctx, selection, sink, stats) => {
  const incremental = selection.replicationMethod === 'INCREMENTAL';
  const previous = incremental ? ctx.state.value('events', 'time') : undefined;
  const start = resumeDay(ctx, previous, ctx.settings.lookback_days);
  const windows = dayWindows(start, ctx.endDay, ctx.settings.events_window_days);
  for (const window of windows) {
    await forEachRange(ctx, 'events', window, splitByDays, async (w) => {
      stats.windows++;
      const seen = new Set<string>();
      await fetchRecords(
        ctx,
        {
          stream: 'events',
          endpoint: 'events',
          path: eventsPath(ctx.settings.owner),
          query: { start_date: w.start, end_date: w.end, query: ctx.settings.package_query },
          label: `events ${w.start}..${w.end}`,
          keyField: 'id',
        },
        seen,
        stats,
        sink.record,
      );
      ctx.state.setValue('events', 'time', coverageMark(ctx, w.end, incremental ? ctx.state.value('events', 'time') : undefined));
      await sink.checkpoint();
    });
  }
};
