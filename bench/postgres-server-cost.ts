// What a window of new events costs the PostgreSQL server when copied straight into the
// events table (the load's way for new keys, src/destination/postgres/writer.ts), and what
// would make it cheaper: the same rows in COPY text in arrival order (the load now), sorted by
// key within bounded chunks of rows (the index then takes each chunk's rows in key order), the
// whole window sorted (for scale: it needs the window in memory), in COPY BINARY (the server
// skips parsing the text of the typed columns; the load's own encoder), and into a table without a primary key (the
// exporter's table, for scale). Each variant loads the same windows one after the other into a
// fresh database (the index grows across them, as in a load of several days), after a
// CHECKPOINT (so every variant starts with the same full-page-write state), one transaction
// per window; the backend's CPU is read from /proc (CPU, not wall time: the machine is
// shared), and the WAL each variant wrote from pg_current_wal_lsn(). Variants interleave,
// round after round. A run: docs/postgres.md "Rows in key order within bounded runs".
//   npm run build && node dist/bench/postgres-server-cost.js [events per window] [windows] [rounds] [variants whose name includes one of a|b|…]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { ScarfSimulator } from '../sim/index.js';
import { BINARY_HEADER, BINARY_TRAILER, BinaryEncoder } from '../src/destination/postgres/copy-binary.js';
import { createTableSql, directCopySql, TABLES } from '../src/destination/postgres/tables.js';
import { CopyChunk, JsonEncoder } from '../test/helpers/copy-text-encoder.js';
import { backendCpuMs, startServer } from './postgres.js';
import { tmpDir } from './proc.js';

const perWindow = Number(process.argv[2] ?? 100_000);
const windows = Number(process.argv[3] ?? 3);
const rounds = Number(process.argv[4] ?? 3);
const only = process.argv[5] ?? '';
/** With PERF_DIR set, each variant's backend is sampled by `perf record` into PERF_DIR/<n>.data (Linux perf). */
const perfDir = process.env.PERF_DIR;

const spec = TABLES.events;
const columns = spec.columns.map((c) => c.name);

/** One window: its rows as COPY text lines (the reference encoder) and as binary rows (the load's encoder). */
interface Window {
  lines: Buffer[];
  bin: Buffer[];
}

function makeWindows(): Window[] {
  const sim = new ScarfSimulator({
    token: 'profile-token-abcdefghijklmnop',
    seed: 3,
    now: new Date('2026-11-20T12:00:00Z'),
    dataStart: '2026-10-25',
    eventsPerDay: perWindow,
    lateRate: 0,
  });
  const enc = new JsonEncoder('events', columns);
  const binary = new BinaryEncoder(
    'events',
    columns,
    spec.columns.map((c) => c.type),
  );
  const out: Window[] = [];
  for (let w = 0; w < windows; w++) {
    const day = `2026-11-${String(1 + w).padStart(2, '0')}`;
    const win: Window = { lines: [], bin: [] };
    for (const r of sim.truth.events({ start: day, end: day })) {
      const rec = Object.fromEntries(columns.map((c) => [c, c === 'owner' ? 'acme-oss' : (r[c] ?? null)]));
      const json = Buffer.from(JSON.stringify(rec));
      const chunk = new CopyChunk(json.length + 64);
      if (!enc.encode(json, json.length, chunk)) throw new Error('a record the encoder does not take');
      win.lines.push(chunk.take());
      if (!binary.encodeJson(json, json.length, chunk)) throw new Error('a record the binary encoder does not take');
      win.bin.push(chunk.take());
    }
    out.push(win);
  }
  return out;
}

/** The key of a COPY text line: its bytes up to the second tab (owner, id). */
function keyOf(line: Buffer): string {
  const t1 = line.indexOf(9);
  return line.toString('latin1', 0, line.indexOf(9, t1 + 1));
}

/** Rows cut into messages of about 256 KB, as the load sends them (src/destination/postgres/writer.ts CHUNK_BYTES). */
function messages(rows: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let part: Buffer[] = [];
  let bytes = 0;
  for (const r of rows) {
    part.push(r);
    bytes += r.length;
    if (bytes >= 1 << 18) {
      out.push(Buffer.concat(part));
      part = [];
      bytes = 0;
    }
  }
  if (part.length) out.push(Buffer.concat(part));
  return out;
}

/** The lines, each run of `n` sorted by key (n = Infinity: the whole window). */
function sortedInChunks(lines: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i += n) {
    const part = lines.slice(i, i + n).map((l) => ({ k: keyOf(l), l }));
    part.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    for (const p of part) out.push(p.l);
  }
  return messages(out);
}

/** The window's binary rows (src/destination/postgres/copy-binary.ts) between the format's header and trailer. */
function binaryRows(w: Window): Buffer[] {
  return messages([BINARY_HEADER, ...w.bin, BINARY_TRAILER]);
}

interface Variant {
  name: string;
  /** The bytes to send per window. */
  data: (w: Window) => Buffer[];
  binary?: boolean;
  noKey?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'text, arrival order (the load)', data: (w) => messages(w.lines) },
  { name: 'text, sorted per 4,096 rows', data: (w) => sortedInChunks(w.lines, 4096) },
  // The load's runs: 4 MB of COPY text, ~10,500 of these events.
  { name: 'text, sorted per 10,500 rows', data: (w) => sortedInChunks(w.lines, 10500) },
  { name: 'text, sorted per 16,384 rows', data: (w) => sortedInChunks(w.lines, 16384) },
  { name: 'text, sorted per 21,000 rows', data: (w) => sortedInChunks(w.lines, 21000) },
  { name: 'text, sorted per 65,536 rows', data: (w) => sortedInChunks(w.lines, 65536) },
  { name: 'text, each window sorted (scale)', data: (w) => sortedInChunks(w.lines, Infinity) },
  { name: 'binary, arrival order', data: (w) => binaryRows(w), binary: true },
  { name: 'text, no primary key (scale)', data: (w) => messages(w.lines), noKey: true },
];

async function main(): Promise<void> {
  const wins = makeWindows();
  const rows = wins.reduce((n, w) => n + w.lines.length, 0);
  const chosen = VARIANTS.filter((v) => only.split('|').some((o) => v.name.includes(o)));
  // Every variant's bytes made once, before any is measured (the client's cost is not measured here).
  const prepared = new Map(chosen.map((v) => [v.name, wins.map((w) => v.data(w))]));
  const work = tmpDir('tap-scarf-pg-cost-');
  const server = await startServer(work);
  const results = new Map<string, string[]>();
  try {
    let n = 0;
    for (let round = 0; round < rounds; round++)
      for (const v of chosen) {
        const db = `cost_${++n}`;
        const c = new pg.Client({ connectionString: await server.create(db) });
        await c.connect();
        try {
          const pid = (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
          await c.query('CREATE SCHEMA scarf');
          let ddl = createTableSql('scarf', spec);
          if (v.noKey) ddl = ddl.replace(/, PRIMARY KEY \([^)]*\)\)$/, ')');
          await c.query(ddl);
          await c.query('CHECKPOINT');
          const lsn0 = (await c.query<{ l: string }>('SELECT pg_current_wal_lsn() AS l')).rows[0]!.l;
          const perf =
            perfDir &&
            spawn('perf', ['record', '-q', '-F', '499', '-g', '-p', String(pid), '-o', path.join(perfDir, `${n}.data`)], {
              stdio: 'ignore',
            });
          if (perf) await new Promise((r) => setTimeout(r, 500));
          const c0 = backendCpuMs(pid);
          const t0 = performance.now();
          const sql = directCopySql('scarf', 'events', columns, v.binary ? 'binary' : 'text');
          for (const chunks of prepared.get(v.name)!) {
            await c.query('BEGIN');
            await new Promise<void>((resolve, reject) => {
              const s = c.query(copyStreams.from(sql));
              s.on('finish', resolve);
              s.on('error', reject);
              for (const b of chunks) s.write(b);
              s.end();
            });
            await c.query('COMMIT');
          }
          const cpu = backendCpuMs(pid) - c0;
          const wall = performance.now() - t0;
          if (perf) {
            const exited = new Promise((r) => perf.once('exit', r));
            perf.kill('SIGINT');
            await exited;
            console.log(`${n}.data: ${v.name}`);
          }
          const wal = (await c.query<{ b: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${lsn0}') AS b`)).rows[0]!.b;
          const got = (await c.query<{ n: string }>('SELECT count(*) AS n FROM scarf.events')).rows[0]!.n;
          if (Number(got) !== rows) throw new Error(`${v.name}: ${got} rows, ${rows} sent`);
          results.set(v.name, [
            ...(results.get(v.name) ?? []),
            `${((cpu * 1000) / rows).toFixed(2)} µs/${Math.round(wall)} ms/${(Number(wal) / rows).toFixed(0)} B`,
          ]);
        } finally {
          await c.end();
        }
      }
  } finally {
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(
    `${rows} events in ${windows} window(s), a transaction each; per variant and round: backend CPU µs a row / wall ms / WAL bytes a row:`,
  );
  for (const [k, v] of results) console.log(`${k.padEnd(36)} ${v.join('  ')}`);
}

await main();
