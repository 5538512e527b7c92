// Count reconciliation: a window's export is judged against Scarf's own daily counts
// (src/streams/reference.ts) before its bookmark may move, because a body that ends cleanly
// but short looks exactly like a complete one (docs/scarf-api.md "Completeness: what the aggregates count, and why it matters").
// docs/reliability.md "Completeness: count reconciliation" is the user's side of these rules:
// - events: per UTC day, the distinct ids exported = Σ by-total; company_events: per day,
//   the distinct ids of that company = Σ its by-company rows; company_rollup: every domain
//   the counts show active in the verified days is in the snapshot.
// - Fewer than counted: the window is read again with the same key set, so nothing is
//   emitted twice, and its bookmark moves only once it reconciles. More than counted (or
//   events on a day without counts): the counts are late or short, so they are read again.
// - A read that returns exactly what the previous one did and still differs is a stable
//   disagreement (Scarf may count differently from its export): accepted, warned about once
//   per stream; after STABLE_LIMIT of them nothing is read again for the rest of the sync.
// - Every window takes at most MAX_REREADS extra reads; a window still short after them,
//   each read different, fails the stream with its bookmark where it was.
import { DataError } from '../errors.js';
import { log } from '../log.js';
import type { StreamName } from '../schemas.js';
import { addDays, type Day, dayOf, type Window } from './days.js';
import type { StreamDeclaration } from './definitions.js';
import type { AcceptedTally, FetchSpec, OnRecord } from './fetch.js';
import { KeySet } from './key-set.js';
import { type CountKind, type CountReference, countReference, rollupCheckRange, spanOf } from './reference.js';
import type { Rec, StreamStats, SyncContext, VerifiedCounts } from './types.js';

/** Extra reads of one window (of its export or of its counts) before the window is given up. */
export const MAX_REREADS = 3;
/** Stable disagreements in one sync after which windows are no longer read again. */
export const STABLE_LIMIT = 3;

const fmt = (n: number) => n.toLocaleString('en-US');
const events = (n: number) => `${fmt(n)} event${n === 1 ? '' : 's'}`;

/**
 * Distinct ids per UTC day of `time`, fed by FetchSpec.onAccepted. A window's rows come day
 * by day, so the current day's count is kept aside and the map touched only when the day
 * changes: on the fast path a row costs a 10-byte compare, not a string and a map update.
 */
export class DayTally implements AcceptedTally {
  private readonly counts = new Map<Day, number>();
  private day: Day | undefined;
  private readonly dayBytes = new Uint8Array(10);
  private pending = 0;

  add(time: unknown): void {
    if (typeof time !== 'string') return;
    const day = time.slice(0, 10);
    if (day !== this.day) this.switchTo(day);
    this.pending++;
  }

  addText(b: Buffer, s: number, _e: number): void {
    const d = this.dayBytes;
    if (this.day === undefined || b[s + 9] !== d[9] || b[s + 8] !== d[8] || !this.sameDay(b, s)) {
      this.switchTo(b.toString('latin1', s, s + 10));
    }
    this.pending++;
  }

  get(day: Day): number {
    return (this.counts.get(day) ?? 0) + (day === this.day ? this.pending : 0);
  }

  private sameDay(b: Buffer, s: number): boolean {
    const d = this.dayBytes;
    for (let i = 0; i < 8; i++) if (b[s + i] !== d[i]) return false;
    return true;
  }

  private switchTo(day: Day): void {
    if (this.day !== undefined && this.pending > 0) this.counts.set(this.day, (this.counts.get(this.day) ?? 0) + this.pending);
    this.day = day;
    this.pending = 0;
    for (let i = 0; i < 10; i++) this.dayBytes[i] = day.charCodeAt(i) & 0xff;
  }
}

function daysOf(w: Window): Day[] {
  const out: Day[] = [];
  for (let d = w.start; d <= w.end; d = addDays(d, 1)) out.push(d);
  return out;
}

function record(stats: StreamStats, outcome: keyof VerifiedCounts): void {
  (stats.verified ??= { equal: 0, reread: 0, disagree: 0 })[outcome]++;
}

/** The report line's words: `12 windows verified against Scarf's counts: 11 equal, 1 re-read after a short body, 0 disagree`. */
export function verifiedText(v: VerifiedCounts): string {
  const n = v.equal + v.reread + v.disagree;
  return `${n} window${n === 1 ? '' : 's'} verified against Scarf's counts: ${v.equal} equal, ${v.reread} re-read after a short body, ${v.disagree} disagree`;
}

/** The METRIC line with the same counts (a LOG message under Airbyte, like every log line). */
export function verifiedMetric(stream: StreamName, v: VerifiedCounts): Record<string, unknown> {
  return { type: 'counter', metric: 'windows_verified', value: v.equal + v.reread + v.disagree, tags: { stream, ...v } };
}

/**
 * Counts a stable disagreement, warns once per stream with the numbers, and stops re-reading
 * for the rest of the sync once there have been STABLE_LIMIT of them.
 */
function disagreement(ctx: SyncContext, ref: CountReference, stream: StreamName, words: string, stable: boolean): void {
  if (!ref.warned.has(stream)) {
    ref.warned.add(stream);
    log.warn(
      `${words}. Accepted as Scarf serves it (its counts may not match its export exactly); the stream's report line counts every such window as "disagree".`,
    );
  }
  if (!stable || ref.stopped) return;
  ref.stableDisagreements++;
  if (ref.stableDisagreements >= STABLE_LIMIT) {
    ref.stopped = true;
    log.warn(
      `verify_counts: ${ref.stableDisagreements} windows disagreed with Scarf's counts after identical reads, so Scarf counts differently from its exports here: for the rest of this sync no window is read again (the counts are still compared and reported).`,
    );
  }
}

/** What the window runner needs to reconcile a stream's parts; undefined when the stream is not verified. */
export interface PartVerifier {
  /**
   * Reads the counts of the stream's pending days before its first window: then a budget
   * (max_requests_per_sync) never spends itself on windows that cannot be judged, and the
   * request order is the same whatever the concurrency, so the plan can say it.
   */
  prepare(): Promise<void>;
  /** The tally to hand to the part's FetchSpec.onAccepted. */
  tally(): DayTally;
  /** Judges the part; reads it again (through refetch) until it reconciles or is accepted. */
  reconcile(
    part: Window,
    spec: FetchSpec,
    seen: KeySet,
    tally: DayTally,
    refetch: (spec: FetchSpec, seen: KeySet, onRecord: OnRecord) => Promise<void>,
    onRecord: OnRecord,
  ): Promise<void>;
}

const KINDS: Partial<Record<StreamName, CountKind>> = { events: 'total', company_events: 'company' };

export function partVerifier(
  ctx: SyncContext,
  decl: StreamDeclaration,
  windows: readonly Window[],
  stats: StreamStats,
): PartVerifier | undefined {
  const kind = KINDS[decl.name];
  if (!ctx.settings.verify_counts || !kind || windows.length === 0) return undefined;
  // The whole range the stream has pending, so the counts are read in as few requests as possible.
  // Exactly the stream's pending days: reading more would cost more than one request where
  // Scarf's range limit is shorter than aggregates_window_days.
  const range = spanOf(windows)!;
  return {
    prepare: () => countReference(ctx).ensure(kind, range),
    tally: () => new DayTally(),
    async reconcile(part, spec, seen, tally, refetch, onRecord) {
      const ref = countReference(ctx);
      await ref.ensure(kind, range);
      const domain = kind === 'company' ? (spec.constants?.company_domain as string) : undefined;
      const days = daysOf(part);
      const what = (day: Day) => `${decl.name}${domain ? ` ${domain}` : ''} ${day}`;
      let partReread = false;
      for (let step = 0; ; step++) {
        const diff = days.filter((d) => tally.get(d) !== ref.count(kind, d, domain));
        if (diff.length === 0) return record(stats, partReread ? 'reread' : 'equal');
        const first = diff[0]!;
        const numbers = `Scarf counts ${events(ref.count(kind, first, domain))}, its export holds ${fmt(tally.get(first))}${diff.length > 1 ? ` (and ${diff.length - 1} more day${diff.length > 2 ? 's' : ''} differ)` : ''}`;
        if (ref.stopped) {
          disagreement(ctx, ref, decl.name, `${what(first)}: ${numbers}`, false);
          return record(stats, 'disagree');
        }
        const short = diff.filter((d) => tally.get(d) < ref.count(kind, d, domain));
        if (step >= MAX_REREADS) {
          if (short.length === 0) {
            disagreement(ctx, ref, decl.name, `${what(first)}: ${numbers} after ${step + 1} reads`, false);
            return record(stats, 'disagree');
          }
          // Days the next sync reads again anyway (its lookback) may just still be filling up
          // (every read found new events): accepted, the next sync's re-read completes them.
          const refilled = addDays(dayOf(ctx.signpost), -ctx.settings.lookback_days);
          if (short.every((d) => d >= refilled)) {
            log.info(
              `${spec.label}: ${numbers} after ${step + 1} reads, each finding new events: still arriving, so accepted; the next sync reads ${short.join(', ')} again (lookback_days ${ctx.settings.lookback_days}).`,
            );
            return record(stats, 'reread');
          }
          const d = short[0]!;
          throw new DataError(
            `${spec.label}: ${d}: Scarf counts ${events(ref.count(kind, d, domain))}, but ${step + 1} reads of the export, each different, held at most ${fmt(tally.get(d))}, so the window cannot be proven complete and its bookmark stays (the next sync reads it again). If Scarf keeps answering like this, set verify_counts to false.`,
          );
        }
        if (short.length > 0) {
          // Fewer than counted: the body was short. Read the window again; the key set makes
          // it emit only what the earlier reads did not.
          log.info(`${spec.label}: ${short[0]!}: ${numbers}; reading the window again (its bookmark waits until they agree).`);
          const again = new DayTally();
          const reSeen = new KeySet();
          let fresh = 0;
          await refetch({ ...spec, onAccepted: again, label: `${spec.label} (re-read)` }, reSeen, (rec: Rec) => {
            if (!seen.add(rec[spec.keyField] as string)) return;
            fresh++;
            tally.add(rec.time);
            return onRecord(rec);
          });
          partReread = true;
          const same = fresh === 0 && days.every((d) => again.get(d) === tally.get(d));
          const still = days.filter((d) => tally.get(d) !== ref.count(kind, d, domain));
          if (same && still.length > 0) {
            const d = still[0]!;
            disagreement(
              ctx,
              ref,
              decl.name,
              `${what(d)}: Scarf counts ${events(ref.count(kind, d, domain))}, its export holds ${fmt(tally.get(d))} after two identical reads`,
              true,
            );
            return record(stats, 'disagree');
          }
          continue;
        }
        // More than counted, or events on a day without counts: the counts are late (events
        // arrived after they were read) or short themselves. Read them again for these days.
        log.info(`${spec.label}: ${first}: ${numbers}; reading Scarf's counts for ${part.start}..${part.end} again.`);
        const changed = await ref.reread(kind, part, domain);
        if (!changed) {
          disagreement(ctx, ref, decl.name, `${what(first)}: ${numbers} after two identical reads of the counts`, true);
          return record(stats, 'disagree');
        }
      }
    },
  };
}

/**
 * company_rollup: every domain the counts show active in the verified days must be in the
 * snapshot, or company_events would never ask for it. `present` are the snapshot's domains
 * (lower-case); `reread` reads the snapshot again with a fresh key set and hands each row to
 * the callback, which emits only rows not emitted yet and returns true for those.
 */
export async function verifyRollup(
  ctx: SyncContext,
  stats: StreamStats,
  present: Set<string>,
  reread: (reSeen: KeySet) => Promise<number>,
): Promise<void> {
  if (!ctx.settings.verify_counts) return;
  const ref = countReference(ctx);
  const range = rollupCheckRange(ctx, ref.coveredDays('company'));
  await ref.ensure('company', range);
  const missing = () => [...ref.activeDomains(range)].filter((d) => !present.has(d)).sort();
  let reread_ = false;
  for (let step = 0; ; step++) {
    const lost = missing();
    if (lost.length === 0) return record(stats, reread_ ? 'reread' : 'equal');
    const words = `company_rollup: Scarf counts events in ${range.start}..${range.end} of ${lost.length} compan${lost.length === 1 ? 'y' : 'ies'} the company-rollup snapshot does not list (${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''})`;
    if (ref.stopped || step >= MAX_REREADS) {
      disagreement(ctx, ref, 'company_rollup', step >= MAX_REREADS ? `${words} after ${step + 1} reads` : words, false);
      return record(stats, 'disagree');
    }
    log.info(`${words}; reading the snapshot again.`);
    const before = present.size;
    const reSeen = new KeySet();
    const fresh = await reread(reSeen);
    reread_ = true;
    if (fresh === 0 && reSeen.size === before && missing().length > 0) {
      disagreement(ctx, ref, 'company_rollup', `${words} after two identical reads`, true);
      return record(stats, 'disagree');
    }
  }
}
