// Count reconciliation: a window's export is judged against Scarf's own daily counts
// (src/streams/verify/counts.ts) before its bookmark may move, because a body that ends cleanly
// but short looks exactly like a complete one (docs/scarf-api.md "Completeness: what the aggregates count, and why it matters").
// docs/reliability.md "Completeness: count reconciliation" is the user's side of these rules:
// - events: per UTC day, the distinct ids exported = Σ by-total; company_events: per day,
//   the distinct ids of that company = Σ its by-company rows; company_rollup: every domain
//   the counts show active in the verified days is in the snapshot.
// - A day is proven only when the two agree, and a day the counts body left out (a gap
//   between counted days) is not proven by an empty export either.
// - More than counted (or events on a day without counts): the counts are late or short, so
//   they are read again, once per window, for those days.
// - Fewer than counted: read again, narrowing, because a size cap or a deadline that cuts a
//   long body does not cut a short one at the same place: first the span of the short days,
//   then each day still short alone. A day read alone that returns nothing new is not read
//   again this sync. At most EXTRA_READS(window) export reads per window (planned:
//   src/streams/plan/sync-plan.ts). The key set makes every re-read emit only rows not emitted yet.
// - A day still unproven goes into the open-days ledger (src/streams/engine/open-days.ts): the
//   bookmark of the window may move on, the day stays in the state, every later sync reads
//   it again first, and a sync ending with open days fails. accept_count_mismatches turns
//   that into a warning for a stream, said in the state and in every report line.
// - Nothing stops the re-reading for the rest of a sync: every window gets its own re-reads.
import { log } from '../../log.js';
import type { StreamName } from '../../schemas.js';
import { addDays, type Day, everyDay, type Window } from '../engine/days.js';
import type { AcceptedTally } from '../engine/fetch.js';
import type { KeySet } from '../engine/key-set.js';
import { acceptsMismatches, closeDay, describe, findOpenDay, type OpenDay, openDay } from '../engine/open-days.js';
import { recordsTo } from '../engine/stream-run.js';
import type { Rec, StreamRun, StreamStats, SyncContext, VerifiedCounts } from '../engine/types.js';
import type { PartVerifier } from '../engine/types.js';
import { type CountKind, rereadSpec, rollupCheckRange, scarfCounts, spanOf } from './counts.js';

/** Extra reads of the company-rollup snapshot before its check is given up. */
export const MAX_REREADS = 3;

/**
 * Most extra reads a window of `days` days may take: one of its short days' span, one per
 * day read alone, and one of its counts (src/streams/plan/sync-plan.ts charges them to the plan as an
 * upper bound).
 */
export function extraReads(days: number): number {
  return days + 2;
}

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

/** An open day's counts request: the day and one on each side. */
export function aroundDay(w: Window): Window {
  return { start: addDays(w.start, -1), end: addDays(w.end, 1) };
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

/** Warns once per stream (the rollup's check): the numbers of its first disagreement. */
function disagreement(ctx: SyncContext, stream: StreamName, words: string): void {
  const ref = scarfCounts(ctx);
  if (ref.warned.has(stream)) return;
  ref.warned.add(stream);
  log.warn(
    `${words}. Accepted as Scarf serves it (its counts may not match its export exactly); the stream's report line counts every such window as "disagree".`,
  );
}

export function partVerifier(
  run: StreamRun,
  windows: readonly Window[],
  ledgerWindows: readonly Window[] = [],
): PartVerifier | undefined {
  const { ctx, declaration: decl, stats } = run;
  const against = decl.verifiedAgainst;
  const kind: CountKind | undefined = against === 'total' || against === 'company' ? against : undefined;
  if (!ctx.settings.verify_counts || !kind || windows.length + ledgerWindows.length === 0) return undefined;
  // The whole range the stream has pending, so the counts are read in as few requests as possible.
  // Exactly the stream's pending days (and those a stream takes from the counts, which it
  // would read anyway): reading more would cost more than one request where Scarf's range
  // limit is shorter than aggregates_window_days. The open days of earlier
  // syncs before that range are read on their own, one run of days each.
  const range = spanOf(windows);
  const owner = ctx.settings.owner;
  const accepted = acceptsMismatches(ctx.state, decl.name, ctx.settings);
  return {
    async prepare() {
      const ref = scarfCounts(ctx);
      // With a day on each side, so a day the counts body leaves out shows as a gap (ScarfCounts.gap).
      for (const w of ledgerWindows) await ref.ensure(kind, aroundDay(w));
      // Widened to the days a stream takes from these counts (src/streams/verify/counts.ts): one request for both.
      if (range) await ref.ensure(kind, ref.widen(kind, range));
    },
    tally: () => new DayTally(),
    async reconcile(part, spec, seen, dayTally) {
      // The tally this verifier's tally() made.
      const tally = dayTally as DayTally;
      const ref = scarfCounts(ctx);
      await ref.ensure(kind, part);
      const domain = kind === 'company' ? (spec.constants?.company_domain as string) : undefined;
      const days = everyDay(part);
      const counted = (d: Day) => ref.count(kind, d, domain);
      // A gap in the counts proves nothing, whatever the export holds.
      const gap = (d: Day) => kind === 'total' && ref.gap(d);
      const unproven = (d: Day) => tally.get(d) !== counted(d) || gap(d);
      const reads = new Map<Day, number>(days.map((d) => [d, 1]));
      const limit = extraReads(days.length) - 1;
      const settled = new Set<Day>();
      let exportReads = 0;
      let countsReread = false;
      // A day is settled for this sync once a read of it alone held everything held so far and
      // nothing new: reading it again would answer the same (a read cut at random holds less).
      const readAgain = async (w: Window): Promise<void> => {
        exportReads++;
        for (const d of everyDay(w)) reads.set(d, (reads.get(d) ?? 0) + 1);
        let fresh = 0;
        const again = new DayTally();
        await run.fetch(
          recordsTo(run, (rec: Rec) => {
            if (!seen.add(rec[spec.keyField] as string)) return;
            fresh++;
            tally.add(spec.tallyField === undefined ? undefined : rec[spec.tallyField]);
            return run.sink.record(rec);
          }),
          rereadSpec(spec, w, again),
          run.keySet(),
        );
        if (w.start === w.end && fresh === 0 && again.get(w.start) === tally.get(w.start)) settled.add(w.start);
      };
      for (;;) {
        const open = days.filter(unproven);
        if (open.length === 0) break;
        const first = open[0]!;
        const numbers = `Scarf counts ${events(counted(first))}${gap(first) ? ' (no row for the day in its counts)' : ''}, its export holds ${fmt(tally.get(first))}${open.length > 1 ? ` (and ${open.length - 1} more day${open.length > 2 ? 's' : ''} differ)` : ''}`;
        const over = open.filter((d) => tally.get(d) > counted(d) || gap(d));
        if (over.length > 0 && !countsReread) {
          // More than counted, or no counts: late or short counts. Read them again for these days.
          countsReread = true;
          const span = { start: over[0]!, end: over[over.length - 1]! };
          log.info(`${spec.label}: ${first}: ${numbers}; reading Scarf's counts for ${span.start}..${span.end} again.`);
          await ref.reread(kind, span, domain);
          continue;
        }
        // Fewer than counted, or nothing on a day the counts left out: the export is read again.
        const short = open.filter((d) => (tally.get(d) < counted(d) || (gap(d) && tally.get(d) === 0)) && !settled.has(d));
        if (short.length === 0 || exportReads >= limit) break;
        if (exportReads === 0) {
          // The short days' span first: a random cut heals in this one read.
          const span = { start: short[0]!, end: short[short.length - 1]! };
          log.info(
            `${spec.label}: ${first}: ${numbers}; reading ${span.start}..${span.end} again (its bookmark waits until they agree).`,
          );
          await readAgain(span);
          continue;
        }
        // Then one day per request: a cap that cut the longer body does not cut a day alone at the same place.
        for (const d of short) {
          if (exportReads >= limit) break;
          log.info(
            `${spec.label}: ${d}: Scarf counts ${events(counted(d))}, the export holds ${fmt(tally.get(d))}; reading the day alone.`,
          );
          await readAgain({ start: d, end: d });
        }
      }
      const left = days.filter(unproven);
      for (const d of days) {
        const key = { day: d, owner, ...(domain ? { company_domain: domain } : {}) };
        const before = findOpenDay(ctx.state, decl.name, key);
        if (!left.includes(d)) {
          if (before) {
            log.info(`${decl.name}: open day ${describe(before)} now agrees with Scarf's counts (${fmt(tally.get(d))}): closed.`);
            closeDay(ctx.state, decl.name, key);
          }
          continue;
        }
        ref.dispute(kind, d);
        // held: the most one sync's reads held (the records of every sync reach the destination).
        const entry: OpenDay = {
          ...key,
          scarf_count: counted(d),
          held: Math.max(before?.held ?? 0, tally.get(d)),
          reads: (before?.reads ?? 0) + reads.get(d)!,
        };
        if (accepted) {
          closeDay(ctx.state, decl.name, key);
          (stats.acceptedDays ??= []).push(entry);
          log.warn(
            `${decl.name}: ${describe(entry)}: accepted as it is, because accept_count_mismatches names ${decl.name}; the export of that day may miss events.`,
          );
        } else {
          openDay(ctx.state, decl.name, entry);
          log.warn(
            `${decl.name}: ${describe(entry)} still differs: kept open in the state; the next sync reads it again first, and this sync ends failed.`,
          );
        }
      }
      record(stats, left.length ? 'disagree' : exportReads + (countsReread ? 1 : 0) > 0 ? 'reread' : 'equal');
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
  run: Pick<StreamRun, 'ctx' | 'stats' | 'declaration' | 'keySet'>,
  present: Set<string>,
  reread: (reSeen: KeySet) => Promise<number>,
): Promise<void> {
  const { ctx, stats } = run;
  const stream = run.declaration.name;
  if (!ctx.settings.verify_counts) return;
  const ref = scarfCounts(ctx);
  const range = rollupCheckRange(ctx, ref.coveredDays('company'));
  await ref.ensure('company', range);
  const missing = () => [...ref.activeDomains(range)].filter((d) => !present.has(d)).sort();
  let reread_ = false;
  for (let step = 0; ; step++) {
    const lost = missing();
    if (lost.length === 0) return record(stats, reread_ ? 'reread' : 'equal');
    const words = `${stream}: Scarf counts events in ${range.start}..${range.end} of ${lost.length} compan${lost.length === 1 ? 'y' : 'ies'} the company-rollup snapshot does not list (${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', …' : ''})`;
    if (step >= MAX_REREADS) {
      disagreement(ctx, stream, `${words} after ${step + 1} reads`);
      return record(stats, 'disagree');
    }
    log.info(`${words}; reading the snapshot again.`);
    const before = present.size;
    const reSeen = run.keySet();
    const fresh = await reread(reSeen);
    reread_ = true;
    if (fresh === 0 && reSeen.size === before && missing().length > 0) {
      disagreement(ctx, stream, `${words} after two identical reads`);
      return record(stats, 'disagree');
    }
  }
}
