// One stream's view of the state, made from its declaration and its selection, so a reader
// never spells a bookmark key, a partition context or the FULL_TABLE rule itself (the
// Meltano SDK's StreamStateManager plays this part). The shape on disk is StateStore's.
import type { Settings } from '../../config/load.js';
import type { StateStore } from '../../state.js';
import { minDay } from './days.js';
import type { StreamSelection } from './definitions.js';
import { bookmarkKeys, type StreamDeclaration } from './definitions.js';

/**
 * The breakdown rule of a stream with a bookmark per value of a setting (`bookmarkPer`): how
 * far EVERY configured value is read, the earliest of their bookmarks, or undefined while one
 * has none (a value added since is read from start_date). It is the stream-wide bookmark
 * (src/streams/state/settings.ts) and what a past-end_date check looks at (past-end.ts).
 */
export function allValuesReached(store: StateStore, declaration: StreamDeclaration, settings: Settings): string | undefined {
  const per = declaration.bookmarkPer;
  if (!per) return undefined;
  let least: string | undefined;
  for (const key of bookmarkKeys(per, settings)) {
    const v = store.breakdownValue(declaration.name, key);
    if (v === undefined) return undefined;
    least = least === undefined ? v : minDay(least, v);
  }
  return least;
}

/**
 * The FULL_TABLE rule (Airbyte's full_refresh), decided here only: such a stream is read from
 * start_date, so no bookmark of its state entry is a starting point (StreamState), its
 * recorded settings need no check (src/streams/state/settings.ts) and no bookmark of it can
 * stop it at end_date (past-end.ts). True for such a stream. What becomes of the entry itself
 * is the one thing the protocols do differently, `entry`: Singer keeps it ('kept': its
 * bookmarks are ignored, then overwritten as the stream reads, and the rest of it goes on in
 * the STATE); Airbyte drops it from the state before anything reads it (`droppedFrom`: its
 * platform passes a full_refresh stream's last state, which does not apply to it;
 * src/airbyte/main.ts startState).
 */
export function fullTable(
  selection: Pick<StreamSelection, 'stream' | 'replicationMethod'>,
  entry: 'kept' | { droppedFrom: StateStore } = 'kept',
): boolean {
  if (selection.replicationMethod !== 'FULL_TABLE') return false;
  if (entry !== 'kept') entry.droppedFrom.dropEntry(selection.stream);
  return true;
}

export class StreamState {
  /** The replication key in use: the selection's choice among the declared ones. */
  readonly replicationKey: string;
  /** Not FULL_TABLE (fullTable): a stored bookmark is a starting point. */
  readonly incremental: boolean;

  constructor(
    private readonly store: StateStore,
    readonly declaration: StreamDeclaration,
    selection: Pick<StreamSelection, 'replicationKey' | 'replicationMethod'>,
    /** Partitions are one owner's: their context is {owner, <partitionedBy>}. */
    private readonly owner?: string,
  ) {
    this.replicationKey = selection.replicationKey;
    this.incremental = !fullTable({ stream: declaration.name, replicationMethod: selection.replicationMethod });
  }

  private context(partition: string): Record<string, string> {
    const field = this.declaration.partitionedBy;
    if (!field) throw new Error(`stream ${this.declaration.name} is not partitioned`);
    return this.owner === undefined ? { [field]: partition } : { owner: this.owner, [field]: partition };
  }

  /**
   * Where the last sync got to (of one partition, for a partitioned stream), if it counts as
   * a starting point: undefined for FULL_TABLE, without a bookmark, or for a bookmark of
   * another replication key.
   */
  bookmark(partition?: string): string | undefined {
    if (!this.incremental) return undefined;
    const name = this.declaration.name;
    if (partition === undefined) return this.store.value(name, this.replicationKey);
    return this.store.partitionValue(name, this.context(partition), this.replicationKey);
  }

  /** Moves the bookmark (of one partition, for a partitioned stream). */
  commit(value: string, partition?: string): void {
    const name = this.declaration.name;
    if (partition === undefined) this.store.setValue(name, this.replicationKey, value);
    else this.store.setPartitionValue(name, this.context(partition), this.replicationKey, value);
  }

  /** aggregates: one breakdown's bookmark, if it counts as a starting point (as bookmark()). */
  breakdown(breakdown: string): string | undefined {
    return this.incremental ? this.store.breakdownValue(this.declaration.name, breakdown) : undefined;
  }

  /** aggregates: one breakdown's bookmark as stored, FULL_TABLE or not (what this sync wrote counts). */
  storedBreakdown(breakdown: string): string | undefined {
    return this.store.breakdownValue(this.declaration.name, breakdown);
  }

  commitBreakdown(breakdown: string, value: string): void {
    this.store.setBreakdownValue(this.declaration.name, breakdown, value);
  }

  /** Moves the stream-wide bookmark to where every configured breakdown is read (allValuesReached), once each has a bookmark. */
  commitAllReached(settings: Settings): void {
    const reached = allValuesReached(this.store, this.declaration, settings);
    if (reached !== undefined) this.commit(reached);
  }

  /**
   * A window read up to `mark` for `values` (of the declaration's `bookmarkPer`): each value's
   * bookmark moves there, never back from a starting point (a window re-read within the
   * lookback ends before it), then the stream-wide bookmark (commitAllReached).
   */
  commitValues(values: readonly string[], mark: string, settings: Settings): void {
    for (const v of values) {
      const prev = this.breakdown(v);
      this.commitBreakdown(v, prev && prev > mark ? prev : mark);
    }
    this.commitAllReached(settings);
  }
}
