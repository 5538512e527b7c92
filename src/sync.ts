// Runs the selected streams one after another and routes their records and checkpoints to
// a protocol writer. Streams are independent: one that fails does not stop the others,
// unless the failure is the kind that would fail them all (bad token, unknown owner).
import v8 from 'node:v8';

import type { StreamSelection } from './catalog.js';
import type { Settings } from './config/load.js';
import {
  AbortedError,
  asTapError,
  DataError,
  RecordLimitReached,
  RequestBudgetReached,
  SyncFailedError,
  TapError,
} from './errors.js';
import { log } from './log.js';
import { RecordCounter, syncDuration } from './metrics.js';
import { progress } from './progress.js';
import type { ScarfClient } from './scarf/client.js';
import { emittedSchema, type StreamName } from './schemas.js';
import type { StateStore } from './state.js';
import { addDays, canonicalTs, dayOf, minDay } from './streams/engine/days.js';
import { csvPath } from './streams/engine/fetch.js';
import { listOpen, type OpenDay, openDays } from './streams/engine/open-days.js';
import { streamRun } from './streams/engine/stream-run.js';
import type { Rec, StreamSink, StreamStats, SyncContext } from './streams/engine/types.js';
import { checkBudget, firstStep } from './streams/plan/budget.js';
import { markStarved, progressOf, serveStarvedFirst } from './streams/plan/starved.js';
import { logPlan } from './streams/plan/sync-plan.js';
import { streamModule, STREAMS } from './streams/registry.js';
import { selectOwner } from './streams/state/owners.js';
import { warnIfBookmarkPastEnd } from './streams/state/past-end.js';
import { reconcileSettings } from './streams/state/settings.js';
import { type CountKind, scarfCounts } from './streams/verify/counts.js';
import { countsVerification } from './streams/verify/hooks.js';
import { verifiedMetric, verifiedText } from './streams/verify/reconcile.js';

export interface ProtocolWriter {
  startStream(selection: StreamSelection): void | Promise<void>;
  record(stream: StreamName, rec: Rec): void | Promise<void>;
  /** The same for a record given as its JSON object text, json[0, end) (copied before it returns). */
  recordJson?(stream: StreamName, json: Buffer, end: number): void | Promise<void>;
  /** Emit the stream's state; `final` marks the end of the stream (emit even if unchanged only when none was emitted yet). */
  checkpoint(stream: StreamName, state: StateStore, final: boolean): Promise<void>;
  endStream(selection: StreamSelection, stats: StreamStats, error?: TapError): void | Promise<void>;
  /** A selected stream not read at all (a failure that fails every stream alike came first). */
  skipStream?(selection: StreamSelection): void | Promise<void>;
  /** Bytes of protocol output so far (the checkpoint throttle weighs a STATE against them). */
  outputBytes(): number;
}

export interface StreamOutcome {
  stream: StreamName;
  stats: StreamStats;
  error?: TapError;
  /** Not read: a config_error (bad token, unknown owner) of an earlier stream stopped the sync. */
  notRun?: true;
  /** max_requests_per_sync stopped it ('stopped': after some requests; 'not started': before any). */
  budget?: 'stopped' | 'not started';
}

export interface SyncOptions {
  /** Stop each stream once it has written this many records (--test): no final STATE, no summary. */
  recordLimit?: number;
}

export function makeContext(settings: Settings, state: StateStore, client: ScarfClient, signpost = new Date()): SyncContext {
  const today = dayOf(signpost);
  const startDay = settings.start_date ? dayOf(settings.start_date) : addDays(today, -31);
  const endDay = minDay(settings.end_date ? dayOf(settings.end_date) : today, today);
  return {
    settings,
    signpost,
    signpostTs: canonicalTs(signpost),
    startDay,
    endDay,
    client,
    state,
    aborted: false,
    verification: countsVerification,
    memos: new Map(),
  };
}

function projector(selection: StreamSelection): ((rec: Rec) => Rec) | undefined {
  const all = Object.keys(emittedSchema(selection.stream).properties);
  if (selection.fields.length === all.length) return undefined;
  const fields = selection.fields;
  return (rec) => {
    const out: Rec = {};
    for (const f of fields) out[f] = rec[f];
    return out;
  };
}

/** A record's partition as its state partition names it (company_events: owner and company_domain). */
function partitionContext(rec: Rec, field: string): Record<string, unknown> {
  return { owner: rec.owner, [field]: rec[field] };
}

/**
 * A stream's sink on the protocol writer: records counted where they are written (so a
 * stream's own filtering needs no bookkeeping), projected to the selected fields, and cut at
 * the record limit by unwinding the reader from inside, so it makes no further request.
 */
function streamSink(
  writer: ProtocolWriter,
  state: StateStore,
  selection: StreamSelection,
  stats: StreamStats,
  counter: RecordCounter<Rec>,
  limit: number,
): StreamSink {
  const stream = selection.stream;
  const project = projector(selection);
  // Past the limit once the record is out: the write's promise (if any) settles first.
  const limited = (written: void | Promise<void>): void | Promise<void> => {
    if (stats.records < limit) return written;
    return Promise.resolve(written).then(() => {
      throw new RecordLimitReached();
    });
  };
  const recordJson = writer.recordJson?.bind(writer);
  return {
    record(rec) {
      stats.records++;
      counter.increment(rec);
      return limited(writer.record(stream, project ? project(rec) : rec));
    },
    // Records as JSON text (the fast CSV path) only when every field goes out as it is:
    // a field selection needs the object, so the streams then make objects.
    ...(project || !recordJson
      ? {}
      : {
          recordJson(json: Buffer, end: number) {
            stats.records++;
            // Parsed only when a metric line falls due and needs its partition: once a minute at most.
            if (counter.count()) counter.emitFor(JSON.parse(json.toString('utf8', 0, end)) as Rec);
            return limited(recordJson(stream, json, end));
          },
        }),
    checkpoint: () => writer.checkpoint(stream, state, false),
    outputBytes: () => writer.outputBytes(),
  };
}

function bookmarkText(state: StateStore, stream: StreamName): string {
  const bm = state.bookmark(stream);
  if (!bm) return 'no bookmark';
  if (bm.partitions) return `${bm.partitions.length} partition bookmark(s)`;
  return `${bm.replication_key}=${bm.replication_key_value}`;
}

/**
 * A window's key set is the only memory that outlives its rows, and V8 by default lets the
 * old generation grow to ~4× what is live before collecting, so the key sets of finished
 * windows pile up: measured (bench, 1M events in 100k-event windows), peak RSS 166–180 MB
 * by default, 142–155 MB with a growing factor of 1.5, at no measurable CPU cost (little is
 * live, so each collection is short). A --heap-growing-percent given to node wins.
 */
function boundHeapGrowth(): void {
  if (process.execArgv.some((a) => /heap[-_]growing[-_]percent/.test(a))) return;
  try {
    v8.setFlagsFromString('--heap-growing-percent=50');
  } catch {
    // a runtime that refuses flags after start-up: the default growth only costs memory
  }
}

/** Logs the plan; the days streams take from Scarf's counts (src/streams/verify/counts.ts) are read with them. */
function planAndShare(ctx: SyncContext, selections: StreamSelection[]): void {
  const plan = logPlan(ctx, selections);
  for (const [kind, range] of Object.entries(plan.countsWanted)) scarfCounts(ctx).want(kind as CountKind, range);
}

/** A stream's report line: "events: 12 records, … ; done." without its last words. */
function summaryLine(ctx: SyncContext, stream: StreamName, stats: StreamStats, secs: number): string {
  return `${stream}: ${stats.records} records, ${stats.duplicates} duplicate rows dropped, ${stats.requests} API requests (Scarf Runs), ${stats.windows} windows${stats.skippedPartitions ? `, ${stats.skippedPartitions} inactive companies skipped` : ''}, largest key set ${stats.maxKeySet}, ${secs.toFixed(1)} s, ${bookmarkText(ctx.state, stream)}${stats.verified ? `; ${verifiedText(stats.verified)}` : ''}${
    stats.unchecked ? `; ${stats.unchecked} window(s) not checked against Scarf's counts (${stats.uncheckedWhy})` : ''
  }${
    stats.shared ? `; ${stats.shared} window(s) taken from Scarf's counts read for verify_counts (no request of their own)` : ''
  }${acceptedText(ctx, stream, stats)}`;
}

export async function runSync(
  ctx: SyncContext,
  selected: StreamSelection[],
  writer: ProtocolWriter,
  options: SyncOptions = {},
): Promise<StreamOutcome[]> {
  const limit = options.recordLimit ?? Infinity;
  boundHeapGrowth();
  // An environment knob the tap cannot use (src/config/runtime-options.ts) is said before the first request.
  const path = csvPath();
  if (path === 'papaparse') log.info('TAP_SCARF_CSV_PATH=reference: CSV rows are read by papaparse and the row typer.');
  const outcomes: StreamOutcome[] = [];
  log.info(
    `Syncing ${selected.map((s) => s.stream).join(', ') || 'no streams'} for owner '${ctx.settings.owner}', days ${ctx.startDay}..${ctx.endDay} (signpost ${ctx.signpostTs}).`,
  );
  // Before any request: a bookmark past the signpost would stall its stream, one made with
  // other settings would skip rows, and a huge backfill should be pointed out before it costs.
  // First of all: every bookmark read below must be this owner's (src/streams/state/owners.ts).
  selectOwner(
    ctx.state,
    selected.map((s) => s.stream),
    ctx.settings.owner,
  );
  for (const warning of ctx.state.clampToSignpost(ctx.signpostTs)) log.warn(warning);
  reconcileSettings(ctx, selected);
  // Streams a budget starved last time go first (src/streams/plan/budget.ts); a budget too small
  // for any progress is refused here, before the first request.
  const selections = serveStarvedFirst(ctx.state, selected);
  if (options.recordLimit === undefined) checkBudget(ctx, selections);
  // --test stops at the first record: a plan of the whole sync would mislead.
  if (options.recordLimit === undefined) planAndShare(ctx, selections);
  warnIfBookmarkPastEnd(ctx, selections);
  let budgetSpent: RequestBudgetReached | undefined;
  const openAtEnd: { stream: StreamName; days: OpenDay[] }[] = [];
  for (const selection of selections) {
    const stream = selection.stream;
    const stats: StreamStats = { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 };
    if (budgetSpent) {
      // Its first request would pass the budget too: it waits for the next sync, which serves
      // it first (its starved mark goes out in its own STATE, which Airbyte keeps per stream).
      await writer.checkpoint(stream, ctx.state, true);
      outcomes.push({ stream, stats, budget: 'not started' });
      continue;
    }
    const partitionedBy = STREAMS[stream].partitionedBy;
    const counter = new RecordCounter<Rec>(stream, partitionedBy ? (rec) => partitionContext(rec, partitionedBy) : undefined);
    const sink = streamSink(writer, ctx.state, selection, stats, counter, limit);
    const requestsBefore = ctx.client.requestCount;
    const progressBefore = progressOf(ctx.state, stream);
    const started = Date.now();
    let error: TapError | undefined;
    await writer.startStream(selection);
    const tracker = progress().track(stream, stats, () => ctx.client.requestCount - requestsBefore);
    try {
      const module = streamModule(stream);
      await module.read(streamRun(ctx, module.declaration, selection, sink, stats));
    } catch (err) {
      if (err instanceof RecordLimitReached) {
        tracker.done();
        counter.done();
        syncDuration(stream, (Date.now() - started) / 1000, false);
        outcomes.push({ stream, stats });
        continue;
      }
      if (err instanceof AbortedError) {
        tracker.done();
        throw err;
      }
      if (err instanceof RequestBudgetReached) {
        budgetSpent = err;
        error = err.failure;
      } else error = asTapError(err);
    }
    // Days of this stream that no read could prove (src/streams/engine/open-days.ts): the stream
    // finished what it could, and still fails, whatever else happened.
    const open = ctx.settings.verify_counts ? openDays(ctx.state, stream, ctx.settings.owner) : [];
    if (open.length) {
      openAtEnd.push({ stream, days: open });
      error ??= new DataError(
        `${open.length} day(s) differ from Scarf's counts after every re-read and stay open in the state (the next sync reads them again first): ${listOpen(open)}. If your account's counts are known to differ from its export, add ${stream} to accept_count_mismatches.`,
      );
    }
    if (budgetSpent) {
      // Stopped before it moved: served first next time; so are the streams not started (in
      // this STATE, the last one the sync writes).
      // A stream with nothing left but its lookback is not starved: it would only take turns.
      const pending = (s: StreamName) => firstStep(ctx, selections, s) !== undefined;
      markStarved(ctx.state, stream, progressOf(ctx.state, stream) === progressBefore && pending(stream), ctx.signpostTs);
      for (const later of selections.slice(selections.indexOf(selection) + 1))
        markStarved(ctx.state, later.stream, pending(later.stream), ctx.signpostTs);
    } else markStarved(ctx.state, stream, false, ctx.signpostTs);
    tracker.done(error !== undefined);
    stats.requests = ctx.client.requestCount - requestsBefore;
    await writer.checkpoint(stream, ctx.state, true);
    const secs = (Date.now() - started) / 1000;
    counter.done();
    syncDuration(stream, secs, error !== undefined);
    if (stats.verified) log.metric(verifiedMetric(stream, stats.verified));
    const summary = summaryLine(ctx, stream, stats, secs);
    if (error) log.error(`${summary}; FAILED: ${error.message}`);
    else if (budgetSpent)
      log.warn(`${summary}; STOPPED at max_requests_per_sync before its end: the next sync continues from this bookmark.`);
    else log.info(`${summary}; done.`);
    // Stopped by the budget, a stream ends as complete for this sync: what it wrote is
    // checkpointed and consistent (README "Requests (Scarf Runs)" says why not INCOMPLETE).
    await writer.endStream(selection, stats, error);
    outcomes.push({ stream, stats, error, ...(budgetSpent ? { budget: 'stopped' as const } : {}) });
    if (error && error.failureType === 'config_error') {
      // The same credentials/owner problem would fail every remaining stream: stop here, and
      // say so for each of them (Airbyte: a status for every selected stream).
      for (const rest of selections.slice(selections.indexOf(selection) + 1)) {
        await writer.skipStream?.(rest);
        outcomes.push({
          stream: rest.stream,
          stats: { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 },
          notRun: true,
        });
      }
      break;
    }
  }
  if (budgetSpent) warnBudgetSpent(budgetSpent, outcomes, ctx);
  // The last lines: every open day, so a reader of the log's tail sees what is missing.
  for (const { stream, days } of openAtEnd)
    log.error(`${stream}: ${days.length} open day(s), not proven complete against Scarf's counts: ${listOpen(days, Infinity)}.`);
  if (outcomes.some((o) => o.error)) throw new SyncFailedError(outcomes);
  return outcomes;
}

/** The report line's words when accept_count_mismatches names the stream: the choice, and the days it let through. */
function acceptedText(ctx: SyncContext, stream: StreamName, stats: StreamStats): string {
  if (!(ctx.settings.accept_count_mismatches as readonly StreamName[] | undefined)?.includes(stream)) return '';
  const n = stats.acceptedDays?.length ?? 0;
  return `; count mismatches accepted (accept_count_mismatches): ${n} day(s) accepted${n ? `: ${listOpen(stats.acceptedDays!)}` : ''}`;
}

function warnBudgetSpent(spent: RequestBudgetReached, outcomes: StreamOutcome[], ctx: SyncContext): void {
  const first = outcomes.filter((o) => typeof ctx.state.bookmark(o.stream)?.starved_since === 'string').map((o) => o.stream);
  const stopped = outcomes.filter((o) => o.budget === 'stopped').map((o) => o.stream);
  const waiting = outcomes.filter((o) => o.budget === 'not started').map((o) => o.stream);
  log.warn(
    `Stopped after ${spent.budget} API requests, the max_requests_per_sync setting: ${[
      ...(stopped.length ? [`${stopped.join(', ')} stopped at the bookmark of its last complete window`] : []),
      ...(waiting.length ? [`${waiting.join(', ')} not started`] : []),
    ].join('; ')}. Every completed window is in the state: the next sync continues where this one stopped${
      first.length ? `, serving ${first.join(', ')} first (starved by this budget)` : ''
    } ('tap-scarf --plan' says how many syncs the rest takes). Raise or remove max_requests_per_sync to read more per sync.`,
  );
}
