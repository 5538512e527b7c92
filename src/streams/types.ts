import type { StreamSelection } from '../catalog.js';
import type { Settings } from '../config/load.js';
import type { TapError } from '../errors.js';
import type { ScarfClient } from '../scarf/client.js';
import type { StateStore } from '../state.js';
import type { Day } from './days.js';
import type { OpenDay } from './open-days.js';
import type { CountReference } from './reference.js';

export type Rec = Record<string, unknown>;

/** Where a stream puts its output; the protocol writer sits behind it. */
export interface StreamSink {
  /** Writes one record; a returned promise means output is backed up: await it. */
  record(rec: Rec): void | Promise<void>;
  /**
   * Writes one record given as its JSON object text (json[0, end), UTF-8; the bytes
   * JSON.stringify(rec) would give), copied before it returns. Absent when the output needs
   * the record as an object (a catalog selecting fields): streams then give objects only.
   */
  recordJson?(json: Buffer, end: number): void | Promise<void>;
  /** The stream's bookmark moved and every record it covers went to record(): emit STATE. */
  checkpoint(): Promise<void>;
  /** Bytes of protocol output so far (records, states, and logs when they share stdout): the checkpoint throttle's measure. */
  outputBytes(): number;
}

export interface StreamStats {
  /** Records written (counted by the sync's sink, after any filtering by the stream). */
  records: number;
  duplicates: number;
  requests: number;
  windows: number;
  /** Windows the stream plans to request, once known (the terminal progress line shows done/total). */
  windowsPlanned?: number;
  /** Largest per-window de-duplication set, the only per-window memory a stream keeps. */
  maxKeySet: number;
  skippedPartitions?: number;
  /** What the count reconciliation found (src/streams/reconcile.ts); unset when it did not run. */
  verified?: VerifiedCounts;
  /** Days whose counts differ after every re-read, accepted because accept_count_mismatches names the stream. */
  acceptedDays?: OpenDay[];
  /** aggregates: windows that could not be checked against Scarf's counts, and why (the first reason). */
  unchecked?: number;
  /** Windows served from Scarf's counts read for verify_counts, without a request of their own. */
  shared?: number;
  uncheckedWhy?: string;
}

/** Windows judged against Scarf's aggregates counts, by outcome. */
export interface VerifiedCounts {
  /** The export held exactly what Scarf counts at the first read. */
  equal: number;
  /** Short at first, equal after the window was read again. */
  reread: number;
  /** Still different after identical reads: accepted, with a warning. */
  disagree: number;
}

/** What a sync run is about, fixed before its first request. */
export interface SyncScope {
  readonly settings: Settings;
  /** The sync's start: no bookmark may go past it. */
  readonly signpost: Date;
  readonly signpostTs: string;
  /** Inclusive UTC days the sync may request. */
  readonly startDay: Day;
  readonly endDay: Day;
  readonly client: ScarfClient;
  readonly state: StateStore;
}

/**
 * Everything shared by the streams of one sync run: its scope and the few things one stream
 * leaves for another. What only one module needs lives there (range limits: the window
 * runner's RangeLimits, src/streams/ranges.ts).
 */
export interface SyncContext extends SyncScope {
  /** domain → last_seen (canonical timestamp), read at most once per sync (company_rollup → company_events). */
  companyActivity: Map<string, string | null> | undefined;
  /** Why the sync's one company-rollup request failed: the streams that need it fail with it instead of asking again. */
  rollupFailure: TapError | undefined;
  /** `<stream>.<column>` already warned about as unknown, so each is said once per sync. */
  warnedUnknownColumns: Set<string>;
  /** Set on SIGTERM/SIGINT: streams stop at the next record. */
  aborted: boolean;
  /**
   * A STATE after every committed window instead of the throttle (src/streams/runner.ts): the
   * load command commits each window's rows with its bookmark in one database transaction.
   */
  checkpointEveryCommit?: boolean;
  /** Scarf's daily counts, read at most once per sync when verify_counts is on (src/streams/reference.ts). */
  countReference?: CountReference;
}

export type StreamReader = (ctx: SyncContext, selection: StreamSelection, sink: StreamSink, stats: StreamStats) => Promise<void>;
