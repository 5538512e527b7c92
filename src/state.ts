// The one place that reads and writes bookmarks. Shape (Singer, as Meltano stores it):
//   {"bookmarks": {"<stream>": {"replication_key": k, "replication_key_value": v}
//                  "company_events": {"partitions": [{"context": {"company_domain": d}, …}]}}}
// Keys we do not understand (written by another version) are carried through untouched, and
// so are the bookmarks of streams we do not know: they are not ours to judge.
// Besides the bookmark, a stream's entry records the settings that decided which data it
// covers ("settings"), and aggregates keeps one bookmark per breakdown ("breakdowns"); see
// src/streams/state/settings.ts and docs/state.md "When you change settings".
import { ConfigError } from './errors.js';
import { log } from './log.js';
import { toDate, toTimestamp } from './scarf/convert.js';
import { STREAM_NAMES, type StreamName } from './schemas.js';
import type { StreamDeclaration } from './streams/engine/definitions.js';
import { isObj as isPlainObject } from './util/json.js';

export interface Partition {
  context: Record<string, string>;
  replication_key?: string;
  replication_key_value?: string;
  [k: string]: unknown;
}

export interface StreamBookmark {
  replication_key?: string;
  replication_key_value?: string;
  partitions?: Partition[];
  /** The settings the bookmark was made with (only those that decide which rows it covers). */
  settings?: Record<string, unknown>;
  /** aggregates: the bookmark of each breakdown, so a new one can be backfilled alone. */
  breakdowns?: Record<string, string>;
  /** The owner everything else in this entry belongs to (src/streams/state/owners.ts). */
  owner?: string;
  /** The entries of the other owners this state has served, by owner, kept for when one is configured again. */
  other_owners?: Record<string, StreamBookmark>;
  /** An entry written before owners were recorded whose owner the state cannot tell: kept, never used. */
  unowned?: StreamBookmark;
  [k: string]: unknown;
}

export interface TapState {
  bookmarks: Record<string, StreamBookmark>;
  [k: string]: unknown;
}

const TS_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?))?$/;

const KNOWN_STREAMS: ReadonlySet<string> = new Set(STREAM_NAMES);

/**
 * Each stream's declaration, as src/streams/registry.ts gives it when it is loaded: the state
 * sits below the streams (test/unit/layering.test.ts), so it is told rather than importing them.
 */
let declared: (name: StreamName) => StreamDeclaration = (name) => {
  throw new Error(`no stream declarations given to the state (${name}): src/streams/registry.ts gives them`);
};

export function declareStreams(lookup: (name: StreamName) => StreamDeclaration): void {
  declared = lookup;
}

const RESET_HINT =
  'To start that stream over from start_date, delete its entry under "bookmarks" (or the whole state file / Meltano state with `meltano state clear`).';

/**
 * A bookmark value, checked and made canonical: a date stays `YYYY-MM-DD`, a timestamp becomes
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC), because bookmarks are compared as strings and their day
 * is read from their first ten characters. Impossible dates and times (Feb 30, 25:00) are refused.
 */
function checkValue(where: string, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (typeof value === 'string' && TS_RE.test(value)) {
    try {
      return value.length === 10 ? toDate(value) : toTimestamp(value);
    } catch {
      // worded below
    }
  }
  throw new ConfigError(
    `State ${where}: replication_key_value ${JSON.stringify(value)} is not a valid date or RFC3339 timestamp. ${RESET_HINT}`,
  );
}

/** Checks one stream entry in place (values made canonical); `whose` says which entry for the error. */
function checkEntry(source: string, stream: string, bm: unknown, whose: string): void {
  if (!isPlainObject(bm))
    throw new ConfigError(`State from ${source}: bookmark of stream '${stream}'${whose} must be an object. ${RESET_HINT}`);
  if (bm.replication_key_value != null)
    bm.replication_key_value = checkValue(`from ${source}, stream '${stream}'${whose}`, bm.replication_key_value);
  if (bm.partitions !== undefined) {
    if (!Array.isArray(bm.partitions))
      throw new ConfigError(`State from ${source}: '${stream}'${whose}.partitions must be an array. ${RESET_HINT}`);
    bm.partitions.forEach((p, i) => {
      if (!isPlainObject(p) || !isPlainObject(p.context))
        throw new ConfigError(
          `State from ${source}: '${stream}'${whose}.partitions[${i}] must be an object with a "context". ${RESET_HINT}`,
        );
      if (p.replication_key_value != null)
        p.replication_key_value = checkValue(
          `from ${source}, stream '${stream}'${whose} partition ${JSON.stringify(p.context)}`,
          p.replication_key_value,
        );
    });
  }
  if (bm.settings !== undefined && !isPlainObject(bm.settings))
    throw new ConfigError(`State from ${source}: '${stream}'${whose}.settings must be an object. ${RESET_HINT}`);
  if (bm.breakdowns !== undefined) {
    if (!isPlainObject(bm.breakdowns))
      throw new ConfigError(`State from ${source}: '${stream}'${whose}.breakdowns must be an object. ${RESET_HINT}`);
    for (const [b, v] of Object.entries(bm.breakdowns))
      bm.breakdowns[b] = checkValue(`from ${source}, stream '${stream}'${whose} breakdown '${b}'`, v);
  }
  if (bm.owner !== undefined && typeof bm.owner !== 'string')
    throw new ConfigError(`State from ${source}: '${stream}'${whose}.owner must be a string. ${RESET_HINT}`);
}

/** Validates a parsed state value; `source` names where it came from for the error. */
export function parseState(raw: unknown, source: string): TapState {
  if (raw === undefined || raw === null) return { bookmarks: {} };
  if (!isPlainObject(raw))
    throw new ConfigError(
      `State from ${source} must be a JSON object like {"bookmarks": {...}}, not ${Array.isArray(raw) ? 'an array' : typeof raw}. ${RESET_HINT}`,
    );
  let value: Record<string, unknown> = raw;
  // `tail -1 out.jsonl > state.json` saves the whole STATE message, not its value.
  if (value.type === 'STATE' && isPlainObject(value.value) && !('bookmarks' in value)) {
    log.info(`State from ${source} is a whole Singer STATE message: using its "value".`);
    value = value.value;
  }
  // Meltano and some runners wrap the Singer state; accept the wrapper transparently.
  const inner = isPlainObject(value.singer_state) && !('bookmarks' in value) ? value.singer_state : value;
  const given = inner.bookmarks ?? {};
  if (!isPlainObject(given)) throw new ConfigError(`State from ${source}: "bookmarks" must be an object. ${RESET_HINT}`);
  const bookmarks = structuredClone(given);
  for (const [stream, bm] of Object.entries(bookmarks)) {
    if (!KNOWN_STREAMS.has(stream)) continue;
    checkEntry(source, stream, bm, '');
    const entry = bm as Record<string, unknown>;
    // Other owners' entries are checked now too: one becomes the bookmark when its owner is configured again.
    if (entry.other_owners !== undefined) {
      if (!isPlainObject(entry.other_owners))
        throw new ConfigError(`State from ${source}: '${stream}'.other_owners must be an object. ${RESET_HINT}`);
      for (const [owner, other] of Object.entries(entry.other_owners))
        checkEntry(source, stream, other, ` (of owner '${owner}', in other_owners)`);
    }
  }
  return { ...inner, bookmarks: bookmarks as Record<string, StreamBookmark> };
}

function sameContext(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** One text per context, equal exactly when sameContext says so (key order does not matter). */
function contextKey(c: Record<string, string>): string {
  return JSON.stringify(
    Object.keys(c)
      .sort()
      .map((k) => [k, c[k]]),
  );
}

export class StateStore {
  private readonly state: TapState;
  /**
   * Partition lookup by context, per partitions array: a scan per lookup made a sync of
   * 10,000 companies spend seconds of CPU finding bookmarks (each commit scanned every
   * partition before it). Built on first use; dropped when contexts are rewritten.
   */
  private readonly partitionIndex = new WeakMap<Partition[], Map<string, Partition>>();
  /** Settings to record with a stream's bookmark once it has one (a stream that never moves writes nothing). */
  private readonly pendingSettings = new Map<string, Record<string, unknown>>();
  /** The owner an entry is marked with when this sync first writes it (src/streams/state/owners.ts). */
  private owner: string | undefined;

  constructor(initial: TapState = { bookmarks: {} }) {
    this.state = structuredClone(initial);
  }

  bookmark(stream: StreamName): StreamBookmark | undefined {
    return this.state.bookmarks[stream];
  }

  /** The stored value, but only if it was written for the replication key now in use. */
  value(stream: StreamName, replicationKey: string): string | undefined {
    const bm = this.state.bookmarks[stream];
    if (!bm?.replication_key_value) return undefined;
    if (bm.replication_key && bm.replication_key !== replicationKey) return undefined;
    return bm.replication_key_value;
  }

  /** From now on, an entry written without an owner mark is marked as `owner`'s. */
  writeFor(owner: string): void {
    this.owner = owner;
  }

  private entry(stream: StreamName): StreamBookmark {
    const bm = (this.state.bookmarks[stream] ??= {});
    if (this.owner !== undefined && bm.owner === undefined) bm.owner = this.owner;
    const pending = this.pendingSettings.get(stream);
    if (pending) {
      bm.settings = pending;
      this.pendingSettings.delete(stream);
    }
    return bm;
  }

  setValue(stream: StreamName, replicationKey: string, value: string): void {
    const bm = this.entry(stream);
    bm.replication_key = replicationKey;
    bm.replication_key_value = value;
  }

  private indexOf(parts: Partition[]): Map<string, Partition> {
    let index = this.partitionIndex.get(parts);
    if (!index) {
      index = new Map();
      // The first of two equal contexts wins, as a scan would find it.
      for (const p of parts) if (!index.has(contextKey(p.context))) index.set(contextKey(p.context), p);
      this.partitionIndex.set(parts, index);
    }
    return index;
  }

  partitionValue(stream: StreamName, context: Record<string, string>, replicationKey: string): string | undefined {
    const parts = this.state.bookmarks[stream]?.partitions;
    const p = parts && this.indexOf(parts).get(contextKey(context));
    if (!p?.replication_key_value) return undefined;
    if (p.replication_key && p.replication_key !== replicationKey) return undefined;
    return p.replication_key_value;
  }

  setPartitionValue(stream: StreamName, context: Record<string, string>, replicationKey: string, value: string): void {
    const bm = this.entry(stream);
    const parts = (bm.partitions ??= []);
    const index = this.indexOf(parts);
    const key = contextKey(context);
    let p = index.get(key);
    if (!p) {
      p = { context: { ...context } };
      parts.push(p);
      index.set(key, p);
    }
    p.replication_key = replicationKey;
    p.replication_key_value = value;
  }

  /** A field of one partition besides its bookmark (company_events' failure record), if the partition exists. */
  partitionField(stream: StreamName, context: Record<string, string>, field: string): unknown {
    const parts = this.state.bookmarks[stream]?.partitions;
    return parts && this.indexOf(parts).get(contextKey(context))?.[field];
  }

  /** Sets (or, with undefined, removes) a field of one partition, creating the partition without a bookmark if needed. */
  setPartitionField(stream: StreamName, context: Record<string, string>, field: string, value: unknown): void {
    const key = contextKey(context);
    const existing = this.state.bookmarks[stream]?.partitions;
    if (value === undefined && !(existing && this.indexOf(existing).get(key))) return;
    const parts = (this.entry(stream).partitions ??= []);
    const index = this.indexOf(parts);
    let p = index.get(key);
    if (!p) {
      p = { context: { ...context } };
      parts.push(p);
      index.set(key, p);
    }
    if (value === undefined) delete p[field];
    else p[field] = value;
  }

  /**
   * Partitions written before the owner was part of their context ({company_domain} alone)
   * are taken as the current owner's, the one assumption that lets such a state resume
   * instead of re-reading every company. A partition of the same context written since wins.
   * Run once, with the owner migrations, when the sync first reads the state (src/streams/state/owners.ts).
   */
  adoptOwnerlessPartitions(stream: StreamName, owner: string): void {
    const parts = this.state.bookmarks[stream]?.partitions;
    const legacy = parts?.filter((p) => !('owner' in p.context)) ?? [];
    if (!parts || legacy.length === 0) return;
    log.info(
      `State of '${stream}' has ${legacy.length} partition(s) without an owner in their context (an earlier tap-scarf wrote them): taking them as partitions of owner '${owner}'.`,
    );
    for (const p of legacy) {
      const context = { owner, ...p.context };
      if (parts.some((x) => x !== p && sameContext(x.context, context))) parts.splice(parts.indexOf(p), 1);
      else p.context = context;
    }
    this.partitionIndex.delete(parts);
  }

  breakdownValue(stream: StreamName, breakdown: string): string | undefined {
    return this.state.bookmarks[stream]?.breakdowns?.[breakdown];
  }

  setBreakdownValue(stream: StreamName, breakdown: string, value: string): void {
    const bm = this.entry(stream);
    (bm.breakdowns ??= {})[breakdown] = value;
  }

  /** Every per-breakdown bookmark the stream's entry holds (a copy), configured now or not. */
  breakdownValues(stream: StreamName): Record<string, string> {
    return { ...(this.state.bookmarks[stream]?.breakdowns ?? {}) };
  }

  /**
   * Removes the stream-wide bookmark value, and only it (its per-breakdown bookmarks and
   * partitions stay): a stream whose value no longer holds for all it reads
   * (src/streams/state/settings.ts). No entry is made just to remove it.
   */
  dropValue(stream: StreamName): void {
    const bm = this.state.bookmarks[stream];
    if (bm) delete bm.replication_key_value;
  }

  /** Removes the stream's whole entry (src/streams/engine/stream-state.ts fullTable, for Airbyte's full_refresh). */
  dropEntry(stream: StreamName): void {
    delete this.state.bookmarks[stream];
  }

  /**
   * A field of the stream's entry besides its bookmark (the open-days ledger,
   * src/streams/engine/open-days.ts); undefined removes it. No entry is made just to remove a field.
   */
  setExtra(stream: StreamName, key: string, value: unknown): void {
    if (value === undefined) {
      if (this.state.bookmarks[stream]) delete this.state.bookmarks[stream][key];
      return;
    }
    this.entry(stream)[key] = value;
  }

  recordedSettings(stream: StreamName): Record<string, unknown> | undefined {
    return this.state.bookmarks[stream]?.settings;
  }

  /** Recorded now if the stream has a bookmark entry, else with its first bookmark. */
  recordSettings(stream: StreamName, settings: Record<string, unknown>): void {
    const bm = this.state.bookmarks[stream];
    if (bm) bm.settings = settings;
    else this.pendingSettings.set(stream, settings);
  }

  /** Forgets how far a stream got (keys we do not know stay): it is read again from start_date. */
  resetProgress(stream: StreamName): void {
    const bm = this.state.bookmarks[stream];
    if (!bm) return;
    delete bm.replication_key_value;
    delete bm.partitions;
    delete bm.breakdowns;
    // A stream read again from start_date reads its open days again anyway.
    delete bm.open_days;
  }

  /** True when the stream has a bookmark that moves where a sync starts. */
  hasProgress(stream: StreamName): boolean {
    const bm = this.state.bookmarks[stream];
    return !!bm && (!!bm.replication_key_value || !!bm.partitions?.length || Object.keys(bm.breakdowns ?? {}).length > 0);
  }

  /**
   * A bookmark is the position a sync reached, so it cannot be later than the sync that wrote
   * it; one that is later than this sync's start (a hand edit, a wrong clock) would make the
   * stream request nothing and write the same impossible value back, forever. Each value
   * (stream-wide, per breakdown, per partition) becomes what the stream's declaration says
   * (`pastSignpost`): the signpost, so the stream re-reads from there minus its lookback; or,
   * for a snapshot, nothing, since its one request reads everything anyway and a signpost
   * bookmark would emit nothing, hiding every row the bad value skipped.
   * Returns one warning per value changed.
   */
  clampToSignpost(signpostTs: string): string[] {
    const day = signpostTs.slice(0, 10);
    const out: string[] = [];
    const why = `later than this sync's start (${signpostTs}); no bookmark can be past the time it was written (was the state edited, or written on a machine with a wrong clock?)`;
    for (const name of STREAM_NAMES) {
      const bm = this.state.bookmarks[name];
      if (!bm) continue;
      const { pastSignpost, endpoint } = declared(name);
      const late = (v: string): boolean => (pastSignpost === 'signpost-day' ? v.slice(0, 10) > day : v > signpostTs);
      const to = pastSignpost === 'signpost-day' ? day : signpostTs;
      const said = (what: string, v: string): string =>
        pastSignpost === 'drop'
          ? `State: stream '${name}' ${what}${v} is ${why}: dropping it, so the whole ${endpoint} snapshot is emitted (still one request).`
          : `State: stream '${name}' ${what}${v} is ${why}: using ${to}.`;
      if (bm.replication_key_value && late(bm.replication_key_value)) {
        out.push(said('bookmark ', bm.replication_key_value));
        if (pastSignpost === 'drop') delete bm.replication_key_value;
        else bm.replication_key_value = to;
      }
      for (const [b, v] of Object.entries(bm.breakdowns ?? {})) {
        if (!late(v)) continue;
        out.push(said(`breakdown '${b}' bookmark `, v));
        if (pastSignpost === 'drop') delete bm.breakdowns![b];
        else bm.breakdowns![b] = to;
      }
      for (const p of bm.partitions ?? []) {
        if (!p.replication_key_value || !late(p.replication_key_value)) continue;
        out.push(said(`bookmark of ${JSON.stringify(p.context)} `, p.replication_key_value));
        if (pastSignpost === 'drop') delete p.replication_key_value;
        else p.replication_key_value = to;
      }
    }
    return out;
  }

  /** A copy of the whole state, safe to serialise while the sync goes on. */
  snapshot(): TapState {
    return structuredClone(this.state);
  }

  streamState(stream: StreamName): StreamBookmark {
    return structuredClone(this.state.bookmarks[stream] ?? {});
  }
}
