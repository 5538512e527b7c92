// The one loop of every windowed stream: plan windows → split on range-too-long → fetch in
// order with bounded concurrency → commit the bookmark → checkpoint. A stream supplies its
// windows, what to request for a window and its bookmark rule (WindowedStream); the rules
// that hold for every stream live here once:
// - a window's records reach the sink in window order, whatever the concurrency
//   (src/streams/ordered.ts);
// - a window's bookmark moves only after its last record was written, and a STATE is asked
//   for only after that (never for a window that failed: its error ends the stream and the
//   bookmark stays where the last complete window left it);
// - a window too long for Scarf is cut into parts, each fetched, committed and checkpointed
//   as a window of its own (src/streams/ranges.ts).
// docs/DESIGN.md "The window runner" names the places where count reconciliation and
// throttled checkpoints plug in.
import { requestConcurrency } from '../config/concurrency.js';
import type { Window } from './days.js';
import { dedupKey, type StreamDeclaration } from './definitions.js';
import { fetchRecords, type FetchSpec } from './fetch.js';
import { runInOrder, type Turn } from './ordered.js';
import { RangeLimits, type Splitter } from './ranges.js';
import type { StreamSink, StreamStats, SyncContext } from './types.js';

/**
 * Requests in flight at once: the runner's windows and the client's connections both take
 * it from here, so a window waiting for its turn never holds the connection an earlier
 * window needs (src/scarf/README.md, the no-deadlock rule).
 */
export { requestConcurrency };

/** What to request for one part of a window; the stream, endpoint, body format and key come from the declaration. */
export type WindowRequest = Pick<FetchSpec, 'path' | 'query' | 'label' | 'constants' | 'deriveKey'>;

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
}

/** When a STATE goes out. Today after every committed part; a throttle would decide here. */
interface CheckpointPolicy {
  committed(): Promise<void>;
}

function everyCommit(sink: StreamSink): CheckpointPolicy {
  return { committed: () => sink.checkpoint() };
}

/** The request → records step (fetchRecords; a unit test gives its own). */
export type FetchWindow = typeof fetchRecords;

export async function runWindows<W extends Window>(
  ctx: SyncContext,
  stream: WindowedStream<W>,
  sink: StreamSink,
  stats: StreamStats,
  fetch: FetchWindow = fetchRecords,
): Promise<void> {
  const decl = stream.declaration;
  const ranges = new RangeLimits();
  const checkpoints = everyCommit(sink);
  stats.windowsPlanned = stream.windows.length;
  const concurrency = stream.concurrent ? requestConcurrency(ctx.settings) : 1;

  const readPart = async (window: W, part: Window, waitTurn: Turn): Promise<void> => {
    stats.windows++;
    const spec: FetchSpec = {
      ...stream.request(window, part),
      stream: decl.name,
      endpoint: decl.endpoint,
      format: decl.format,
      keyField: dedupKey(decl.name),
    };
    // The key set lives for the part and survives its retries (src/streams/fetch.ts).
    const seen = new Set<string>();
    await fetch(ctx, spec, seen, stats, sink.record, waitTurn, sink.recordJson);
    await waitTurn();
    // Count reconciliation goes here: the part's records are written, its bookmark has not
    // moved; a re-fetch with the same `seen` emits only rows not yet emitted.
    stream.commit(window, part);
    await checkpoints.committed();
  };

  await runInOrder(stream.windows, concurrency, (window, waitTurn) =>
    ranges.forEachRange(decl.endpoint, window, stream.split, (part) => readPart(window, part, waitTurn)),
  );
}
