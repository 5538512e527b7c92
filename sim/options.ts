// Simulator options and their resolution. Data-shaping options (seed, data range, rates…)
// feed the generator; text-shaping options (styles, column sets) only change how the same
// events are written, so switching them between requests never changes the data.

import type { ColumnSet } from './columns.js';
import { dayOfMs, dayText, parseDay } from './dates.js';
import type { BooleanStyle, TimestampStyle } from './format.js';
import type { GenConfig } from './generator.js';

/** Event ids stay unique up to this many companies (sim/generator.ts eventId): 255 × 2^8 + 255. */
export const MAX_COMPANIES = 65_535;

/** The token the simulator accepts when it is given none. */
export const DEFAULT_TOKEN = 'sim-token';

export interface SimOptions {
  seed?: number;
  token?: string;
  badTokenStatus?: 401 | 403;
  owner?: string;
  plan?: 'pro' | 'free';
  now?: Date;
  dataStart?: string;
  dataEnd?: string;
  eventsPerDay?: number;
  companies?: number;
  timestampStyle?: TimestampStyle;
  booleanStyle?: BooleanStyle;
  columnSet?: ColumnSet;
  rollupSeenStyle?: 'date' | 'timestamp';
  maxRangeDays?: number;
  duplicateRate?: number;
  lateRate?: number;
  latencyMs?: number;
  cacheBodies?: boolean;
  /**
   * Added to `total` of every by-total and by-company aggregates row (never below 0), so the
   * aggregates disagree with the exports: a number for every row, or per row date (YYYY-MM-DD → n).
   */
  aggregatesCountSkew?: AggregatesCountSkew;
  /**
   * Multiplies `total` of the same rows (rounded half up, before the skew): counts that lag the
   * export (0.8) or run ahead of it (1.1), for every row or per row date.
   */
  aggregatesCountScale?: AggregatesCountScale;
  /** Which counts the skew and scale change: v2 aggregates, v3 aggregations, or both (default). */
  countDistortionOn?: 'both' | 'v2' | 'v3';
  /** Whether /v2/packages/{owner}/events holds pixel views too (default true; the pixel export always does). */
  pixelsInEvents?: boolean;
  /** What /v2/packages/{owner}/aggregates answers: its rows (default), 200 with none, or 404 / 410. */
  v2Aggregates?: 'rows' | 'empty' | '404' | '410';
  /** Every body ends with a line break after its last row (default), or without one. */
  finalNewline?: boolean;
  /** Longest v3 window, end exclusive (default 366 days). */
  aggregationsMaxDays?: number;
  /** v3 answers a narrower window than asked: days left out at its start and its end (reported in the headers). */
  aggregationsNarrow?: { start?: number; end?: number };
  /** false: v3 answers 403 "The organization's plan does not include aggregation exports" (so does plan 'free'). */
  planIncludesAggregations?: boolean;
  /** Retroactive company attribution: from sim time `at` on, a share of one day's anonymous events belongs to `domain`. */
  revisions?: Revision[];
  /** Events of these artifacts (by name) arrive this many days late (Maven Central's week of lag). */
  artifactLagDays?: Readonly<Record<string, number>>;
}

export type AggregatesCountSkew = number | Readonly<Record<string, number>>;
export type AggregatesCountScale = number | Readonly<Record<string, number>>;

export interface Revision {
  /** Sim time (ISO) from which the attribution holds. */
  at: string;
  /** The UTC day (YYYY-MM-DD) of the events it re-attributes. */
  day: string;
  /** One of the simulator's company domains. */
  domain: string;
  /** Share of that day's anonymous events it takes (default 0.25), chosen by a seeded hash of each event's id. */
  share?: number;
}

/**
 * Resolved options. `now: null` = the real clock at each request. `dataEnd: null` = open-ended:
 * days keep having events as the sim clock moves on (what a sync tested over "several days"
 * needs); set it to freeze the universe.
 */
export interface ResolvedSimOptions {
  seed: number;
  token: string;
  badTokenStatus: 401 | 403;
  owner: string;
  plan: 'pro' | 'free';
  now: Date | null;
  dataStart: string;
  dataEnd: string | null;
  eventsPerDay: number;
  companies: number;
  timestampStyle: TimestampStyle;
  booleanStyle: BooleanStyle;
  columnSet: ColumnSet;
  rollupSeenStyle: 'date' | 'timestamp';
  maxRangeDays: number;
  duplicateRate: number;
  lateRate: number;
  latencyMs: number;
  cacheBodies: boolean;
  aggregatesCountSkew: AggregatesCountSkew;
  aggregatesCountScale: AggregatesCountScale;
  countDistortionOn: 'both' | 'v2' | 'v3';
  pixelsInEvents: boolean;
  v2Aggregates: 'rows' | 'empty' | '404' | '410';
  finalNewline: boolean;
  aggregationsMaxDays: number;
  aggregationsNarrow: { start: number; end: number };
  planIncludesAggregations: boolean;
  revisions: Revision[];
  artifactLagDays: Readonly<Record<string, number>>;
}

const oneOf = <T extends string | number>(name: string, v: T, allowed: readonly T[]): T => {
  if (!allowed.includes(v)) throw new Error(`SimOptions.${name} must be one of ${allowed.join(', ')}; got ${String(v)}`);
  return v;
};

function checkRate(name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw new Error(`SimOptions.${name} must be within 0..1; got ${v}`);
  return v;
}

function checkDay(name: string, v: string): string {
  if (parseDay(v) === undefined) throw new Error(`SimOptions.${name} must be YYYY-MM-DD; got ${v}`);
  return v;
}

function checkSkew(v: AggregatesCountSkew): AggregatesCountSkew {
  const bad = () =>
    new Error('SimOptions.aggregatesCountSkew must be an integer or an object mapping YYYY-MM-DD days to integers');
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw bad();
    return v;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad();
  for (const [day, n] of Object.entries(v)) if (parseDay(day) === undefined || !Number.isInteger(n)) throw bad();
  return { ...v };
}

function checkScale(v: AggregatesCountScale): AggregatesCountScale {
  const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  const bad = () =>
    new Error('SimOptions.aggregatesCountScale must be a number ≥ 0 or an object mapping YYYY-MM-DD days to numbers ≥ 0');
  if (typeof v === 'number') {
    if (!ok(v)) throw bad();
    return v;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad();
  for (const [day, n] of Object.entries(v)) if (parseDay(day) === undefined || !ok(n)) throw bad();
  return { ...v };
}

/** The skew that applies to aggregates rows of `date`. */
export function countSkew(skew: AggregatesCountSkew, date: string): number {
  return typeof skew === 'number' ? skew : (skew[date] ?? 0);
}

/** A count as the distorted counts say it: scaled (half up), then skewed, never below 0. */
export function distortCount(o: ResolvedSimOptions, api: 'v2' | 'v3', date: string, total: number): number {
  if (o.countDistortionOn !== 'both' && o.countDistortionOn !== api) return total;
  const scale = typeof o.aggregatesCountScale === 'number' ? o.aggregatesCountScale : (o.aggregatesCountScale[date] ?? 1);
  const scaled = scale === 1 ? total : Math.floor(total * scale + 0.5);
  return Math.max(0, scaled + countSkew(o.aggregatesCountSkew, date));
}

function checkNarrow(v: { start?: number; end?: number }): { start: number; end: number } {
  const n = (x: unknown) => (x === undefined ? 0 : x);
  const start = n(v?.start),
    end = n(v?.end);
  if (typeof v !== 'object' || v === null || ![start, end].every((x) => Number.isInteger(x) && (x as number) >= 0))
    throw new Error('SimOptions.aggregationsNarrow must be {"start": n, "end": n}, whole days ≥ 0');
  return { start: start as number, end: end as number };
}

function checkRevisions(v: Revision[]): Revision[] {
  if (!Array.isArray(v)) throw new Error('SimOptions.revisions must be an array of {at, day, domain, share?}');
  return v.map((r, i) => {
    const bad = (why: string) => new Error(`SimOptions.revisions[${i}]: ${why}`);
    if (typeof r !== 'object' || r === null) throw bad('not an object');
    if (typeof r.at !== 'string' || Number.isNaN(Date.parse(r.at))) throw bad('at must be an ISO time');
    if (parseDay(r.day) === undefined) throw bad('day must be YYYY-MM-DD');
    if (typeof r.domain !== 'string' || r.domain === '') throw bad('domain must be a company domain');
    if (r.share !== undefined && !(r.share > 0 && r.share <= 1)) throw bad('share must be within (0, 1]');
    return { ...r };
  });
}

function checkLag(v: Readonly<Record<string, number>>): Readonly<Record<string, number>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((n) => Number.isInteger(n) && n >= 0))
    throw new Error('SimOptions.artifactLagDays must map artifact names to whole days ≥ 0');
  return { ...v };
}

/**
 * `anchorMs` is the clock the universe was laid out against (the sim clock at construction),
 * so that the default data range and the company profiles do not slide when the clock moves.
 */
export function resolveOptions(o: SimOptions, anchorMs: number): ResolvedSimOptions {
  const dataEnd = o.dataEnd === undefined ? null : checkDay('dataEnd', o.dataEnd);
  const anchorDay = dataEnd !== null ? parseDay(dataEnd)! : dayOfMs(anchorMs);
  const dataStart = o.dataStart === undefined ? dayText(anchorDay - 90) : checkDay('dataStart', o.dataStart);
  const companies = o.companies ?? 12;
  if (!Number.isInteger(companies) || companies < 0 || companies > MAX_COMPANIES)
    throw new Error(`SimOptions.companies must be an integer within 0..${MAX_COMPANIES}`);
  const eventsPerDay = o.eventsPerDay ?? 40;
  if (!(eventsPerDay >= 0 && eventsPerDay < 10_000_000)) throw new Error('SimOptions.eventsPerDay must be within 0..10,000,000');
  const maxRangeDays = o.maxRangeDays ?? 31;
  if (!(maxRangeDays >= 1)) throw new Error('SimOptions.maxRangeDays must be ≥ 1');
  const aggregationsMaxDays = o.aggregationsMaxDays ?? 366;
  if (!(Number.isInteger(aggregationsMaxDays) && aggregationsMaxDays >= 1))
    throw new Error('SimOptions.aggregationsMaxDays must be an integer ≥ 1');
  return {
    seed: o.seed ?? 1,
    token: o.token ?? DEFAULT_TOKEN,
    badTokenStatus: oneOf('badTokenStatus', o.badTokenStatus ?? 401, [401, 403] as const),
    owner: o.owner ?? 'acme-oss',
    plan: oneOf('plan', o.plan ?? 'pro', ['pro', 'free'] as const),
    now: o.now ?? null,
    dataStart,
    dataEnd,
    eventsPerDay,
    companies,
    timestampStyle: oneOf('timestampStyle', o.timestampStyle ?? 'pg', ['pg', 'iso'] as const),
    booleanStyle: oneOf('booleanStyle', o.booleanStyle ?? 'tf', ['tf', 'truefalse'] as const),
    columnSet: oneOf('columnSet', o.columnSet ?? 'current', ['current', 'legacy', 'shuffled', 'extra'] as const),
    rollupSeenStyle: oneOf('rollupSeenStyle', o.rollupSeenStyle ?? 'date', ['date', 'timestamp'] as const),
    maxRangeDays,
    duplicateRate: checkRate('duplicateRate', o.duplicateRate ?? 0.03),
    lateRate: checkRate('lateRate', o.lateRate ?? 0.05),
    latencyMs: o.latencyMs ?? 0,
    cacheBodies: o.cacheBodies ?? false,
    aggregatesCountSkew: checkSkew(o.aggregatesCountSkew ?? 0),
    aggregatesCountScale: checkScale(o.aggregatesCountScale ?? 1),
    countDistortionOn: oneOf('countDistortionOn', o.countDistortionOn ?? 'both', ['both', 'v2', 'v3'] as const),
    pixelsInEvents: bool('pixelsInEvents', o.pixelsInEvents ?? true),
    v2Aggregates: oneOf('v2Aggregates', o.v2Aggregates ?? 'rows', ['rows', 'empty', '404', '410'] as const),
    finalNewline: bool('finalNewline', o.finalNewline ?? true),
    aggregationsMaxDays,
    aggregationsNarrow: checkNarrow(o.aggregationsNarrow ?? {}),
    planIncludesAggregations: bool('planIncludesAggregations', o.planIncludesAggregations ?? true),
    revisions: checkRevisions(o.revisions ?? []),
    artifactLagDays: checkLag(o.artifactLagDays ?? {}),
  };
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`SimOptions.${name} must be true or false; got ${String(v)}`);
  return v;
}

export function genConfig(r: ResolvedSimOptions, anchorMs: number): GenConfig {
  const dataEnd = r.dataEnd === null ? null : parseDay(r.dataEnd)!;
  return {
    seed: r.seed,
    eventsPerDay: r.eventsPerDay,
    companies: r.companies,
    lateRate: r.lateRate,
    dataStart: parseDay(r.dataStart)!,
    dataEnd,
    anchor: dataEnd ?? dayOfMs(anchorMs),
    artifactLagDays: r.artifactLagDays,
  };
}
