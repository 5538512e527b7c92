import type { StreamSelection } from '../catalog.js';
import { TapError } from '../errors.js';
import { log } from '../log.js';
import { companyEventsPath } from '../scarf/endpoints.js';
import { readRollup } from './company-rollup.js';
import { dayOf, type Window } from './days.js';
import { STREAMS } from './definitions.js';
import { type PlannedRequest, plural, type StreamPlanner, windowedPlan } from './planned.js';
import { splitByDays } from './ranges.js';
import { coverageMark, resumeDay } from './resume.js';
import { runWindows, type WindowedStream } from './runner.js';
import { StreamState } from './stream-state.js';
import type { StreamReader, SyncContext } from './types.js';

interface DomainRange extends Window {
  domain: string;
}

/** The label of company_events' own read of the rollup, when company_rollup is not part of the sync. */
const OWN_ROLLUP_READ = 'company-rollup snapshot (the list of active companies)';

/**
 * company_events takes its list of companies from the rollup; without it there is nothing to
 * request. Said with the cause, and with the Runs it did not spend on asking again.
 */
function rollupFailed(cause: TapError, when: string): TapError {
  return new TapError(
    `company_events needs the list of companies from company-rollup, whose request ${when} (no second request made): ${cause.message}. ` +
      'Fix that and run again, or set company_domains to read listed companies without the rollup.',
    cause.failureType,
  );
}

/**
 * One request per active company over its whole pending range (split only when Scarf
 * answers range-too-long). A company whose last_seen is before its pending range has no
 * new events, and asking anyway would cost the user a Run for nothing.
 */
function companyEventsStream(ctx: SyncContext, selection: StreamSelection): WindowedStream<DomainRange> & { skipped: number } {
  const state = new StreamState(ctx.state, selection, ctx.settings.owner);
  const explicit = ctx.settings.company_domains;
  ctx.state.adoptOwnerlessPartitions('company_events', ctx.settings.owner);
  const activity = ctx.companyActivity;
  const domains = explicit ? [...explicit] : [...(activity?.keys() ?? [])].sort();
  let skipped = 0;
  const pending: DomainRange[] = [];
  for (const domain of domains) {
    const start = resumeDay(ctx, state.bookmark(domain), ctx.settings.lookback_days);
    if (start > ctx.endDay) continue;
    if (activity) {
      const lastSeen = activity.get(domain);
      if (lastSeen === undefined || lastSeen === null || dayOf(lastSeen) < start) {
        skipped++;
        continue;
      }
    }
    pending.push({ domain, start, end: ctx.endDay });
  }
  // The companies furthest behind first: a sync stopped by max_requests_per_sync then leaves
  // the ones it just read (whose next requests are only their lookback) for later, and the
  // next sync goes on with the rest instead of re-reading the same companies.
  pending.sort((a, b) =>
    a.start < b.start ? -1 : a.start > b.start ? 1 : a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0,
  );
  return {
    declaration: STREAMS.company_events,
    windows: pending,
    skipped,
    split: splitByDays,
    concurrent: true,
    request: ({ domain }, w) => ({
      path: companyEventsPath(ctx.settings.owner, domain),
      query: { start_date: w.start, end_date: w.end },
      label: `company_events ${domain} ${w.start}..${w.end}`,
      constants: { [STREAMS.company_events.partitionedBy!]: domain },
    }),
    commit: ({ domain }, w) => state.commit(coverageMark(ctx, w.end, state.bookmark(domain)), domain),
    openWindow: (e) => (e.company_domain === undefined ? undefined : { domain: e.company_domain, start: e.day, end: e.day }),
  };
}

export const readCompanyEvents: StreamReader = async (ctx, selection, sink, stats) => {
  const explicit = ctx.settings.company_domains;
  if (!explicit && ctx.rollupFailure) throw rollupFailed(ctx.rollupFailure, 'failed earlier in this sync');
  if (!explicit && !ctx.companyActivity) {
    // Its dependency company_rollup was not part of this sync: read it once just for the domains.
    const before = ctx.client.requestCount;
    try {
      await readRollup(ctx, { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 }, () => undefined);
    } catch (err) {
      throw ctx.rollupFailure ? rollupFailed(ctx.rollupFailure, 'failed') : err;
    }
    log.info(
      `company_events: read company-rollup for the list of active companies (${ctx.client.requestCount - before} request).`,
    );
  }
  const stream = companyEventsStream(ctx, selection);
  await runWindows(ctx, stream, sink, stats);
  const skipped = stream.skipped;
  stats.skippedPartitions = skipped;
  if (skipped)
    log.info(
      `company_events: skipped ${skipped} compan${skipped === 1 ? 'y' : 'ies'} without activity in their pending range (no request made).`,
    );
};

/**
 * As the reader: its own rollup read when company_rollup is not selected and no list is
 * given, then one request per pending company. Without the snapshot (ctx.companyActivity
 * unset) the companies cannot be counted, or (with company_domains and company_rollup
 * selected) only as an upper bound.
 */
export const planCompanyEvents: StreamPlanner = (ctx, selection, selected) => {
  const explicit = ctx.settings.company_domains;
  const rollupSelected = selected.includes('company_rollup');
  const own: PlannedRequest[] = !explicit && !rollupSelected ? [{ label: OWN_ROLLUP_READ, snapshot: true }] : [];
  if (!explicit && !ctx.companyActivity)
    return {
      stream: 'company_events',
      requests: own,
      bound: 'unknown',
      detail: `${own.length ? 'the company-rollup snapshot, then ' : ''}one request per company active in its pending range (counted once the snapshot is read)`,
    };
  const stream = companyEventsStream(ctx, selection);
  const plan = windowedPlan(
    stream,
    `${own.length ? 'the company-rollup snapshot, then ' : ''}${plural(stream.windows.length, 'company', 'companies')} with pending days${
      stream.skipped ? ` (${stream.skipped} without activity in their pending range skipped)` : ''
    }`,
    ctx,
  );
  plan.requests.unshift(...own);
  if (explicit && rollupSelected && !ctx.companyActivity) {
    plan.bound = 'upper';
    plan.detail += ', before the snapshot skips the inactive ones';
  }
  return plan;
};
