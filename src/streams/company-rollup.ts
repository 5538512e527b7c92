import { AbortedError, asTapError, type TapError } from '../errors.js';
import type { CompanyRollupRecord } from '../generated/records.js';
import { companyRollupPath } from '../scarf/endpoints.js';
import type { StreamDeclaration } from './engine/definitions.js';
import { fetchRecords, fetchSpec, type OnRecord } from './engine/fetch.js';
import { KeySet } from './engine/key-set.js';
import type { StreamModule } from './engine/module.js';
import { recordsTo } from './engine/stream-run.js';
import type { Rec, StreamRun, SyncContext } from './engine/types.js';

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

/** What the sync keeps of its one snapshot read: its answer for company_events, or why it failed. */
interface RollupMemo {
  /** domain → last_seen (canonical timestamp). */
  activity?: Map<string, string | null>;
  /** Why the sync's one snapshot request failed: the streams that need it fail with it instead of asking again. */
  failure?: TapError;
}

const MEMO = Symbol('companyRollup');

/** This sync's memo (SyncContext.memos, shared by the context's copies: the plan's prerequisite reads on one). */
function rollupMemo(ctx: SyncContext): RollupMemo {
  const memos = (ctx.memos ??= new Map());
  let memo = memos.get(MEMO) as RollupMemo | undefined;
  if (!memo) memos.set(MEMO, (memo = {}));
  return memo;
}

/** The snapshot's last_seen per domain, once this sync has read it. */
export function companyActivity(ctx: SyncContext): Map<string, string | null> | undefined {
  return rollupMemo(ctx).activity;
}

/** Why this sync's snapshot request failed, if it did. */
export function rollupFailure(ctx: SyncContext): TapError | undefined {
  return rollupMemo(ctx).failure;
}

/** What a snapshot read needs of a run: company_rollup's own, or one made for another stream's read (snapshotRun). */
export type SnapshotRun = Pick<StreamRun, 'ctx' | 'stats' | 'declaration' | 'keySet'>;

/** A run for a read of the snapshot that is not the company_rollup stream's: its records go nowhere, its stats are its own. */
export function snapshotRun(ctx: SyncContext): SnapshotRun {
  return {
    ctx,
    stats: { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 },
    declaration,
    keySet: () => new KeySet(),
  };
}

/**
 * Reads the company-rollup snapshot once, remembering every domain's last_seen for
 * company_events, so a sync that selects both streams pays for one request, not two.
 */
export async function readRollup(
  run: SnapshotRun,
  onRecord: OnRecord,
  /** The company_rollup stream's cursor: the snapshot must have that column (issue 18, defect 2). */
  cursor?: string,
): Promise<void> {
  const { ctx } = run;
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
    const seen = run.keySet();
    await fetchRecords(recordsTo(run, take), spec, seen);
    // A snapshot cut cleanly lacks companies and looks whole: Scarf's counts name the active
    // ones (src/streams/verify/reconcile.ts). A re-read emits only the rows not emitted yet.
    await ctx.verification?.snapshot(run, present, async (reSeen) => {
      let fresh = 0;
      const again = recordsTo(run, (rec: Rec) => {
        if (!seen.add(rec[spec.keyField] as string)) return;
        fresh++;
        return take(rec);
      });
      await fetchRecords(again, { ...spec, label: 'company-rollup snapshot (re-read)' }, reSeen);
      return fresh;
    });
  } catch (err) {
    // A failed answer is remembered, so company_events fails with it instead of paying for the
    // same request again; a stop (signal, --test's record limit) is no answer about the rollup.
    if (!(err instanceof AbortedError)) rollupMemo(ctx).failure = asTapError(err);
    throw err;
  }
  rollupMemo(ctx).activity = activity;
}

/**
 * The API has no date filter here: incremental is client-side, `>=` on the chosen key
 * (last_seen or first_seen), so a company whose row changed without its key changing
 * (e.g. turning inactive) is only picked up by a FULL_TABLE sync. The README says so.
 */
const read: StreamModule['read'] = async (run) => {
  const { ctx, state, sink, stats } = run;
  const key = state.replicationKey;
  const bookmark = state.bookmark();
  let max = bookmark;
  stats.windowsPlanned = 1;
  stats.windows++;
  await readRollup(
    run,
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
  // The snapshot is the stream's one part: its STATE follows the same policy as a window's
  // (under `load`, the rows and the bookmark commit in one transaction here; elsewhere the
  // throttle lets runSync's final STATE carry it unless the read took longer than its interval).
  await run.checkpoints.committed();
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
