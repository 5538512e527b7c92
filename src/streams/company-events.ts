import { log } from '../log.js';
import { companyEventsPath } from '../scarf/endpoints.js';
import { dayOf } from './days.js';
import { fetchRecords } from './fetch.js';
import { runInOrder } from './ordered.js';
import { forEachRange, splitByDays } from './ranges.js';
import { readRollup } from './company-rollup.js';
import { coverageMark, resumeDay } from './resume.js';
import type { StreamReader } from './types.js';

/**
 * One request per active company over its whole pending range (split only when Scarf
 * answers range-too-long). A company whose last_seen is before its pending range has no
 * new events, and asking anyway would cost the user a Run for nothing.
 */
export const readCompanyEvents: StreamReader = async (ctx, selection, sink, stats) => {
  const incremental = selection.replicationMethod === 'INCREMENTAL';
  const explicit = ctx.settings.company_domains;
  if (!explicit && !ctx.companyActivity) {
    // company_rollup was not part of this sync: read it once just for the domains.
    const before = ctx.client.requestCount;
    await readRollup(ctx, { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 }, () => undefined);
    log.info(
      `company_events: read company-rollup for the list of active companies (${ctx.client.requestCount - before} request).`,
    );
  }
  ctx.state.adoptOwnerlessPartitions('company_events', ctx.settings.owner);
  const activity = ctx.companyActivity;
  const domains = explicit ? [...explicit] : [...(activity?.keys() ?? [])].sort();
  let skipped = 0;
  const pending: { domain: string; start: string }[] = [];
  for (const domain of domains) {
    const previous = incremental
      ? ctx.state.partitionValue('company_events', { owner: ctx.settings.owner, company_domain: domain }, 'time')
      : undefined;
    const start = resumeDay(ctx, previous, ctx.settings.lookback_days);
    if (start > ctx.endDay) continue;
    if (activity) {
      const lastSeen = activity.get(domain);
      if (lastSeen === undefined || lastSeen === null || dayOf(lastSeen) < start) {
        skipped++;
        continue;
      }
    }
    pending.push({ domain, start });
  }
  stats.windowsPlanned = pending.length;
  await runInOrder(pending, ctx.settings.max_concurrent_requests, ({ domain, start }, waitTurn) => {
    const context = { owner: ctx.settings.owner, company_domain: domain };
    return forEachRange(ctx, 'company-events', { start, end: ctx.endDay }, splitByDays, async (w) => {
      stats.windows++;
      await fetchRecords(
        ctx,
        {
          stream: 'company_events',
          endpoint: 'company-events',
          path: companyEventsPath(ctx.settings.owner, domain),
          query: { start_date: w.start, end_date: w.end },
          label: `company_events ${domain} ${w.start}..${w.end}`,
          keyField: 'id',
          constants: { company_domain: domain },
        },
        new Set<string>(),
        stats,
        sink.record,
        waitTurn,
      );
      await waitTurn();
      const prev = incremental ? ctx.state.partitionValue('company_events', context, 'time') : undefined;
      ctx.state.setPartitionValue('company_events', context, 'time', coverageMark(ctx, w.end, prev));
      await sink.checkpoint();
    });
  });
  stats.skippedPartitions = skipped;
  if (skipped)
    log.info(
      `company_events: skipped ${skipped} compan${skipped === 1 ? 'y' : 'ies'} without activity in their pending range (no request made).`,
    );
};
