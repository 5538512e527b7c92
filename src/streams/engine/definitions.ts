// What a stream declares: the catalogs (Singer src/catalog.ts, Airbyte src/airbyte/catalog.ts),
// the stream order, the state handle (src/streams/engine/stream-state.ts), the window runner
// (src/streams/engine/runner.ts) and verify_counts derive from it. Each stream module declares its
// own (src/streams/registry.ts lists them); record shapes live in schemas/<name>.json.
// docs/DESIGN.md "Adding a stream" lists what a new stream needs.
// Every key starts with the owner: one warehouse table may hold several Scarf owners, and
// Scarf documents no id as unique beyond one owner's export (README "Streams").
import { breakdownSetKey } from '../../config/aggregations.js';
import type { Settings } from '../../config/load.js';
import type { Endpoint } from '../../scarf/endpoints.js';
import type { StreamName } from '../../schemas.js';

export type ReplicationMethod = 'INCREMENTAL' | 'FULL_TABLE';

/** What one stream of a sync must do, whichever protocol asked for it. */
export interface StreamSelection {
  stream: StreamName;
  /** Fields to emit, in schema order (automatic fields always included). */
  fields: string[];
  replicationKey: string;
  replicationMethod: ReplicationMethod;
}

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
   * (src/streams/state/settings.ts). `start_date` is recorded as the first day read. Absent: no
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
  /**
   * What verify_counts judges it against; absent: nothing. 'total' and 'company': Scarf's
   * by-total or by-company daily counts, per UTC day of `tallyField` (src/streams/verify/reconcile.ts);
   * 'by-total-rows': its own by-total rows, summed per day (src/streams/verify/aggregates-check.ts);
   * 'active-companies': every company the by-company counts show active is in it.
   */
  verifiedAgainst?: 'total' | 'company' | 'by-total-rows' | 'active-companies';
  /** The timestamp field the day tally reads; a CSV answer without that column is a failed answer, not records with nulls. */
  tallyField?: string;
  /** Its CSV bodies take the fast path (src/scarf/csv-fast/); the others are read the papaparse way. */
  fastCsv?: true;
}

/** The values of a stream's `bookmarkPer` setting, as bookmark keys (a breakdown set: its dimensions comma-joined). */
export function bookmarkKeys(per: NonNullable<StreamDeclaration['bookmarkPer']>, settings: Settings): string[] {
  return per === 'aggregations_breakdown_sets' ? settings[per].map(breakdownSetKey) : settings[per];
}

/** The key a window's records are de-duplicated by (a key of several fields: its last, with the stream's `keyOf` on the request). */
export function dedupKey(decl: StreamDeclaration): string {
  return decl.keyProperties.at(-1)!;
}
