import type { Settings } from '../../config/load.js';
import type { ScarfClient } from '../../scarf/client.js';
import type { ResponseInfo } from '../../scarf/client.js';
import type { FastCsvResult } from '../../scarf/csv-fast/index.js';
import type { Endpoint, Query } from '../../scarf/endpoints.js';
import type { StreamName } from '../../schemas.js';
import type { StateStore } from '../../state.js';
import type { Day, Window } from './days.js';
import type { StreamDeclaration, StreamSelection } from './definitions.js';
import type { KeySet } from './key-set.js';
import type { OpenDay } from './open-days.js';
import type { StreamState } from './stream-state.js';

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

/** Where fetchRecords hands the records it accepted: a run's sink, or a reader's own callback (a re-read, the counts). */
export type RecordSink = Pick<StreamSink, 'record' | 'recordJson'>;

/** What fetchRecords needs of the run it reads for: the sync, the stats it counts into, where records go. */
export interface RecordTarget {
  readonly ctx: SyncContext;
  readonly stats: StreamStats;
  readonly sink: RecordSink;
}

/**
 * The request → records step (fetchRecords, src/streams/engine/fetch.ts; a unit test gives its
 * own). `waitTurn` is awaited once the answer has arrived, before its first row is read.
 */
export type FetchRecords = (to: RecordTarget, spec: FetchSpec, seen: KeySet, waitTurn?: () => Promise<void>) => Promise<void>;

/**
 * When a STATE goes out after a commit (src/streams/engine/runner.ts: throttledCheckpoints,
 * everyCommit). Here, beside StreamRun, so the run's type imports no runner code.
 */
export interface CheckpointPolicy {
  committed(): Promise<void>;
}

/**
 * One stream's run in one sync, made once per stream by the sync (streamRun,
 * src/streams/engine/stream-run.ts): everything the stream's reader, the window runner,
 * fetchRecords and the verification hooks share for that run, in one object instead of
 * positional callbacks. What lives for the whole sync stays on the SyncContext.
 */
export interface StreamRun extends RecordTarget {
  readonly declaration: StreamDeclaration;
  readonly selection: StreamSelection;
  /** The stream's bookmarks (partitions: the sync's owner's). */
  readonly state: StreamState;
  readonly sink: StreamSink;
  /** When a STATE goes out after a commit: the throttle, or every commit under `load`. */
  readonly checkpoints: CheckpointPolicy;
  readonly stats: StreamStats;
  /** How the run's requests become records (fetchRecords; a unit test gives its own). */
  readonly fetch: FetchRecords;
  /** A new de-duplication set: one per part, one per re-read. */
  keySet(): KeySet;
  /** verify_counts' hooks (the sync's, SyncContext.verification); absent: nothing is verified. */
  readonly verification?: Verification;
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
  /** What the count reconciliation found (src/streams/verify/reconcile.ts); unset when it did not run. */
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
 * runner's RangeLimits, src/streams/engine/ranges.ts).
 */
export interface SyncContext extends SyncScope {
  /** Set on SIGTERM/SIGINT: streams stop at the next record. */
  aborted: boolean;
  /**
   * A STATE after every committed window instead of the throttle (src/streams/engine/runner.ts): the
   * load command commits each window's rows with its bookmark in one database transaction.
   */
  checkpointEveryCommit?: boolean;
  /** verify_counts' hooks (src/streams/engine/types.ts), plugged in by the sync; absent: nothing is verified. */
  verification?: Verification;
  /**
   * What a module keeps for the rest of the sync under its own key, so no module's memo is a
   * field every context must carry: Scarf's daily counts (src/streams/verify/counts.ts), the
   * company-rollup snapshot's answer (src/streams/company-rollup.ts), the columns already
   * warned about (src/streams/engine/fetch.ts). A Map on the context rather than a WeakMap
   * keyed by it: the copies of the context a plan makes (`{ ...ctx }`) share it.
   */
  memos?: Map<symbol, unknown>;
}

/** A stream's reader: reads the stream for this run (its records to run.sink, its bookmarks to run.state). */
export type StreamReader = (run: StreamRun) => Promise<void>;

export interface FetchSpec {
  stream: StreamName;
  endpoint: Endpoint;
  /** The body's format (the stream's declaration says which). */
  format: 'csv' | 'ndjson';
  path: string;
  query: Query;
  /** Human label for logs and errors: "events 2026-11-01..2026-11-01". */
  label: string;
  keyField: string;
  /** Values every record of this request carries (company_events: its domain). */
  constants?: Rec;
  /**
   * A key of several fields (the company rollups: date, artifact, domain): the text a record
   * is de-duplicated by, from the typed record. Without it, the record's keyField.
   */
  keyOf?: (rec: Rec) => string;
  /** Computes a derived key (aggregates' row_key) after typing. */
  deriveKey?: (rec: Rec) => string;
  /**
   * Called once for every row that passed de-duplication, right before onRecord, with the
   * record's `time` as typed (canonical timestamp or null): the count reconciliation's tally
   * (src/streams/verify/reconcile.ts).
   */
  onAccepted?: AcceptedTally;
  /**
   * Called with each 2xx answer's headers, before its body is read (the aggregations stream
   * checks the window Scarf says it answered: src/streams/aggregations.ts).
   */
  onHeaders?: (headers: ResponseInfo['headers']) => void;
  /** Called with how the fast path read a body, once it stops (the differential test and the bench check its work). */
  onFastPath?: (read: FastCsvResult) => void;
  /** Columns a CSV header must have beyond the key: the tallied field and the cursor the caller bookmarks on. */
  requiredColumns?: string[];
  /** The field whose value onAccepted is given (the declaration's tallyField). */
  tallyField?: string;
  /** CSV bodies take the fast path (the declaration's fastCsv). */
  fastCsv?: boolean;
}

/** What a stream module asks of one request; the rest of its FetchSpec comes from the declaration. */
export type RequestSpec = Omit<FetchSpec, 'stream' | 'endpoint' | 'format' | 'keyField' | 'tallyField' | 'fastCsv'>;

/** What counts the accepted records per UTC day of their `time` (src/streams/verify/reconcile.ts). */
export interface AcceptedTally {
  /** A record's `time` as typed: a canonical timestamp, null, or undefined (no such column); and the record (the aggregates check sums its rows). */
  add(time: unknown, rec?: Rec): void;
  /** The same for a canonical timestamp given as its ASCII text b[s, e): the fast path makes no string per record. */
  addText(b: Buffer, s: number, e: number): void;
}

export type OnRecord = (rec: Rec) => void | Promise<void>;
/** A record given as its JSON object text (UTF-8, the bytes JSON.stringify(rec) gives) in json[0, end); valid only during the call. */
export type OnRecordJson = (json: Buffer, end: number) => void | Promise<void>;

// verify_counts as the engine sees it: hooks the sync plugs in (SyncContext.verification, made by
// src/streams/verify/hooks.ts), so the window runner and the stream modules import none of the
// counts and reconciliation code.
/** What the window runner needs to judge a stream's parts; undefined when the stream is not verified. */
export interface PartVerifier {
  /**
   * Reads the counts of the stream's pending days before its first window: then a budget
   * (max_requests_per_sync) never spends itself on windows that cannot be judged, and the
   * request order is the same whatever the concurrency, so the plan can say it.
   */
  prepare(): Promise<void>;
  /** The tally to hand to the part's FetchSpec.onAccepted. */
  tally(): AcceptedTally;
  /**
   * Judges the part once its records are written; reads it again (through the run's fetch,
   * emitting to its sink only rows not in `seen`) until it reconciles or is accepted.
   */
  reconcile(part: Window, spec: FetchSpec, seen: KeySet, tally: AcceptedTally): Promise<void>;
}

export interface Verification {
  /** The verifier of a windowed stream's parts (its windows, and the open days read first), or undefined. */
  parts(run: StreamRun, windows: readonly Window[], ledger: readonly Window[]): PartVerifier | undefined;
  /**
   * A snapshot of companies: every company the counts show active must be in it (`present`,
   * lower-case); `reread` reads it again with a fresh key set, emitting only rows not emitted
   * yet, and returns how many it emitted.
   */
  snapshot(
    run: Pick<StreamRun, 'ctx' | 'stats' | 'declaration' | 'keySet'>,
    present: Set<string>,
    reread: (reSeen: KeySet) => Promise<number>,
  ): Promise<void>;
  /** A part's rows as the counts read so far this sync hold them (a window whose rows are those counts), or undefined. */
  sharedRows(ctx: SyncContext, kind: 'total', part: Window): readonly Rec[] | undefined;
  /** Per company domain (lower case): the last day the counts read so far this sync show an event. */
  lastCountedDays(ctx: SyncContext): Map<string, Day>;
}
