// The one place a stream's run is put together (StreamRun, src/streams/engine/types.ts): the
// sync makes one per stream per run, and the reader, the window runner, fetchRecords and the
// verification hooks take it, so a new seam is a field here, not a parameter threaded
// through each of them.
import type { StreamDeclaration, StreamSelection } from './definitions.js';
import { fetchRecords } from './fetch.js';
import { KeySet } from './key-set.js';
import { everyCommit, throttledCheckpoints } from './runner.js';
import { StreamState } from './stream-state.js';
import type {
  CheckpointPolicy,
  FetchRecords,
  OnRecord,
  RecordTarget,
  StreamRun,
  StreamSink,
  StreamStats,
  SyncContext,
} from './types.js';

/** What a test may put in place of the run's defaults. */
export interface RunSeams {
  /** Default: the STATE throttle, or a STATE after every commit when the context asks (the load command). */
  checkpoints?: (sink: StreamSink) => CheckpointPolicy;
  fetch?: FetchRecords;
}

export function streamRun(
  ctx: SyncContext,
  declaration: StreamDeclaration,
  selection: StreamSelection,
  sink: StreamSink,
  stats: StreamStats,
  seams: RunSeams = {},
): StreamRun {
  const policy = seams.checkpoints ?? (ctx.checkpointEveryCommit ? everyCommit : throttledCheckpoints);
  return {
    ctx,
    declaration,
    selection,
    // Partitions are this owner's (their context is {owner, <partitionedBy>}); a stream without
    // partitions never builds one, so the owner changes nothing for it.
    state: new StreamState(ctx.state, declaration, selection, ctx.settings.owner),
    sink,
    // Its clock starts with the stream: the first STATE waits for the interval from here.
    checkpoints: policy(sink),
    stats,
    fetch: seams.fetch ?? fetchRecords,
    keySet: () => new KeySet(),
    verification: ctx.verification,
  };
}

/**
 * The run's request step aimed at a callback of the caller's instead of the run's sink (a
 * re-read emitting only rows not emitted yet, the rollup's snapshot): still counted in the
 * run's stats. No recordJson: such a callback needs the record as an object.
 */
export function recordsTo(run: Pick<StreamRun, 'ctx' | 'stats'>, record: OnRecord): RecordTarget {
  return { ctx: run.ctx, stats: run.stats, sink: { record } };
}
