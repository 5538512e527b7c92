// Two builds of `tap-scarf load` against each other, run after run, interleaved (A, B, A, B,
// …), on the same simulator and the same local PostgreSQL, a fresh database for each run: the
// tap's CPU (user + system, from /proc) and the server's CPU (its processes, exited backends
// included) per run, next to the wall time. CPU, not wall time, is the measure on a shared
// machine (docs/postgres.md "Measurements"). Each build is a checkout with its own dist/.
//   npm run build && node dist/bench/postgres-ab.js <checkout A> <checkout B> [rounds] [events per day] [days]
import os from 'node:os';
import path from 'node:path';

import { startServer } from './postgres.js';
import { catalogSelecting, parseSummaries, runNode, SimProcess, tmpDir, writeJson } from './proc.js';

const [a, b] = [process.argv[2], process.argv[3]];
if (!a || !b) throw new Error('usage: postgres-ab.js <checkout A> <checkout B> [rounds] [events per day] [days]');
const rounds = Number(process.argv[4] ?? 5);
const perDay = Number(process.argv[5] ?? 100_000);
const days = Number(process.argv[6] ?? 3);
const TOKEN = 'bench-token-abcdefghijklmnopqrstuvwxyz';
const OWNER = 'acme-oss';

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);
}

const work = tmpDir('tap-scarf-pg-ab-');
const now = new Date();
const first = addDays(now.toISOString().slice(0, 10), -(days + 2));
const last = addDays(first, days - 1);
const sim = await SimProcess.start([
  '--now',
  now.toISOString(),
  '--data-start',
  addDays(first, -3),
  '--events-per-day',
  String(perDay),
  '--cache-bodies',
  '--token',
  TOKEN,
  '--owner',
  OWNER,
]);
const server = await startServer(work);
const cfg = writeJson(work, 'cfg.json', { api_token: TOKEN, owner: OWNER, base_url: sim.url, start_date: first, end_date: last });
const catalog = writeJson(work, 'catalog.json', catalogSelecting(['events']));
const rows: string[] = [];
try {
  let n = 0;
  // A first run of each warms the simulator's bodies and the page cache; not counted.
  for (let round = -1; round < rounds; round++)
    for (const [name, dir] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const url = await server.create(`ab_${++n}`);
      const load0 = os.loadavg()[0]!;
      const s0 = server.cpuSec();
      // With PROF_DIR set, each counted run writes a V8 CPU profile there (node --cpu-prof).
      const prof =
        process.env.PROF_DIR && round >= 0 ? ['--cpu-prof', '--cpu-prof-dir', path.join(process.env.PROF_DIR, name)] : [];
      const args = ['load', '--config', cfg, '--catalog', catalog, '--to', url];
      const run = await runNode(path.join(dir, 'bin', 'tap-scarf.js'), args, { nodeFlags: prof });
      const serverCpu = server.cpuSec() - s0;
      if (run.code !== 0) throw new Error(`${name} exited with ${run.code}:\n${run.stderr.slice(-2000)}`);
      const events = parseSummaries(run.stderr).find((s) => s.stream === 'events')?.records ?? NaN;
      if (round < 0) continue;
      const line = `${round + 1}\t${name}\t${events}\t${run.wallSec.toFixed(2)}\t${run.cpuSec.toFixed(2)}\t${serverCpu.toFixed(2)}\t${(run.cpuSec + serverCpu).toFixed(2)}\t${run.peakRssMB.toFixed(1)}\t${load0.toFixed(1)}`;
      rows.push(line);
      console.log(line);
    }
} finally {
  await server.stop().catch(() => undefined);
  await sim.stop();
}
console.log(`A = ${a}, B = ${b}`);
console.log('round\tbuild\tevents\twall s\ttap CPU s\tserver CPU s\ttotal CPU s\tpeak RSS MB\tload average');
for (const r of rows) console.log(r);
for (const name of ['A', 'B']) {
  const mine = rows.filter((r) => r.split('\t')[1] === name).map((r) => r.split('\t').map(Number));
  const mean = (k: number) => mine.reduce((s, r) => s + r[k]!, 0) / mine.length;
  console.log(
    `${name}: mean of ${mine.length}: wall ${mean(3).toFixed(2)} s, tap CPU ${mean(4).toFixed(2)} s, server CPU ${mean(5).toFixed(2)} s, total ${mean(6).toFixed(2)} s`,
  );
}
