// Where the PostgreSQL server's time goes in a window of the load: one window of simulated
// events (the rows the load's encoder writes) copied into the staging table, merged into the
// events table, committed, each statement's CPU read from the backend's /proc entry (CPU, not
// wall time: the machine is shared) next to its wall time; then variants of the merge on the
// same rows, each in a fresh database. A run: docs/postgres.md "Where the time goes (CPU profile)".
//   npm run build && node dist/bench/postgres-profile.js [events per window] [rounds] [variants whose name includes]
import fs from 'node:fs';

import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { ScarfSimulator } from '../sim/index.js';
import {
  copySql,
  createStagingSql,
  createTableSql,
  directCopySql,
  insertSql,
  mergeSql,
  TABLES,
} from '../src/destination/postgres/tables.js';
import { CopyChunk, JsonEncoder } from '../test/helpers/copy-text-encoder.js';
import { backendCpuMs, startServer } from './postgres.js';
import { tmpDir } from './proc.js';

const perWindow = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 2);
/** Only the variants whose name includes this text (all by default). */
const only = process.argv[4] ?? '';
const VARIANTS = {
  'as the load does it': (sql: string) => sql,
  'no ORDER BY key': (sql: string) => sql.replace(/ ORDER BY .*$/, ''),
  'key columns COLLATE "C"': (sql: string) => sql,
  'table without a primary key': (sql: string) => sql,
  'ON CONFLICT DO NOTHING': (sql: string) => `${sql} ON CONFLICT DO NOTHING`,
  'ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM': () => mergeSql('scarf', TABLES.events, columns),
  // A window of new keys as the load writes it now: no staging table, no merge.
  'COPY straight into the table (the load, new keys)': (sql: string) => sql,
  // The exporter's step: one COPY into a table without a key.
  'COPY straight into a table without a primary key': (sql: string) => sql,
  'COPY straight into the table, key columns COLLATE "C"': (sql: string) => sql,
} as const;
const DIRECT = new Set<string>([
  'COPY straight into the table, key columns COLLATE "C"',
  'COPY straight into the table (the load, new keys)',
  'COPY straight into a table without a primary key',
]);
type Variant = keyof typeof VARIANTS;

const spec = TABLES.events;
const columns = spec.columns.map((c) => c.name);

function copyText(): Buffer[] {
  const sim = new ScarfSimulator({
    token: 'profile-token-abcdefghijklmnop',
    seed: 3,
    now: new Date('2026-11-03T12:00:00Z'),
    dataStart: '2026-10-25',
    eventsPerDay: perWindow,
    lateRate: 0,
  });
  const enc = new JsonEncoder('events', columns);
  const chunk = new CopyChunk(1 << 20);
  const out: Buffer[] = [];
  for (const r of sim.truth.events({ start: '2026-11-01', end: '2026-11-01' })) {
    // The fast path's JSON text: every column in schema order.
    const json = Buffer.from(
      JSON.stringify(Object.fromEntries(columns.map((c) => [c, c === 'owner' ? 'acme-oss' : (r[c] ?? null)]))),
    );
    if (!enc.encode(json, json.length, chunk)) throw new Error('a record the encoder does not take');
    if (chunk.len > 1 << 19) out.push(chunk.take());
  }
  out.push(chunk.take());
  return out;
}

async function main(): Promise<void> {
  const data = copyText();
  const rows = data.reduce((n, b) => n + b.toString('latin1').split('\n').length - 1, 0);
  const work = tmpDir('tap-scarf-pg-profile-');
  const server = await startServer(work);
  const results = new Map<string, string[]>();
  try {
    let n = 0;
    for (let round = 0; round < rounds; round++)
      for (const variant of (Object.keys(VARIANTS) as Variant[]).filter((v) => v.includes(only))) {
        const db = `profile_${++n}`;
        const c = new pg.Client({ connectionString: await server.create(db) });
        await c.connect();
        try {
          const pid = (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
          await c.query('CREATE SCHEMA scarf');
          let ddl = createTableSql('scarf', spec);
          if (variant === 'table without a primary key' || variant === 'COPY straight into a table without a primary key')
            ddl = ddl.replace(/, PRIMARY KEY \([^)]*\)\)$/, ')');
          if (variant.includes('COLLATE "C"'))
            ddl = ddl
              .replace('"owner" text NOT NULL', '"owner" text COLLATE "C" NOT NULL')
              .replace('"id" text NOT NULL', '"id" text COLLATE "C" NOT NULL');
          await c.query(ddl);
          await c.query(createStagingSql('scarf', spec));
          const step = async (name: string, f: () => Promise<unknown>) => {
            const c0 = backendCpuMs(pid);
            const t0 = performance.now();
            await f();
            const key = `${variant} | ${name}`;
            results.set(key, [...(results.get(key) ?? []), `${backendCpuMs(pid) - c0}/${Math.round(performance.now() - t0)}`]);
          };
          const copyIn = (sql = copySql('events', columns)) =>
            new Promise<void>((resolve, reject) => {
              const s = c.query(copyStreams.from(sql));
              s.on('finish', resolve);
              s.on('error', reject);
              for (const b of data) s.write(b);
              s.end();
            });
          const merge = VARIANTS[variant](insertSql('scarf', spec, columns));
          if (DIRECT.has(variant)) {
            await c.query('BEGIN');
            await step('COPY into the table', () => copyIn(directCopySql('scarf', 'events', columns)));
            await step('COMMIT', () => c.query('COMMIT'));
            continue;
          }
          await c.query('BEGIN');
          await step('COPY into staging', () => copyIn());
          await step('merge, new keys', () => c.query(merge));
          await step('COMMIT', () => c.query('COMMIT'));
          if (variant.startsWith('ON CONFLICT')) {
            // The same window read again (lookback): every key exists.
            await c.query('BEGIN');
            await copyIn();
            await step('merge, every key known', () => c.query(merge));
            await c.query('COMMIT');
          }
        } finally {
          await c.end();
        }
      }
  } finally {
    await server.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`${rows} events in one window; backend CPU ms / wall ms per statement, ${rounds} round(s):`);
  for (const [k, v] of results) console.log(`${k.padEnd(72)} ${v.join('  ')}`);
}

await main();
