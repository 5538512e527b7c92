// The bench's `meltano` scenario: `meltano run tap-scarf target-postgres` (MeltanoLabs) into a
// real PostgreSQL, the same events read twice in one run of the bench — RECORD messages, then
// batch_config (jsonl, gzip) — each into a fresh schema, with a full refresh so both read
// everything. Needs the Meltano environment of scripts/python-env.sh. The wall time is the
// whole `meltano run` (Meltano's start-up included), what a user's schedule pays.
import fs from 'node:fs';
import path from 'node:path';

import pg from 'pg';

import { ScarfSimulator } from '../sim/index.js';
import { MeltanoProject } from '../test/ecosystem/helpers/meltano.js';
import { PYENVS, tail } from '../test/ecosystem/helpers/python.js';
import { testPostgres } from '../test/helpers/postgres.js';
import { tmpDir } from '../test/helpers/tap.js';

export interface MeltanoModeRun {
  mode: 'RECORD' | 'BATCH';
  records: number;
  wallSec: number;
  recordsPerSec: number;
  batchFiles?: number;
}

export interface MeltanoBenchResult {
  eventsPerDay: number;
  days: number;
  installSec: number;
  runs: MeltanoModeRun[];
  batchVsRecord: number;
}

const TOKEN = 'bench-meltano-token';

export async function meltanoRecordVsBatch(opts: {
  eventsPerDay: number;
  days: number;
  log: (s: string) => void;
}): Promise<MeltanoBenchResult | undefined> {
  const bin = path.join(PYENVS, 'meltano', 'bin');
  if (!fs.existsSync(path.join(bin, 'meltano'))) {
    opts.log('meltano: skipped, .pyenvs/meltano is missing (run `bash scripts/python-env.sh`)');
    return undefined;
  }
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const day = (n: number) => new Date(Date.parse(today + 'T00:00:00Z') - n * 86_400_000).toISOString().slice(0, 10);
  const start = day(opts.days);
  const end = day(1);
  const sim = new ScarfSimulator({
    token: TOKEN,
    now,
    dataStart: start,
    eventsPerDay: opts.eventsPerDay,
    companies: 4,
    cacheBodies: true,
  });
  await sim.start();
  const server = await testPostgres();
  const url = await server.freshDatabase('bench_meltano');
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const batchRoot = tmpDir('tap-scarf-bench-batches-');
  try {
    const project = await MeltanoProject.create({
      bin,
      token: TOKEN,
      postgres: {
        host: server.host,
        port: server.port,
        user: server.user,
        password: server.password,
        database: new URL(url).pathname.slice(1),
      },
      tapConfig: { owner: 'acme-oss', start_date: start, end_date: end, base_url: sim.url, verify_counts: false },
      plugins: {
        extractors: [
          {
            name: 'tap-scarf--batch',
            inherit_from: 'tap-scarf',
            config: { batch_config: { encoding: { format: 'jsonl', compression: 'gzip' }, storage: { root: batchRoot } } },
          },
        ],
        loaders: [
          {
            name: 'target-postgres',
            namespace: 'target_postgres',
            pip_url: 'meltanolabs-target-postgres==0.8.1',
            settings: [
              { name: 'host' },
              { name: 'port', kind: 'integer' },
              { name: 'user' },
              { name: 'password', kind: 'password', sensitive: true },
              { name: 'database' },
              { name: 'default_target_schema' },
            ],
            config: { host: server.host, port: server.port, user: server.user, database: new URL(url).pathname.slice(1) },
          },
        ],
      },
    });
    const installStarted = performance.now();
    await project.ok(['install']);
    const installSec = (performance.now() - installStarted) / 1000;
    for (const name of ['tap-scarf', 'tap-scarf--batch']) await project.ok(['select', name, 'events', '*']);
    // An untimed run first: the simulator renders its cached bodies, and Python's imports warm up.
    opts.log('meltano: warm-up run…');
    await project.ok(['run', '--full-refresh', 'tap-scarf', 'target-postgres'], {
      TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA: 'bench_warmup',
    });
    const runs: MeltanoModeRun[] = [];
    for (const [mode, tap] of [
      ['RECORD', 'tap-scarf'],
      ['BATCH', 'tap-scarf--batch'],
    ] as const) {
      const schema = `bench_${mode.toLowerCase()}`;
      opts.log(`meltano: ${mode} mode, meltano run ${tap} target-postgres…`);
      const t0 = performance.now();
      const run = await project.meltano(['run', '--full-refresh', tap, 'target-postgres'], {
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA: schema,
      });
      const wallSec = (performance.now() - t0) / 1000;
      if (run.code !== 0) throw new Error(`meltano run ${tap} target-postgres failed:\n${tail(run)}`);
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.events`);
      const records = rows[0]!.n;
      runs.push({
        mode,
        records,
        wallSec: Math.round(wallSec * 100) / 100,
        recordsPerSec: Math.round(records / wallSec),
        ...(mode === 'BATCH' ? { batchFiles: fs.readdirSync(batchRoot).length } : {}),
      });
    }
    if (runs[0]!.records !== runs[1]!.records)
      throw new Error(`RECORD mode loaded ${runs[0]!.records} events, BATCH mode ${runs[1]!.records}: not the same data`);
    return {
      eventsPerDay: opts.eventsPerDay,
      days: opts.days,
      installSec: Math.round(installSec * 10) / 10,
      runs,
      batchVsRecord: Math.round((runs[0]!.wallSec / runs[1]!.wallSec) * 100) / 100,
    };
  } finally {
    await db.end();
    await sim.stop();
    fs.rmSync(batchRoot, { recursive: true, force: true });
  }
}
