import { TapError } from '../errors.js';
import { log } from '../log.js';
import { companyEventsPath } from '../scarf/endpoints.js';
import { readRollup } from './company-rollup.js';
import { dayOf, type Window } from './days.js';
import { STREAMS } from './definitions.js';
import { splitByDays } from './ranges.js';
import { coverageMark, resumeDay } from './resume.js';
import { runWindows } from './runner.js';
import { StreamState } from './stream-state.js';
import type { StreamReader } from './types.js';

interface DomainRange extends Window {
  domain: string;
}

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
export const readCompanyEvents: StreamReader = async (ctx, selection, sink, stats) => {
  const state = new StreamState(ctx.state, selection, ctx.settings.owner);
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
  await runWindows(
    ctx,
    {
      declaration: STREAMS.company_events,
      windows: pending,
      split: splitByDays,
      concurrent: true,
      request: ({ domain }, w) => ({
        path: companyEventsPath(ctx.settings.owner, domain),
        query: { start_date: w.start, end_date: w.end },
        label: `company_events ${domain} ${w.start}..${w.end}`,
        constants: { [STREAMS.company_events.partitionedBy!]: domain },
      }),
      commit: ({ domain }, w) => state.commit(coverageMark(ctx, w.end, state.bookmark(domain)), domain),
    },
    sink,
    stats,
  );
  stats.skippedPartitions = skipped;
  if (skipped)
    log.info(
      `company_events: skipped ${skipped} compan${skipped === 1 ? 'y' : 'ies'} without activity in their pending range (no request made).`,
    );
};
