// verify_counts as the engine sees it: hooks the sync plugs in (SyncContext.verification,
// made by src/streams/verify.ts), so the window runner and the stream modules import none of
// the counts and reconciliation code, and it could be left out without a change here.
import type { StreamName } from '../schemas.js';
import type { Day, Window } from './days.js';
import type { StreamDeclaration } from './definitions.js';
import type { AcceptedTally, FetchSpec, OnRecord } from './fetch.js';
import type { KeySet } from './key-set.js';
import type { StreamStats, SyncContext } from './types.js';

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
  /** Judges the part once its records are written; reads it again (through refetch) until it reconciles or is accepted. */
  reconcile(
    part: Window,
    spec: FetchSpec,
    seen: KeySet,
    tally: AcceptedTally,
    refetch: (spec: FetchSpec, seen: KeySet, onRecord: OnRecord) => Promise<void>,
    onRecord: OnRecord,
  ): Promise<void>;
}

export interface Verification {
  /** The verifier of a windowed stream's parts (its windows, and the open days read first), or undefined. */
  parts(
    ctx: SyncContext,
    decl: StreamDeclaration,
    windows: readonly Window[],
    stats: StreamStats,
    ledger: readonly Window[],
  ): PartVerifier | undefined;
  /**
   * A snapshot of companies: every company the counts show active must be in it (`present`,
   * lower-case); `reread` reads it again with a fresh key set, emitting only rows not emitted
   * yet, and returns how many it emitted.
   */
  snapshot(
    ctx: SyncContext,
    stream: StreamName,
    stats: StreamStats,
    present: Set<string>,
    reread: (reSeen: KeySet) => Promise<number>,
  ): Promise<void>;
  /** Per company domain (lower case): the last day the counts read so far this sync show an event. */
  lastCountedDays(ctx: SyncContext): Map<string, Day>;
}
