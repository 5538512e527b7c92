// The completeness promise checked where the user reads the data: per UTC day, the events the
// database holds for the owner against Scarf's own daily counts (the by-total aggregates, the
// same reference verify_counts uses on each window; src/streams/reference.ts). Costs one
// aggregates request (a Scarf Run) per aggregates_window_days days checked.
import type pg from 'pg';

import { addDays, type Day, dayOf, maxDay, minDay, type Window } from '../../streams/days.js';
import { CountReference } from '../../streams/reference.js';
import type { SyncContext } from '../../streams/types.js';
import { qualified } from './tables.js';

export interface DayCheck {
  day: Day;
  database: number;
  scarf: number;
}

export interface VerifyReport {
  /** The days checked (undefined: nothing loaded yet). */
  range: Window | undefined;
  days: DayCheck[];
  differing: DayCheck[];
  requests: number;
}

/**
 * The days the events state says are loaded: from the first day its bookmark covers (the
 * recorded start_date) to the day before its bookmark (the bookmark is a coverage mark: every
 * event before it is in), within the configured start_date..end_date when those are set.
 */
export function loadedRange(ctx: SyncContext): Window | undefined {
  const bm = ctx.state.bookmark('events');
  const value = bm?.replication_key_value;
  if (!value) return undefined;
  const recorded = bm.settings?.start_date;
  let start: Day = typeof recorded === 'string' ? recorded : ctx.startDay;
  if (ctx.settings.start_date) start = maxDay(start, ctx.startDay);
  let end = addDays(dayOf(value), -1);
  if (ctx.settings.end_date) end = minDay(end, ctx.endDay);
  return start <= end ? { start, end } : undefined;
}

export async function databaseDailyCounts(
  client: pg.Client,
  schema: string,
  owner: string,
  range: Window,
): Promise<Map<Day, number>> {
  const { rows } = await client.query<{ day: string; n: string }>(
    `SELECT to_char(("time" AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, count(*) AS n
       FROM ${qualified(schema, 'events')}
      WHERE owner = $1 AND "time" >= ($2::date)::timestamp AT TIME ZONE 'UTC' AND "time" < (($3::date) + 1)::timestamp AT TIME ZONE 'UTC'
      GROUP BY 1`,
    [owner, range.start, range.end],
  );
  return new Map(rows.map((r) => [r.day, Number(r.n)]));
}

export async function verifyEvents(
  ctx: SyncContext,
  client: pg.Client,
  schema: string,
  range = loadedRange(ctx),
): Promise<VerifyReport> {
  if (!range) return { range, days: [], differing: [], requests: 0 };
  const reference = new CountReference(ctx);
  await reference.ensure('total', range);
  const db = await databaseDailyCounts(client, schema, ctx.settings.owner, range);
  const days: DayCheck[] = [];
  for (let d = range.start; d <= range.end; d = addDays(d, 1))
    days.push({ day: d, database: db.get(d) ?? 0, scarf: reference.count('total', d) });
  return { range, days, differing: days.filter((d) => d.database !== d.scarf), requests: reference.requests };
}

/** The report as the user reads it. */
export function verifyText(report: VerifyReport, table: string, stateTable: string, owner: string): string {
  if (!report.range)
    return `Nothing to verify: ${table} has no events loaded for this owner yet (no events bookmark in the state table).\n`;
  const { start, end } = report.range;
  const lines = [
    `Verified ${report.days.length} UTC day(s), ${start}..${end}, of ${table} against Scarf's daily counts (${report.requests} API request(s)):`,
  ];
  if (!report.differing.length) lines.push('every day holds exactly the events Scarf counts.');
  else {
    lines.push(`${report.differing.length} day(s) differ:`, 'day         database     scarf  difference');
    for (const d of report.differing)
      lines.push(
        `${d.day}  ${String(d.database).padStart(8)}  ${String(d.scarf).padStart(8)}  ${String(d.database - d.scarf).padStart(10)}`,
      );
    lines.push(
      `Fewer rows than Scarf counts means missing events (rows deleted by hand, or events Scarf ingested after the load and older than its lookback_days); more means rows Scarf no longer counts. To read the days again (rows are merged by key, nothing is duplicated): DELETE FROM ${stateTable} WHERE owner = '${owner}' AND stream = 'events'; then load with start_date ${report.differing[0]!.day}.`,
    );
  }
  return lines.join('\n') + '\n';
}
