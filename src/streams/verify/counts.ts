// Scarf's own daily counts, the one figure a body that ended cleanly but short can be
// judged against (docs/scarf-api.md "Completeness: what the aggregates count, and why it matters"). Read once
// per sync, before a verified stream's first window, for the days it has pending, and kept on the
// sync's memos (SyncContext.memos) so events, company_rollup and company_events share it.
//
// Two kinds of count: `total` (daily by-total, with the package_query the events export
// uses) and `company` (daily by-company). The company exports take no query, so the company
// counts are read without one: with package_query unset one request carries both
// breakdowns; with it set, the company counts are a request of their own, made only when a
// company stream needs them.
import { ApiError, TapError } from '../../errors.js';
import { log } from '../../log.js';
import { aggregatesPath, type Query } from '../../scarf/endpoints.js';
import type { StreamName } from '../../schemas.js';
import { aggregates } from '../aggregates.js';
import { addDays, type Day, dayWindows, everyDay, maxDay, minDay, type Window } from '../engine/days.js';
import { type AcceptedTally, fetchRecords, type FetchSpec, fetchSpec } from '../engine/fetch.js';
import { KeySet } from '../engine/key-set.js';
import { RangeLimits, splitByDays } from '../engine/ranges.js';
import { recordsTo } from '../engine/stream-run.js';
import type { Rec, StreamStats, SyncContext, SyncScope } from '../engine/types.js';
import { readV3Counts, v2CountsGone } from './v3-counts.js';

export type CountKind = 'total' | 'company';

/** Per day: Σ total of the by-total rows, and per company domain (lower-case) Σ total of its by-company rows. */
interface DayCounts {
  total: number;
  company: Map<string, number>;
}

/** The span of a stream's windows: the days its counts are read for. */
export function spanOf(windows: readonly Window[]): Window | undefined {
  if (windows.length === 0) return undefined;
  return { start: windows.map((w) => w.start).reduce(minDay), end: windows.map((w) => w.end).reduce(maxDay) };
}

/** The requests that read the days of `range` not `covered` yet: each run of them in windows of `windowDays`. */
export function countWindows(range: Window, covered: ReadonlySet<Day>, windowDays: number): Window[] {
  let run: Window | undefined;
  const runs: Window[] = [];
  for (const d of everyDay(range)) {
    if (covered.has(d)) continue;
    if (run && addDays(run.end, 1) === d) run.end = d;
    else runs.push((run = { start: d, end: d }));
  }
  return runs.flatMap((r) => dayWindows(r.start, r.end, windowDays));
}

/** The kinds one request reads: both without package_query (the company counts take no query). */
export function kindsRead(settings: SyncScope['settings'], kind: CountKind): CountKind[] {
  return settings.package_query === undefined ? ['total', 'company'] : [kind];
}

/**
 * The days the rollup snapshot is checked over: those the company counts already cover for
 * the other streams, else one request's worth of the latest days (the companies
 * company_events will ask about).
 */
export function rollupCheckRange(scope: SyncScope, companyDays: ReadonlySet<Day>): Window {
  const days = [...companyDays];
  if (days.length) return { start: days.reduce(minDay), end: days.reduce(maxDay) };
  return {
    start: maxDay(scope.startDay, addDays(scope.endDay, -(scope.settings.aggregates_window_days - 1))),
    end: scope.endDay,
  };
}

export class ScarfCounts {
  private readonly days = new Map<Day, DayCounts>();
  private readonly covered: Record<CountKind, Set<Day>> = { total: new Set(), company: new Set() };
  private limits = new RangeLimits();
  /** Days with at least one row of the kind's breakdown in the counts body (not merely a day in the range read). */
  private readonly present: Record<CountKind, Set<Day>> = { total: new Set(), company: new Set() };
  /** Requests these counts made (its first reads and its re-reads). */
  requests = 0;
  /** The days a stream wants served from the counts, per kind (their span). */
  private readonly wanted: Partial<Record<CountKind, Window>> = {};
  /** The by-total rows of the days read from v2 since a stream wanted them, as the last read of each day answered. */
  private readonly rows = new Map<Day, Rec[]>();
  /** Days a verified stream left unproven: their counts may be the short side, so they are not served. */
  private readonly disputed = new Set<Day>();
  /** Streams whose one disagreement warning has been given. */
  readonly warned = new Set<StreamName>();
  /** Scarf refused the request carrying both breakdowns: each kind is read on its own from then on. */
  private combinedRefused = false;

  constructor(private readonly ctx: SyncContext) {}

  count(kind: CountKind, day: Day, domain?: string): number {
    const c = this.days.get(day);
    if (!c) return 0;
    return kind === 'total' ? c.total : (c.company.get(domain!.toLowerCase()) ?? 0);
  }

  /**
   * A day read but without one by-total row, between days that have rows: the counts body
   * left it out (a day of a package that is downloaded every day does not count 0), so an
   * empty export of that day proves nothing. Days before the first or after the last counted
   * day are not gaps: a package starts and may stop.
   */
  gap(day: Day): boolean {
    if (!this.covered.total.has(day) || this.present.total.has(day)) return false;
    let before = false;
    let after = false;
    for (const d of this.present.total) {
      if (d < day) before = true;
      else if (d > day) after = true;
      if (before && after) return true;
    }
    return false;
  }

  /** Domains (lower-case) with at least one counted event in the range. */
  activeDomains(range: Window): Set<string> {
    const out = new Set<string>();
    for (const day of everyDay(range)) for (const [domain, n] of this.days.get(day)?.company ?? []) if (n > 0) out.add(domain);
    return out;
  }

  /** The days whose counts of `kind` are read. */
  coveredDays(kind: CountKind): ReadonlySet<Day> {
    return this.covered[kind];
  }

  /** A stream will take the rows of `range` from these counts (only 'total' is kept as rows). */
  want(kind: CountKind, range: Window): void {
    if (kind !== 'total') return;
    this.wanted[kind] = spanOf([range, ...(this.wanted[kind] ? [this.wanted[kind]] : [])]);
  }

  /** `range` with the days wanted of the kind: read in as few requests as the span takes. */
  widen(kind: CountKind, range: Window): Window {
    const w = this.wanted[kind];
    return w ? spanOf([range, w])! : range;
  }

  /** A verified stream could not prove `day` against these counts. */
  dispute(kind: CountKind, day: Day): void {
    if (kind === 'total') this.disputed.add(day);
  }

  /**
   * The by-total rows of every day of `part`, as read for the counts; undefined unless every
   * day was read from v2 (the rows a stream would get), is no gap and is not disputed.
   */
  shared(kind: CountKind, part: Window): Rec[] | undefined {
    if (kind !== 'total') return undefined;
    const out: Rec[] = [];
    for (const d of everyDay(part)) {
      const rows = this.rows.get(d);
      if (!rows || this.gap(d) || this.disputed.has(d)) return undefined;
      out.push(...rows);
    }
    return out;
  }

  /** Reads the counts of the days of `range` not read yet (one request per aggregates_window_days days). */
  async ensure(kind: CountKind, range: Window): Promise<void> {
    for (const w of countWindows(range, this.covered[kind], this.ctx.settings.aggregates_window_days))
      await this.read(kind, w, 'read');
  }

  /** Reads the counts of `range` again; true when any count of `domain` (or by-total) changed. */
  async reread(kind: CountKind, range: Window, domain?: string): Promise<boolean> {
    const before = everyDay(range).map((d) => this.count(kind, d, domain));
    for (const w of dayWindows(range.start, range.end, this.ctx.settings.aggregates_window_days))
      await this.read(kind, w, 're-read');
    return everyDay(range).some((d, i) => this.count(kind, d, domain) !== before[i]);
  }

  private async read(kind: CountKind, window: Window, why: 'read' | 're-read'): Promise<void> {
    const s = this.ctx.settings;
    const kinds = this.combinedRefused ? [kind] : kindsRead(s, kind);
    const query: Query = {
      rollup: 'daily',
      breakdown: kinds.map((k) => (k === 'total' ? 'by-total' : 'by-company')),
      ...(kinds.includes('total') && s.package_query !== undefined ? { query: s.package_query } : {}),
    };
    const before = this.ctx.client.requestCount;
    let alone = false;
    try {
      await this.limits.forEachRange('aggregates (counts)', window, splitByDays, (w) =>
        this.readRange(kinds, w, query, why, kind),
      );
    } catch (err) {
      // A refusal of the two breakdowns together (one of them not allowed for this account)
      // must not fail the stream that needs only the other: each is asked for alone. A 401
      // (the token) or a 404 (the owner: v2's and v3's both said so) would fail any request alike.
      if (err instanceof ApiError && err.status !== 401 && err.status !== 404 && kinds.length > 1) {
        this.combinedRefused = true;
        // What the refused request taught about ranges is not about range length.
        this.limits = new RangeLimits();
        log.warn(
          `Scarf refused the counts request with both by-total and by-company (${err.message}): reading ${kind === 'total' ? 'by-total' : 'by-company'} alone; a stream that needs the other breakdown fails only if that is refused too.`,
        );
        alone = true;
      } else {
        // A bad token or base_url fails every request alike: then the advice is the error's own.
        if (err instanceof TapError && err.failureType !== 'config_error')
          log.error(
            `Could not read Scarf's aggregates counts for ${window.start}..${window.end}, which verify_counts checks the exports against: ${err.message}. Without them no window can be proven complete, so its bookmark stays; set verify_counts to false to sync without the check.`,
          );
        throw err;
      }
    } finally {
      this.requests += this.ctx.client.requestCount - before;
    }
    if (alone) await this.read(kind, window, why);
  }

  /** Where the counts come from: v2 aggregates, until it shows it has none (then v3, for the rest of the sync). */
  private source: 'v2' | 'v3' = 'v2';

  /** v2 aggregates showed it has no rows (or is gone) in this sync: the counts come from v3. */
  get v2Empty(): boolean {
    return this.source === 'v3';
  }

  private async readV2(w: Window, query: Query, why: string, stats: StreamStats, tally: (rec: Rec) => void, kinds: CountKind[]) {
    let rows = 0;
    try {
      await fetchRecords(
        recordsTo({ ctx: this.ctx, stats }, (rec) => {
          rows++;
          tally(rec);
        }),
        fetchSpec(aggregates.declaration, {
          path: aggregatesPath(this.ctx.settings.owner),
          query: { start_date: w.start, end_date: w.end, ...query },
          label: `aggregates counts ${w.start}..${w.end} (${why} for verify_counts)`,
          deriveKey: (rec: Rec) =>
            JSON.stringify([rec.date, rec.rollup, rec.breakdown, rec.artifact, rec.company_domain ?? null]),
        }),
        new KeySet(),
      );
    } catch (err) {
      if (!v2CountsGone(err)) throw err;
      this.useV3(`answered HTTP ${(err as { status: number }).status}`);
      return;
    }
    // by-total has a row for every day with an event: none at all is v2's known failure (or no events; v3 then says 0 too).
    if (rows === 0 && kinds.includes('total')) this.useV3(`answered no rows for ${w.start}..${w.end}`);
  }

  private useV3(why: string): void {
    this.source = 'v3';
    log.warn(
      `verify_counts: Scarf's legacy v2 aggregates export ${why}; reading the daily counts from its v3 aggregations export for the rest of this sync (one request per count kind and window).`,
    );
  }

  private async readRange(read: CountKind[], w: Window, query: Query, why: string, asked: CountKind): Promise<void> {
    let kinds = read;
    // Counted into fresh maps and taken over only once the body is whole, so a failed read
    // leaves the previous counts as they were.
    const fresh = new Map<Day, DayCounts>();
    // Kept only while a stream wants them: one row per artifact and day.
    const keep = this.wanted.total !== undefined ? new Map<Day, Rec[]>() : undefined;
    for (const d of everyDay(w)) {
      fresh.set(d, { total: 0, company: new Map() });
      keep?.set(d, []);
    }
    const seen: Record<CountKind, Set<Day>> = { total: new Set(), company: new Set() };
    const stats: StreamStats = { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 };
    const tally = (rec: Rec) => {
      const c = fresh.get(rec.date as Day);
      if (!c || rec.rollup !== 'daily' || typeof rec.total !== 'number') return;
      if (rec.breakdown === 'by-total') {
        c.total += rec.total;
        seen.total.add(rec.date as Day);
        keep?.get(rec.date as Day)?.push({ ...rec });
      } else if (rec.breakdown === 'by-company' && typeof rec.company_domain === 'string') {
        seen.company.add(rec.date as Day);
        const d = rec.company_domain.toLowerCase();
        c.company.set(d, (c.company.get(d) ?? 0) + rec.total);
      }
    };
    // v2 until it shows it has no counts; then v3 for the rest of the sync (src/streams/verify/v3-counts.ts).
    if (this.source === 'v2') await this.readV2(w, query, why, stats, tally, kinds);
    if (this.source === 'v3') {
      // v3 takes one breakdown set a request: only the kind asked for (the other kind, if a stream needs it, is its own read).
      kinds = [asked];
      for (const c of fresh.values()) {
        c.total = 0;
        c.company.clear();
      }
      seen.total.clear();
      seen.company.clear();
      await readV3Counts(this.ctx, kinds, w, kinds.includes('total') ? this.ctx.settings.package_query : undefined, why, tally);
    }
    // v3's rows are not the rows of the v2 aggregates stream: a stream wanting them reads its own.
    const servable = keep && this.source === 'v2' && kinds.includes('total') ? keep : undefined;
    for (const [day, c] of fresh) {
      const kept = this.days.get(day) ?? { total: 0, company: new Map<string, number>() };
      if (kinds.includes('total')) kept.total = c.total;
      if (kinds.includes('company')) kept.company = c.company;
      this.days.set(day, kept);
      if (kinds.includes('total')) {
        const rows = servable?.get(day);
        if (rows) this.rows.set(day, rows);
        else this.rows.delete(day);
      }
      for (const k of kinds) {
        this.covered[k].add(day);
        if (seen[k].has(day)) this.present[k].add(day);
        else this.present[k].delete(day);
      }
    }
  }
}

/** The sync's counts, created on first use. */
const MEMO = Symbol('scarfCounts');

export function scarfCounts(ctx: SyncContext): ScarfCounts {
  const memos = (ctx.memos ??= new Map());
  let ref = memos.get(MEMO) as ScarfCounts | undefined;
  if (!ref) memos.set(MEMO, (ref = new ScarfCounts(ctx)));
  return ref;
}

/** The counts read so far this sync, if any were. */
export function countsRead(ctx: SyncContext): ScarfCounts | undefined {
  return ctx.memos?.get(MEMO) as ScarfCounts | undefined;
}

/** The request that reads window w of a part again, its accepted records counted by `tally` (reconcile.ts, aggregates-check.ts). */
export function rereadSpec(spec: FetchSpec, w: Window, tally: AcceptedTally): FetchSpec {
  return {
    ...spec,
    query: { ...spec.query, start_date: w.start, end_date: w.end },
    onAccepted: tally,
    label: `${spec.label} (re-read ${w.start === w.end ? w.start : `${w.start}..${w.end}`})`,
  };
}
