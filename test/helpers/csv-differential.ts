// The differential check of the two CSV paths (the fast path, src/scarf/csv-fast/, against
// the papaparse path: papaparse + the row typer): generated hostile bodies, cut into random
// chunks, read by fetchRecords both ways into the real protocol writers; everything
// observable must be identical: the output bytes, the error (class and message), the stats,
// the key set, the onAccepted tally.
// Used by test/scarf/csv-differential.test.ts (a small size) and the bench (millions of rows).
import { Writable } from 'node:stream';

import { defaultSelection } from '../../src/catalog.js';
import { getLogSink, setLogSink } from '../../src/log.js';
import { AirbyteWriter } from '../../src/protocol/airbyte.js';
import { LineWriter } from '../../src/protocol/output.js';
import { SingerWriter } from '../../src/protocol/singer.js';
import type { ScarfClient } from '../../src/scarf/client.js';
import type { FastCsvResult } from '../../src/scarf/csv-fast/index.js';
import { loadSchema, type StreamName } from '../../src/schemas.js';
import { fetchRecords, type FetchSpec, fetchSpec } from '../../src/streams/engine/fetch.js';
import { KeySet } from '../../src/streams/engine/key-set.js';
import type { RecordSink, StreamStats, SyncContext } from '../../src/streams/engine/types.js';
import { STREAMS } from '../../src/streams/registry.js';
import { type Rng, rng } from './rng.js';

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

const PIECES = [
  'plain',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'a,b',
  'say "hi"',
  '""',
  '"',
  'line\nbreak',
  'crlf\r\nbreak',
  'lone\rcr',
  'back\\slash',
  'tab\there',
  '\u0000\u0001\u001f\u007f',
  '\b\f',
  'Zürich',
  '中文字段',
  '😀 astral 𝄞',
  'line\u2028sep\u2029para',
  '\ufeffbom',
  '\ufffd',
  ' spaced ',
  '',
  'null',
  '{"json":true}',
  "<>&'",
];

function text(r: Rng): string {
  const x = r();
  if (x < 0.3) return '';
  if (x < 0.32) return pick(r, PIECES).repeat(int(r, 100, 400)); // multi-KB
  let s = '';
  const n = int(r, 1, 4);
  for (let i = 0; i < n; i++) s += pick(r, PIECES);
  return s;
}

const TS_GOOD = [
  '2026-11-02 13:04:05.123456+00',
  '2026-11-02T13:04:05.123456Z',
  '2026-11-02 13:04:05+00',
  '2026-11-02 13:04:05.1+00:00',
  '2026-11-02 13:04:05.123456789+00',
  '2026-11-02T13:04:05.12Z',
  '2026-11-02t13:04:05z',
  '2026-11-02 23:59:59.999999-0530',
  '2026-11-02 00:00:00.000001+05:30',
  '2026-02-28 23:30:00.5-01',
  '2024-02-29 12:00:00.000000+00',
  '2000-02-29 00:00:00.000000+00',
  '1900-02-28 23:59:59.999999+00',
  '2026-04-30 10:00:00.000000+00',
  '2026-12-31 23:59:59.999999+00',
  '2026-01-01T00:00:00.000000Z',
  '2026-11-02 13:04:05.123456+01',
  '2026-11-02 13:04:05.123456-00',
  '2026-11-02 13:04+00',
  '2026-11-02',
  '0001-01-01 00:30:00.000000+01',
  // Scarf's form with the fraction's trailing zeros dropped (Postgres text), each length.
  '2026-11-02 13:04:05.1+00',
  '2026-11-02 13:04:05.12+00',
  '2026-11-02 13:04:05.123+00',
  '2026-11-02 13:04:05.1234+00',
  '2026-11-02 13:04:05.12345+00',
  '2026-11-02T13:04:05.1234+00',
  '2026-11-02t23:59:59.9+00',
];
const TS_BAD = [
  '2026-02-29 12:00:00.000000+00',
  '1900-02-29 12:00:00.000000+00',
  '2026-04-31 12:00:00.000000+00',
  '2026-13-01 00:00:00.000000+00',
  '2026-00-10 00:00:00.000000+00',
  '2026-11-02 24:00:00.000000+00',
  '2026-11-02 23:60:00.000000+00',
  '2026-11-02 23:00:60.000000+00',
  '2026-11-02 13:04:05.12345a+00',
  '2026-11-02 13:04:05.123456+01x',
  '2026-11-02X13:04:05.123456+00',
  '2026-11-02T13:04:05.123456X',
  'yesterday',
  '2026-11-02 13:04:05.123456+0',
  // Near misses of the short-fraction form.
  '2026-11-02 13:04:05.+00',
  '2026-11-02 13:04:05.1a+00',
  '2026-02-29 13:04:05.1+00',
  '2026-11-02 24:00:00.5+00',
  '2026-11-02 13:04:05.12+0',
  '2026-11-02 13:04:05.1234+0x',
  '2026-11-02 13:04:05+0',
];
const NUM_GOOD = [
  '0',
  '37.7290',
  '-122.4377',
  '0.200',
  '1.0',
  '-0',
  '-0.0',
  '1e5',
  '2.5E-3',
  '.5',
  '5.',
  '+3',
  '0.0000001',
  '0.000001',
  '123456789012345678',
  '-12.50',
  '42',
  '0.1234567890123456',
  '1e21',
  '999999999999999',
];
const NUM_BAD = ['abc', '1,5', 'NaN', 'Infinity', '1e999', '--1', '0x10'];
const BOOL_GOOD = ['t', 'f', 'true', 'false', 'TRUE', 'F', 'True'];
const BOOL_BAD = ['yes', '1', 'tru'];

const hex = (r: Rng, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(r, 0, 15)]).join('');
function uuid(r: Rng): string {
  return `${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}`;
}

type Kind = 'string' | 'number' | 'boolean' | 'date-time' | 'date' | 'integer';

function kindOf(prop: { type?: string | string[]; format?: string }): Kind {
  const t = (Array.isArray(prop.type) ? prop.type : [prop.type ?? 'string']).find((x) => x !== 'null') ?? 'string';
  if (t === 'number' || t === 'boolean' || t === 'integer') return t;
  if (prop.format === 'date-time' || prop.format === 'date') return prop.format;
  return 'string';
}

/** A value's text for its column; `bad` makes it one both paths must refuse alike (or, for near misses, accept alike). */
function value(r: Rng, kind: Kind, bad: boolean): string {
  if (r() < 0.15) return '';
  // Rarely, anywhere: a row whose error ends the body, at a random place.
  if (!bad && kind !== 'string' && r() < 0.0005) bad = true;
  switch (kind) {
    case 'number':
    case 'integer':
      return bad && r() < 0.5 ? pick(r, NUM_BAD) : r() < 0.4 ? pick(r, NUM_GOOD) : (r() * 400 - 200).toFixed(int(r, 0, 6));
    case 'boolean':
      return bad && r() < 0.5 ? pick(r, BOOL_BAD) : pick(r, BOOL_GOOD);
    case 'date-time':
    case 'date':
      return bad && r() < 0.5 ? pick(r, TS_BAD) : pick(r, TS_GOOD);
    default:
      return text(r);
  }
}

/** A field as CSV: quoted when it must be, sometimes when it need not; a literal quote unquoted where papaparse allows it. */
function csvField(r: Rng, v: string, crlf: boolean): string {
  const must = /[",\r\n]/.test(v);
  if (!must && r() < 0.2) return `"${v}"`;
  if (!must) return v;
  // A quote not at the start, no comma or line break: papaparse reads it as a literal quote.
  if (!/[,\r\n]/.test(v) && v[0] !== '"' && r() < 0.3) return v;
  if (!crlf && !/[",\n]/.test(v) && r() < 0.3) return v; // a lone CR is content when rows end with LF
  return `"${v.replace(/"/g, '""')}"`;
}

export interface GenOptions {
  stream: StreamName;
  rows: number;
  /** Allow one structural or value fault in this body. */
  faults: boolean;
}

/** One body: a header (shuffled, with unknown or missing columns at times) and rows. */
export function makeBody(r: Rng, opts: GenOptions): Buffer {
  const schema = loadSchema(opts.stream);
  const fixed = new Set(['owner', 'extra_fields', 'company_domain']);
  let cols = Object.keys(schema.properties).filter((k) => !fixed.has(k));
  const kinds = new Map<string, Kind>(cols.map((c) => [c, kindOf(schema.properties[c]!)]));
  if (r() < 0.2) cols = cols.filter((c) => c === 'id' || r() > 0.15); // older exports lack columns
  if (r() < 0.25) {
    for (const extra of ['new_col', 'owner', 'extra_fields', 'Ünïcode "col"', '__proto__'].filter(() => r() < 0.5)) {
      cols.splice(int(r, 0, cols.length), 0, extra);
      kinds.set(extra, 'string');
    }
  }
  if (r() < 0.2) cols.sort(() => r() - 0.5);
  const crlf = r() < 0.3;
  const nl = crlf ? '\r\n' : '\n';
  const parts: string[] = [];
  if (r() < 0.05) parts.push('\ufeff');
  // Known columns spelled otherwise at times (`Time`, ` version`): both paths must match them alike (issue 18).
  const respell = r() < 0.15;
  const spelled = cols.map((c) =>
    respell && kinds.has(c) && Object.hasOwn(schema.properties, c) && r() < 0.3 ? (r() < 0.5 ? c.toUpperCase() : ` ${c}`) : c,
  );
  parts.push(spelled.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',') + nl);
  const ids: string[] = [];
  const faultAt = opts.faults ? int(r, 0, opts.rows) : -1;
  const faultKind = int(r, 0, 9);
  const extraBytes: { at: number; bytes: Buffer }[] = [];
  for (let i = 0; i < opts.rows; i++) {
    const fault = i === faultAt;
    const fields = cols.map((c) => {
      if (c === 'id') {
        if (fault && faultKind === 0) return '';
        if (ids.length > 0 && r() < 0.05) return pick(r, ids);
        const x = r();
        const id = x < 0.8 ? uuid(r) : x < 0.85 ? uuid(r).toUpperCase() : x < 0.9 ? '\uffff' + hex(r, 6) : text(r) || 'k' + i;
        ids.push(id);
        return csvField(r, id, crlf);
      }
      return csvField(r, value(r, kinds.get(c)!, fault && faultKind === 1 && r() < 0.3), crlf);
    });
    let line = fields.join(',') + nl;
    if (fault && faultKind === 2) line = fields.slice(1).join(',') + nl; // a field short
    if (fault && faultKind === 3) line = fields.join(',') + ',extra' + nl; // a field too many
    if (fault && faultKind === 4) line = '"bad"quote,' + fields.slice(1).join(',') + nl; // malformed quote
    if (fault && faultKind === 5) line = nl + line; // a blank line
    if (fault && faultKind === 6)
      extraBytes.push({ at: parts.length, bytes: Buffer.from([0x41, 0xc3, 0x28, 0xff, 0xed, 0xa0, 0x80, 0xf0, 0x9f]) });
    parts.push(line);
  }
  const buffers = parts.map((p) => Buffer.from(p, 'utf8'));
  // Invalid UTF-8 goes inside a row's first field (before its first byte), so the row stays a row.
  for (const x of extraBytes) {
    const b = buffers[x.at]!;
    const quoted = b[0] === 0x22 ? 1 : 0;
    buffers[x.at] = Buffer.concat([b.subarray(0, quoted), x.bytes, b.subarray(quoted)]);
  }
  let body = Buffer.concat(buffers);
  if (opts.faults && faultKind === 7 && body.length > 10)
    body = body.subarray(0, int(r, Math.floor(body.length / 2), body.length - 1)); // cut
  if (opts.faults && faultKind === 8 && body.at(-1) === 0x0a) body = body.subarray(0, body.length - (crlf ? 2 : 1)); // no last line break
  return body;
}

/** The body in random pieces: mostly ~64 KB as undici gives them, sometimes tiny ones. */
export function chunksOf(r: Rng, body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  const tiny = r() < 0.2;
  for (let i = 0; i < body.length;) {
    const n = tiny ? int(r, 1, 40) : r() < 0.2 ? int(r, 1, 5000) : int(r, 16_000, 70_000);
    out.push(body.subarray(i, i + n));
    i += n;
  }
  return out;
}

export interface PathResult {
  /** The output bytes as latin1 text: one character per byte, so bytes that are not UTF-8 still differ. */
  out: string;
  /** What was logged (the unknown-columns warning). */
  logged: string[];
  error?: string;
  stats: StreamStats;
  accepted: unknown[];
  seen: string[];
  /** How the fast path read the body, when it took it. */
  fastPath?: FastCsvResult;
}

const OWNER = 'acme-oss';

/** The two ways of reading a CSV body: the fast path, and papaparse + the row typer. */
export type CsvPath = 'fast' | 'papaparse';

/** One body read by fetchRecords the given way into the given writer. */
export async function readBody(
  path: CsvPath,
  stream: StreamName,
  chunks: Buffer[],
  protocol: 'singer' | 'airbyte',
): Promise<PathResult> {
  const parts: Buffer[] = [];
  // A small buffer in the output stream: writes back up now and then, as a slow target makes them.
  const sinkStream = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      if (parts.length % 3 === 0) setImmediate(cb);
      else cb();
    },
  });
  const lines = new LineWriter(sinkStream);
  const writer = protocol === 'singer' ? new SingerWriter(lines) : new AirbyteWriter(lines);
  const selection = defaultSelection().find((s) => s.stream === stream)!;
  await writer.startStream(selection);
  const client = {
    fetch: <T>(_req: unknown, consume: (b: AsyncIterable<Buffer>, info: unknown) => Promise<T>) =>
      consume(
        (async function* () {
          for (const c of chunks) yield c;
        })(),
        { status: 200, headers: { 'content-type': 'text/csv' }, attempt: 1 },
      ),
  } as unknown as ScarfClient;
  const ctx = {
    aborted: false,
    client,
    settings: { owner: OWNER },
  } as unknown as SyncContext;
  const accepted: unknown[] = [];
  let fastPath: FastCsvResult | undefined;
  // As the stream's requests are made: its declaration says the tallied field and the CSV path.
  const spec: FetchSpec = fetchSpec(STREAMS[stream], {
    path: '/',
    query: {},
    label: `${stream} differential`,
    constants: stream === 'company_events' ? { company_domain: 'acme.com' } : undefined,
    onAccepted: {
      add: (t: unknown) => accepted.push(t),
      addText: (b: Buffer, s: number, e: number) => accepted.push(b.toString('latin1', s, e)),
    },
    onFastPath: (read: FastCsvResult) => (fastPath = read),
  });
  const stats: StreamStats = { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 };
  const seen = new KeySet();
  let error: string | undefined;
  const logged: string[] = [];
  const before = getLogSink();
  setLogSink((level, message) => logged.push(`${level} ${message}`));
  try {
    const sink: RecordSink = {
      record: (rec) => {
        stats.records++;
        return writer.record(stream, rec);
      },
      ...(path === 'fast'
        ? {
            recordJson: (json: Buffer, end: number) => {
              stats.records++;
              return writer.recordJson(stream, json, end);
            },
          }
        : {}),
    };
    await fetchRecords({ ctx, stats, sink }, spec, seen);
  } catch (e) {
    error = `${(e as Error).constructor.name}: ${(e as Error).message}`;
  } finally {
    setLogSink(before);
  }
  await lines.end();
  let out = Buffer.concat(parts).toString('latin1');
  // What differs between two runs of the same code: the clock.
  out = out.replace(/"emitted_at":\d+/g, '"emitted_at":0').replace(/"time_extracted":"[^"]*"/g, '"time_extracted":""');
  return { out, logged, error, stats, accepted, seen: seen.storedKeys(), fastPath };
}

export interface Mismatch {
  seed: number;
  what: string;
  fast: string;
  papaparse: string;
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const line = a.slice(0, i).split('\n').length;
  return `line ${line}: …${JSON.stringify(a.slice(Math.max(0, i - 80), i + 80))} vs …${JSON.stringify(b.slice(Math.max(0, i - 80), i + 80))}`;
}

/** Both paths over one generated body; the differences, if any. */
export async function compareOne(
  seed: number,
  rows: number,
  protocol: 'singer' | 'airbyte',
): Promise<{ rows: number; mismatches: Mismatch[]; fastPath?: FastCsvResult }> {
  const r = rng(seed);
  const stream: StreamName = r() < 0.75 ? 'events' : 'company_events';
  const body = makeBody(r, { stream, rows, faults: r() < 0.5 });
  const chunks = chunksOf(r, body);
  const fast = await readBody('fast', stream, chunks, protocol);
  const ref = await readBody('papaparse', stream, chunks, protocol);
  const mismatches: Mismatch[] = [];
  const diff = (what: string, f: string, rr: string) => {
    if (f !== rr) mismatches.push({ seed, what, fast: f.slice(0, 2000), papaparse: rr.slice(0, 2000) });
  };
  if (fast.out !== ref.out) mismatches.push({ seed, what: 'output', fast: firstDifference(fast.out, ref.out), papaparse: '' });
  diff('error', fast.error ?? '(none)', ref.error ?? '(none)');
  diff('log', fast.logged.join('\n'), ref.logged.join('\n'));
  diff('stats', JSON.stringify(fast.stats), JSON.stringify(ref.stats));
  diff('accepted', JSON.stringify(fast.accepted), JSON.stringify(ref.accepted));
  diff('key set', JSON.stringify(fast.seen), JSON.stringify(ref.seen));
  return { rows: ref.stats.records + ref.stats.duplicates, mismatches, fastPath: fast.fastPath };
}

/** What the fast path did over the bodies it read. */
export interface FastPathCounts {
  /** Rows it made into JSON text. */
  fastRows: number;
  /** Rows it handed to the row typer. */
  typerRows: number;
  /** Bodies it read, and of those the ones whose rest it handed to readCsv. */
  bodiesRead: number;
  handedOverBodies: number;
}

/** Bodies from `seed` on until `rows` rows were compared. */
export async function differential(
  rows: number,
  opts: { seed?: number; rowsPerBody?: number; airbyteEvery?: number } = {},
): Promise<{ rows: number; bodies: number; mismatches: Mismatch[]; fastPath: FastPathCounts }> {
  let done = 0;
  let bodies = 0;
  const mismatches: Mismatch[] = [];
  const fastPath: FastPathCounts = { fastRows: 0, typerRows: 0, bodiesRead: 0, handedOverBodies: 0 };
  for (let seed = opts.seed ?? 1; done < rows; seed++) {
    const n = opts.rowsPerBody ?? 400;
    const res = await compareOne(seed, n, bodies % (opts.airbyteEvery ?? 4) === 3 ? 'airbyte' : 'singer');
    done += res.rows;
    bodies++;
    mismatches.push(...res.mismatches);
    if (res.fastPath) {
      fastPath.fastRows += res.fastPath.fastRows;
      fastPath.typerRows += res.fastPath.typerRows;
      fastPath.bodiesRead++;
      if (res.fastPath.handedOver !== undefined) fastPath.handedOverBodies++;
    }
    if (mismatches.length >= 10) break;
  }
  return { rows: done, bodies, mismatches, fastPath };
}
