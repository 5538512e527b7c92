// The load's state lives in the target database, next to the rows it covers, in one table
// (tables.ts STATE_TABLE): a row per owner, stream and partition. A stream's own entry (its
// bookmark, per-breakdown bookmarks, recorded settings) is the part '' row; each partition of
// company_events is a row of its own, so a commit writes the companies that moved, not all of
// them (one row holding every partition would make the state written grow with the square of
// the companies, as a Singer STATE does without its throttle).
import { STREAM_NAMES, type StreamName } from '../../schemas.js';
import { parseState, type Partition, StateStore, type StreamBookmark, type TapState } from '../../state.js';
import { qualified, STATE_TABLE } from './tables.js';

/** A partition's row name: its context as JSON with sorted keys (one text per context). */
export function partKey(context: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(context)
        .sort()
        .map((k) => [k, context[k]]),
    ),
  );
}

export interface StateRow {
  stream: string;
  part: string;
  value: unknown;
}

/** The rows of one owner → the state a sync starts from. */
export function stateFromRows(rows: StateRow[]): TapState {
  const bookmarks: Record<string, StreamBookmark> = {};
  const parts = new Map<string, [string, Partition][]>();
  for (const r of rows) {
    if (r.part === '') bookmarks[r.stream] = { ...(r.value as StreamBookmark) };
    else {
      const list = parts.get(r.stream) ?? [];
      list.push([r.part, r.value as Partition]);
      parts.set(r.stream, list);
    }
  }
  for (const [stream, list] of parts) {
    list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    (bookmarks[stream] ??= {}).partitions = list.map(([, p]) => p);
  }
  return parseState({ bookmarks }, 'the database state table');
}

interface Dirty {
  entry: boolean;
  /** Every partition row is rewritten (and rows of partitions no longer there deleted). */
  allParts: boolean;
  /** Changed partitions, by row name. */
  parts: Map<string, Partition>;
}

/**
 * A StateStore that remembers what changed since it was last written, and counts its
 * changes: the writer commits a window's rows only once a change came after them (a change
 * comes only after the last row of the window it covers; src/streams/engine/runner.ts).
 */
export class TrackedStateStore extends StateStore {
  /** Changes so far; the writer compares it with the count when its pending rows were written. */
  changes = 0;
  private readonly dirty = new Map<string, Dirty>();

  private mark(stream: string): Dirty {
    this.changes++;
    let d = this.dirty.get(stream);
    if (!d) this.dirty.set(stream, (d = { entry: false, allParts: false, parts: new Map() }));
    d.entry = true;
    return d;
  }

  override setValue(stream: StreamName, replicationKey: string, value: string): void {
    super.setValue(stream, replicationKey, value);
    this.mark(stream);
  }

  override setPartitionValue(stream: StreamName, context: Record<string, string>, replicationKey: string, value: string): void {
    super.setPartitionValue(stream, context, replicationKey, value);
    this.markPartition(stream, context);
  }

  /** company_events' failure record of a partition (src/streams/company-events.ts): its row is written with the next commit. */
  override setPartitionField(stream: StreamName, context: Record<string, string>, field: string, value: unknown): void {
    if (value === undefined && this.partitionField(stream, context, field) === undefined) return;
    super.setPartitionField(stream, context, field, value);
    this.markPartition(stream, context);
  }

  /** A partition changed: its row is written with the next commit (every partition's when it is not found). */
  private markPartition(stream: StreamName, context: Record<string, string>): void {
    const key = partKey(context);
    const p = this.partition(stream, key);
    // The entry row can change too: its first bookmark records the settings (StateStore.entry).
    const d = this.mark(stream);
    if (p) d.parts.set(key, p);
    else d.allParts = true;
  }

  /** Partition objects by row name, per partitions array (StateStore changes them in place and appends new ones). */
  private readonly index = new WeakMap<Partition[], Map<string, Partition>>();

  private partition(stream: StreamName, key: string): Partition | undefined {
    const parts = this.bookmark(stream)?.partitions;
    if (!parts) return undefined;
    let idx = this.index.get(parts);
    if (!idx) {
      idx = new Map();
      for (const p of parts) if (!idx.has(partKey(p.context))) idx.set(partKey(p.context), p);
      this.index.set(parts, idx);
    }
    let p = idx.get(key);
    const last = parts[parts.length - 1];
    if (!p && last && partKey(last.context) === key) idx.set(key, (p = last));
    return p;
  }

  override adoptOwnerlessPartitions(stream: StreamName, owner: string): void {
    const before = JSON.stringify(this.bookmark(stream)?.partitions ?? []);
    super.adoptOwnerlessPartitions(stream, owner);
    if (JSON.stringify(this.bookmark(stream)?.partitions ?? []) !== before) {
      this.mark(stream).allParts = true;
      // Contexts were rewritten in place: the row names of the index are stale.
      const parts = this.bookmark(stream)?.partitions;
      if (parts) this.index.delete(parts);
    }
  }

  override setBreakdownValue(stream: StreamName, breakdown: string, value: string): void {
    super.setBreakdownValue(stream, breakdown, value);
    this.mark(stream);
  }

  override dropValue(stream: StreamName): void {
    if (!this.bookmark(stream)) return;
    super.dropValue(stream);
    this.mark(stream);
  }

  /** The entry's rows go with it: its own row is written empty and its partition rows deleted. */
  override dropEntry(stream: StreamName): void {
    if (!this.bookmark(stream)) return;
    super.dropEntry(stream);
    this.mark(stream).allParts = true;
  }

  override recordSettings(stream: StreamName, settings: Record<string, unknown>): void {
    super.recordSettings(stream, settings);
    this.mark(stream);
  }

  override resetProgress(stream: StreamName): void {
    super.resetProgress(stream);
    this.mark(stream).allParts = true;
  }

  override clampToSignpost(signpostTs: string): string[] {
    const warnings = super.clampToSignpost(signpostTs);
    if (warnings.length) for (const s of STREAM_NAMES) if (this.bookmark(s)) this.mark(s).allParts = true;
    return warnings;
  }

  /** True when something of `stream` is not written yet. */
  isDirty(stream: string): boolean {
    return this.dirty.has(stream);
  }

  /**
   * The statements that write what changed of `stream` (run inside the window's transaction),
   * and forget the changes; `restore` puts them back when that transaction fails.
   */
  takeWrites(
    schema: string,
    owner: string,
    stream: StreamName,
  ): { statements: { text: string; values: unknown[] }[]; restore: () => void } {
    const d = this.dirty.get(stream);
    if (!d) return { statements: [], restore: () => undefined };
    this.dirty.delete(stream);
    const restore = () => {
      if (!this.dirty.has(stream)) this.dirty.set(stream, d);
      else {
        const now = this.dirty.get(stream)!;
        now.entry ||= d.entry;
        now.allParts ||= d.allParts;
        for (const [k, c] of d.parts) now.parts.set(k, c);
      }
    };
    const table = qualified(schema, STATE_TABLE);
    const bm = this.bookmark(stream) ?? {};
    const statements: { text: string; values: unknown[] }[] = [];
    const upsert = `INSERT INTO ${table} (owner, stream, part, value) SELECT $1, $2, p, v::jsonb FROM unnest($3::text[], $4::text[]) AS x(p, v) ON CONFLICT (owner, stream, part) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;
    // By row name: two partitions of one context (an old state may hold them) make one row, the first, as StateStore reads them.
    const rows = new Map<string, string>();
    if (d.entry) {
      const { partitions: _p, ...entry } = bm;
      rows.set('', JSON.stringify(entry));
    }
    const partitions = bm.partitions ?? [];
    if (d.allParts) {
      statements.push({ text: `DELETE FROM ${table} WHERE owner = $1 AND stream = $2 AND part <> ''`, values: [owner, stream] });
      for (const p of partitions) if (!rows.has(partKey(p.context))) rows.set(partKey(p.context), JSON.stringify(p));
    } else for (const [k, p] of d.parts) rows.set(k, JSON.stringify(p));
    if (rows.size) statements.push({ text: upsert, values: [owner, stream, [...rows.keys()], [...rows.values()]] });
    return { statements, restore };
  }
}

export function selectStateSql(schema: string): string {
  return `SELECT stream, part, value FROM ${qualified(schema, STATE_TABLE)} WHERE owner = $1`;
}
