import { aggregatesPath } from '../scarf/endpoints.js';
import { dayOf, minDay, periodWindows, type Rollup } from './days.js';
import { fetchRecords } from './fetch.js';
import { forEachRange } from './ranges.js';
import { resumeDay } from './resume.js';
import type { AggregatesRecord } from '../generated/records.js';
import type { Rec, StreamReader } from './types.js';

const DIMENSIONS = [
  'company_domain',
  'cloud_provider_domain',
  'country',
  'platform',
  'version',
  'client',
  'variable',
  'value',
  'domain',
] as const;

type KeySource = Pick<AggregatesRecord, 'owner' | 'date' | 'rollup' | 'breakdown' | 'artifact'> &
  Partial<Pick<AggregatesRecord, (typeof DIMENSIONS)[number] | 'company_name'>>;

/**
 * Names are left out on purpose: a revised company name must not create a second row. The
 * owner leads, so row_key alone is unique in a table holding several owners.
 */
export function aggregateRowKey(rec: KeySource): string {
  const parts: unknown[] = [rec.owner, rec.date, rec.rollup, rec.breakdown, rec.artifact];
  for (const d of DIMENSIONS) parts.push(rec[d] ?? null);
  return JSON.stringify(parts);
}

/**
 * Aggregates in period-aligned windows. Scarf revises past aggregates, so every sync
 * re-reads aggregates_lookback_days before the bookmark; rows are keyed by row_key so the
 * target replaces the revised values.
 */
export const readAggregates: StreamReader = async (ctx, selection, sink, stats) => {
  const s = ctx.settings;
  const rollup = s.aggregates_rollup as Rollup;
  const incremental = selection.replicationMethod === 'INCREMENTAL';
  const breakdowns = s.aggregates_breakdowns;
  // Each breakdown resumes from its own bookmark (src/streams/settings.ts); a window asks
  // for the breakdowns whose pending range it reaches, so a newly added breakdown is
  // backfilled alone and joins the others where their lookback begins.
  const resume = new Map(
    breakdowns.map((b) => [b, resumeDay(ctx, incremental ? ctx.state.breakdownValue(b) : undefined, s.aggregates_lookback_days)]),
  );
  const start = [...resume.values()].reduce(minDay);
  const split = (w: { start: string; end: string }, max: number) => periodWindows(w.start, w.end, max, rollup);
  const windows = periodWindows(start, ctx.endDay, s.aggregates_window_days, rollup);
  stats.windowsPlanned = windows.length;
  for (const window of windows) {
    const asked = breakdowns.filter((b) => resume.get(b)! <= window.end);
    await forEachRange(ctx, 'aggregates', window, split, async (w) => {
      stats.windows++;
      await fetchRecords(
        ctx,
        {
          stream: 'aggregates',
          endpoint: 'aggregates',
          path: aggregatesPath(s.owner),
          query: { start_date: w.start, end_date: w.end, query: s.package_query, rollup, breakdown: asked },
          label: `aggregates ${w.start}..${w.end}`,
          keyField: 'row_key',
          // The typer has just built the record from schemas/aggregates.json: it has this shape.
          deriveKey: (rec: Rec) => aggregateRowKey(rec as unknown as KeySource),
        },
        new Set<string>(),
        stats,
        sink.record,
      );
      const mark = minDay(w.end, dayOf(ctx.signpost));
      for (const b of asked) {
        const prev = incremental ? ctx.state.breakdownValue(b) : undefined;
        ctx.state.setBreakdownValue(b, prev && prev > mark ? prev : mark);
      }
      // The stream's own value: every configured breakdown is read up to it.
      const values = breakdowns.map((b) => ctx.state.breakdownValue(b));
      if (values.every((v): v is string => v !== undefined)) ctx.state.setValue('aggregates', 'date', values.reduce(minDay));
      await sink.checkpoint();
    });
  }
};
