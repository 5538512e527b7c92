import type { AggregatesRecord } from '../generated/records.js';
import { log } from '../log.js';
import { aggregatesPath } from '../scarf/endpoints.js';
import { dayOf, minDay, periodWindows, type Rollup, type Window } from './engine/days.js';
import type { StreamDeclaration, StreamSelection } from './engine/definitions.js';
import type { StreamModule } from './engine/module.js';
import { resumeDay } from './engine/resume.js';
import { runWindows, type WindowedStream } from './engine/runner.js';
import { plural, windowsPlan } from './engine/stream-plan.js';
import { StreamState } from './engine/stream-state.js';
import type { Rec, SyncContext } from './engine/types.js';

/** Dimensions v2 and v3 rows both carry, in this order in both row keys (aggregations.ts). */
export const SHARED_DIMENSIONS = ['platform', 'version', 'client', 'variable', 'value', 'domain'] as const;

const DIMENSIONS = ['company_domain', 'cloud_provider_domain', 'country', ...SHARED_DIMENSIONS] as const;

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
 * What aggregates and aggregations declare alike (both export period rows, one row per
 * breakdown value): the row_key key, the date cursor, the period windows, the signpost's day.
 * Alike in shape to eventRowsDeclaration (events.ts) by design: every stream declares the same
 * fields (docs/DESIGN.md "Adding a stream", "Repeated shapes").
 */
export const periodRowsDeclaration = {
  format: 'ndjson',
  keyProperties: ['owner', 'row_key'],
  validReplicationKeys: ['date'],
  defaultReplicationKey: 'date',
  userChoosableCursor: false,
  dependsOn: [],
  window: 'periods',
  pastSignpost: 'signpost-day',
} satisfies Partial<StreamDeclaration>;

const declaration: StreamDeclaration = {
  name: 'aggregates',
  endpoint: 'aggregates',
  ...periodRowsDeclaration,
  lookback: 'aggregates_lookback_days',
  coveredBy: { start_date: 'start_date', package_query: 'package_query', rollup: 'aggregates_rollup' },
  bookmarkPer: 'aggregates_breakdowns',
  verifiedAgainst: 'by-total-rows',
};

interface BreakdownWindow extends Window {
  /** The breakdowns whose pending range this window reaches. */
  asked: string[];
}

/**
 * Aggregates in period-aligned windows. Scarf revises past aggregates, so every sync
 * re-reads aggregates_lookback_days before the bookmark; rows are keyed by row_key so the
 * target replaces the revised values.
 */
function aggregatesStream(
  ctx: SyncContext,
  selection: StreamSelection,
  counted?: { rows: number },
): WindowedStream<BreakdownWindow> {
  const s = ctx.settings;
  const rollup = s.aggregates_rollup as Rollup;
  const state = new StreamState(ctx.state, declaration, selection);
  const breakdowns = s.aggregates_breakdowns;
  // Each breakdown resumes from its own bookmark (src/streams/state/settings.ts); a window asks
  // for the breakdowns whose pending range it reaches, so a newly added breakdown is
  // backfilled alone and joins the others where their lookback begins.
  const resume = new Map(breakdowns.map((b) => [b, resumeDay(ctx, state.breakdown(b), s.aggregates_lookback_days)]));
  const start = [...resume.values()].reduce(minDay);
  const windows: BreakdownWindow[] = periodWindows(start, ctx.endDay, s.aggregates_window_days, rollup).map((w) => ({
    ...w,
    asked: breakdowns.filter((b) => resume.get(b)! <= w.end),
  }));
  return {
    declaration,
    windows,
    split: (w, max) => periodWindows(w.start, w.end, max, rollup),
    concurrent: false,
    // The default aggregates (daily, by-total alone, package_query) are the very rows
    // verify_counts reads: taken from them where the sync read them (src/streams/verify/counts.ts).
    fromCounts: ({ asked }) =>
      s.verify_counts && rollup === 'daily' && asked.length === 1 && asked[0] === 'by-total' ? 'total' : undefined,
    request: ({ asked }, w) => ({
      path: aggregatesPath(s.owner),
      query: { start_date: w.start, end_date: w.end, query: s.package_query, rollup, breakdown: asked },
      label: `aggregates ${w.start}..${w.end}`,
      // The typer has just built the record from schemas/aggregates.json: it has this shape.
      deriveKey: (rec: Rec) => {
        if (counted) counted.rows++;
        return aggregateRowKey(rec as unknown as KeySource);
      },
    }),
    commit: ({ asked }, w) => {
      state.commitValues(asked, minDay(w.end, dayOf(ctx.signpost)), s);
    },
  };
}

/**
 * Scarf calls v2 aggregates a deprecated legacy export, and it answers no rows at all for at
 * least one real organization whose v3 export works (docs/scarf-api.md "More v2 exports").
 * by-total has a row for every day with an event, so no row over a whole sync's range means
 * either no events or that failure: said once, pointing to the aggregations stream.
 */
function warnIfEmpty(ctx: SyncContext, windows: readonly Window[], rows: number): void {
  if (rows > 0 || windows.length === 0 || !ctx.settings.aggregates_breakdowns.includes('by-total')) return;
  log.warn(
    `aggregates (legacy): Scarf's v2 aggregates export answered no rows for ${windows[0]!.start}..${windows.at(-1)!.end}. Scarf calls this export deprecated, and it answers nothing for some organizations that do have events; if ${ctx.settings.owner} had downloads or views in these days, select the aggregations stream (Scarf's v3 export) instead.`,
  );
}

const read: StreamModule['read'] = async (run) => {
  const { ctx, selection } = run;
  const counted = { rows: 0 };
  const stream = aggregatesStream(ctx, selection, counted);
  await runWindows(run, stream);
  warnIfEmpty(ctx, stream.windows, counted.rows);
};

const plan: StreamModule['plan'] = (ctx, selection) =>
  windowsPlan(
    ctx,
    aggregatesStream(ctx, selection),
    `up to ${plural(ctx.settings.aggregates_window_days, 'day')} (${ctx.settings.aggregates_rollup})`,
  );

export const aggregates: StreamModule = { declaration, read, plan };
