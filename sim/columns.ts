// Column lists: what each stream's schema holds (record key order) and what the server
// sends in each column set. Kept here, not read from schemas/, so the simulator has no
// runtime dependency on the tap; a test checks they agree with schemas/*.json.

import { Rng } from './prng.js';

export type ColumnKind = 'string' | 'number' | 'integer' | 'boolean' | 'timestamp' | 'date';
export type ColumnSet = 'current' | 'legacy' | 'shuffled' | 'extra';

export const EVENT_SCHEMA: readonly [string, ColumnKind][] = [
  ['id', 'string'],
  ['type', 'string'],
  ['package', 'string'],
  ['pixel', 'string'],
  ['version', 'string'],
  ['time', 'timestamp'],
  ['referer', 'string'],
  ['user_agent', 'string'],
  ['platform', 'string'],
  ['variables', 'string'],
  ['origin_id', 'string'],
  ['origin_latitude', 'number'],
  ['origin_longitude', 'number'],
  ['origin_country', 'string'],
  ['origin_city', 'string'],
  ['origin_postal', 'string'],
  ['origin_connection_type', 'string'],
  ['origin_company', 'string'],
  ['origin_domain', 'string'],
  ['dnt', 'boolean'],
  ['confidence', 'number'],
  ['endpoint_id', 'string'],
  ['origin_state', 'string'],
  ['mtc_quota_exceeded', 'boolean'],
];

// `owner` is no column Scarf sends: the tap writes the (lower-case) owner it asked for into every record.
export const EVENT_RECORD_KEYS = ['owner', ...EVENT_SCHEMA.map(([k]) => k), 'extra_fields'];
export const COMPANY_EVENT_RECORD_KEYS = ['owner', ...EVENT_SCHEMA.map(([k]) => k), 'company_domain', 'extra_fields'];

/** Current server order [seen, 2025] — the same as the schema order. */
export const EVENT_COLUMNS_CURRENT: readonly string[] = EVENT_SCHEMA.map(([k]) => k);

/** Older exports: no pixel, platform, mtc_quota_exceeded, and a different order. */
export const EVENT_COLUMNS_LEGACY: readonly string[] = [
  'id',
  'type',
  'package',
  'version',
  'time',
  'referer',
  'user_agent',
  'variables',
  'origin_id',
  'origin_latitude',
  'origin_longitude',
  'origin_country',
  'origin_state',
  'origin_city',
  'origin_postal',
  'origin_connection_type',
  'origin_company',
  'origin_domain',
  'confidence',
  'dnt',
  'endpoint_id',
];

export const EVENT_EXTRA_COLUMN = 'origin_asn';

export const ROLLUP_SCHEMA: readonly [string, ColumnKind][] = [
  ['company_name', 'string'],
  ['company_domain', 'string'],
  ['funnel_stage', 'string'],
  ['total_events', 'integer'],
  ['total_downloads', 'integer'],
  ['total_unique_downloads', 'integer'],
  ['total_views', 'integer'],
  ['total_unique_views', 'integer'],
  ['unique_sources', 'integer'],
  ['first_seen', 'timestamp'],
  ['last_seen', 'timestamp'],
  ['company_linkedin_url', 'string'],
  ['company_industry', 'string'],
  ['company_size', 'string'],
  ['company_country', 'string'],
  ['company_state', 'string'],
  ['interest_start_date', 'date'],
  ['investigation_start_date', 'date'],
  ['experimentation_start_date', 'date'],
  ['ongoing_usage_start_date', 'date'],
  ['inactive_start_date', 'date'],
  ['scarf_url', 'string'],
  ['package_totals', 'string'],
  ['tracking_pixel_totals', 'string'],
];

export const ROLLUP_RECORD_KEYS = ['owner', ...ROLLUP_SCHEMA.map(([k]) => k), 'extra_fields'];
export const ROLLUP_COLUMNS_CURRENT: readonly string[] = ROLLUP_SCHEMA.map(([k]) => k);
const ROLLUP_NOT_LEGACY = new Set([
  'total_downloads',
  'total_unique_downloads',
  'total_views',
  'total_unique_views',
  'scarf_url',
  'package_totals',
  'tracking_pixel_totals',
]);
export const ROLLUP_COLUMNS_LEGACY: readonly string[] = ROLLUP_COLUMNS_CURRENT.filter((c) => !ROLLUP_NOT_LEGACY.has(c));
export const ROLLUP_EXTRA_COLUMN = 'company_revenue_range';

export const AGGREGATE_DIMENSIONS = [
  'company_name',
  'company_domain',
  'cloud_provider_name',
  'cloud_provider_domain',
  'country',
  'platform',
  'version',
  'client',
  'variable',
  'value',
  'domain',
] as const;
export type AggregateDimension = (typeof AGGREGATE_DIMENSIONS)[number];

export const AGGREGATE_RECORD_KEYS = [
  'owner',
  'row_key',
  'date',
  'rollup',
  'breakdown',
  'artifact',
  'total',
  'total_unique',
  ...AGGREGATE_DIMENSIONS,
  'extra_fields',
];

/** Unknown key added to aggregates lines in the 'extra' column set (a string, so its raw text is unambiguous). */
export const AGGREGATE_EXTRA_KEY = 'artifact_type';

function arrange(
  current: readonly string[],
  legacy: readonly string[],
  extra: string,
  set: ColumnSet,
  seed: number,
  salt: string,
): string[] {
  switch (set) {
    case 'legacy':
      return [...legacy];
    case 'shuffled': {
      const cols = Rng.of(seed, salt, 'shuffle-columns').shuffle([...current]);
      // A shuffle that happens to keep the documented order would test nothing.
      if (cols.every((c, i) => c === current[i])) cols.push(cols.shift()!);
      return cols;
    }
    case 'extra': {
      const cols = [...current];
      cols.splice(Math.floor(cols.length / 2), 0, extra);
      return cols;
    }
    default:
      return [...current];
  }
}

export function eventColumns(set: ColumnSet, seed: number): string[] {
  return arrange(EVENT_COLUMNS_CURRENT, EVENT_COLUMNS_LEGACY, EVENT_EXTRA_COLUMN, set, seed, 'events');
}

export function rollupColumns(set: ColumnSet, seed: number): string[] {
  return arrange(ROLLUP_COLUMNS_CURRENT, ROLLUP_COLUMNS_LEGACY, ROLLUP_EXTRA_COLUMN, set, seed, 'rollup');
}
