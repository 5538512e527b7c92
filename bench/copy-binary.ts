// The load's encoder on one window of simulated events, in process: ns per row of the binary
// one (BinaryEncoder, copy-binary.ts) and, for scale, of the COPY text reference (JsonEncoder,
// test/helpers/copy-text-encoder.ts: byte by byte, not tuned) from the same JSON text,
// interleaved rounds, best of each, in CPU time (the machine is shared).
//   npm run build && node dist/bench/copy-binary.js [events] [rounds]
import { BinaryEncoder } from '../src/destination/postgres/copy-binary.js';
import { TABLES } from '../src/destination/postgres/tables.js';
import { CopyChunk, JsonEncoder } from '../test/helpers/copy-text-encoder.js';
import { EVENT_COLUMNS, eventJsonRows } from './event-json.js';

const events = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 15);
const columns = EVENT_COLUMNS;
const types = TABLES.events.columns.map((c) => c.type);

const rows = eventJsonRows(events);
const input = Buffer.alloc(64 * 1024);

function run(encode: (json: Buffer, end: number, out: CopyChunk) => boolean): { ns: number; bytes: number } {
  const chunk = new CopyChunk(1 << 18);
  let bytes = 0;
  const t0 = process.cpuUsage();
  for (const r of rows) {
    r.copy(input, 0);
    const at = chunk.len;
    if (!encode(input, r.length, chunk)) throw new Error('a record the encoder does not take');
    bytes += chunk.len - at;
    if (chunk.len >= 1 << 18) chunk.len = 0;
  }
  const used = process.cpuUsage(t0);
  return { ns: ((used.user + used.system) * 1000) / rows.length, bytes: bytes / rows.length };
}

const text = new JsonEncoder('events', columns);
const bin = new BinaryEncoder('events', columns, types);
const best = { text: Infinity, binary: Infinity };
const size = { text: 0, binary: 0 };
for (let k = 0; k < rounds; k++) {
  const t = run((j, e, o) => text.encode(j, e, o));
  const b = run((j, e, o) => bin.encodeJson(j, e, o));
  best.text = Math.min(best.text, t.ns);
  best.binary = Math.min(best.binary, b.ns);
  size.text = t.bytes;
  size.binary = b.bytes;
}
console.log(
  `${rows.length} rows; best of ${rounds}: COPY text ${best.text.toFixed(0)} ns a row (${size.text.toFixed(0)} bytes), binary ${best.binary.toFixed(0)} ns a row (${size.binary.toFixed(0)} bytes); the copy of the row into the input buffer included in both`,
);
