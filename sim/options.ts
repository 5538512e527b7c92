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
}

export type AggregatesCountSkew = number | Readonly<Record<string, number>>;

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

/** The skew that applies to aggregates rows of `date`. */
export function countSkew(skew: AggregatesCountSkew, date: string): number {
  return typeof skew === 'number' ? skew : (skew[date] ?? 0);
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
  };
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
  };
}
