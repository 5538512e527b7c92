// Ground truth: the records a correct tap emits for a request made at the sim clock, typed
// the way docs/DESIGN.md says, from the very cells the server writes (so numbers are
// Number(text), a timestamp keeps exactly the precision of its text form, and a column the
// server did not send is null).

import { aggregationQuery, aggregationRows, effectiveWindow, type V3Row } from './aggregations.js';
import {
  AGGREGATE_DIMENSIONS,
  AGGREGATE_EXTRA_KEY,
  AGGREGATE_RECORD_KEYS,
  type ColumnKind,
  COMPANY_EVENT_RECORD_KEYS,
  EVENT_RECORD_KEYS,
  EVENT_SCHEMA,
  eventColumns,
  ROLLUP_RECORD_KEYS,
  ROLLUP_SCHEMA,
  rollupColumns,
} from './columns.js';
import { type ArtifactType, companyArtifactColumns, companyArtifactDayRows } from './company-artifacts.js';
import { canonicalTimestamp, dayText, parseDay, type Rollup, ROLLUPS } from './dates.js';
import { type Cell, eventCells } from './format.js';
import type { SimEvent } from './generator.js';
import {
  aggregateLines,
  type Breakdown,
  BREAKDOWNS,
  exportDayEvents,
  pixelDayEvents,
  rollupRows,
  type View,
  visibleCompanyDayEvents,
} from './views.js';

export type TruthRecord = Record<string, unknown>;

/** A v3 request's query, as sent: name → value or repeated values (e.g. `{ rollup: 'weekly', breakdown_set: 'by-company' }`). */
export type V3Params = Record<string, string | string[] | undefined>;

export interface GroundTruth {
  /** `events` records: what /v2/packages/{owner}/events holds (pixel views only when pixelsInEvents). */
  events(q: { start: string; end: string; query?: string }): TruthRecord[];
  /** The same record shape, for /v2/tracking-pixels/{owner}/events. */
  pixelEvents(q: { start: string; end: string }): TruthRecord[];
  companyEvents(domain: string, q: { start: string; end: string }): TruthRecord[];
  aggregates(q: { start: string; end: string; rollup?: string; breakdowns?: string[]; query?: string }): TruthRecord[];
  companyRollup(): TruthRecord[];
  activeDomains(q: { start: string; end: string }): string[];
  /** Distinct event ids per UTC day that the events export holds for `query` (every day of the range, 0 included). */
  dailyCounts(q: { start: string; end: string; query?: string }): DailyCounts;
  /** The same for the tracking-pixel events export. */
  pixelDailyCounts(q: { start: string; end: string }): DailyCounts;
  /** The same for one company's events export (`query` keeps one package's events, as on aggregates). */
  companyDailyCounts(domain: string, q: { start: string; end: string; query?: string }): DailyCounts;
  /**
   * What the daily aggregates say per day: the sum of `total` over the by-total rows (all
   * artifacts, or only those of `type`), or over the by-company rows of `domain` when given.
   * `api` 'v2' (default): /v2/…/aggregates, all 0 when v2Aggregates is not 'rows'; 'v3': the
   * v3 export's daily rows with its defaults (`query` as its package-name pattern). Follows the
   * options that change counts (skew, scale, revisions); faults are per response and not in it.
   */
  aggregatesDailyTotals(q: {
    start: string;
    end: string;
    query?: string;
    domain?: string;
    api?: 'v2' | 'v3';
    type?: 'package' | 'pixel';
  }): DailyCounts;
  /** The rows /v3/insights/{owner}/aggregations/export serves for this query (a 422 is thrown, with its detail as message). */
  aggregations(params: V3Params): V3Row[];
  /** The window v3 answers for this query (`end` exclusive), as its X-Scarf-Effective-* headers say. */
  aggregationsWindow(params: V3Params): { start: string; end: string };
  /** Rows of /v2/companies/{owner}/package-rollup, typed (total, total_unique numbers; the rest text). */
  companyPackageRollup(q: { start: string; end: string }): TruthRecord[];
  /** Rows of /v2/companies/{owner}/pixel-rollup, typed the same way. */
  companyPixelRollup(q: { start: string; end: string }): TruthRecord[];
}

/** Day (YYYY-MM-DD) → count, in day order. */
export type DailyCounts = Record<string, number>;

const EVENT_KINDS = new Map(EVENT_SCHEMA);
const ROLLUP_KINDS = new Map(ROLLUP_SCHEMA);

export function typeCell(cell: Cell, kind: ColumnKind): unknown {
  if (cell === null || cell === '') return null;
  switch (kind) {
    case 'number':
    case 'integer':
      return Number(cell);
    case 'boolean':
      return /^(t|true)$/i.test(cell);
    case 'timestamp':
      return canonicalTimestamp(cell);
    case 'date':
      return cell.slice(0, 10);
    default:
      return cell;
  }
}

/** Types a served row by header name, in the schema's key order; unknown columns → extra_fields. */
export function typeRow(
  columns: readonly string[],
  cells: readonly Cell[],
  kinds: Map<string, ColumnKind>,
  keys: readonly string[],
): TruthRecord {
  const rec: TruthRecord = {};
  for (const k of keys) rec[k] = null;
  let extra: Record<string, string | null> | null = null;
  columns.forEach((col, i) => {
    const cell = cells[i] ?? null;
    const kind = kinds.get(col);
    if (kind) rec[col] = typeCell(cell, kind);
    else (extra ??= {})[col] = cell === '' ? null : cell;
  });
  rec.extra_fields = extra ? JSON.stringify(extra) : null;
  return rec;
}

function days(q: { start: string; end: string }): number[] {
  const s = parseDay(q.start),
    e = parseDay(q.end);
  if (s === undefined || e === undefined) throw new Error(`truth: bad date range ${q.start}..${q.end}`);
  const out: number[] = [];
  for (let d = s; d <= e; d++) out.push(d);
  return out;
}

/** The owner column a correct tap writes: the owner it asked for, lower-case (Scarf matches any case). */
export function recordOwner(v: View): string {
  return v.opts.owner.toLowerCase();
}

export function createTruth(view: () => View): GroundTruth {
  const typeEvents = (v: View, events: Iterable<SimEvent>, keys: readonly string[], add: TruthRecord = {}): TruthRecord[] => {
    const columns = eventColumns(v.opts.columnSet, v.opts.seed);
    const out: TruthRecord[] = [];
    for (const e of events) {
      const rec = typeRow(columns, eventCells(e, columns, v.opts), EVENT_KINDS, keys);
      Object.assign(rec, { owner: recordOwner(v), ...add }); // keys already exist, so schema order is kept
      out.push(rec);
    }
    return out;
  };
  return {
    events(q) {
      const v = view();
      return days(q).flatMap((d) => typeEvents(v, exportDayEvents(v, d, q.query), EVENT_RECORD_KEYS));
    },
    pixelEvents(q) {
      const v = view();
      return days(q).flatMap((d) => typeEvents(v, pixelDayEvents(v, d), EVENT_RECORD_KEYS));
    },
    companyEvents(domain, q) {
      const v = view();
      const c = v.gen.companyByDomain(domain);
      return days(q).flatMap((d) =>
        typeEvents(v, visibleCompanyDayEvents(v, c, d), COMPANY_EVENT_RECORD_KEYS, { company_domain: domain }),
      );
    },
    aggregates(q) {
      const v = view();
      const ds = days(q);
      if (ds.length === 0) return [];
      const rollups = (q.rollup ?? 'daily').split(',') as Rollup[];
      const breakdowns = (q.breakdowns?.length ? q.breakdowns : ['by-total']) as Breakdown[];
      for (const r of rollups) if (!ROLLUPS.includes(r)) throw new Error(`truth: unknown rollup ${r}`);
      for (const b of breakdowns) if (!BREAKDOWNS.includes(b)) throw new Error(`truth: unknown breakdown ${b}`);
      const out: TruthRecord[] = [];
      for (const line of aggregateLines(v, { start: ds[0]!, end: ds[ds.length - 1]!, rollups, breakdowns, query: q.query })) {
        out.push(aggregateRecord(line, recordOwner(v)));
      }
      return out;
    },
    companyRollup() {
      const v = view();
      const columns = rollupColumns(v.opts.columnSet, v.opts.seed);
      return rollupRows(v).map((r) => ({
        ...typeRow(
          columns,
          columns.map((c) => r.cells[c] ?? null),
          ROLLUP_KINDS,
          ROLLUP_RECORD_KEYS,
        ),
        owner: recordOwner(v),
      }));
    },
    activeDomains(q) {
      const v = view();
      const ds = days(q);
      return v.gen.companies.filter((c) => ds.some((d) => visibleCompanyDayEvents(v, c, d).length > 0)).map((c) => c.domain);
    },
    dailyCounts(q) {
      const v = view();
      const out: DailyCounts = {};
      for (const d of days(q)) {
        let n = 0;
        for (const _ of exportDayEvents(v, d, q.query)) n++;
        out[dayText(d)] = n;
      }
      return out;
    },
    pixelDailyCounts(q) {
      const v = view();
      const out: DailyCounts = {};
      for (const d of days(q)) {
        let n = 0;
        for (const _ of pixelDayEvents(v, d)) n++;
        out[dayText(d)] = n;
      }
      return out;
    },
    companyDailyCounts(domain, q) {
      const v = view();
      const c = v.gen.companyByDomain(domain);
      const out: DailyCounts = {};
      for (const d of days(q)) {
        const evs = visibleCompanyDayEvents(v, c, d);
        out[dayText(d)] = q.query === undefined ? evs.length : evs.filter((e) => e.package === q.query).length;
      }
      return out;
    },
    aggregatesDailyTotals(q) {
      const v = view();
      const ds = days(q);
      const out: DailyCounts = {};
      for (const d of ds) out[dayText(d)] = 0;
      if (ds.length === 0) return out;
      const breakdown: Breakdown = q.domain === undefined ? 'by-total' : 'by-company';
      const domain = q.domain?.toLowerCase();
      const count = (date: string, rowDomain: unknown, type: string, total: number) => {
        if (domain !== undefined && String(rowDomain).toLowerCase() !== domain) return;
        if (q.type !== undefined && type !== q.type) return;
        out[date]! += total;
      };
      if (q.api === 'v3') {
        const params: Record<string, string[]> = {
          start_date: [dayText(ds[0]!)],
          end_date: [dayText(ds[ds.length - 1]! + 1)],
          rollup: ['daily'],
          breakdown_set: [breakdown],
          ...(q.query !== undefined ? { query: [q.query] } : {}),
        };
        for (const row of aggregationRows(v, aggregationQuery(v, params)))
          count(row.date as string, row.company_domain, row.artifact_type as string, row.total as number);
        return out;
      }
      if (v.opts.v2Aggregates !== 'rows') return out;
      const lines = aggregateLines(v, {
        start: ds[0]!,
        end: ds[ds.length - 1]!,
        rollups: ['daily'],
        breakdowns: [breakdown],
        query: q.query,
      });
      for (const line of lines) {
        const type = v.gen.artifactKind(String(line.artifact)) === 'pixel' ? 'pixel' : 'package';
        count(line.date as string, line.company_domain, type, line.total as number);
      }
      return out;
    },
    aggregations(params) {
      const v = view();
      return [...aggregationRows(v, aggregationQuery(v, queryOf(params)))];
    },
    aggregationsWindow(params) {
      const v = view();
      const w = effectiveWindow(v, aggregationQuery(v, queryOf(params)));
      return { start: dayText(w.start), end: dayText(w.endExcl) };
    },
    companyPackageRollup(q) {
      return companyArtifactRecords(view(), 'package', days(q));
    },
    companyPixelRollup(q) {
      return companyArtifactRecords(view(), 'pixel', days(q));
    },
  };
}

function queryOf(params: V3Params): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, val] of Object.entries(params)) if (val !== undefined) out[k] = Array.isArray(val) ? [...val] : [val];
  return out;
}

function companyArtifactRecords(v: View, type: ArtifactType, ds: number[]): TruthRecord[] {
  const columns = companyArtifactColumns(type);
  return ds.flatMap((d) =>
    companyArtifactDayRows(v, type, d).map((r) => {
      const rec: TruthRecord = {};
      columns.forEach((c, i) => (rec[c] = c === 'total' || c === 'total_unique' ? Number(r.cells[i]) : r.cells[i]));
      return rec;
    }),
  );
}

export function aggregateRecord(line: Record<string, string | number>, owner: string): TruthRecord {
  const get = (k: string) => (line[k] === undefined ? null : line[k]);
  const rec: TruthRecord = {};
  for (const k of AGGREGATE_RECORD_KEYS) rec[k] = get(k);
  rec.owner = owner;
  rec.row_key = JSON.stringify([owner, line.date, line.rollup, line.breakdown, line.artifact, ...keyDims.map(get)]);
  const extra = line[AGGREGATE_EXTRA_KEY];
  rec.extra_fields = extra === undefined ? null : JSON.stringify({ [AGGREGATE_EXTRA_KEY]: extra });
  return rec;
}

// row_key leaves names out on purpose (DESIGN.md): a revised company name must not make a new row.
const keyDims = AGGREGATE_DIMENSIONS.filter((d) => d !== 'company_name' && d !== 'cloud_provider_name');
