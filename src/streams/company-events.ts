import { ApiError, RequestBudgetReached, TapError } from '../errors.js';
import { log } from '../log.js';
import { companyEventsPath } from '../scarf/endpoints.js';
import { companyActivity, companyRollup, readRollup, rollupFailure, snapshotRun } from './company-rollup.js';
import { type Day, dayOf, type Window } from './engine/days.js';
import type { StreamSelection } from './engine/definitions.js';
import type { StreamDeclaration } from './engine/definitions.js';
import type { StreamModule } from './engine/module.js';
import { splitByDays } from './engine/ranges.js';
import { coverageMark, resumeDay } from './engine/resume.js';
import { runWindows, type WindowedStream } from './engine/runner.js';
import { type PlannedRequest, plural, windowedPlan } from './engine/stream-plan.js';
import { StreamState } from './engine/stream-state.js';
import type { SyncContext } from './engine/types.js';

const declaration: StreamDeclaration = {
  name: 'company_events',
  endpoint: 'company-events',
  format: 'csv',
  keyProperties: ['owner', 'id'],
  validReplicationKeys: ['time'],
  defaultReplicationKey: 'time',
  userChoosableCursor: false,
  partitionedBy: 'company_domain',
  // Its list of companies (and which of them were active) comes from the rollup snapshot.
  dependsOn: ['company_rollup'],
  window: 'partition-range',
  lookback: 'lookback_days',
  // Each domain has its own bookmark, so a changed company_domains needs nothing here.
  coveredBy: { start_date: 'start_date' },
  pastSignpost: 'signpost',
  verifiedAgainst: 'company',
  tallyField: 'time',
  fastCsv: true,
};

interface DomainRange extends Window {
  domain: string;
}

/** What the state keeps of a company whose requests failed (its partition's "failure"), cleared by its next commit. */
export interface PartitionFailure {
  /** Syncs in a row whose request for this company failed. */
  attempts: number;
  last_error: string;
  /** When the last failed sync started (its signpost). */
  last_failed_at: string;
}

/** Companies failing before any company was read, after which the failure is taken as the stream's. */
const FAILURES_BEFORE_ANY_SUCCESS = 3;

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
 * The rollup's last_seen per domain, in lower case: Scarf may spell a domain in another case
 * in the rollup than the user did in company_domains (domains are case-insensitive). Of two
 * spellings the first is kept for the request, and the later last_seen.
 */
function rollupByDomain(activity: Map<string, string | null>): Map<string, { spelled: string; lastSeen: string | null }> {
  const out = new Map<string, { spelled: string; lastSeen: string | null }>();
  for (const [domain, lastSeen] of activity) {
    const key = domain.toLowerCase();
    const had = out.get(key);
    if (!had) out.set(key, { spelled: domain, lastSeen });
    else if (had.lastSeen !== null && (lastSeen === null || lastSeen > had.lastSeen)) had.lastSeen = lastSeen;
  }
  return out;
}

/** A TapError other than the ones every company would meet alike (token, signal, budget): that company's own. */
function ownFailure(err: unknown): TapError | undefined {
  if (!(err instanceof TapError)) return undefined;
  if (err instanceof ApiError) return err.status === 401 || err.status === 403 ? undefined : err;
  // A configuration problem (base_url, a redirect) fails every company alike.
  return err.failureType === 'config_error' ? undefined : err;
}

/**
 * One request per active company over its whole pending range (split only when Scarf
 * answers range-too-long). A company whose last_seen is before its pending range has no
 * new events, and asking anyway would cost the user a Run for nothing; one whose last_seen
 * is unknown (empty, or no such column) is asked, and so is one that Scarf's by-company
 * counts, when verify_counts has read them, show active in its range, whatever the rollup says.
 */
function companyEventsStream(
  ctx: SyncContext,
  selection: StreamSelection,
): WindowedStream<DomainRange> & { skipped: number; unknownSeen: number; failures: Map<string, PartitionFailure> } {
  const owner = ctx.settings.owner;
  const state = new StreamState(ctx.state, declaration, selection, owner);
  const explicit = ctx.settings.company_domains;
  const activity = companyActivity(ctx);
  const rollup = activity && rollupByDomain(activity);
  const counted = ctx.verification?.lastCountedDays(ctx) ?? new Map<string, Day>();
  const domains: string[] = [];
  const listed = new Set<string>();
  const add = (d: string) => {
    if (listed.has(d.toLowerCase())) return;
    listed.add(d.toLowerCase());
    domains.push(d);
  };
  if (explicit) explicit.forEach(add);
  else {
    for (const { spelled } of rollup?.values() ?? []) add(spelled);
    // Companies Scarf counts but the snapshot does not list (verifyRollup has warned): read them too.
    for (const d of counted.keys()) add(d);
    domains.sort();
  }
  const failureOf = (domain: string) =>
    ctx.state.partitionField(declaration.name, { owner, company_domain: domain }, 'failure') as PartitionFailure | undefined;
  let skipped = 0;
  let unknownSeen = 0;
  const pending: (DomainRange & { failure?: PartitionFailure })[] = [];
  for (const domain of domains) {
    const start = resumeDay(ctx, state.bookmark(domain), ctx.settings.lookback_days);
    if (start > ctx.endDay) continue;
    const key = domain.toLowerCase();
    const countedDay = counted.get(key);
    if (rollup && !(countedDay !== undefined && countedDay >= start)) {
      const row = rollup.get(key);
      if (row && row.lastSeen !== null && dayOf(row.lastSeen) < start) {
        skipped++;
        continue;
      }
      if (!row || row.lastSeen === null) unknownSeen++;
    }
    pending.push({ domain, start, end: ctx.endDay, failure: failureOf(domain) });
  }
  // The companies furthest behind first: a sync stopped by max_requests_per_sync then leaves
  // the ones it just read (whose next requests are only their lookback) for later, and the
  // next sync goes on with the rest instead of re-reading the same companies. A company whose
  // last sync failed comes after every other (it would be furthest behind for ever and, under a
  // budget, spend it first on every sync); among those, the one that failed longest ago first.
  const order = (a: (typeof pending)[number], b: (typeof pending)[number]): number => {
    if (!a.failure !== !b.failure) return a.failure ? 1 : -1;
    const fa = a.failure?.last_failed_at ?? '';
    const fb = b.failure?.last_failed_at ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    return a.start < b.start ? -1 : a.start > b.start ? 1 : a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0;
  };
  pending.sort(order);
  const failures = new Map<string, PartitionFailure>();
  let committed = 0;
  return {
    declaration,
    windows: pending.map(({ domain, start, end }) => ({ domain, start, end })),
    skipped,
    unknownSeen,
    failures,
    split: splitByDays,
    concurrent: true,
    request: ({ domain }, w) => ({
      path: companyEventsPath(owner, domain),
      query: { start_date: w.start, end_date: w.end },
      label: `company_events ${domain} ${w.start}..${w.end}`,
      constants: { [declaration.partitionedBy!]: domain },
    }),
    commit: ({ domain }, w) => {
      state.commit(coverageMark(ctx, w.end, state.bookmark(domain)), domain);
      committed++;
      ctx.state.setPartitionField(declaration.name, { owner, company_domain: domain }, 'failure', undefined);
    },
    isolate: ({ domain }, err) => {
      const own = ownFailure(err);
      if (!own) return false;
      // Counted once a sync: a company failing on its open day and then in its window failed one sync.
      const again = failures.get(domain);
      const before = again ? { attempts: again.attempts - 1 } : failureOf(domain);
      const failure: PartitionFailure = {
        attempts: (before?.attempts ?? 0) + 1,
        last_error: own.message,
        last_failed_at: ctx.signpostTs,
      };
      failures.set(domain, failure);
      ctx.state.setPartitionField(declaration.name, { owner, company_domain: domain }, 'failure', failure);
      if (committed === 0 && failures.size >= FAILURES_BEFORE_ANY_SUCCESS) {
        // Every company failing (a wrong owner, Scarf down) is no company's own failure:
        // asking each of thousands in turn, with its retries, would only take hours.
        log.error(
          `company_events: the first ${failures.size} companies asked all failed and none was read: taken as a failure of the stream, not of one company, so no other company is asked in this sync (their failures are recorded).`,
        );
        return false;
      }
      log.error(
        `company_events ${domain}: ${own.message} (failed ${plural(failure.attempts, 'sync')} in a row; the other companies go on).`,
      );
      return true;
    },
    openWindow: (e) => (e.company_domain === undefined ? undefined : { domain: e.company_domain, start: e.day, end: e.day }),
  };
}

/** The stream's error once every other company was read: the failed ones, named. */
function failedCompanies(failures: Map<string, PartitionFailure>, read: number | undefined): TapError {
  const names = [...failures.keys()].sort();
  const each = names.map((d) => {
    const f = failures.get(d)!;
    return `${d} (${plural(f.attempts, 'failed sync')} in a row: ${f.last_error.replace(/\.$/, '')})`;
  });
  return new TapError(
    `${plural(names.length, 'company', 'companies')} failed (${names.length === 1 ? 'its bookmark stays' : 'their bookmarks stay'}${read === undefined ? '' : `; the other ${read} were read and committed`}): ${each.join('; ')}. ` +
      'The next sync tries again, after the other companies; a domain Scarf does not know (404) can be removed from company_domains.',
    'system_error',
  );
}

const read: StreamModule['read'] = async (run) => {
  const { ctx, selection } = run;
  const explicit = ctx.settings.company_domains;
  const failedEarlier = rollupFailure(ctx);
  if (!explicit && failedEarlier) throw rollupFailed(failedEarlier, 'failed earlier in this sync');
  if (!explicit && !companyActivity(ctx)) {
    // Its dependency company_rollup was not part of this sync: read it once just for the domains.
    const before = ctx.client.requestCount;
    try {
      await readRollup(snapshotRun(ctx), () => undefined);
    } catch (err) {
      const failed = rollupFailure(ctx);
      throw failed ? rollupFailed(failed, 'failed') : err;
    }
    log.info(
      `company_events: read company-rollup for the list of active companies (${ctx.client.requestCount - before} request).`,
    );
  }
  const stream = companyEventsStream(ctx, selection);
  if (stream.unknownSeen)
    log.warn(
      `company_events: the company-rollup snapshot gives no last_seen for ${plural(stream.unknownSeen, 'company', 'companies')} (an empty value, a row missing, or a renamed column): reading them as active.`,
    );
  try {
    await runWindows(run, stream);
  } catch (err) {
    // Stopped (by the budget, a signal, or a failure of the stream): the companies that failed
    // before are still named, and their records are in the state.
    if (stream.failures.size) {
      const failed = failedCompanies(stream.failures, undefined);
      // Stopped by the budget, the stream would otherwise end as a clean stop (exit 0) over
      // companies it knows it did not read.
      if (err instanceof RequestBudgetReached) err.failure = failed;
      else log.error(`company_events: ${failed.message}`);
    }
    throw err;
  }
  const skipped = stream.skipped;
  run.stats.skippedPartitions = skipped;
  if (skipped)
    log.info(
      `company_events: skipped ${skipped} compan${skipped === 1 ? 'y' : 'ies'} without activity in their pending range (no request made).`,
    );
  if (stream.failures.size) throw failedCompanies(stream.failures, stream.windows.length - stream.failures.size);
};

/**
 * As the reader: its own rollup read when company_rollup is not selected and no list is
 * given, then one request per pending company. Without the snapshot (companyActivity
 * unset) the companies cannot be counted, or (with company_domains and company_rollup
 * selected) only as an upper bound.
 */
const plan: StreamModule['plan'] = (ctx, selection, selected) => {
  const explicit = ctx.settings.company_domains;
  const rollupSelected = selected.includes(companyRollup.declaration.name);
  const own: PlannedRequest[] = !explicit && !rollupSelected ? [{ label: OWN_ROLLUP_READ, snapshot: true }] : [];
  if (!explicit && !companyActivity(ctx))
    return {
      stream: declaration.name,
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
  if (explicit && rollupSelected && !companyActivity(ctx)) {
    plan.bound = 'upper';
    plan.detail += ', before the snapshot skips the inactive ones';
  }
  return plan;
};

export const companyEvents: StreamModule = {
  declaration,
  read,
  plan,
  // Only the company-rollup snapshot says which companies are active in their pending range
  // (with company_domains and company_rollup not selected, the sync filters nothing and the
  // plan needs no request).
  planPrerequisite: {
    needed: (settings, selected) =>
      selected.includes(declaration.name) && (!settings.company_domains || selected.includes(companyRollup.declaration.name)),
    async read(ctx) {
      // Read as the snapshot only: checking it against Scarf's counts would cost the plan more
      // requests. The copy shares ctx's memos (made here if ctx had none), so ctx gets the answer.
      ctx.memos ??= new Map();
      const readCtx: SyncContext = { ...ctx, settings: { ...ctx.settings, verify_counts: false } };
      await readRollup(snapshotRun(readCtx), () => undefined);
    },
    said: 'plan: read the company-rollup snapshot to count the companies company_events will request (1 request).',
  },
};
