// The completeness promise checked where the user reads the data: per UTC day, the events the
// database holds for the owner against Scarf's own daily counts (the by-total aggregates, the
// same reference verify_counts uses on each window; src/streams/verify/counts.ts), and per UTC day
// and company the company_events it holds against the by-company counts. Costs one aggregates
// request (a Scarf Run) per aggregates_window_days days checked (both kinds in one request
// unless package_query is set).
import type pg from 'pg';

import { addDays, type Day, dayOf, maxDay, minDay, type Window } from '../../streams/engine/days.js';
import type { SyncContext } from '../../streams/engine/types.js';
import { ScarfCounts } from '../../streams/verify/counts.js';
import { partKey } from './state-table.js';
import { qualified } from './tables.js';

export interface DayCheck {
  day: Day;
  database: number;
  scarf: number;
}

export interface CompanyDayCheck extends DayCheck {
  /** The company's domain as its partition names it. */
  company: string;
  /** Its row in the state table (the `part` column). */
  part: string;
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
  reference = new ScarfCounts(ctx),
): Promise<VerifyReport> {
  if (!range) return { range, days: [], differing: [], requests: 0 };
  await reference.ensure('total', range);
  const db = await databaseDailyCounts(client, schema, ctx.settings.owner, range);
  const days: DayCheck[] = [];
  for (let d = range.start; d <= range.end; d = addDays(d, 1))
    days.push({ day: d, database: db.get(d) ?? 0, scarf: reference.count('total', d) });
  return { range, days, differing: days.filter((d) => d.database !== d.scarf), requests: reference.requests };
}

export interface CompanyVerifyReport {
  /** The span of the companies' loaded days (undefined: no company loaded yet). */
  range: Window | undefined;
  companies: number;
  days: CompanyDayCheck[];
  differing: CompanyDayCheck[];
  requests: number;
}

/**
 * Each company's loaded days, as loadedRange for events: from the recorded start_date to the
 * day before the company's partition bookmark, within start_date..end_date when set.
 */
export function loadedCompanyRanges(ctx: SyncContext): Map<string, Window & { part: string }> {
  const bm = ctx.state.bookmark('company_events');
  const out = new Map<string, Window & { part: string }>();
  const recorded = bm?.settings?.start_date;
  let first: Day = typeof recorded === 'string' ? recorded : ctx.startDay;
  if (ctx.settings.start_date) first = maxDay(first, ctx.startDay);
  for (const p of bm?.partitions ?? []) {
    const domain = p.context.company_domain;
    // A partition of another owner (state read per owner carries none) or without a bookmark yet.
    if (!domain || !p.replication_key_value || (p.context.owner && p.context.owner !== ctx.settings.owner)) continue;
    let end = addDays(dayOf(p.replication_key_value), -1);
    if (ctx.settings.end_date) end = minDay(end, ctx.endDay);
    if (first <= end) out.set(domain, { start: first, end, part: partKey(p.context) });
  }
  return out;
}

/** Rows per UTC day and company (domain lower-case, as Scarf's by-company counts key them). */
export async function databaseCompanyDailyCounts(
  client: pg.Client,
  schema: string,
  owner: string,
  range: Window,
): Promise<Map<string, number>> {
  const { rows } = await client.query<{ day: string; domain: string; n: string }>(
    `SELECT to_char(("time" AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day, lower(company_domain) AS domain, count(*) AS n
       FROM ${qualified(schema, 'company_events')}
      WHERE owner = $1 AND "time" >= ($2::date)::timestamp AT TIME ZONE 'UTC' AND "time" < (($3::date) + 1)::timestamp AT TIME ZONE 'UTC'
      GROUP BY 1, 2`,
    [owner, range.start, range.end],
  );
  return new Map(rows.map((r) => [`${r.day} ${r.domain}`, Number(r.n)]));
}

/** company_events per UTC day and company against Scarf's by-company counts; `reference` may be shared with verifyEvents. */
export async function verifyCompanyEvents(
  ctx: SyncContext,
  client: pg.Client,
  schema: string,
  reference = new ScarfCounts(ctx),
): Promise<CompanyVerifyReport> {
  const ranges = loadedCompanyRanges(ctx);
  const before = reference.requests;
  if (!ranges.size) return { range: undefined, companies: 0, days: [], differing: [], requests: 0 };
  const range = {
    start: [...ranges.values()].map((w) => w.start).reduce(minDay),
    end: [...ranges.values()].map((w) => w.end).reduce(maxDay),
  };
  await reference.ensure('company', range);
  const db = await databaseCompanyDailyCounts(client, schema, ctx.settings.owner, range);
  const days: CompanyDayCheck[] = [];
  for (const [company, w] of [...ranges].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    for (let d = w.start; d <= w.end; d = addDays(d, 1))
      days.push({
        day: d,
        company,
        part: w.part,
        database: db.get(`${d} ${company.toLowerCase()}`) ?? 0,
        scarf: reference.count('company', d, company),
      });
  days.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  return {
    range,
    companies: ranges.size,
    days,
    differing: days.filter((d) => d.database !== d.scarf),
    requests: reference.requests - before,
  };
}

/** The company_events part of the report. */
export function verifyCompanyText(report: CompanyVerifyReport, table: string, stateTable: string, owner: string): string {
  if (!report.range) return `Nothing to verify in ${table}: no company has a bookmark in the state table yet.\n`;
  const { start, end } = report.range;
  const lines = [
    `Verified ${report.days.length} company-day(s) of ${report.companies} companies, ${start}..${end}, of ${table} against Scarf's daily by-company counts (${report.requests} more API request(s)):`,
  ];
  if (!report.differing.length) lines.push('every company holds exactly the events Scarf counts on each day.');
  else {
    lines.push(`${report.differing.length} company-day(s) differ:`, 'day         database     scarf  difference  company');
    for (const d of report.differing)
      lines.push(
        `${d.day}  ${String(d.database).padStart(8)}  ${String(d.scarf).padStart(8)}  ${String(d.database - d.scarf).padStart(10)}  ${d.company}`,
      );
    const first = report.differing[0]!;
    lines.push(
      `To read a company's days again (rows are merged by key, nothing is duplicated): DELETE FROM ${stateTable} WHERE owner = '${owner}' AND stream = 'company_events' AND part = '${first.part.replace(/'/g, "''")}'; then load with start_date ${first.day}.`,
    );
  }
  return lines.join('\n') + '\n';
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
