// Per-stage cost of the tap's hot path, in process, on one real events body held in memory
// (no network): each level adds one stage to the previous one, so the difference between
// two levels is what that stage costs. Levels 3–5 run the tap's own code (fetchRecords,
// SingerWriter, LineWriter), only the HTTP client is replaced by the in-memory body.
//
//   node dist/bench/stages.js <events.csv> [passes] > /dev/null     (results go to stderr)
//
// `npm run bench` fetches a body from the simulator and runs this in a child process with
// stdout on /dev/null, as the tap's own stdout is in the throughput scenario.
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

import { defaultSelection } from '../src/catalog.js';
import { LineWriter } from '../src/protocol/output.js';
import { SingerWriter } from '../src/protocol/singer.js';
import type { ScarfClient } from '../src/scarf/client.js';
import { readCsv } from '../src/scarf/csv-rows.js';
import { compileRowTyper } from '../src/scarf/row-typer.js';
import { loadSchema } from '../src/schemas.js';
import { fetchRecords, fetchSpec } from '../src/streams/engine/fetch.js';
import { KeySet } from '../src/streams/engine/key-set.js';
import type { Rec, StreamStats, SyncContext } from '../src/streams/engine/types.js';
import { STREAMS } from '../src/streams/registry.js';

export interface StageResult {
  stage: string;
  /** Cumulative seconds of one pass over the body (best of the passes). */
  seconds: number;
  /** Rows per second with every stage up to this one. */
  rowsPerSec: number;
  /** Microseconds per row this stage adds to the previous level. */
  addedUsPerRow: number;
}

export const STAGES = [
  'UTF-8 decode (body already in memory)',
  'CSV parse (papaparse core parser, readCsv)',
  'typing (compileRowTyper.typeRow)',
  'de-duplication + key check (fetchRecords)',
  'serialisation (RECORD line, JSON.stringify)',
  'batching + write(2) to /dev/null (SingerWriter)',
  // The fast path (src/scarf/csv-fast/), not on top of the levels above: its first level
  // adds to nothing, its second to its first.
  'fast path: bytes → JSON text + de-duplication',
  'fast path + batching + write(2) (SingerWriter.recordJson)',
];
/** The first level of the fast path. */
const FAST = 6;

const CHUNK = 64 * 1024;

async function* chunks(buf: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += CHUNK) yield buf.subarray(i, i + CHUNK);
}

function fakeContext(body: Buffer): SyncContext {
  const client = {
    fetch: <T>(_req: unknown, consume: (b: AsyncIterable<Buffer>, info: unknown) => Promise<T>) =>
      consume(chunks(body), { status: 200, headers: {}, attempt: 1 }),
  } as unknown as ScarfClient;
  return {
    aborted: false,
    client,
    settings: { owner: 'acme-oss' },
  } as unknown as SyncContext;
}

async function pass(body: Buffer, level: number, out: NodeJS.WritableStream): Promise<number> {
  if (level === 0) {
    const d = new StringDecoder('utf8');
    let n = 0;
    for await (const c of chunks(body)) n += d.write(c).length;
    return n;
  }
  if (level <= 2) {
    const schema = loadSchema('events');
    let typeRow: ((f: string[]) => Rec) | undefined;
    const res = await readCsv(chunks(body), {
      onHeader(h) {
        typeRow = compileRowTyper({ stream: 'events', schema, header: h, constants: { owner: 'acme-oss' } }).typeRow;
      },
      onRow(fields) {
        if (level === 2) typeRow!(fields);
      },
    });
    return res.rows;
  }
  const stats: StreamStats = { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 };
  // As the events stream asks: its declaration says the key, the tallied field and the CSV path.
  const spec = fetchSpec(STREAMS.events, { path: '/', query: {}, label: 'bench' });
  let onRecord: (rec: Rec) => void | Promise<void>;
  let onJson: ((json: Buffer, end: number) => void | Promise<void>) | undefined;
  let writer: SingerWriter | undefined;
  if (level === FAST) {
    onRecord = () => undefined;
    onJson = () => undefined;
  } else if (level === FAST + 1) {
    writer = new SingerWriter(new LineWriter(out));
    await writer.startStream(defaultSelection().find((s) => s.stream === 'events')!);
    onRecord = (rec) => writer!.record('events', rec);
    onJson = (json, end) => writer!.recordJson('events', json, end);
  } else if (level === 3) onRecord = () => undefined;
  else if (level === 4) {
    const suffix = `,"time_extracted":"${new Date().toISOString()}"}`;
    // The line is built (that is the cost measured) and dropped instead of written.
    let _chars = 0;
    onRecord = (rec) => {
      _chars += ('{"type":"RECORD","stream":"events","record":' + JSON.stringify(rec) + suffix).length;
    };
  } else {
    writer = new SingerWriter(new LineWriter(out));
    await writer.startStream(defaultSelection().find((s) => s.stream === 'events')!);
    onRecord = (rec) => writer!.record('events', rec);
  }
  const seen = new KeySet();
  await fetchRecords({ ctx: fakeContext(body), stats, sink: { record: onRecord, recordJson: onJson } }, spec, seen);
  if (writer) await writer.out.flush();
  return seen.size + stats.duplicates;
}

/** `out` should be what the tap writes to: process.stdout redirected to /dev/null. */
export async function measureStages(
  body: Buffer,
  passes = 3,
  out: NodeJS.WritableStream = process.stdout,
): Promise<{ rows: number; bytes: number; stages: StageResult[] }> {
  let rows = 0;
  const best: number[] = STAGES.map(() => Infinity);
  // Interleaved passes, best of each: other load on the machine only ever adds time.
  for (let p = 0; p < passes; p++) {
    for (let level = 0; level < STAGES.length; level++) {
      const t0 = performance.now();
      const n = await pass(body, level, out);
      const dt = (performance.now() - t0) / 1000;
      if (level === 1) rows = n;
      if (dt < best[level]!) best[level] = dt;
    }
  }
  const stages = best.map((s, i) => ({
    stage: STAGES[i]!,
    seconds: s,
    rowsPerSec: Math.round(rows / s),
    addedUsPerRow: ((s - (i > 0 && i !== FAST ? best[i - 1]! : 0)) / rows) * 1e6,
  }));
  return { rows, bytes: body.length, stages };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: stages.js <events.csv> [passes] > /dev/null\n');
    process.exit(2);
  }
  if (process.stdout.isTTY)
    process.stderr.write('(stdout is a terminal: redirect it to /dev/null to measure the write stage as the bench does)\n');
  const r = await measureStages(fs.readFileSync(file), Number(process.argv[3] ?? 5));
  if (process.argv.includes('--json')) process.stderr.write(JSON.stringify(r) + '\n');
  else {
    process.stderr.write(`${r.rows} rows, ${(r.bytes / 1e6).toFixed(1)} MB\n`);
    for (const s of r.stages)
      process.stderr.write(
        `${s.stage.padEnd(48)} ${String(s.rowsPerSec).padStart(8)} rows/s cumulative  ${s.addedUsPerRow >= 0 ? '+' : ''}${s.addedUsPerRow.toFixed(2)} µs/row\n`,
      );
  }
}
