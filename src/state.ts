// The one place that reads and writes bookmarks. Shape (Singer, as Meltano stores it):
//   {"bookmarks": {"<stream>": {"replication_key": k, "replication_key_value": v}
//                  "company_events": {"partitions": [{"context": {"company_domain": d}, …}]}}}
// Keys we do not understand (written by another version) are carried through untouched.
import { ConfigError } from './errors.js';
import { toDate, toTimestamp } from './scarf/typing.js';
import type { StreamName } from './schemas.js';
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
  [k: string]: unknown;
}

export interface TapState {
  bookmarks: Record<string, StreamBookmark>;
  [k: string]: unknown;
}

const TS_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?))?$/;

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

/** Validates a parsed state value; `source` names where it came from for the error. */
export function parseState(value: unknown, source: string): TapState {
  if (value === undefined || value === null) return { bookmarks: {} };
  if (!isPlainObject(value))
    throw new ConfigError(
      `State from ${source} must be a JSON object like {"bookmarks": {...}}, not ${Array.isArray(value) ? 'an array' : typeof value}. ${RESET_HINT}`,
    );
  // Meltano and some runners wrap the Singer state; accept the wrapper transparently.
  const inner = isPlainObject(value.singer_state) && !('bookmarks' in value) ? value.singer_state : value;
  const given = inner.bookmarks ?? {};
  if (!isPlainObject(given)) throw new ConfigError(`State from ${source}: "bookmarks" must be an object. ${RESET_HINT}`);
  const bookmarks = structuredClone(given);
  for (const [stream, bm] of Object.entries(bookmarks)) {
    if (!isPlainObject(bm))
      throw new ConfigError(`State from ${source}: bookmark of stream '${stream}' must be an object. ${RESET_HINT}`);
    if (bm.replication_key_value != null)
      bm.replication_key_value = checkValue(`from ${source}, stream '${stream}'`, bm.replication_key_value);
    if (bm.partitions !== undefined) {
      if (!Array.isArray(bm.partitions))
        throw new ConfigError(`State from ${source}: '${stream}'.partitions must be an array. ${RESET_HINT}`);
      bm.partitions.forEach((p, i) => {
        if (!isPlainObject(p) || !isPlainObject(p.context))
          throw new ConfigError(
            `State from ${source}: '${stream}'.partitions[${i}] must be an object with a "context". ${RESET_HINT}`,
          );
        if (p.replication_key_value != null)
          p.replication_key_value = checkValue(
            `from ${source}, stream '${stream}' partition ${JSON.stringify(p.context)}`,
            p.replication_key_value,
          );
      });
    }
  }
  return { ...inner, bookmarks: bookmarks as Record<string, StreamBookmark> };
}

function sameContext(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export class StateStore {
  private readonly state: TapState;

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

  setValue(stream: StreamName, replicationKey: string, value: string): void {
    const bm = (this.state.bookmarks[stream] ??= {});
    bm.replication_key = replicationKey;
    bm.replication_key_value = value;
  }

  partitionValue(stream: StreamName, context: Record<string, string>, replicationKey: string): string | undefined {
    const p = this.state.bookmarks[stream]?.partitions?.find((x) => sameContext(x.context, context));
    if (!p?.replication_key_value) return undefined;
    if (p.replication_key && p.replication_key !== replicationKey) return undefined;
    return p.replication_key_value;
  }

  setPartitionValue(stream: StreamName, context: Record<string, string>, replicationKey: string, value: string): void {
    const bm = (this.state.bookmarks[stream] ??= {});
    const parts = (bm.partitions ??= []);
    let p = parts.find((x) => sameContext(x.context, context));
    if (!p) {
      p = { context: { ...context } };
      parts.push(p);
    }
    p.replication_key = replicationKey;
    p.replication_key_value = value;
  }

  /** A copy of the whole state, safe to serialise while the sync goes on. */
  snapshot(): TapState {
    return structuredClone(this.state);
  }

  streamState(stream: StreamName): StreamBookmark {
    return structuredClone(this.state.bookmarks[stream] ?? {});
  }
}
