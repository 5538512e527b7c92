// How many requests (Scarf Runs, which the user pays for) a sync is about to make: the sum
// of every selected stream's planner (src/streams/engine/stream-plan.ts, one next to each reader). The
// same plan is logged at the start of every sync (a warning above MANY_REQUESTS, so a
// start_date decades back is pointed out before the Runs are spent), printed by
// `tap-scarf --plan` (src/run/plan.ts), and run forward to say how many syncs a backfill takes
// under max_requests_per_sync.
import { log } from '../../log.js';
import type { StreamName } from '../../schemas.js';
import { StateStore } from '../../state.js';
import { addDays, type Day, everyDay, type Window } from '../engine/days.js';
import type { StreamSelection } from '../engine/definitions.js';
import { type PlannedRequest, plural, type StreamPlan } from '../engine/stream-plan.js';
import type { SyncContext } from '../engine/types.js';
import { streamModule, STREAMS } from '../registry.js';
import { selectOwner } from '../state/owners.js';
import { reconcileSettings } from '../state/settings.js';
import { type CountKind, countWindows, kindsRead, rollupCheckRange, spanOf } from '../verify/counts.js';
import { aroundDay, extraReads } from '../verify/reconcile.js';
import { markStarved, progressOf as streamProgress, serveStarvedFirst } from './starved.js';

/** Above this many requests the sync says how many it is about to make. */
export const MANY_REQUESTS = 1000;

export interface SyncPlan {
  /** In the order the sync reads them. */
  streams: StreamPlan[];
  /** Requests counted: too few when a stream's bound is 'unknown', at most that when 'upper'. */
  total: number;
  /** The weakest bound of its streams; undefined: the count is what the sync will make (no refusal, no retry). */
  bound?: 'unknown' | 'upper';
  /**
   * Days of the longest range requested. Scarf's range limit is unknown until a sync learns it
   * (docs/requests.md "Learning the range limit"), so a plan with a range over one day is a
   * lower bound: each refusal costs a request more.
   */
  longestRange: number;
  /**
   * verify_counts' re-reads at most, on top of `total`: extraReads(days) per verified window
   * (src/streams/verify/reconcile.ts). Made only for windows that do not reconcile at first.
   */
  rereadsAtMost: number;
  /** The days streams take from Scarf's counts (PlannedRequest.fromCounts), per kind: the sync reads them with the counts. */
  countsWanted: Partial<Record<CountKind, Window>>;
}

/** Requests a sync makes beyond its streams' windows, charged to the stream they are made for, before its request `after`. */
export interface ExtraRequests {
  stream: StreamName;
  after: number;
  requests: PlannedRequest[];
  detail: string;
}

/**
 * verify_counts' requests for Scarf's daily counts (src/streams/verify/counts.ts), as the sync
 * makes them: events reads the by-total counts of its pending days before its first window;
 * the rollup snapshot is checked against the company counts already read, or else the last
 * aggregates_window_days days; company_events reads the company counts of its pending days
 * not read yet, before its first company. Without package_query one request carries both
 * kinds. One request per aggregates_window_days of each run of days not yet read; a re-read
 * after a short body comes on top, like a retry.
 */
function syncExtras(ctx: SyncContext, streams: StreamPlan[], wanted: Partial<Record<CountKind, Window>>): ExtraRequests[] {
  const s = ctx.settings;
  if (!s.verify_counts) return [];
  const covered: Record<CountKind, Set<Day>> = { total: new Set(), company: new Set() };
  const out: ExtraRequests[] = [];
  // As ScarfCounts.ensure reads them (src/streams/verify/counts.ts), on the plan's own record of the days read.
  const ensure = (kind: CountKind, range: Window, stream: StreamName, after: number): void => {
    const requests: PlannedRequest[] = [];
    for (const w of countWindows(range, covered[kind], s.aggregates_window_days)) {
      requests.push({ label: `aggregates counts ${w.start}..${w.end} (for verify_counts)`, counts: true, range: w });
      for (let d = w.start; d <= w.end; d = addDays(d, 1)) for (const k of kindsRead(s, kind)) covered[k].add(d);
    }
    if (requests.length)
      out.push({ stream, after, requests, detail: `${plural(requests.length, 'request')} for Scarf's counts (verify_counts)` });
  };
  for (const p of streams) {
    // As the window runner's verifier prepares: the open days' counts one by one, then the span of the windows.
    const open = p.requests.flatMap((r) => (r.window && r.ledger ? [r.window] : []));
    const range = spanOf(p.requests.flatMap((r) => (r.window && !r.ledger ? [r.window] : [])));
    const firstWindow = p.requests.findIndex((r) => r.window);
    const verified = (kind: CountKind) => {
      for (const w of open) ensure(kind, aroundDay(w), p.stream, firstWindow);
      if (range) ensure(kind, wanted[kind] ? spanOf([range, wanted[kind]])! : range, p.stream, firstWindow);
    };
    // As the window runner serves them: a window whose every day the counts read before it covers makes no request.
    const served = p.requests.filter(
      (r) => r.fromCounts && r.window && everyDay(r.window).every((d) => covered[r.fromCounts!].has(d)),
    );
    if (served.length) {
      p.requests = p.requests.filter((r) => !served.includes(r));
      p.served = served.flatMap((r) => (r.commit ? [r.commit] : []));
      p.detail += `; ${plural(served.length, 'window')} taken from Scarf's counts read for verify_counts (no request)`;
    }
    const against = STREAMS[p.stream].verifiedAgainst;
    // A snapshot comes before the windows of its stream (company_events' own rollup read).
    const snapshot = p.requests.findIndex((r) => r.snapshot);
    if (snapshot >= 0) ensure('company', rollupCheckRange(ctx, covered.company), p.stream, snapshot + 1);
    if (against === 'total' || against === 'company') verified(against);
  }
  return out;
}

/** The span of the days each kind of count is wanted for by windows served from them (PlannedRequest.fromCounts). */
export function countsWanted(streams: readonly StreamPlan[]): Partial<Record<CountKind, Window>> {
  const out: Partial<Record<CountKind, Window>> = {};
  for (const r of streams.flatMap((p) => p.requests))
    if (r.fromCounts && r.window) out[r.fromCounts] = spanOf([r.window, ...(out[r.fromCounts] ? [out[r.fromCounts]!] : [])]);
  return out;
}

/** The plan from ctx as it stands (its state already brought in line with the settings). */
export function planStreams(ctx: SyncContext, selections: StreamSelection[]): SyncPlan {
  const selected = selections.map((s) => s.stream);
  const streams = selections.map((sel) => streamModule(sel.stream).plan(ctx, sel, selected));
  // Inserted from the last, so each extra's index still counts the stream's own requests.
  // As the sync hands them to the reference (src/sync.ts): the days streams take from the counts.
  const wanted = ctx.settings.verify_counts ? countsWanted(streams) : {};
  for (const extra of syncExtras(ctx, streams, wanted).reverse()) {
    const plan = streams.find((p) => p.stream === extra.stream);
    if (!plan) continue;
    plan.requests.splice(extra.after, 0, ...extra.requests);
    plan.detail += `; ${extra.detail}`;
  }
  const total = streams.reduce((n, p) => n + p.requests.length, 0);
  // Windows re-read while they differ from Scarf's counts (the snapshot's re-reads are not counted).
  const rereads = (p: StreamPlan) => {
    const against = STREAMS[p.stream].verifiedAgainst;
    return against !== undefined && against !== 'active-companies';
  };
  const rereadsAtMost = ctx.settings.verify_counts
    ? streams
        .filter(rereads)
        .flatMap((p) => p.requests)
        .reduce((n, r) => n + (r.window && !r.counts ? extraReads(daysIn(r.window)) : 0), 0)
    : 0;
  const bound = streams.some((p) => p.bound === 'unknown')
    ? 'unknown'
    : streams.some((p) => p.bound === 'upper')
      ? 'upper'
      : undefined;
  const longestRange = streams
    .flatMap((p) => p.requests)
    .reduce((n, r) => Math.max(n, r.window ? daysIn(r.window) : r.range ? daysIn(r.range) : 0), 0);
  return { streams, total, bound, rereadsAtMost, longestRange, countsWanted: wanted };
}

function daysIn(w: Window): number {
  return Math.round((Date.parse(w.end) - Date.parse(w.start)) / 86_400_000) + 1;
}

/**
 * The plan of the sync ctx is about to run, on a copy of its state (the plan's own context
 * is returned, for syncsUnderBudget). `reconciled`: the sync already brought the state in
 * line with its settings (src/streams/state/settings.ts); otherwise this does it on the copy, as
 * the sync will.
 */
export function planSync(
  ctx: SyncContext,
  selections: StreamSelection[],
  reconciled: boolean,
): { plan: SyncPlan; planCtx: SyncContext; warnings: string[] } {
  const planCtx: SyncContext = { ...ctx, state: new StateStore(ctx.state.snapshot()) };
  if (!reconciled)
    selectOwner(
      planCtx.state,
      selections.map((s) => s.stream),
      ctx.settings.owner,
    );
  // The copy marks what it writes with the owner, as the sync's state does.
  planCtx.state.writeFor(ctx.settings.owner);
  const warnings = reconciled ? [] : planCtx.state.clampToSignpost(planCtx.signpostTs);
  if (!reconciled) reconcileSettings(planCtx, selections);
  return { plan: planStreams(planCtx, selections), planCtx, warnings };
}

export interface BudgetForecast {
  /** Syncs run back to back until the state is where one unlimited sync would leave it; undefined: see never. */
  syncs?: number;
  /** Under this budget the backfill never finishes: a sync's requests move no bookmark. */
  never?: boolean;
}

/** Gives up counting after this many syncs. */
const MAX_FORECAST_SYNCS = 1000;

/** The bookmarks of a state, without the settings recorded next to them. */
function progressOf(state: StateStore): string {
  return JSON.stringify(state.snapshot(), (key, value: unknown) =>
    key === 'settings' || key === 'starved_since' ? undefined : value,
  );
}

/**
 * How many syncs, run back to back, read what the plan reads under max_requests_per_sync:
 * each spends the budget in plan order and commits what it completed (on the plan's copy of
 * the state), the next re-plans from there, lookbacks included, until the bookmarks are
 * where one sync without a budget would leave them. Changes planCtx's state.
 */
export function syncsUnderBudget(planCtx: SyncContext, selections: StreamSelection[], budget: number): BudgetForecast {
  let plan = planStreams(planCtx, serveStarvedFirst(planCtx.state, selections));
  if (plan.bound === 'unknown') return {};
  if (plan.total <= budget) return { syncs: 1 };
  const unlimited: SyncContext = { ...planCtx, state: new StateStore(planCtx.state.snapshot()) };
  unlimited.state.writeFor(planCtx.settings.owner);
  for (const p of planStreams(unlimited, selections).streams) {
    for (const request of p.requests) request.commit?.();
    for (const commit of p.served ?? []) commit();
  }
  const target = progressOf(unlimited.state);
  const signpost = Date.parse(planCtx.signpostTs);
  for (let n = 1; n <= MAX_FORECAST_SYNCS; n++) {
    const before = progressOf(planCtx.state);
    const streamsBefore = new Map(plan.streams.map((p) => [p.stream, streamProgress(planCtx.state, p.stream)]));
    let left = budget;
    let stoppedAt = -1;
    plan.streams.forEach((p, i) => {
      for (const request of p.requests) {
        if (stoppedAt >= 0) return;
        if (left-- <= 0) stoppedAt = i;
        else request.commit?.();
      }
      // Served windows cost nothing, but a stream the budget stopped before does not run them.
      if (stoppedAt < 0) for (const commit of p.served ?? []) commit();
    });
    const after = progressOf(planCtx.state);
    if (after === target) return { syncs: n };
    // A budget that only pays for what every sync re-reads (a lookback, the snapshot) gets nowhere.
    if (after === before) return { never: true };
    // As the sync marks them (src/streams/plan/starved.ts): stopped or not started without moving, with something left to read.
    const since = new Date(signpost + n * 1000).toISOString();
    plan.streams.forEach((p, i) => {
      const moved = streamProgress(planCtx.state, p.stream) !== streamsBefore.get(p.stream);
      const pending = streamProgress(planCtx.state, p.stream) !== streamProgress(unlimited.state, p.stream);
      markStarved(planCtx.state, p.stream, stoppedAt >= 0 && i >= stoppedAt && !moved && pending, since);
    });
    plan = planStreams(planCtx, serveStarvedFirst(planCtx.state, selections));
  }
  return {};
}

/** "events 12, aggregates 1, company_rollup 1, company_events 31". */
export function perStream(plan: SyncPlan): string {
  return plan.streams
    .map((p) =>
      p.bound === 'unknown'
        ? `${p.stream} ${p.requests.length ? `${p.requests.length} + ` : ''}one per active company`
        : `${p.stream} ${p.requests.length}${p.bound === 'upper' ? ' at most' : ''}`,
    )
    .join(', ');
}

/**
 * The plan in the log before the first request; a warning when it is large. Computed on a
 * copy of the already reconciled state; makes no request (company_events is counted once its
 * companies are known).
 */
export function logPlan(ctx: SyncContext, selections: StreamSelection[]): SyncPlan {
  const { plan } = planSync(ctx, selections, true);
  const budget = ctx.settings.max_requests_per_sync;
  const total = `${plan.bound === 'unknown' ? 'at least ' : ''}${plan.total}`;
  const line = `Plan: ${perStream(plan) || 'no streams'}: ${total} API request${plan.total === 1 && !plan.bound ? '' : 's'} (Scarf Runs) if Scarf refuses no range and no request is retried${
    plan.rereadsAtMost ? `, plus at most ${plan.rereadsAtMost} re-reads of windows that do not reconcile with Scarf's counts` : ''
  }${
    budget !== undefined && plan.total > budget
      ? `; max_requests_per_sync ${budget} stops this sync after ${budget}, and the next sync continues`
      : ''
  }.`;
  if (plan.total > MANY_REQUESTS)
    log.warn(
      `This sync will make ${total} API requests (Scarf Runs), by its plan for days ${ctx.startDay}..${ctx.endDay}: ${perStream(plan)}. If that is not intended, stop now and set a later start_date, or larger events_window_days / aggregates_window_days, or cap it with max_requests_per_sync ('tap-scarf --plan' prints the plan without syncing).`,
    );
  else log.info(line);
  return plan;
}
