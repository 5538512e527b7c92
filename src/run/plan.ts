// `tap-scarf --plan` (Singer flags) and `tap-scarf plan` (Airbyte-style arguments, for the
// Docker image): the requests the next sync would make from this config, catalog and state,
// per stream and in total, without syncing. The counting is src/streams/plan/sync-plan.ts, the same
// code that logs the plan at the start of every sync.
import { defaultSelection, type StreamSelection } from '../catalog.js';
import type { Settings } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { makeClient } from '../scarf/from-settings.js';
import { StateStore } from '../state.js';
import type { PlanPrerequisite } from '../streams/engine/module.js';
import { type BudgetForecast, perStream, planSync, type SyncPlan, syncsUnderBudget } from '../streams/plan/sync-plan.js';
import { streamModule } from '../streams/registry.js';
import { makeContext } from '../sync.js';

export type PlanFormat = 'text' | 'json';

export interface PlanOptions {
  /** Make no request: company_events is then counted without the rollup (an upper bound, or unknown without company_domains). */
  upperBound: boolean;
  format: PlanFormat;
}

export function planFormat(value: string | undefined): PlanFormat {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw new ConfigError(`--format ${value} is not supported with the plan; use text or json.`);
}

/** The requests a plan needs before it can count (company_events: the company-rollup snapshot), each once. */
function prerequisites(settings: Settings, selections: StreamSelection[]): PlanPrerequisite[] {
  const names = selections.map((s) => s.stream);
  const out: PlanPrerequisite[] = [];
  for (const s of selections) {
    const pre = streamModule(s.stream).planPrerequisite;
    if (pre && !out.includes(pre) && pre.needed(settings, names)) out.push(pre);
  }
  return out;
}

export async function runPlan(
  settings: Settings,
  selections: StreamSelection[],
  state: StateStore,
  opts: PlanOptions,
  write: (text: string) => Promise<void> | void,
): Promise<number> {
  // The plan is no sync: its own request is not held to the sync's budget.
  const client = makeClient({ ...settings, max_requests_per_sync: undefined });
  try {
    const ctx = makeContext(settings, state, client);
    if (!opts.upperBound)
      for (const pre of prerequisites(settings, selections)) {
        await pre.read(ctx);
        log.info(pre.said);
      }
    const { plan, planCtx, warnings } = planSync(ctx, selections, false);
    for (const w of warnings) log.warn(w);
    const budget = settings.max_requests_per_sync;
    const forecast: BudgetForecast | undefined = budget !== undefined ? syncsUnderBudget(planCtx, selections, budget) : undefined;
    const made = client.requestCount;
    if (opts.format === 'json') await write(JSON.stringify(planJson(plan, ctx, budget, forecast, made)) + '\n');
    else await write(planText(plan, ctx, budget, forecast, made));
    return 0;
  } finally {
    await client.close();
  }
}

type Days = { startDay: string; endDay: string };

function planJson(plan: SyncPlan, days: Days, budget: number | undefined, forecast: BudgetForecast | undefined, made: number) {
  const unknown = plan.bound === 'unknown';
  return {
    streams: Object.fromEntries(plan.streams.map((p) => [p.stream, p.bound === 'unknown' ? null : p.requests.length])),
    total: unknown ? null : plan.total,
    // exact: the sync makes this many if Scarf refuses no range and no request is retried.
    // lower: a range longer than one day may be refused (Scarf's limit is learned, not known), each refusal a request more.
    bound: plan.bound ?? (plan.longestRange > 1 ? 'lower' : 'exact'),
    details: Object.fromEntries(plan.streams.map((p) => [p.stream, p.detail])),
    // Of each stream's requests, those for Scarf's counts (verify_counts), sent to the aggregates endpoint.
    counts: Object.fromEntries(plan.streams.map((p) => [p.stream, p.requests.filter((r) => r.counts).length])),
    start_date: days.startDay,
    end_date: days.endDay,
    max_requests_per_sync: budget ?? null,
    syncs: budget === undefined ? (unknown ? null : 1) : (forecast?.syncs ?? null),
    ...(forecast?.never ? { never_finishes: true } : {}),
    plan_requests: made,
  };
}

function planText(
  plan: SyncPlan,
  days: Days,
  budget: number | undefined,
  forecast: BudgetForecast | undefined,
  made: number,
): string {
  const width = Math.max(5, ...plan.streams.map((p) => p.stream.length));
  const count = (n: number | string) => String(n).padStart(6);
  const lines = [
    `Plan of the next sync, days ${days.startDay}..${days.endDay}: API requests (Scarf Runs) per stream.`,
    ...plan.streams.map(
      (p) =>
        `  ${p.stream.padEnd(width)} ${count(p.bound === 'unknown' ? `${p.requests.length}+` : p.requests.length)}  ${p.detail}${p.bound === 'upper' ? ' (at most)' : ''}`,
    ),
    `  ${'total'.padEnd(width)} ${count(plan.bound === 'unknown' ? `${plan.total}+` : plan.total)}${plan.bound === 'upper' ? '  at most' : ''}`,
  ];
  if (plan.bound === 'unknown')
    lines.push(
      'company_events makes one request per company active in its pending range, which only the company-rollup snapshot says: run --plan without --plan-upper-bound (1 request) to count them, or set company_domains.',
    );
  lines.push(
    'Counted as if Scarf refuses no range and no request is retried: each range-too-long refusal or retry costs one more.',
  );
  if (budget !== undefined) {
    if (forecast?.never)
      lines.push(
        `max_requests_per_sync ${budget}: too few for this backfill ever to finish (each sync would spend it re-reading what the last one read: lookbacks, the snapshot); raise it.`,
      );
    else if (forecast?.syncs === 1) lines.push(`max_requests_per_sync ${budget}: this sync fits in it.`);
    else if (forecast?.syncs !== undefined)
      lines.push(
        `max_requests_per_sync ${budget}: this sync stops after ${budget} requests; run back to back, ${forecast.syncs} syncs read it all (each later one re-reads its lookbacks).`,
      );
    else
      lines.push(
        `max_requests_per_sync ${budget}: the number of syncs needs the company count (see above), or more than 1000 syncs.`,
      );
  }
  lines.push(
    made ? `This plan made ${made} request${made === 1 ? '' : 's'} (the company-rollup snapshot).` : 'This plan made no request.',
  );
  log.debug(`plan: ${perStream(plan)}`);
  return lines.join('\n') + '\n';
}

/**
 * What `check` logs for Airbyte users, who may not be able to run `plan` (Airbyte Cloud):
 * the requests a first read of every stream would make from these settings, making no
 * request (company_events counted once the rollup is read, unless company_domains is set).
 */
export async function firstReadPlanLine(settings: Settings): Promise<string> {
  const client = makeClient({ ...settings, max_requests_per_sync: undefined });
  try {
    const selections = defaultSelection();
    const { plan, planCtx } = planSync(makeContext(settings, new StateStore(), client), selections, false);
    const budget = settings.max_requests_per_sync;
    const total = `${plan.bound === 'unknown' ? 'at least ' : plan.bound === 'upper' ? 'at most ' : ''}${plan.total}`;
    return `check: a first read of every stream (days ${planCtx.startDay}..${planCtx.endDay}) would make ${total} API requests (Scarf Runs): ${perStream(plan)}${
      budget !== undefined && plan.total > budget ? `; max_requests_per_sync ${budget} spreads it over several reads` : ''
    }. The plan command counts a read from its catalog and state (README "Requests (Scarf Runs)").`;
  } finally {
    await client.close();
  }
}
