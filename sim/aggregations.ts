// Scarf's v3 aggregations export (GET /v3/insights/{owner}/aggregations/export): its
// parameters, checked the way the server answers them (422 with a FastAPI `detail`), and its
// rows, counted from the very events the v2 exports serve. docs/scarf-api.md says which parts
// are Scarf's documentation and which are the simulator's choices.

import { dayText, parseDay, periodEndExclusive, periodStart, type Rollup } from './dates.js';
import type { Company, SimEvent } from './generator.js';
import { distortCount } from './options.js';
import { artifactId, PACKAGES, PIXELS, sicCodes } from './universe.js';
import { eventDims, rollupRows, type View, visibleDayEvents } from './views.js';

export const V3_BREAKDOWNS = [
  'by-country',
  'by-cloudprovider',
  'by-company',
  'by-variable',
  'by-platform',
  'by-version',
  'by-total',
  'by-total-do-not-track',
  'by-client',
  'by-domain',
  'by-referer',
  'by-endpoint',
  'by-origin',
  'by-file-extension',
  'by-user-agent',
  'by-importance',
  'by-company-funnel-stage',
  'by-company-size',
  'by-company-sic-code',
  'by-educational-organization',
  'by-govermental-organization',
] as const;
export type V3Breakdown = (typeof V3_BREAKDOWNS)[number];

/** Dimensions that count companies, not events: format=json, rollup=total, alone. */
export const COMPANY_SEGMENTS: readonly V3Breakdown[] = ['by-company-funnel-stage', 'by-company-size', 'by-company-sic-code'];

export type V3Rollup = 'total' | Rollup;
export const V3_ROLLUPS: readonly V3Rollup[] = ['total', 'daily', 'weekly', 'monthly', 'yearly'];

/** The dimension fields of a v3 row, in the order every row carries them (null when not its breakdown's). */
export const V3_DIMENSIONS = [
  'country',
  'company_name',
  'company_domain',
  'cloud_provider_name',
  'cloud_provider_domain',
  'platform',
  'version',
  'client',
  'variable',
  'value',
  'domain',
  'referer',
  'endpoint_id',
  'origin_id',
  'file_extension',
  'user_agent',
  'importance',
  'funnel_stage',
  'company_size',
  'sic_code',
] as const;
type V3Dimension = (typeof V3_DIMENSIONS)[number];

/** Every field of a v3 row, in served order. */
export const V3_FIELDS = [
  'date',
  'artifact',
  'artifact_name',
  'artifact_type',
  'rollup',
  'breakdown',
  'breakdowns',
  ...V3_DIMENSIONS,
  'total',
  'unique_origins',
  'unique_endpoints',
  'company_count',
  'points',
  'company_sic_codes',
  'last_seen',
] as const;

export type V3Row = Record<string, unknown>;

/** A request's parameters after the server's checks; the window is [start, endExcl). */
export interface AggregationQuery {
  start: number;
  endExcl: number;
  rollup: V3Rollup;
  breakdowns: V3Breakdown[];
  /** The selected artifacts (by name). */
  artifacts: ReadonlySet<string>;
  includeLowConfidence: boolean;
  groupByArtifact: boolean;
  format: 'ndjson' | 'json';
}

/** A parameter the server refuses: 422, with FastAPI's `detail` (a text, or pydantic's list for a malformed value). */
export class V3ParamError extends Error {
  constructor(readonly detail: string | { type: string; loc: string[]; msg: string; input: string }[]) {
    super(typeof detail === 'string' ? detail : detail.map((d) => d.msg).join('; '));
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function malformedDate(name: string, input: string): V3ParamError {
  return new V3ParamError([
    {
      type: 'date_from_datetime_parsing',
      loc: ['query', name],
      msg: 'Input should be a valid date or datetime, invalid character in year',
      input,
    },
  ]);
}

/** Ids given for one artifact type: ids, `all` or `none` (alone), or nothing (undefined). */
function idSelection(
  name: string,
  values: string[] | undefined,
  artifacts: readonly { name: string }[],
): Set<string> | undefined {
  if (!values) return undefined;
  const words = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  if (words.some((w) => w === 'all' || w === 'none')) {
    if (words.length > 1) throw new V3ParamError(`${name}: 'all' and 'none' cannot be combined with other values`);
    return new Set(words[0] === 'all' ? artifacts.map((a) => a.name) : []);
  }
  const bad = words.find((w) => !UUID.test(w));
  if (bad !== undefined) throw new V3ParamError(`${name}: '${bad}' is not a valid UUID`);
  const ids = new Set(words.map((w) => w.toLowerCase()));
  // An id the organization does not have selects nothing: 200 with no rows, as Scarf answers an unknown pixel.
  return new Set(artifacts.filter((a) => ids.has(artifactId(a.name))).map((a) => a.name));
}

function globRegex(pattern: string): RegExp {
  return new RegExp('^' + pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
}

function breakdownsOf(q: Record<string, string[]>): V3Breakdown[] {
  if (q.breakdown_set && q.breakdown) throw new V3ParamError('Give breakdown_set or breakdown, not both');
  const words = (q.breakdown_set ?? q.breakdown ?? ['by-total']).flatMap((v) => v.split(',')).map((v) => v.trim());
  if (words.length === 0 || words.length > 2) throw new V3ParamError('A breakdown set has one or two dimensions');
  const unknown = words.find((w) => !V3_BREAKDOWNS.includes(w as V3Breakdown));
  if (unknown !== undefined) throw new V3ParamError(`Invalid breakdown: ${unknown}`);
  if (words.length === 2 && words[0] === words[1]) throw new V3ParamError('A breakdown set names each dimension once');
  return words as V3Breakdown[];
}

function flag(q: Record<string, string[]>, name: string, dflt: boolean): boolean {
  const v = q[name]?.[0];
  if (v === undefined) return dflt;
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new V3ParamError([{ type: 'bool_parsing', loc: ['query', name], msg: 'Input should be a valid boolean', input: v }]);
}

/**
 * The server's reading of a request's query: the asked window (defaults: the 30 days before
 * the sim clock's day, end exclusive), its checks, and the artifacts it selects.
 */
export function aggregationQuery(v: View, q: Record<string, string[]>): AggregationQuery {
  const today = Math.floor(v.nowUs / 86_400_000_000);
  const day = (name: string): number | undefined => {
    const text = q[name]?.[0];
    if (text === undefined) return undefined;
    const d = parseDay(text);
    if (d === undefined) throw malformedDate(name, text);
    return d;
  };
  const askedStart = day('start_date');
  const askedEnd = day('end_date');
  const endExcl = askedEnd ?? (askedStart !== undefined ? Math.max(today, askedStart + 1) : today);
  const start = askedStart ?? endExcl - 30;
  if (start >= endExcl) throw new V3ParamError('end_date must be after start_date (the end date is exclusive)');
  const max = v.opts.aggregationsMaxDays;
  if (endExcl - start > max)
    throw new V3ParamError(`Date range cannot exceed ${max} days (requested ${endExcl - start} days, end date exclusive)`);

  const rollups = (q.rollup ?? ['daily']).flatMap((r) => r.split(','));
  if (rollups.length !== 1) throw new V3ParamError('Give one rollup per request');
  const rollup = rollups[0] as V3Rollup;
  if (!V3_ROLLUPS.includes(rollup)) throw new V3ParamError(`Invalid rollup: ${rollup}`);
  const breakdowns = breakdownsOf(q);
  const format = (q.format?.[0] ?? 'ndjson') as 'ndjson' | 'json';
  if (format !== 'ndjson' && format !== 'json') throw new V3ParamError(`Invalid format: ${format} (ndjson or json)`);
  if (breakdowns.some((b) => COMPANY_SEGMENTS.includes(b)) && (format !== 'json' || rollup !== 'total' || breakdowns.length > 1))
    throw new V3ParamError(
      `${breakdowns.join(',')}: company segment breakdowns need format=json, rollup=total and a single dimension`,
    );

  const packages = idSelection('package_id', q.package_id, PACKAGES);
  const pixels = idSelection('tracking_pixel_id', q.tracking_pixel_id, PIXELS);
  const pattern = q.query?.[0];
  let artifacts: Set<string>;
  if (pattern !== undefined) {
    if (packages || pixels) throw new V3ParamError('query cannot be combined with package_id or tracking_pixel_id');
    if (pattern.trim() === '') throw new V3ParamError('query must not be empty');
    const re = globRegex(pattern);
    artifacts = new Set(PACKAGES.filter((p) => re.test(p.name)).map((p) => p.name));
  } else if (packages || pixels) {
    // Explicit selection: a type without its selector is not selected.
    artifacts = new Set([...(packages ?? []), ...(pixels ?? [])]);
  } else artifacts = new Set([...PACKAGES, ...PIXELS].map((a) => a.name));

  return {
    start,
    endExcl,
    rollup,
    breakdowns,
    artifacts,
    includeLowConfidence: flag(q, 'include_low_confidence', true),
    groupByArtifact: flag(q, 'group_by_artifact', true),
    format,
  };
}

/** The window the server answers: the asked one, narrowed by `aggregationsNarrow` (never inverted). */
export function effectiveWindow(v: View, q: AggregationQuery): { start: number; endExcl: number } {
  const n = v.opts.aggregationsNarrow;
  const endExcl = Math.max(q.start, q.endExcl - n.end);
  return { start: Math.min(endExcl, q.start + n.start), endExcl };
}

// ---- rows -------------------------------------------------------------------------------

type Dims = Partial<Record<V3Dimension, string | null>>;

const LOW_CONFIDENCE = 0.5;

function importance(e: SimEvent): { level: string; points: number } {
  if (e.origin_connection_type === 'business') return { level: 'high', points: 3 };
  if (e.origin_connection_type === 'hosting') return { level: 'low', points: 1 };
  return { level: 'medium', points: 2 };
}

function fileExtension(e: SimEvent): string | undefined {
  if (e.kind === 'npm') return 'tgz';
  if (e.kind === 'pypi') return 'whl';
  if (e.kind === 'file') return e.variables?.includes('os=windows') ? 'zip' : 'tar.gz';
  return undefined;
}

/** The values an event counts under in one v3 dimension (none, one, or several). */
function v3Dims(e: SimEvent, b: V3Breakdown): Dims[] {
  switch (b) {
    case 'by-referer':
      return eventDims(e, 'by-referer').map((d) => ({ referer: d.domain }));
    case 'by-educational-organization':
    case 'by-govermental-organization':
      return eventDims(e, b).map(() => ({ company_name: e.origin_company, company_domain: e.origin_domain }));
    case 'by-endpoint':
      return [{ endpoint_id: e.endpoint_id }];
    case 'by-origin':
      return [{ origin_id: e.origin_id }];
    case 'by-file-extension': {
      const x = fileExtension(e);
      return x ? [{ file_extension: x }] : [];
    }
    case 'by-user-agent':
      return [{ user_agent: e.user_agent }];
    case 'by-importance':
      return [{ importance: importance(e).level }];
    case 'by-company-funnel-stage':
    case 'by-company-size':
    case 'by-company-sic-code':
      return []; // counted per company (companyRows)
    default:
      return eventDims(e, b);
  }
}

interface Bucket {
  artifact: string; // name, or the artifact type when not grouped by artifact
  type: 'package' | 'pixel';
  dims: Dims;
  total: number;
  origins: Set<string>;
  endpoints: Set<string>;
  points: number;
  lastDay: number;
  companies: Set<number>;
}

const artifactType = (e: SimEvent): 'package' | 'pixel' => (e.kind === 'pixel' ? 'pixel' : 'package');

/** The combinations of a breakdown set's values for one event (the cross product of its dimensions). */
function combos(e: SimEvent, breakdowns: readonly V3Breakdown[]): Dims[] {
  let out: Dims[] = [{}];
  for (const b of breakdowns) out = out.flatMap((acc) => v3Dims(e, b).map((d) => ({ ...acc, ...d })));
  return out;
}

/** Periods of the window: each period that has a day in it, clipped to it, dated by the period's own start (SQL's date_trunc). */
function periods(q: AggregationQuery, w: { start: number; endExcl: number }): { date: number; from: number; to: number }[] {
  if (w.start >= w.endExcl) return [];
  if (q.rollup === 'total') return [{ date: w.start, from: w.start, to: w.endExcl - 1 }];
  const out: { date: number; from: number; to: number }[] = [];
  for (let p = periodStart(w.start, q.rollup); p < w.endExcl; p = periodEndExclusive(p, q.rollup))
    out.push({ date: p, from: Math.max(p, w.start), to: Math.min(periodEndExclusive(p, q.rollup), w.endExcl) - 1 });
  return out;
}

function* selectedEvents(v: View, q: AggregationQuery, from: number, to: number): Generator<SimEvent> {
  for (let day = from; day <= to; day++) {
    for (const e of visibleDayEvents(v, day)) {
      if (!q.artifacts.has(e.artifact)) continue;
      if (!q.includeLowConfidence && e.confidence !== null && Number(e.confidence) < LOW_CONFIDENCE) continue;
      yield e;
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function emptyRow(): V3Row {
  const row: V3Row = {};
  for (const f of V3_FIELDS) row[f] = null;
  return row;
}

/** The rows of the effective window, period by period (one period's counts held at a time). */
export function* aggregationRows(v: View, q: AggregationQuery): Generator<V3Row> {
  const w = effectiveWindow(v, q);
  const segments = COMPANY_SEGMENTS.includes(q.breakdowns[0]!);
  const stages = segments ? new Map(rollupRows(v).map((r) => [r.company.index, r.cells.funnel_stage ?? null])) : undefined;
  const distorted = q.breakdowns.length === 1 && (q.breakdowns[0] === 'by-total' || q.breakdowns[0] === 'by-company');
  for (const p of periods(q, w)) {
    const buckets = new Map<string, Bucket>();
    const add = (e: SimEvent, dims: Dims) => {
      const artifact = q.groupByArtifact ? e.artifact : artifactType(e);
      const key = artifact + '\u0000' + JSON.stringify(dims);
      let b = buckets.get(key);
      if (!b) {
        b = {
          artifact,
          type: artifactType(e),
          dims,
          total: 0,
          origins: new Set(),
          endpoints: new Set(),
          points: 0,
          lastDay: -Infinity,
          companies: new Set(),
        };
        buckets.set(key, b);
      }
      b.total++;
      b.origins.add(e.origin_id);
      b.endpoints.add(e.endpoint_id);
      b.points += importance(e).points;
      b.lastDay = Math.max(b.lastDay, e.day);
      if (e.company !== -1) b.companies.add(e.company);
    };
    for (const e of selectedEvents(v, q, p.from, p.to)) {
      if (segments) {
        if (e.company !== -1) for (const dims of companyDims(v, e.company, q.breakdowns[0]!, stages!)) add(e, dims);
      } else for (const dims of combos(e, q.breakdowns)) add(e, dims);
    }
    const date = dayText(p.date);
    const sorted = [...buckets.values()].sort(
      (x, y) =>
        cmp(x.artifact, y.artifact) ||
        (segments ? y.companies.size - x.companies.size : y.total - x.total) ||
        cmp(JSON.stringify(x.dims), JSON.stringify(y.dims)),
    );
    for (const b of sorted) {
      const row = emptyRow();
      row.date = date;
      row.artifact = q.groupByArtifact ? artifactId(b.artifact) : '';
      row.artifact_name = q.groupByArtifact ? b.artifact : null;
      row.artifact_type = b.type;
      row.rollup = q.rollup;
      row.breakdown = q.breakdowns.join(',');
      row.breakdowns = [...q.breakdowns];
      for (const [k, val] of Object.entries(b.dims)) row[k] = val ?? null;
      if (segments) row.company_count = b.companies.size;
      else {
        row.total = distorted ? distortCount(v.opts, 'v3', date, b.total) : b.total;
        row.unique_origins = b.origins.size;
        row.unique_endpoints = b.endpoints.size;
      }
      if (q.breakdowns.includes('by-importance')) row.points = b.points;
      if (q.breakdowns.includes('by-company')) {
        const c = v.gen.companyByDomain(String(b.dims.company_domain));
        row.company_sic_codes = c ? [...sicCodes(c.industry)] : [];
        row.last_seen = `${dayText(b.lastDay)} 00:00:00+00:00`;
      }
      yield row;
    }
  }
}

/** A company's value(s) in a company segment: its funnel stage now, its size, each of its SIC codes. */
function companyDims(v: View, index: number, b: V3Breakdown, stages: Map<number, string | null>): Dims[] {
  const c: Company | undefined = v.gen.companies[index];
  if (!c) return [];
  if (b === 'by-company-funnel-stage') return [{ funnel_stage: stages.get(index) ?? null }];
  if (b === 'by-company-size') return [{ company_size: c.size }];
  return sicCodes(c.industry).map((code) => ({ sic_code: code }));
}
