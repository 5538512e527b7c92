// Each stream declared once: what the catalogs (Singer src/catalog.ts, Airbyte
// src/airbyte/catalog.ts), the stream order, the state handle (src/streams/stream-state.ts)
// and the window runner (src/streams/runner.ts) derive from. Record shapes live in
// schemas/<name>.json. docs/DESIGN.md "Adding a stream" lists what a new stream needs.
// Every key starts with the owner: one warehouse table may hold several Scarf owners, and
// Scarf documents no id as unique beyond one owner's export (README "Streams").
import { breakdownSetKey } from '../config/aggregations.js';
import type { Settings } from '../config/load.js';
import type { Endpoint } from '../scarf/endpoints.js';
import { STREAM_NAMES, type StreamName } from '../schemas.js';

/** How a stream cuts its range into requests (docs/DESIGN.md "Windows, bookmarks, state"). */
export type WindowKind =
  /** Windows of N UTC days, each with its own bookmark. */
  | 'days'
  /** Windows aligned to the rollup's periods (week, month, year), so no period is split. */
  | 'periods'
  /** One request per partition over its whole pending range. */
  | 'partition-range'
  /** One request for the whole snapshot; no date range. */
  | 'snapshot';

/** What a bookmark later than the sync's start (the signpost) becomes (StateStore.clampToSignpost). */
export type PastSignpost =
  /** The signpost: the stream re-reads from there, minus its lookback. */
  | 'signpost'
  /** The signpost's day, for a bookmark that is a date. */
  | 'signpost-day'
  /** Nothing: a snapshot's one request reads everything anyway, and a bookmark at the signpost would emit nothing. */
  | 'drop';

export interface StreamDeclaration {
  name: StreamName;
  endpoint: Endpoint;
  /** The export's body: a CSV with a header, or one JSON object per line. */
  format: 'csv' | 'ndjson';
  /** Primary key, owner first; its last field is the key records are de-duplicated by within a window (one request is one owner's). */
  keyProperties: string[];
  validReplicationKeys: string[];
  defaultReplicationKey: string;
  /** The user may pick the cursor among validReplicationKeys (Airbyte: source_defined_cursor false). */
  userChoosableCursor: boolean;
  /** Bookmarks are kept per value of this field (one partition each) rather than once per stream. */
  partitionedBy?: string;
  /** Streams whose data this one uses: when both are selected, they are read first. */
  dependsOn: StreamName[];
  window: WindowKind;
  /** The setting naming how many days before its bookmark a sync re-reads (late-arriving data). */
  lookback?: 'lookback_days' | 'aggregates_lookback_days' | 'aggregations_rewrite_days';
  /**
   * The settings that decide WHICH rows its bookmark covers, recorded with the bookmark as
   * {key in the state's "settings": the setting}; a change re-reads from start_date
   * (src/streams/settings.ts). `start_date` is recorded as the first day read. Absent: no
   * setting narrows what it reads.
   */
  coveredBy?: Record<string, 'start_date' | keyof Settings>;
  /** Besides the stream-wide bookmark, one per value of this list setting, so a value added is read from start_date alone. */
  bookmarkPer?: 'aggregates_breakdowns' | 'aggregations_breakdown_sets';
  /**
   * Left out of a sync without a catalog, and `selected-by-default: false` in the Singer
   * catalog. The 2026 exports are opt-in: a stream added later must not spend more Runs
   * unasked on upgrade, and pixel_events may hold the very views events already has (README
   * "Pixel views: events or pixel_events").
   */
  optIn?: true;
  pastSignpost: PastSignpost;
}

/** The company package or pixel rollup: one row per UTC day, artifact and company, the two alike but for the artifact. */
function companyArtifactRollup(artifact: 'package' | 'pixel'): StreamDeclaration {
  return {
    name: `company_${artifact}_rollup`,
    endpoint: `company-${artifact}-rollup`,
    format: 'csv',
    keyProperties: ['owner', 'date', artifact, 'company_domain'],
    validReplicationKeys: ['date'],
    defaultReplicationKey: 'date',
    userChoosableCursor: false,
    dependsOn: [],
    window: 'days',
    // Scarf revises past company attribution, as for aggregates: the same trailing days are re-read.
    lookback: 'aggregates_lookback_days',
    coveredBy: { start_date: 'start_date' },
    pastSignpost: 'signpost-day',
    optIn: true,
  };
}

export const STREAMS: Record<StreamName, StreamDeclaration> = {
  events: {
    name: 'events',
    endpoint: 'events',
    format: 'csv',
    keyProperties: ['owner', 'id'],
    validReplicationKeys: ['time'],
    defaultReplicationKey: 'time',
    userChoosableCursor: false,
    dependsOn: [],
    window: 'days',
    lookback: 'lookback_days',
    coveredBy: { start_date: 'start_date', package_query: 'package_query' },
    pastSignpost: 'signpost',
  },
  aggregates: {
    name: 'aggregates',
    endpoint: 'aggregates',
    format: 'ndjson',
    keyProperties: ['owner', 'row_key'],
    validReplicationKeys: ['date'],
    defaultReplicationKey: 'date',
    userChoosableCursor: false,
    dependsOn: [],
    window: 'periods',
    lookback: 'aggregates_lookback_days',
    coveredBy: { start_date: 'start_date', package_query: 'package_query', rollup: 'aggregates_rollup' },
    bookmarkPer: 'aggregates_breakdowns',
    pastSignpost: 'signpost-day',
  },
  company_rollup: {
    name: 'company_rollup',
    endpoint: 'company-rollup',
    format: 'csv',
    keyProperties: ['owner', 'company_domain'],
    validReplicationKeys: ['last_seen', 'first_seen'],
    defaultReplicationKey: 'last_seen',
    userChoosableCursor: true,
    dependsOn: [],
    window: 'snapshot',
    // One request reads the whole snapshot: no setting narrows it.
    pastSignpost: 'drop',
  },
  company_events: {
    name: 'company_events',
    endpoint: 'company-events',
    format: 'csv',
    keyProperties: ['owner', 'id'],
    validReplicationKeys: ['time'],
    defaultReplicationKey: 'time',
    userChoosableCursor: false,
    partitionedBy: 'company_domain',
    // Its list of companies (and which of them were active) comes from the rollup snapshot.
    dependsOn: ['company_rollup'],
    window: 'partition-range',
    lookback: 'lookback_days',
    // Each domain has its own bookmark, so a changed company_domains needs nothing here.
    coveredBy: { start_date: 'start_date' },
    pastSignpost: 'signpost',
  },
  pixel_events: {
    name: 'pixel_events',
    endpoint: 'pixel-events',
    format: 'csv',
    keyProperties: ['owner', 'id'],
    validReplicationKeys: ['time'],
    defaultReplicationKey: 'time',
    userChoosableCursor: false,
    dependsOn: [],
    window: 'days',
    lookback: 'lookback_days',
    // The endpoint takes no package query: only start_date narrows what it reads.
    coveredBy: { start_date: 'start_date' },
    pastSignpost: 'signpost',
    optIn: true,
  },
  company_package_rollup: companyArtifactRollup('package'),
  company_pixel_rollup: companyArtifactRollup('pixel'),
  aggregations: {
    name: 'aggregations',
    endpoint: 'aggregations',
    format: 'ndjson',
    keyProperties: ['owner', 'row_key'],
    validReplicationKeys: ['date'],
    defaultReplicationKey: 'date',
    userChoosableCursor: false,
    dependsOn: [],
    window: 'periods',
    // Its rewrite window: re-read every sync, widened to whole periods (src/streams/aggregations.ts).
    lookback: 'aggregations_rewrite_days',
    coveredBy: {
      start_date: 'start_date',
      rollup: 'aggregations_rollup',
      package_ids: 'aggregations_package_ids',
      tracking_pixel_ids: 'aggregations_tracking_pixel_ids',
      query: 'aggregations_query',
      group_by_artifact: 'aggregations_group_by_artifact',
      include_low_confidence: 'aggregations_include_low_confidence',
    },
    bookmarkPer: 'aggregations_breakdown_sets',
    pastSignpost: 'signpost-day',
    optIn: true,
  },
};

/** The values of a stream's `bookmarkPer` setting, as bookmark keys (a breakdown set: its dimensions comma-joined). */
export function bookmarkKeys(per: NonNullable<StreamDeclaration['bookmarkPer']>, settings: Settings): string[] {
  return per === 'aggregations_breakdown_sets' ? settings[per].map(breakdownSetKey) : settings[per];
}

/** The key a window's records are de-duplicated by (a key of several fields: its last, with the stream's `keyOf` on the request). */
export function dedupKey(stream: StreamName): string {
  return STREAMS[stream].keyProperties.at(-1)!;
}

/**
 * The order streams run in: every stream after the streams it depends on, otherwise in
 * declaration order (STREAM_NAMES), so output does not depend on the order of a catalog.
 */
export function streamOrder(names: readonly StreamName[] = STREAM_NAMES): StreamName[] {
  const wanted = new Set(names);
  const out: StreamName[] = [];
  const visit = (name: StreamName, path: StreamName[]): void => {
    if (out.includes(name)) return;
    if (path.includes(name)) throw new Error(`stream dependency cycle: ${[...path, name].join(' → ')}`);
    for (const dep of STREAMS[name].dependsOn) if (wanted.has(dep)) visit(dep, [...path, name]);
    out.push(name);
  };
  for (const name of STREAM_NAMES) if (wanted.has(name)) visit(name, []);
  return out;
}

/** Selections (or anything naming a stream) in streamOrder. */
export function inStreamOrder<T extends { stream: StreamName }>(items: T[]): T[] {
  const order = streamOrder(items.map((i) => i.stream));
  return [...items].sort((a, b) => order.indexOf(a.stream) - order.indexOf(b.stream));
}
