import type { StreamSelection } from '../catalog.js';
import type { AggregatesRecord } from '../generated/records.js';
import { aggregatesPath } from '../scarf/endpoints.js';
import { dayOf, minDay, periodWindows, type Rollup, type Window } from './days.js';
import { STREAMS } from './definitions.js';
import { plural, type StreamPlanner, windowedPlan } from './planned.js';
import { resumeDay } from './resume.js';
import { runWindows, type WindowedStream } from './runner.js';
import { StreamState } from './stream-state.js';
import type { Rec, StreamReader, SyncContext } from './types.js';

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

interface BreakdownWindow extends Window {
  /** The breakdowns whose pending range this window reaches. */
  asked: string[];
}

/**
 * Aggregates in period-aligned windows. Scarf revises past aggregates, so every sync
 * re-reads aggregates_lookback_days before the bookmark; rows are keyed by row_key so the
 * target replaces the revised values.
 */
function aggregatesStream(ctx: SyncContext, selection: StreamSelection): WindowedStream<BreakdownWindow> {
  const s = ctx.settings;
  const rollup = s.aggregates_rollup as Rollup;
  const state = new StreamState(ctx.state, selection);
  const breakdowns = s.aggregates_breakdowns;
  // Each breakdown resumes from its own bookmark (src/streams/settings.ts); a window asks
  // for the breakdowns whose pending range it reaches, so a newly added breakdown is
  // backfilled alone and joins the others where their lookback begins.
  const resume = new Map(breakdowns.map((b) => [b, resumeDay(ctx, state.breakdown(b), s.aggregates_lookback_days)]));
  const start = [...resume.values()].reduce(minDay);
  const windows: BreakdownWindow[] = periodWindows(start, ctx.endDay, s.aggregates_window_days, rollup).map((w) => ({
    ...w,
    asked: breakdowns.filter((b) => resume.get(b)! <= w.end),
  }));
  return {
    declaration: STREAMS.aggregates,
    windows,
    split: (w, max) => periodWindows(w.start, w.end, max, rollup),
    concurrent: false,
    request: ({ asked }, w) => ({
      path: aggregatesPath(s.owner),
      query: { start_date: w.start, end_date: w.end, query: s.package_query, rollup, breakdown: asked },
      label: `aggregates ${w.start}..${w.end}`,
      // The typer has just built the record from schemas/aggregates.json: it has this shape.
      deriveKey: (rec: Rec) => aggregateRowKey(rec as unknown as KeySource),
    }),
    commit: ({ asked }, w) => {
      const mark = minDay(w.end, dayOf(ctx.signpost));
      for (const b of asked) {
        const prev = state.breakdown(b);
        state.commitBreakdown(b, prev && prev > mark ? prev : mark);
      }
      // The stream's own value: every configured breakdown is read up to it.
      const values = breakdowns.map((b) => state.storedBreakdown(b));
      if (values.every((v): v is string => v !== undefined)) state.commit(values.reduce(minDay));
    },
  };
}

export const readAggregates: StreamReader = (ctx, selection, sink, stats) =>
  runWindows(ctx, aggregatesStream(ctx, selection), sink, stats);

export const planAggregates: StreamPlanner = (ctx, selection) => {
  const stream = aggregatesStream(ctx, selection);
  const first = stream.windows[0];
  return windowedPlan(
    stream,
    first
      ? `${plural(stream.windows.length, 'window')} of up to ${plural(ctx.settings.aggregates_window_days, 'day')} (${ctx.settings.aggregates_rollup}), ${first.start}..${ctx.endDay}`
      : 'nothing to read',
  );
};
