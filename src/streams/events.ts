import { eventsPath } from '../scarf/endpoints.js';
import { dayWindows } from './days.js';
import { fetchRecords } from './fetch.js';
import { runInOrder } from './ordered.js';
import { forEachRange, splitByDays } from './ranges.js';
import { coverageMark, resumeDay } from './resume.js';
import type { StreamReader } from './types.js';

/** Raw events in UTC-day windows; each window's bookmark is committed after its last record. */
export const readEvents: StreamReader = async (ctx, selection, sink, stats) => {
  const incremental = selection.replicationMethod === 'INCREMENTAL';
  const start = resumeDay(ctx, incremental ? ctx.state.value('events', 'time') : undefined, ctx.settings.lookback_days);
  const windows = dayWindows(start, ctx.endDay, ctx.settings.events_window_days);
  stats.windowsPlanned = windows.length;
  await runInOrder(windows, ctx.settings.max_concurrent_requests, (window, waitTurn) =>
    forEachRange(ctx, 'events', window, splitByDays, async (w) => {
      stats.windows++;
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
        new Set<string>(),
        stats,
        sink.record,
        waitTurn,
      );
      await waitTurn();
      ctx.state.setValue('events', 'time', coverageMark(ctx, w.end, incremental ? ctx.state.value('events', 'time') : undefined));
      await sink.checkpoint();
    }),
  );
};
