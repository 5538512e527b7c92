// The tap's side of sending a direct COPY's rows in key order within bounded runs
// (src/destination/postgres/key-order.ts): ns per row to hand a run of COPY text on in key
// order, against handing it on as it is (CopyChunk.take(), the copy the writer makes either
// way), for runs of several sizes; CPU time, best of the rounds, interleaved.
//   npm run build && node dist/bench/key-order.js [events] [rounds]
import { rowsInKeyOrder, RowStarts } from '../src/destination/postgres/key-order.js';
import { CopyChunk, JsonEncoder } from '../test/helpers/copy-text-encoder.js';
import { EVENT_COLUMNS, eventJsonRows } from './event-json.js';

const events = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 9);
const columns = EVENT_COLUMNS;

const enc = new JsonEncoder('events', columns);
// The window's rows as COPY text, one after the other, and where each starts.
const all = new CopyChunk(1 << 20);
const starts: number[] = [];
for (const json of eventJsonRows(events)) {
  starts.push(all.len);
  if (!enc.encode(json, json.length, all)) throw new Error('a record the encoder does not take');
}
const text = all.buf.subarray(0, all.len);

/** CPU ns per row to cut the window into runs of about `runBytes` and hand each on (sorted or not). */
function run(runBytes: number, sorted: boolean): number {
  const chunk = new CopyChunk(runBytes + (1 << 16));
  const rows = new RowStarts();
  let sink = 0;
  const t0 = process.cpuUsage();
  for (let r = 0; r < starts.length; r++) {
    const s = starts[r]!;
    const e = r + 1 < starts.length ? starts[r + 1]! : text.length;
    // The row as the encoder would have appended it.
    rows.add(chunk.len);
    chunk.ensure(e - s);
    chunk.len += text.copy(chunk.buf, chunk.len, s, e);
    if (chunk.len >= runBytes || r + 1 === starts.length) {
      const out = sorted ? rowsInKeyOrder(chunk.buf, rows, chunk.len, 2) : chunk.take();
      chunk.len = 0;
      rows.rows = 0;
      sink += out.length;
    }
  }
  const used = process.cpuUsage(t0);
  if (sink !== text.length) throw new Error('bytes lost');
  return ((used.user + used.system) * 1000) / starts.length;
}

const sizes = [1 << 18, 1 << 22, 1 << 23, 1 << 24];
const best = new Map<string, number>();
for (let k = 0; k < rounds; k++)
  for (const size of sizes)
    for (const sorted of [false, true]) {
      const key = `${size >> 10} KB runs, ${sorted ? 'in key order' : 'as they come'}`;
      best.set(key, Math.min(best.get(key) ?? Infinity, run(size, sorted)));
    }
console.log(
  `${starts.length} rows, ${Math.round(text.length / starts.length)} bytes of COPY text a row; best of ${rounds}, CPU ns a row:`,
);
for (const [k, v] of best) console.log(`${k.padEnd(36)} ${v.toFixed(0)}`);
