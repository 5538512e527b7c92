import { AbortedError, asTapError } from '../errors.js';
import type { CompanyRollupRecord } from '../generated/records.js';
import { companyRollupPath } from '../scarf/endpoints.js';
import type { StreamDeclaration } from './engine/definitions.js';
import { fetchRecords, fetchSpec, type OnRecord } from './engine/fetch.js';
import { KeySet } from './engine/key-set.js';
import type { StreamModule } from './engine/module.js';
import { StreamState } from './engine/stream-state.js';
import type { Rec, StreamStats, SyncContext } from './engine/types.js';

const declaration: StreamDeclaration = {
  name: 'company_rollup',
  endpoint: 'company-rollup',
  format: 'csv',
  keyProperties: ['owner', 'company_domain'],
  validReplicationKeys: ['last_seen', 'first_seen'],
  defaultReplicationKey: 'last_seen',
  userChoosableCursor: true,
  dependsOn: [],
  window: 'snapshot',
  // One request reads the whole snapshot: no setting narrows it.
  pastSignpost: 'drop',
  verifiedAgainst: 'active-companies',
};

/**
 * Reads the company-rollup snapshot once, remembering every domain's last_seen for
 * company_events, so a sync that selects both streams pays for one request, not two.
 */
export async function readRollup(
  ctx: SyncContext,
  stats: StreamStats,
  onRecord: OnRecord,
  /** The company_rollup stream's cursor: the snapshot must have that column (issue 18, defect 2). */
  cursor?: string,
): Promise<void> {
  const activity = new Map<string, string | null>();
  const present = new Set<string>();
  try {
    const spec = fetchSpec(declaration, {
      path: companyRollupPath(ctx.settings.owner),
      query: {},
      label: 'company-rollup snapshot',
      requiredColumns: cursor !== undefined ? [cursor] : [],
    });
    const take = (rec: Rec) => {
      // Typed by the schema-compiled typer from schemas/company_rollup.json.
      const row = rec as unknown as CompanyRollupRecord;
      activity.set(row.company_domain, row.last_seen ?? null);
      present.add(row.company_domain.toLowerCase());
      return onRecord(rec);
    };
    const seen = new KeySet();
    await fetchRecords(ctx, spec, seen, stats, take);
    // A snapshot cut cleanly lacks companies and looks whole: Scarf's counts name the active
    // ones (src/streams/verify/reconcile.ts). A re-read emits only the rows not emitted yet.
    await ctx.verification?.snapshot(ctx, declaration.name, stats, present, async (reSeen) => {
      let fresh = 0;
      await fetchRecords(ctx, { ...spec, label: 'company-rollup snapshot (re-read)' }, reSeen, stats, (rec: Rec) => {
        if (!seen.add(rec[spec.keyField] as string)) return;
        fresh++;
        return take(rec);
      });
      return fresh;
    });
  } catch (err) {
    // A failed answer is remembered, so company_events fails with it instead of paying for the
    // same request again; a stop (signal, --test's record limit) is no answer about the rollup.
    if (!(err instanceof AbortedError)) ctx.rollupFailure = asTapError(err);
    throw err;
  }
  ctx.companyActivity = activity;
}

/**
 * The API has no date filter here: incremental is client-side, `>=` on the chosen key
 * (last_seen or first_seen), so a company whose row changed without its key changing
 * (e.g. turning inactive) is only picked up by a FULL_TABLE sync. The README says so.
 */
const read: StreamModule['read'] = async (ctx, selection, sink, stats) => {
  const state = new StreamState(ctx.state, declaration, selection);
  const key = state.replicationKey;
  const bookmark = state.bookmark();
  let max = bookmark;
  stats.windowsPlanned = 1;
  stats.windows++;
  await readRollup(
    ctx,
    stats,
    (rec) => {
      const v = rec[key] as string | null;
      if (bookmark && v !== null && v < bookmark) return;
      if (v !== null && (max === undefined || v > max)) max = v;
      return sink.record(rec);
    },
    key,
  );
  // An unchanged bookmark stays as it was, even one past the signpost (we did not set it).
  if (max !== undefined && max !== bookmark) state.commit(max > ctx.signpostTs ? ctx.signpostTs : max);
};

export const companyRollup: StreamModule = {
  declaration,
  read,
  plan: () => ({
    stream: declaration.name,
    requests: [{ label: 'company-rollup snapshot', snapshot: true }],
    detail: 'one snapshot (also lists the active companies for company_events)',
  }),
};
