// The aggregates stream checked against what the tap can know (issue 18 item 9;
// docs/reliability.md "Completeness: count reconciliation"): with a daily rollup and by-total
// among the breakdowns asked, each day's Σ by-total of the window must equal Scarf's by-total
// count of that day, read independently for verify_counts (src/streams/verify/counts.ts; a day the
// counts cover already, so the check costs no request of its own). A day the counts lack or
// count fewer events than the rows hold has its counts read again first; a day still short is
// read again: the window once, then each day still different alone; a day still different
// fails the stream with its bookmark where it was (the next sync reads the window again).
// A window the tap cannot check (another rollup, no by-total, days the counts do not cover)
// passes, but never silently: the stream's report line counts it, with one warning that says why.
import { DataError } from '../../errors.js';
import { log } from '../../log.js';
import { type Day, everyDay, type Window } from '../engine/days.js';
import type { AcceptedTally, FetchSpec } from '../engine/fetch.js';
import type { KeySet } from '../engine/key-set.js';
import { recordsTo } from '../engine/stream-run.js';
import type { Rec, StreamRun, StreamStats, SyncContext } from '../engine/types.js';
import { rereadSpec, scarfCounts } from './counts.js';

/** Σ total of the by-total daily rows of a body, per date. */
export class TotalsTally implements AcceptedTally {
  readonly sums = new Map<Day, number>();
  add(_time: unknown, rec?: Rec): void {
    if (!rec || rec.breakdown !== 'by-total' || rec.rollup !== 'daily' || typeof rec.total !== 'number') return;
    const day = rec.date as Day;
    this.sums.set(day, (this.sums.get(day) ?? 0) + rec.total);
  }
  addText(): void {
    // aggregates never takes the fast CSV path (it derives its key)
  }
  get(day: Day): number {
    return this.sums.get(day) ?? 0;
  }
}

/** Why a window could not be checked, or undefined when it can. */
function uncheckable(ctx: SyncContext, spec: FetchSpec, part: Window): string | undefined {
  if (spec.query.rollup !== 'daily') return `aggregates_rollup is ${String(spec.query.rollup)}, not daily`;
  const asked = ([] as unknown[]).concat(spec.query.breakdown ?? []);
  if (!asked.includes('by-total')) return 'by-total is not among the breakdowns asked';
  const covered = scarfCounts(ctx).coveredDays('total');
  if (!everyDay(part).every((d) => covered.has(d)))
    return "Scarf's by-total counts were not read for its days (select events, whose counts cover them)";
  return undefined;
}

/**
 * Judges one aggregates part after its records were written; reads it again (emitting only
 * rows not emitted yet) while days differ, within days + 1 extra reads.
 */
export async function checkAggregatesPart(
  run: StreamRun,
  part: Window,
  spec: FetchSpec,
  seen: KeySet,
  first: TotalsTally,
): Promise<void> {
  const { ctx, stats } = run;
  if (!ctx.settings.verify_counts) return;
  const why = uncheckable(ctx, spec, part);
  if (why) {
    stats.unchecked = (stats.unchecked ?? 0) + 1;
    if (!stats.uncheckedWhy) {
      stats.uncheckedWhy = why;
      log.warn(
        `aggregates ${part.start}..${part.end}: not checked against Scarf's counts, because ${why}; a body that ended cleanly but short would go unnoticed until a later sync re-reads these days. The report line counts such windows.`,
      );
    }
    return;
  }
  const ref = scarfCounts(ctx);
  const best = new Map<Day, number>(everyDay(part).map((d) => [d, first.get(d)]));
  const differ = () => everyDay(part).filter((d) => best.get(d) !== ref.count('total', d));
  const readAgain = async (w: Window): Promise<void> => {
    const again = new TotalsTally();
    await run.fetch(
      recordsTo(run, (rec: Rec) => (seen.add(rec[spec.keyField] as string) ? run.sink.record(rec) : undefined)),
      rereadSpec(spec, w, again),
      run.keySet(),
    );
    for (const d of everyDay(w)) best.set(d, Math.max(best.get(d)!, again.get(d)));
  };
  let diff = differ();
  if (diff.length === 0) return record(stats, 'equal');
  // v2 already answered the counts no row at all this sync, and this window none either:
  // re-reading the same empty export day by day would only spend Runs.
  if (ref.v2Empty && first.sums.size === 0)
    throw new DataError(
      `${spec.label}: Scarf's legacy v2 aggregates export answered no rows, while its v3 counts show events (${diff[0]!}: ${ref.count('total', diff[0]!)}${diff.length > 1 ? `, and ${diff.length - 1} more day(s)` : ''}), so the window cannot be proven complete and its bookmark stays; Scarf calls this export deprecated: select the aggregations stream (its v3 successor) instead.`,
    );
  const say = (d: Day) =>
    `Scarf counts ${ref.count('total', d)} events${ref.gap(d) ? ' (no row for the day in its counts)' : ''}, the aggregates' by-total rows sum to ${best.get(d)}`;
  // The counts come from the same export as the rows: a day they lack (a gap) or count fewer
  // events than the rows hold is the counts' body cut short, not the stream's. They are read
  // again first, as for the events stream (src/streams/verify/reconcile.ts).
  const countsShort = diff.filter((d) => ref.gap(d) || best.get(d)! > ref.count('total', d));
  if (countsShort.length) {
    const span = { start: countsShort[0]!, end: countsShort.at(-1)! };
    log.info(
      `${spec.label}: ${countsShort[0]!}: ${say(countsShort[0]!)}; reading Scarf's counts for ${span.start}..${span.end} again.`,
    );
    await ref.reread('total', span);
    diff = differ();
    if (diff.length === 0) return record(stats, 'reread');
  }
  log.info(`${spec.label}: ${diff[0]!}: ${say(diff[0]!)}; reading the window again.`);
  await readAgain(part);
  diff = differ();
  for (const d of diff) {
    if (part.start === part.end) break;
    log.info(`${spec.label}: ${d}: ${say(d)}; reading the day alone.`);
    await readAgain({ start: d, end: d });
  }
  diff = differ();
  if (diff.length === 0) return record(stats, 'reread');
  throw new DataError(
    `${spec.label}: ${diff[0]!}: ${say(diff[0]!)} after every re-read${diff.length > 1 ? ` (and ${diff.length - 1} more day(s))` : ''}, so the window cannot be proven complete and its bookmark stays (the next sync reads it again).`,
  ).at({ window: spec.label });
}

function record(stats: StreamStats, outcome: 'equal' | 'reread'): void {
  (stats.verified ??= { equal: 0, reread: 0, disagree: 0 })[outcome]++;
}
