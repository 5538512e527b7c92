// `npm run bench`: the performance scenarios of docs/performance.md against the simulator running as
// its own process, the tap run as a user runs it (bin/tap-scarf.js, its own process, stdout
// to /dev/null unless said otherwise). Prints a table and writes JSON to bench/results/.
//
//   npm run bench -- [--events-per-day N] [--days N] [--repeats N] [--with-5m]
//                    [--latency-ms N] [--latency-days N] [--companies N] [--concurrency N]
//                    [--only throughput,memory,backpressure,stages,clients,profile,latency,requests]
//                    [--commit-copy] [--pg-events-per-day N] [--pg-days N] [--pg-singer-target venv|EXE|'']
//
// Every flag also reads BENCH_<NAME> from the environment (BENCH_EVENTS_PER_DAY=…).
// Scenarios (docs/performance.md "Performance" explains each):
//   throughput    events to /dev/null from cached bodies, the fast CSV path and (TAP_SCARF_CSV_PATH=
//                 reference) the papaparse path; the bare floor pipeline (bench/floor) and the
//                 Python-style baseline (bench/python-tap.py) in the same run; records/s, MB/s,
//                 ratios; peak RSS
//   memory        the same at 1 day and at --days days (and 5M events with --with-5m):
//                 peak RSS flat, largest key set
//   backpressure  stdout through a pipe read at 20 MB/s: the tap slows down, RSS stays flat
//   stages        per-stage cost on one body in memory (bench/stages)
//   clients       HTTP client download speed (bench/http-clients)
//   profile       one tap run under --cpu-prof, self time by stage (bench/profile)
//   differential  the fast CSV path against the papaparse path on --differential-rows
//                 generated hostile rows (bench/differential, test/helpers/csv-differential)
//   latency       1 s per request: a 90-day events backfill and company_events over 50
//                 companies, wall time vs requests × latency ÷ max_concurrent_requests
//   requests      a daily incremental sync from yesterday's state: requests per stream vs the
//                 minimum its settings imply
//   postgres      the same events into a local PostgreSQL three ways: the Scarf exporter's download +
//                 psql \copy, tap-scarf load, and tap-scarf | pipelinewise-target-postgres (bench/postgres.ts);
//                 rows/s, the ratios, peak RSS of the load at one day and at all
//   scale         company_rollup + company_events over one week for 200, 1,000 and
//                 --scale-companies (10,000) companies: wall time, peak RSS, requests, STATE
//                 messages and bytes (linear in the companies), the most a SIGKILL redoes
//   meltano       `meltano run tap-scarf target-postgres` (MeltanoLabs) into a real PostgreSQL,
//                 RECORD messages vs batch_config (BATCH messages), the same events in the same
//                 run (bench/meltano; needs `bash scripts/python-env.sh`)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Command } from 'commander';

import { DEFAULT_TOKEN } from '../sim/index.js';
import { type ClientResult, compareClients } from './http-clients.js';
import { meltanoRecordVsBatch } from './meltano.js';
import { type PgScenarioResult, postgresScenario } from './postgres.js';
import {
  airbyteCatalogSelecting,
  catalogSelecting,
  floorJs,
  parseSummaries,
  pythonTap,
  repoRoot,
  runNode,
  type RunResult,
  SimProcess,
  sourceBin,
  type StreamSummary,
  tapBin,
  tmpDir,
  writeJson,
} from './proc.js';
import { summarizeProfile } from './profile.js';
import { type ScaleRun, scaleRun } from './scale.js';

const TOKEN = DEFAULT_TOKEN;
const OWNER = 'acme-oss';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const ALL = [
  'throughput',
  'memory',
  'backpressure',
  'stages',
  'clients',
  'profile',
  'differential',
  'latency',
  'requests',
  'scale',
  'postgres',
  'meltano',
];

const env = (name: string, dflt: string) => process.env[`BENCH_${name}`] ?? dflt;
const program = new Command('bench')
  .option('--events-per-day <n>', 'simulated events per day (throughput, memory)', env('EVENTS_PER_DAY', '100000'))
  .option(
    '--days <n>',
    'days in the throughput run (1 window each; at most 30: the simulator caches 32 bodies)',
    env('DAYS', '10'),
  )
  .option('--repeats <n>', 'runs of the tap and of the floor in the throughput scenario (best kept)', env('REPEATS', '2'))
  .option(
    '--with-5m',
    'also measure peak RSS over 5M events (bodies not cached: the simulator generates them, several minutes)',
    env('WITH_5M', '') === '1',
  )
  .option('--latency-ms <n>', 'simulated latency per request (latency scenario)', env('LATENCY_MS', '1000'))
  .option('--latency-days <n>', 'days of the events backfill (latency scenario)', env('LATENCY_DAYS', '90'))
  .option('--companies <n>', 'active companies (latency and requests scenarios)', env('COMPANIES', '50'))
  .option('--concurrency <n>', 'max_concurrent_requests of the tap', env('CONCURRENCY', '4'))
  .option('--scale-companies <n>', 'companies of the largest scale run', env('SCALE_COMPANIES', '10000'))
  .option(
    '--differential-rows <n>',
    'rows of the fast-vs-papaparse CSV differential check (differential scenario)',
    env('DIFFERENTIAL_ROWS', '2000000'),
  )
  .option('--python <exe>', 'Python for the Python-style baseline (throughput; "" to skip it)', env('PYTHON', 'python3'))
  .option('--slow-mb-per-sec <n>', 'read rate of the slow target (backpressure)', env('SLOW_MB_PER_SEC', '20'))
  .option('--pg-events-per-day <n>', 'events per day of the postgres scenario', env('PG_EVENTS_PER_DAY', '100000'))
  .option('--pg-days <n>', 'days of the postgres scenario (one window each)', env('PG_DAYS', '3'))
  .option(
    '--pg-singer-target <exe>',
    "the Singer target of the postgres scenario: 'venv' (pipelinewise-target-postgres in bench/.venv, made once), a path, or '' to skip",
    env('PG_SINGER_TARGET', 'venv'),
  )
  .option('--meltano-events-per-day <n>', 'events per day of the meltano scenario', env('MELTANO_EVENTS_PER_DAY', '20000'))
  .option('--meltano-days <n>', 'days of the meltano scenario', env('MELTANO_DAYS', '5'))
  .option('--only <list>', `comma-separated scenarios (${ALL.join(',')})`, env('ONLY', ALL.join(',')))
  .option('--out <dir>', 'where the JSON goes', env('OUT', path.join(repoRoot, 'bench', 'results')))
  .option('--commit-copy', 'also write bench/results/latest-committed.json (the copy docs/performance.md quotes)', false)
  .parse();
const o = program.opts<{
  eventsPerDay: string;
  days: string;
  repeats: string;
  with5m: boolean;
  latencyMs: string;
  latencyDays: string;
  companies: string;
  concurrency: string;
  scaleCompanies: string;
  slowMbPerSec: string;
  differentialRows: string;
  meltanoEventsPerDay: string;
  meltanoDays: string;
  python: string;
  only: string;
  pgEventsPerDay: string;
  pgDays: string;
  pgSingerTarget: string;
  out: string;
  commitCopy: boolean;
}>();
const EPD = Number(o.eventsPerDay);
const DAYS = Math.min(30, Math.max(1, Number(o.days)));
const REPEATS = Math.max(1, Number(o.repeats));
const LATENCY_MS = Number(o.latencyMs);
const LATENCY_DAYS = Number(o.latencyDays);
const COMPANIES = Number(o.companies);
const CONCURRENCY = Number(o.concurrency);
const only = new Set(o.only.split(',').map((s) => s.trim()));
const want = (s: string) => only.has(s);

// ---------------------------------------------------------------------------------------

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);
}
function daySpan(a: string, b: string): number {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86_400_000) + 1;
}
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

const work = tmpDir();
const eventsCatalog = writeJson(work, 'catalog-events.json', catalogSelecting(['events']));
const airbyteEventsCatalog = writeJson(work, 'configured-catalog-events.json', airbyteCatalogSelecting(['events']));
const companyEventsCatalog = writeJson(work, 'catalog-company-events.json', catalogSelecting(['company_events']));

function tapConfig(name: string, url: string, extra: Record<string, unknown>): string {
  return writeJson(work, name, { api_token: TOKEN, owner: OWNER, base_url: url, max_concurrent_requests: CONCURRENCY, ...extra });
}

function check(run: RunResult, what: string): void {
  if (run.code !== 0) throw new Error(`${what} exited with ${run.code ?? run.signal}:\n${run.stderr.slice(-3000)}`);
}

function summary(run: RunResult, stream: string): StreamSummary {
  const s = parseSummaries(run.stderr).find((x) => x.stream === stream);
  if (!s) throw new Error(`no summary line for ${stream} in the tap's log:\n${run.stderr.slice(-2000)}`);
  return s;
}

interface TapRunRow {
  scenario: string;
  size: string;
  records: number;
  requests: number;
  wallSec: number;
  cpuSec: number;
  recordsPerSec: number;
  mbPerSec?: number;
  ratioToFloor?: number;
  peakRssMB: number;
  largestKeySet?: number;
  idealSec?: number;
  wallVsIdeal?: number;
  note?: string;
}

const rows: TapRunRow[] = [];
const result: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    totalMemMB: Math.round(os.totalmem() / 1e6),
    loadAvgAtStart: os.loadavg().map(r2),
  },
  options: {
    eventsPerDay: EPD,
    days: DAYS,
    repeats: REPEATS,
    with5m: o.with5m,
    latencyMs: LATENCY_MS,
    latencyDays: LATENCY_DAYS,
    companies: COMPANIES,
    concurrency: CONCURRENCY,
    only: [...only],
  },
};
const started = performance.now();
const now = new Date();
const nowIso = now.toISOString();
const today = nowIso.slice(0, 10);

// ---------------------------------------------------------------------------------------
// Throughput, memory, backpressure, stages, clients, profile: one simulator with cached bodies.

async function throughputGroup(): Promise<void> {
  const fiveM = o.with5m && want('memory');
  const days5m = Math.ceil(5_000_000 / EPD);
  const first = addDays(today, -(DAYS + 2));
  const last = addDays(first, DAYS - 1);
  const dataStart = addDays(today, -(Math.max(DAYS, fiveM ? days5m : 0) + 5));
  const sim = await SimProcess.start([
    '--now',
    nowIso,
    '--data-start',
    dataStart,
    '--events-per-day',
    String(EPD),
    '--cache-bodies',
  ]);
  try {
    log(
      `simulator ${sim.url}: rendering ${DAYS} day bodies of ~${EPD} events (cached, so the runs measure the tap, not the generator)…`,
    );
    let bodyBytes = 0;
    const t0 = performance.now();
    const bodyFile = path.join(work, 'day.csv');
    for (let d = first; d <= last; d = addDays(d, 1)) {
      const res = await fetch(`${sim.url}/v2/packages/${OWNER}/events?start_date=${d}&end_date=${d}`, { headers: AUTH });
      const buf = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`pre-render ${d}: HTTP ${res.status}`);
      if (d === first) fs.writeFileSync(bodyFile, buf);
      bodyBytes += buf.length;
    }
    log(`rendered ${(bodyBytes / 1e6).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const cfgAll = tapConfig('cfg-throughput.json', sim.url, { start_date: first, end_date: last });
    const cfgOne = tapConfig('cfg-one-day.json', sim.url, { start_date: first, end_date: first });
    // The simulator computes Scarf's daily counts (the verify_counts request) from the events
    // it generates, ~0.3 s a day the first time a range is asked for; one untimed run per
    // range has it cached, so the timed runs measure the tap, not the simulator.
    const warmCounts = async (cfg: string) => {
      log('untimed run, so the simulator has the counts of its range cached…');
      check(await runNode(tapBin, ['--config', cfg, '--catalog', eventsCatalog]), 'tap (warm-up)');
    };
    if (want('throughput') || want('memory')) await warmCounts(cfgAll);

    if (want('throughput') || want('memory')) {
      let bestTap: RunResult | undefined;
      let bestFloor: RunResult | undefined;
      let bestRef: RunResult | undefined;
      let bestAirbyte: RunResult | undefined;
      let bestPython: RunResult | undefined;
      const loads: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        loads.push(os.loadavg()[0]!);
        if (want('throughput')) {
          log(`floor pipeline, run ${i + 1}/${REPEATS}…`);
          const f = await runNode(floorJs, [sim.url, TOKEN, OWNER, first, last]);
          check(f, 'floor');
          if (!bestFloor || f.wallSec < bestFloor.wallSec) bestFloor = f;
          if (o.python) {
            log(`Python-style baseline, run ${i + 1}/${REPEATS}…`);
            const py = await runNode(pythonTap, [sim.url, TOKEN, OWNER, first, last], { executable: o.python });
            check(py, 'python baseline');
            if (!bestPython || py.wallSec < bestPython.wallSec) bestPython = py;
          }
          log(`tap, papaparse CSV path, ${DAYS} days, run ${i + 1}/${REPEATS}…`);
          const rf = await runNode(tapBin, ['--config', cfgAll, '--catalog', eventsCatalog], {
            env: { TAP_SCARF_CSV_PATH: 'reference' },
          });
          check(rf, 'tap (papaparse path)');
          if (!bestRef || rf.wallSec < bestRef.wallSec) bestRef = rf;
        }
        log(`tap, ${DAYS} days, run ${i + 1}/${REPEATS}…`);
        const t = await runNode(tapBin, ['--config', cfgAll, '--catalog', eventsCatalog]);
        check(t, 'tap');
        if (!bestTap || t.wallSec < bestTap.wallSec) bestTap = t;
        if (want('throughput')) {
          log(`tap as an Airbyte source (source-scarf read), ${DAYS} days, run ${i + 1}/${REPEATS}…`);
          const a = await runNode(sourceBin, ['read', '--config', cfgAll, '--catalog', airbyteEventsCatalog]);
          check(a, 'source-scarf read');
          if (!bestAirbyte || a.wallSec < bestAirbyte.wallSec) bestAirbyte = a;
        }
      }
      // Airbyte's log lines go to stdout with its records: the records are counted in one more
      // run whose stdout is read (not timed), so the rate divides the number it really wrote.
      let airbyteRecords: number | undefined;
      if (bestAirbyte) {
        log('tap as an Airbyte source, counting its RECORD messages…');
        const counted = await runNode(sourceBin, ['read', '--config', cfgAll, '--catalog', airbyteEventsCatalog], {
          stdout: 'protocol',
        });
        check(counted, 'source-scarf read (counted)');
        airbyteRecords = counted.protocol!.records;
      }
      loads.push(os.loadavg()[0]!);
      const s = summary(bestTap!, 'events');
      const tapRate = s.records / bestTap!.wallSec;
      let floorRate: number | undefined;
      if (bestFloor) {
        const m = /floor: (\d+) rows/.exec(bestFloor.stderr);
        floorRate = Number(m?.[1]) / bestFloor.wallSec;
        rows.push({
          scenario: 'floor (papaparse step + JSON.stringify)',
          size: `${DAYS} d`,
          records: Number(m?.[1]),
          requests: DAYS,
          wallSec: r2(bestFloor.wallSec),
          cpuSec: r2(bestFloor.cpuSec),
          recordsPerSec: Math.round(floorRate),
          mbPerSec: r1(bodyBytes / 1e6 / bestFloor.wallSec),
          ratioToFloor: 1,
          peakRssMB: r1(bestFloor.peakRssMB),
        });
      }
      let pythonRate: number | undefined;
      if (bestPython) {
        const m = /python: (\d+) rows/.exec(bestPython.stderr);
        pythonRate = Number(m?.[1]) / bestPython.wallSec;
        rows.push({
          scenario: 'Python-style baseline (csv.DictReader + json.dumps)',
          size: `${DAYS} d`,
          records: Number(m?.[1]),
          requests: DAYS,
          wallSec: r2(bestPython.wallSec),
          cpuSec: r2(bestPython.cpuSec),
          recordsPerSec: Math.round(pythonRate),
          mbPerSec: r1(bodyBytes / 1e6 / bestPython.wallSec),
          ratioToFloor: floorRate ? r2(pythonRate / floorRate) : undefined,
          peakRssMB: r1(bestPython.peakRssMB),
        });
      }
      let refRate: number | undefined;
      if (bestRef) {
        const sr = summary(bestRef, 'events');
        refRate = sr.records / bestRef.wallSec;
        rows.push({
          scenario: 'tap, papaparse CSV path (TAP_SCARF_CSV_PATH=reference)',
          size: `${DAYS} d`,
          records: sr.records,
          requests: sr.requests,
          wallSec: r2(bestRef.wallSec),
          cpuSec: r2(bestRef.cpuSec),
          recordsPerSec: Math.round(refRate),
          mbPerSec: r1(bodyBytes / 1e6 / bestRef.wallSec),
          ratioToFloor: floorRate ? r2(refRate / floorRate) : undefined,
          peakRssMB: r1(bestRef.peakRssMB),
          largestKeySet: sr.largestKeySet,
        });
      }
      rows.push({
        scenario: 'throughput: events → /dev/null',
        size: `${DAYS} d`,
        records: s.records,
        requests: s.requests,
        wallSec: r2(bestTap!.wallSec),
        cpuSec: r2(bestTap!.cpuSec),
        recordsPerSec: Math.round(tapRate),
        mbPerSec: r1(bodyBytes / 1e6 / bestTap!.wallSec),
        ratioToFloor: floorRate ? r2(tapRate / floorRate) : undefined,
        peakRssMB: r1(bestTap!.peakRssMB),
        largestKeySet: s.largestKeySet,
      });
      let airbyteRate: number | undefined;
      if (bestAirbyte && airbyteRecords !== undefined) {
        airbyteRate = airbyteRecords / bestAirbyte.wallSec;
        rows.push({
          scenario: 'throughput, Airbyte: source-scarf read → /dev/null',
          size: `${DAYS} d`,
          records: airbyteRecords,
          requests: s.requests,
          wallSec: r2(bestAirbyte.wallSec),
          cpuSec: r2(bestAirbyte.cpuSec),
          recordsPerSec: Math.round(airbyteRate),
          mbPerSec: r1(bodyBytes / 1e6 / bestAirbyte.wallSec),
          ratioToFloor: floorRate ? r2(airbyteRate / floorRate) : undefined,
          peakRssMB: r1(bestAirbyte.peakRssMB),
          note: airbyteRecords === s.records ? 'records as the Singer run' : `Singer run wrote ${s.records}`,
        });
      }
      result.throughput = {
        days: DAYS,
        bodyMB: r1(bodyBytes / 1e6),
        tap: {
          records: s.records,
          duplicates: s.duplicates,
          wallSec: r2(bestTap!.wallSec),
          cpuSec: r2(bestTap!.cpuSec),
          recordsPerSec: Math.round(tapRate),
          peakRssMB: r1(bestTap!.peakRssMB),
        },
        floor: bestFloor
          ? {
              wallSec: r2(bestFloor.wallSec),
              cpuSec: r2(bestFloor.cpuSec),
              rowsPerSec: Math.round(floorRate!),
              peakRssMB: r1(bestFloor.peakRssMB),
            }
          : undefined,
        ratioToFloor: floorRate ? r2(tapRate / floorRate) : undefined,
        python: bestPython
          ? { wallSec: r2(bestPython.wallSec), rowsPerSec: Math.round(pythonRate!), peakRssMB: r1(bestPython.peakRssMB) }
          : undefined,
        ratioToPython: pythonRate ? r2(tapRate / pythonRate) : undefined,
        papaparsePath: bestRef
          ? {
              wallSec: r2(bestRef.wallSec),
              cpuSec: r2(bestRef.cpuSec),
              recordsPerSec: Math.round(refRate!),
              peakRssMB: r1(bestRef.peakRssMB),
            }
          : undefined,
        ratioToPapaparsePath: refRate ? r2(tapRate / refRate) : undefined,
        airbyte: bestAirbyte
          ? {
              records: airbyteRecords,
              wallSec: r2(bestAirbyte.wallSec),
              cpuSec: r2(bestAirbyte.cpuSec),
              recordsPerSec: airbyteRate === undefined ? undefined : Math.round(airbyteRate),
              peakRssMB: r1(bestAirbyte.peakRssMB),
            }
          : undefined,
        loadAvg: loads.map(r2),
        target: { recordsPerSec: 250_000, met: tapRate >= 250_000 },
      };

      if (want('memory')) {
        const mem: { events: number; days: number; peakRssMB: number; largestKeySet: number; wallSec: number }[] = [];
        await warmCounts(cfgOne);
        log('tap, 1 day…');
        const one = await runNode(tapBin, ['--config', cfgOne, '--catalog', eventsCatalog]);
        check(one, 'tap 1 day');
        const s1 = summary(one, 'events');
        mem.push({
          events: s1.records,
          days: 1,
          peakRssMB: r1(one.peakRssMB),
          largestKeySet: s1.largestKeySet,
          wallSec: r2(one.wallSec),
        });
        rows.push({
          scenario: 'memory',
          size: '1 d',
          records: s1.records,
          requests: s1.requests,
          wallSec: r2(one.wallSec),
          cpuSec: r2(one.cpuSec),
          recordsPerSec: Math.round(s1.records / one.wallSec),
          peakRssMB: r1(one.peakRssMB),
          largestKeySet: s1.largestKeySet,
        });
        mem.push({
          events: s.records,
          days: DAYS,
          peakRssMB: r1(bestTap!.peakRssMB),
          largestKeySet: s.largestKeySet,
          wallSec: r2(bestTap!.wallSec),
        });
        if (fiveM) {
          const f5 = addDays(today, -(days5m + 2));
          const cfg5 = tapConfig('cfg-5m.json', sim.url, { start_date: f5, end_date: addDays(f5, days5m - 1) });
          log(`tap, ${days5m} days (~5M events; the simulator generates each body while the tap reads it)…`);
          const big = await runNode(tapBin, ['--config', cfg5, '--catalog', eventsCatalog], { timeoutMs: 1_800_000 });
          check(big, 'tap 5M');
          const s5 = summary(big, 'events');
          mem.push({
            events: s5.records,
            days: days5m,
            peakRssMB: r1(big.peakRssMB),
            largestKeySet: s5.largestKeySet,
            wallSec: r2(big.wallSec),
          });
          rows.push({
            scenario: 'memory (generated bodies)',
            size: `${days5m} d`,
            records: s5.records,
            requests: s5.requests,
            wallSec: r2(big.wallSec),
            cpuSec: r2(big.cpuSec),
            recordsPerSec: Math.round(s5.records / big.wallSec),
            peakRssMB: r1(big.peakRssMB),
            largestKeySet: s5.largestKeySet,
            note: 'bound by the simulator generating bodies',
          });
        }
        const peaks = mem.map((m) => m.peakRssMB);
        const spread = Math.max(...peaks) / Math.min(...peaks);
        result.memory = {
          runs: mem,
          maxOverMin: r2(spread),
          target: { peakRssMB: 150, flatWithin: 1.2, met: Math.max(...peaks) < 150 && spread <= 1.2 },
        };
      }
    }

    if (want('backpressure')) {
      const rate = Number(o.slowMbPerSec) * 1e6;
      const bpDays = Math.min(2, DAYS);
      const cfgBp = tapConfig('cfg-bp.json', sim.url, { start_date: first, end_date: addDays(first, bpDays - 1) });
      log(`tap, ${bpDays} days, stdout read at ${o.slowMbPerSec} MB/s…`);
      const fast = await runNode(tapBin, ['--config', cfgBp, '--catalog', eventsCatalog], { stdout: 'count' });
      check(fast, 'tap (fast reader)');
      const slow = await runNode(tapBin, ['--config', cfgBp, '--catalog', eventsCatalog], { stdout: { slowBytesPerSec: rate } });
      check(slow, 'tap (slow reader)');
      const s = summary(slow, 'events');
      const expectedSec = slow.stdoutBytes / rate;
      result.backpressure = {
        days: bpDays,
        outputMB: r1(slow.stdoutBytes / 1e6),
        readerMBPerSec: Number(o.slowMbPerSec),
        fast: { wallSec: r2(fast.wallSec), peakRssMB: r1(fast.peakRssMB) },
        slow: {
          wallSec: r2(slow.wallSec),
          peakRssMB: r1(slow.peakRssMB),
          effectiveMBPerSec: r1(slow.stdoutBytes / 1e6 / slow.wallSec),
        },
        slowedDown: slow.wallSec >= expectedSec * 0.9,
        memoryBounded: slow.peakRssMB <= fast.peakRssMB * 1.2,
      };
      rows.push({
        scenario: `backpressure: stdout read at ${o.slowMbPerSec} MB/s`,
        size: `${bpDays} d`,
        records: s.records,
        requests: s.requests,
        wallSec: r2(slow.wallSec),
        cpuSec: r2(slow.cpuSec),
        recordsPerSec: Math.round(s.records / slow.wallSec),
        mbPerSec: r1(slow.stdoutBytes / 1e6 / slow.wallSec),
        peakRssMB: r1(slow.peakRssMB),
        largestKeySet: s.largestKeySet,
        idealSec: r2(expectedSec),
        wallVsIdeal: r2(slow.wallSec / expectedSec),
        note: `same run with a fast reader: ${r1(fast.peakRssMB)} MB, ${r2(fast.wallSec)} s`,
      });
    }

    if (want('stages')) {
      log('stage breakdown on one body in memory…');
      const st = await runNode(path.join(repoRoot, 'dist', 'bench', 'stages.js'), [bodyFile, '5', '--json']);
      check(st, 'stages');
      const line = st.stderr.trim().split('\n').pop()!;
      result.stages = JSON.parse(line);
    }

    if (want('clients')) {
      log('HTTP clients, download only…');
      const clients: ClientResult[] = compareClients(sim.url, TOKEN, OWNER, first, 2);
      result.httpClients = clients.map((c) => ({
        ...c,
        mbPerSec: Math.round(c.mbPerSec),
        meanChunkKB: r1(c.meanChunkKB),
        rssMB: Math.round(c.rssMB),
      }));
    }

    if (want('profile')) {
      log('tap under --cpu-prof (3 days)…');
      const dir = path.join(work, 'prof');
      const profDays = Math.min(3, DAYS);
      const cfgProf = tapConfig('cfg-profile.json', sim.url, { start_date: first, end_date: addDays(first, profDays - 1) });
      await warmCounts(cfgProf);
      const p = await runNode(tapBin, ['--config', cfgProf, '--catalog', eventsCatalog], {
        nodeFlags: ['--cpu-prof', '--cpu-prof-dir', dir],
      });
      check(p, 'tap --cpu-prof');
      const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
      result.profile = summarizeProfile(path.join(dir, file), 12);
    }
  } finally {
    await sim.stop();
  }
}

// ---------------------------------------------------------------------------------------
// Latency-bound backfills and request counts: a simulator with latency and many companies.

async function latencyGroup(): Promise<void> {
  const dataStart = addDays(today, -(LATENCY_DAYS + 5));
  const start = addDays(today, -(LATENCY_DAYS - 1));
  const sim = await SimProcess.start([
    '--now',
    nowIso,
    '--data-start',
    dataStart,
    '--companies',
    String(COMPANIES),
    '--latency-ms',
    String(want('latency') ? LATENCY_MS : 0),
    // One request per company for the whole backfill (Scarf's real limit is unknown; with a
    // shorter one the tap splits and the request count grows, the ratio to ideal does not).
    '--max-range-days',
    String(LATENCY_DAYS + 2),
  ]);
  try {
    if (want('latency')) {
      const lat: Record<string, unknown>[] = [];
      for (const [stream, catalog] of [
        ['events', eventsCatalog],
        ['company_events', companyEventsCatalog],
      ] as const) {
        const cfg = tapConfig(`cfg-latency-${stream}.json`, sim.url, { start_date: start });
        log(`latency ${LATENCY_MS} ms: ${stream} over ${LATENCY_DAYS} days…`);
        const run = await runNode(tapBin, ['--config', cfg, '--catalog', catalog]);
        check(run, `tap ${stream} (latency)`);
        const s = summary(run, stream);
        const ideal = (s.requests * LATENCY_MS) / 1000 / CONCURRENCY;
        lat.push({
          stream,
          requests: s.requests,
          records: s.records,
          wallSec: r2(run.wallSec),
          idealSec: r2(ideal),
          wallVsIdeal: r2(run.wallSec / ideal),
          peakRssMB: r1(run.peakRssMB),
        });
        rows.push({
          scenario: `latency ${LATENCY_MS} ms: ${stream}`,
          size: stream === 'events' ? `${LATENCY_DAYS} d` : `${COMPANIES} cos, ${LATENCY_DAYS} d`,
          records: s.records,
          requests: s.requests,
          wallSec: r2(run.wallSec),
          cpuSec: r2(run.cpuSec),
          recordsPerSec: Math.round(s.records / run.wallSec),
          peakRssMB: r1(run.peakRssMB),
          idealSec: r2(ideal),
          wallVsIdeal: r2(run.wallSec / ideal),
          note:
            stream === 'company_events'
              ? 'includes the company-rollup read and the first multi-day request, which go alone'
              : undefined,
        });
      }
      result.latency = {
        latencyMs: LATENCY_MS,
        concurrency: CONCURRENCY,
        runs: lat,
        target: { wallVsIdeal: 1.25, met: lat.every((x) => (x.wallVsIdeal as number) <= 1.25) },
      };
    }

    if (want('requests')) {
      await sim.put('/_sim/options', { latencyMs: 0 });
      await fetch(`${sim.url}/_sim/requests`, { method: 'DELETE' }).then((r) => r.arrayBuffer());
      const domains = JSON.parse((await sim.get('/_sim/companies')).text) as string[];
      const yesterdaySignpost = new Date(now.getTime() - 86_400_000).toISOString().replace('Z', '000Z');
      const yesterday = yesterdaySignpost.slice(0, 10);
      const settings = { lookback_days: 1, events_window_days: 1, aggregates_lookback_days: 7, aggregates_window_days: 31 };
      const startDate = addDays(today, -30);
      const state = {
        bookmarks: {
          events: { replication_key: 'time', replication_key_value: yesterdaySignpost },
          aggregates: { replication_key: 'date', replication_key_value: yesterday },
          company_rollup: { replication_key: 'last_seen', replication_key_value: `${yesterday}T00:00:00.000000Z` },
          company_events: {
            partitions: domains.map((d) => ({
              context: { company_domain: d },
              replication_key: 'time',
              replication_key_value: yesterdaySignpost,
            })),
          },
        },
      };
      const cfg = tapConfig('cfg-requests.json', sim.url, { start_date: startDate, ...settings });
      const stateFile = writeJson(work, 'state-yesterday.json', state);
      log('daily incremental sync from yesterday’s state, every stream…');
      const run = await runNode(tapBin, ['--config', cfg, '--state', stateFile]);
      check(run, 'tap (incremental)');
      const byEndpoint = await sim.requestsByEndpoint();
      // The minimum the settings imply, computed here from the settings, not by the tap's code.
      const eventsResume = addDays(yesterday, -settings.lookback_days);
      const aggResume = addDays(yesterday, -settings.aggregates_lookback_days);
      const rollup = (await sim.get('/_sim/truth/company-rollup')).text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { company_domain: string; last_seen: string | null });
      const active = rollup.filter((r) => r.last_seen !== null && r.last_seen.slice(0, 10) >= eventsResume).length;
      const expected: Record<string, number> = {
        events: Math.ceil(daySpan(eventsResume, today) / settings.events_window_days),
        aggregates: Math.ceil(daySpan(aggResume, today) / settings.aggregates_window_days),
        company_rollup: 1,
        company_events: active,
      };
      const perStream = parseSummaries(run.stderr).map((s) => ({
        stream: s.stream,
        requests: s.requests,
        minimum: expected[s.stream],
        records: s.records,
        ok: s.requests === expected[s.stream],
      }));
      result.requests = {
        state: `bookmarks at yesterday's signpost (${yesterdaySignpost}), lookback_days 1, events_window_days 1, aggregates_lookback_days 7, aggregates_window_days 31`,
        companies: domains.length,
        activeSinceResume: active,
        perStream,
        simulatorRequestsByEndpoint: byEndpoint,
        companyRollupFetchedOnce: byEndpoint['company-rollup'] === 1,
        met: perStream.every((p) => p.ok) && byEndpoint['company-rollup'] === 1,
      };
      for (const p of perStream) {
        rows.push({
          scenario: `requests: daily incremental, ${p.stream}`,
          size: '1 d',
          records: p.records,
          requests: p.requests,
          wallSec: r2(run.wallSec),
          cpuSec: r2(run.cpuSec),
          recordsPerSec: 0,
          peakRssMB: r1(run.peakRssMB),
          note: `minimum ${p.minimum}${p.ok ? ' ✓' : ' ✗'}${p.stream === 'company_rollup' ? `; company-rollup endpoint hit ${byEndpoint['company-rollup'] ?? 0}× in the sync` : ''}`,
        });
      }
    }
  } finally {
    await sim.stop();
  }
}

// ---------------------------------------------------------------------------------------
// Scale: state output and cost as the number of companies grows (bench/scale.ts).

async function scaleGroup(): Promise<void> {
  const sizes = [...new Set([200, 1000, Number(o.scaleCompanies)])].sort((a, b) => a - b);
  const runs: ScaleRun[] = [];
  for (const companies of sizes) {
    log(`scale: company_rollup + company_events, ${companies} companies, one week…`);
    const r = await scaleRun({ companies, now, concurrency: CONCURRENCY, work });
    runs.push(r);
    rows.push({
      scenario: 'scale: company_rollup + company_events, 1 week',
      size: `${companies} cos`,
      records: r.records,
      requests: r.requests,
      wallSec: r.wallSec,
      cpuSec: r.cpuSec,
      recordsPerSec: Math.round(r.records / r.wallSec),
      peakRssMB: r.peakRssMB,
      note: `${r.states} STATEs, ${Math.round(r.stateBytes / 1000)} KB STATE vs ${Math.round(r.recordBytes / 1000)} KB RECORD; a SIGKILL redoes ≤ ${r.maxRecordsBetweenStates} records / ${r.maxSecondsBetweenStates} s`,
    });
  }
  const small = runs[0]!;
  const large = runs[runs.length - 1]!;
  const growth = large.stateBytes / small.stateBytes;
  const scale = large.companies / small.companies;
  result.scale = {
    runs,
    stateBytesGrowth: r2(growth),
    companiesGrowth: r2(scale),
    // Linear: the STATE bytes grow no faster than 2× the companies' growth.
    target: { overLinear: 2, met: growth / scale <= 2 },
  };
}

// ---------------------------------------------------------------------------------------
// Meltano into Postgres: RECORD vs BATCH messages (bench/meltano.ts).

async function meltanoGroup(): Promise<void> {
  const res = await meltanoRecordVsBatch({ eventsPerDay: Number(o.meltanoEventsPerDay), days: Number(o.meltanoDays), log });
  if (!res) return;
  result.meltano = res;
  for (const r of res.runs)
    rows.push({
      scenario: `meltano run → MeltanoLabs target-postgres, ${r.mode} messages`,
      size: `${res.days} days`,
      records: r.records,
      requests: 0,
      wallSec: r.wallSec,
      cpuSec: NaN,
      recordsPerSec: r.recordsPerSec,
      peakRssMB: 0,
      note:
        r.mode === 'BATCH'
          ? `${r.batchFiles} batch files; ${res.batchVsRecord}× the RECORD-mode speed`
          : 'wall time of the whole meltano run',
    });
}

// ---------------------------------------------------------------------------------------

async function postgresGroup(): Promise<void> {
  const pgResult = await postgresScenario({
    token: TOKEN,
    owner: OWNER,
    eventsPerDay: Number(o.pgEventsPerDay),
    days: Number(o.pgDays),
    repeats: REPEATS,
    concurrency: CONCURRENCY,
    singerTarget: o.pgSingerTarget,
    eventsCatalog,
    log,
  });
  result.postgres = pgResult;
  for (const r of pgResult.runs)
    rows.push({
      scenario: `postgres: ${r.pipeline}`,
      size: `${pgResult.days} d`,
      records: r.rows,
      requests: NaN,
      wallSec: r.wallSec,
      cpuSec: r.cpuSec,
      recordsPerSec: r.rowsPerSec,
      peakRssMB: r.peakRssMB,
      note: `${r.distinct} distinct ids; server CPU ${r.serverCpuSec} s${r.note ? `; ${r.note}` : ''}`,
    });
}

// ---------------------------------------------------------------------------------------

function table(): string {
  const head = [
    'scenario',
    'size',
    'records',
    'requests',
    'wall s',
    'CPU s',
    'records/s',
    'MB/s',
    '× floor',
    'peak RSS MB',
    'key set',
    'ideal s',
    'wall/ideal',
    'note',
  ];
  const cells = rows.map((r) => [
    r.scenario,
    r.size,
    String(r.records),
    Number.isFinite(r.requests) ? String(r.requests) : '',
    String(r.wallSec),
    Number.isFinite(r.cpuSec) ? String(r.cpuSec) : '',
    r.recordsPerSec ? String(r.recordsPerSec) : '',
    r.mbPerSec !== undefined ? String(r.mbPerSec) : '',
    r.ratioToFloor !== undefined ? String(r.ratioToFloor) : '',
    String(r.peakRssMB),
    r.largestKeySet !== undefined ? String(r.largestKeySet) : '',
    r.idealSec !== undefined ? String(r.idealSec) : '',
    r.wallVsIdeal !== undefined ? String(r.wallVsIdeal) : '',
    r.note ?? '',
  ]);
  return [head, head.map((h) => '-'.repeat(Math.min(3, h.length))), ...cells].map((c) => `| ${c.join(' | ')} |`).join('\n');
}

async function differentialCheck(): Promise<void> {
  const n = Number(o.differentialRows);
  log(`differential check of the CSV paths on ${n} generated rows…`);
  const load = os.loadavg()[0]!;
  const run = await runNode(path.join(repoRoot, 'dist', 'bench', 'differential.js'), [String(n)], {
    stdout: 'count',
    timeoutMs: 3_600_000,
    capture: true,
  });
  const res = JSON.parse(run.stdoutText.trim().split('\n').pop()!) as { rows: number; mismatches: unknown[] };
  result.differential = { ...res, loadAvg: r2(load), wallSec: r2(run.wallSec) };
  if (run.code !== 0) log(`DIFFERENTIAL CHECK FAILED: ${JSON.stringify(res.mismatches).slice(0, 2000)}`);
}

try {
  if (['throughput', 'memory', 'backpressure', 'stages', 'clients', 'profile'].some(want)) await throughputGroup();
  if (want('differential')) await differentialCheck();
  if (want('latency') || want('requests')) await latencyGroup();
  if (want('scale')) await scaleGroup();
  if (want('postgres')) await postgresGroup();
  if (want('meltano')) await meltanoGroup();
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

(result.machine as Record<string, unknown>).loadAvgAtEnd = os.loadavg().map(r2);
result.totalSec = r1((performance.now() - started) / 1000);
result.table = rows;
fs.mkdirSync(o.out, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const json = JSON.stringify(result, null, 2) + '\n';
fs.writeFileSync(path.join(o.out, `bench-${stamp}.json`), json);
fs.writeFileSync(path.join(o.out, 'latest.json'), json);
if (o.commitCopy) fs.writeFileSync(path.join(repoRoot, 'bench', 'results', 'latest-committed.json'), json);

const m = result.machine as { cpuModel: string; cores: number; node: string; loadAvgAtStart: number[]; loadAvgAtEnd: number[] };
console.log(
  `\ntap-scarf bench — ${m.cpuModel}, ${m.cores} cores, Node ${m.node}, load average ${m.loadAvgAtStart[0]} → ${m.loadAvgAtEnd[0]}, ${result.totalSec} s\n`,
);
console.log(table());
const stages = result.stages as
  { rows: number; stages: { stage: string; rowsPerSec: number; addedUsPerRow: number }[] } | undefined;
if (stages) {
  console.log(`\nStages, one ${stages.rows}-row body in memory (cumulative rows/s; µs each stage adds per row):`);
  for (const s of stages.stages)
    console.log(`  ${s.stage.padEnd(48)} ${String(s.rowsPerSec).padStart(8)} rows/s  +${s.addedUsPerRow.toFixed(2)} µs`);
}
const diff = result.differential as { rows: number; bodies: number; mismatches: unknown[]; wallSec: number } | undefined;
if (diff)
  console.log(
    `\nDifferential check, fast vs papaparse CSV path: ${diff.rows} rows in ${diff.bodies} bodies, ${diff.mismatches.length === 0 ? 'identical' : `${diff.mismatches.length} MISMATCHES`} (${diff.wallSec} s)`,
  );
const tp = result.throughput as
  | {
      ratioToFloor?: number;
      ratioToPython?: number;
      ratioToPapaparsePath?: number;
      loadAvg?: number[];
      tap: { recordsPerSec: number };
      target: { recordsPerSec: number; met: boolean };
    }
  | undefined;
if (tp)
  console.log(
    `\nThroughput: ${tp.tap.recordsPerSec} records/s (target ≥ ${tp.target.recordsPerSec}: ${tp.target.met ? 'met' : 'NOT met'}), ×${tp.ratioToFloor ?? '–'} the floor, ×${tp.ratioToPython ?? '–'} the Python-style baseline, ×${tp.ratioToPapaparsePath ?? '–'} the papaparse CSV path; load average during the runs ${tp.loadAvg?.join(' → ')}`,
  );
const prof = result.profile as ReturnType<typeof summarizeProfile> | undefined;
if (prof) {
  console.log('\nProfile of a tap run (self time by stage):');
  for (const s of prof.stages) console.log(`  ${s.percent.toFixed(1).padStart(5)} %  ${s.stage}`);
}
const clients = result.httpClients as ClientResult[] | undefined;
if (clients) {
  console.log('\nHTTP clients, download only:');
  for (const c of clients) console.log(`  ${c.client.padEnd(22)} ${String(c.mbPerSec).padStart(5)} MB/s  RSS ${c.rssMB} MB`);
}
const pgr = result.postgres as PgScenarioResult | undefined;
if (pgr)
  console.log(
    `\nPostgreSQL (${pgr.postgresVersion}), ${pgr.events} events: load ${pgr.runs[1]!.rowsPerSec} rows/s (target ≥ ${pgr.target.recordsPerSec}), ×${pgr.loadVsExporter} the exporter-style \\copy (target ≥ ${pgr.target.withinOfExporter}), ×${pgr.loadVsSinger ?? '–'} tap | target-postgres (target ≥ ${pgr.target.timesSinger}): ${pgr.target.met ? 'met' : 'NOT met'}; load peak RSS ${pgr.runs[1]!.peakRssMB} MB (${pgr.days} days) vs ${pgr.loadOneDayPeakRssMB} MB (1 day); load average ${pgr.loadAvg.join(' → ')}`,
  );
console.log(`\nJSON: ${path.relative(process.cwd(), path.join(o.out, 'latest.json'))}`);
// The meltano scenario's PostgreSQL (test/helpers/postgres.ts) lives as long as this process: end it.
process.exit(process.exitCode ?? 0);
