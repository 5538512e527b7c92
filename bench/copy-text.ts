// The COPY text encoders on one window of simulated events, in process: ns per row of the
// reference (PlainJsonEncoder, test/helpers/) and of JsonEncoder, interleaved rounds, best of each, in CPU
// time (the machine is shared: wall time says more about the other work than the code).
//   npm run build && node dist/bench/copy-text.js [events] [rounds]
import { ScarfSimulator } from '../sim/index.js';
import { TABLES } from '../src/destination/postgres/tables.js';
import { CopyChunk, JsonEncoder } from '../test/helpers/copy-text-encoder.js';
import { PlainJsonEncoder } from '../test/helpers/plain-json-encoder.js';

const events = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 15);
const columns = TABLES.events.columns.map((c) => c.name);

const sim = new ScarfSimulator({
  token: 'profile-token-abcdefghijklmnop',
  seed: 3,
  now: new Date('2026-11-03T12:00:00Z'),
  dataStart: '2026-10-25',
  eventsPerDay: events,
  lateRate: 0,
});
// The fast path's JSON text: every column in schema order, one reused buffer per row as there.
const rows: Buffer[] = [];
for (const r of sim.truth.events({ start: '2026-11-01', end: '2026-11-01' }))
  rows.push(
    Buffer.from(JSON.stringify(Object.fromEntries(columns.map((c) => [c, c === 'owner' ? 'acme-oss' : (r[c] ?? null)])))),
  );
const bytes = rows.reduce((n, r) => n + r.length, 0);
const input = Buffer.alloc(64 * 1024);

function run(enc: { encode(json: Buffer, end: number, out: CopyChunk): boolean }): number {
  const chunk = new CopyChunk(1 << 18);
  const t0 = process.cpuUsage();
  for (const r of rows) {
    r.copy(input, 0);
    if (!enc.encode(input, r.length, chunk)) throw new Error('a record the encoder does not take');
    if (chunk.len >= 1 << 18) chunk.len = 0;
  }
  const used = process.cpuUsage(t0);
  return ((used.user + used.system) * 1000) / rows.length;
}

const best = { plain: Infinity, words: Infinity };
for (let k = 0; k < rounds; k++) {
  best.plain = Math.min(best.plain, run(new PlainJsonEncoder('events', columns)));
  best.words = Math.min(best.words, run(new JsonEncoder('events', columns)));
}
console.log(
  `${rows.length} rows, ${Math.round(bytes / rows.length)} bytes of JSON a row; best of ${rounds}: PlainJsonEncoder ${best.plain.toFixed(0)} ns a row, JsonEncoder ${best.words.toFixed(0)} ns a row (${(best.plain / best.words).toFixed(2)}×; the copy of the row into the input buffer included in both)`,
);
