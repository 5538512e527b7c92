// The one loop of every windowed stream: plan windows → split on range-too-long → fetch in
// order with bounded concurrency → commit the bookmark → checkpoint. A stream supplies its
// windows, what to request for a window and its bookmark rule (WindowedStream); the rules
// that hold for every stream live here once:
// - a window's records reach the sink in window order, whatever the concurrency
//   (src/streams/engine/ordered.ts);
// - a window's bookmark moves only after its last record was written, and a STATE is asked
//   for only after that (never for a window that failed: its error ends the stream and the
//   bookmark stays where the last complete window left it);
// - a window too long for Scarf is cut into parts, each fetched, committed and checkpointed
//   as a window of its own (src/streams/engine/ranges.ts).
// - STATE after a commit is throttled (throttledCheckpoints below), so the state output stays
//   linear in the number of partitions.
// docs/DESIGN.md "Where count reconciliation and throttled checkpoints plug in" names the
// places.
import { requestConcurrency } from '../../config/concurrency.js';
import { type RuntimeOptions, runtimeOptions } from '../../config/runtime-options.js';
import type { Window } from './days.js';
import type { StreamDeclaration } from './definitions.js';
import { fetchSpec, type RequestSpec } from './fetch.js';
import { type OpenDay, openDays } from './open-days.js';
import { runInOrder, type Turn } from './ordered.js';
import { RangeLimits, type Splitter } from './ranges.js';
import type { CheckpointPolicy, FetchSpec, Rec, StreamRun, StreamSink, SyncContext } from './types.js';

export type { CheckpointPolicy } from './types.js';

/** What to request for one part of a window; the stream, endpoint, body format and key come from the declaration. */
export type WindowRequest = Pick<RequestSpec, 'path' | 'query' | 'label' | 'constants' | 'deriveKey' | 'keyOf' | 'onHeaders'>;

export interface WindowedStream<W extends Window> {
  declaration: StreamDeclaration;
  /** The windows to read, in bookmark order. */
  windows: W[];
  /** How a window Scarf refuses as too long is cut into parts. */
  split: Splitter;
  /** Windows may be fetched ahead of their turn (up to requestConcurrency); false: one at a time. */
  concurrent: boolean;
  request(window: W, part: Window): WindowRequest;
  /** The bookmark rule: called once a part's records are all written, before its checkpoint. */
  commit(window: W, part: Window): void;
  /**
   * A window (a partition) whose failure is its own: true when the stream has recorded it and
   * the other windows go on (company_events); absent or false: the error ends the stream.
   */
  isolate?(window: W, err: unknown): boolean;
  /** The one-day window that reads an open day of the ledger again (src/streams/engine/open-days.ts); undefined: not this stream's. */
  openWindow?(entry: OpenDay): W | undefined;
  /**
   * The window's rows are exactly the daily counts verify_counts reads (src/streams/verify/counts.ts):
   * served from them, without a request of its own, when the sync has read them for every day.
   */
  fromCounts?(window: W): 'total' | undefined;
}

/** A window's partition (company_events: its domain), to match an open day with the windows of its own partition. */
function partitionOf(w: Window): string {
  const { start: _s, end: _e, ...rest } = w as Window & Record<string, unknown>;
  return JSON.stringify(rest);
}

/**
 * The open days of earlier syncs (src/streams/engine/open-days.ts) that this sync's windows do not
 * cover, each as a one-day window read before the others; a covered one is judged with its
 * window. None without verify_counts: nothing could prove them.
 */
export function ledgerWindows<W extends Window>(ctx: SyncContext, stream: WindowedStream<W>): W[] {
  if (!ctx.settings.verify_counts || !stream.openWindow) return [];
  const out: W[] = [];
  for (const entry of openDays(ctx.state, stream.declaration.name, ctx.settings.owner)) {
    const w = stream.openWindow(entry);
    if (!w) continue;
    const key = partitionOf(w);
    if (stream.windows.some((x) => partitionOf(x) === key && x.start <= w.start && w.end <= x.end)) continue;
    if (out.some((x) => partitionOf(x) === key && x.start === w.start)) continue;
    out.push(w);
  }
  return out;
}

/*
 * When a STATE goes out (a CheckpointPolicy, src/streams/engine/types.ts, one per stream run).
 * A Singer STATE carries the whole state, and company_events has one partition per company,
 * so a STATE per committed part makes the state output grow with the square of the
 * companies. The throttle keeps it linear: a STATE goes out after a commit only when both
 * - at least `minIntervalMs` passed since the stream's previous STATE (or its start), and
 * - the work since then — output bytes (records, and logs under Airbyte) plus `partBytes`
 *   per committed part (a request with few rows is work a kill would redo too) — is at least
 *   `ratio` × the size of the previous STATE,
 * so all STATEs together are at most 1/ratio of the work, whatever the number of partitions.
 * The stream's last STATE is runSync's, and on a signal the stop handlers write the state the
 * store holds (every commit is in it), so throttling only decides how much a SIGKILL redoes.
 * docs/DESIGN.md "Windows, bookmarks, state" has the figures behind the defaults.
 */

export interface ThrottleOptions {
  minIntervalMs: number;
  ratio: number;
  partBytes: number;
  now: () => number;
}

/** The defaults; fixed, not settings (docs/DESIGN.md says why). */
export const STATE_THROTTLE = { minIntervalMs: 10_000, ratio: 10, partBytes: 2048 } as const;

/**
 * Testing knob: TAP_SCARF_STATE_INTERVAL_MS replaces the 10 s interval (0: only the byte
 * rule applies), so a test sees throttled checkpoints without running for minutes.
 */
export function throttleOptions(opts: Pick<RuntimeOptions, 'stateIntervalMs'> = runtimeOptions()): ThrottleOptions {
  return { ...STATE_THROTTLE, minIntervalMs: opts.stateIntervalMs, now: () => performance.now() };
}

export function throttledCheckpoints(sink: StreamSink, opts: ThrottleOptions = throttleOptions()): CheckpointPolicy {
  let lastAt = opts.now();
  let lastOutput = sink.outputBytes();
  let parts = 0;
  // Unknown until the stream's first STATE: the first one waits only for the interval.
  let stateBytes = 0;
  return {
    async committed() {
      parts++;
      const now = opts.now();
      if (now - lastAt < opts.minIntervalMs) return;
      const work = sink.outputBytes() - lastOutput + parts * opts.partBytes;
      if (work < opts.ratio * stateBytes) return;
      const before = sink.outputBytes();
      await sink.checkpoint();
      lastOutput = sink.outputBytes();
      stateBytes = lastOutput - before;
      lastAt = opts.now();
      parts = 0;
    },
  };
}

/** A STATE after every committed part (unit tests that follow each bookmark). */
export function everyCommit(sink: StreamSink): CheckpointPolicy {
  return { committed: () => sink.checkpoint() };
}

/** A part's rows taken from the counts: keyed by the stream's own rule, as if its request had answered them. */
async function serveRows(run: StreamRun, rows: readonly Rec[], spec: FetchSpec): Promise<void> {
  const { sink, stats } = run;
  const seen = run.keySet();
  for (const row of rows) {
    const rec: Rec = { ...row };
    if (spec.deriveKey) rec[spec.keyField] = spec.deriveKey(rec);
    if (seen.add(rec[spec.keyField] as string)) await sink.record(rec);
    else stats.duplicates++;
  }
  stats.maxKeySet = Math.max(stats.maxKeySet, seen.size);
  stats.shared = (stats.shared ?? 0) + 1;
}

/** Reads the stream's windows for this run: records to its sink, bookmarks by the stream's commit rule, STATE by its checkpoint policy. */
export async function runWindows<W extends Window>(run: StreamRun, stream: WindowedStream<W>): Promise<void> {
  const { ctx, sink, stats, checkpoints } = run;
  const decl = stream.declaration;
  const ranges = new RangeLimits();
  stats.windowsPlanned = stream.windows.length;
  const concurrency = stream.concurrent ? requestConcurrency(ctx.settings) : 1;
  const open = ledgerWindows(ctx, stream);
  // verify_counts is a hook (src/streams/engine/types.ts): the runner knows no count.
  const verifier = run.verification?.parts(run, stream.windows, open);
  await verifier?.prepare();

  const readPart = async (window: W, part: Window, waitTurn: Turn, commit = true): Promise<void> => {
    stats.windows++;
    const spec = fetchSpec(decl, stream.request(window, part));
    const kind = commit ? stream.fromCounts?.(window) : undefined;
    const rows = kind && run.verification?.sharedRows(ctx, kind, part);
    if (rows) {
      await waitTurn();
      await serveRows(run, rows, spec);
      stream.commit(window, part);
      await checkpoints.committed();
      return;
    }
    // The key set lives for the part and survives its retries (src/streams/engine/fetch.ts).
    const seen = run.keySet();
    const tally = verifier?.tally();
    if (tally) spec.onAccepted = tally;
    await run.fetch(run, spec, seen, waitTurn);
    await waitTurn();
    // The part's records are written and its bookmark has not moved: judged against Scarf's
    // counts here, and read again (emitting only new rows) while it falls short.
    if (verifier) await verifier.reconcile(part, spec, seen, tally!);
    if (!commit) {
      // An open day behind the bookmark: the ledger moved, the bookmark stays.
      await sink.checkpoint();
      return;
    }
    stream.commit(window, part);
    await checkpoints.committed();
  };

  // The open days first, one day per request: whatever this sync's budget allows goes to them.
  // A partition failing on its open day is its own failure as in its windows: the others go on.
  // Its window is then not asked in this sync: it would fail again and spend its retries too.
  const failedOnOpenDay = new Set<string>();
  for (const w of open) {
    try {
      await readPart(w, w, async () => undefined, false);
    } catch (err) {
      if (!stream.isolate?.(w, err)) throw err;
      failedOnOpenDay.add(partitionOf(w));
    }
  }
  const windows = failedOnOpenDay.size ? stream.windows.filter((w) => !failedOnOpenDay.has(partitionOf(w))) : stream.windows;

  await runInOrder(windows, concurrency, async (window, waitTurn) => {
    // An earlier window's error reaches this one through its turn: that error is not this window's.
    let earlierFailed = false;
    const turn = () =>
      waitTurn().catch((err: unknown) => {
        earlierFailed = true;
        throw err;
      });
    try {
      await ranges.forEachRange(decl.endpoint, window, stream.split, (part, answered) =>
        // The request's answer has arrived when its turn is first awaited: the range was accepted.
        readPart(window, part, () => {
          answered();
          return turn();
        }),
      );
    } catch (err) {
      // Its bookmark stays where its last complete part left it; the next windows keep their turn.
      if (earlierFailed || !stream.isolate?.(window, err)) throw err;
    }
  });
}
