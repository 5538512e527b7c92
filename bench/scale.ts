// The scale scenario of `npm run bench`: company_rollup + company_events over one week at a
// given number of companies, the tap run as a user runs it, its stdout counted line by line
// (STATE messages and bytes, RECORD bytes, the longest stretch without a STATE).
import { catalogSelecting, parseSummaries, runNode, SimProcess, tapBin, writeJson } from './proc.js';

export interface ScaleRun {
  companies: number;
  /** Companies the tap requested (active in the week). */
  requested: number;
  requests: number;
  records: number;
  wallSec: number;
  cpuSec: number;
  peakRssMB: number;
  states: number;
  stateBytes: number;
  recordBytes: number;
  maxRecordsBetweenStates: number;
  maxSecondsBetweenStates: number;
}

const TOKEN = 'sim-token';
const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;
const addDays = (day: string, n: number) => new Date(Date.parse(day + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);

export async function scaleRun(opts: { companies: number; now: Date; concurrency: number; work: string }): Promise<ScaleRun> {
  const today = opts.now.toISOString().slice(0, 10);
  // Data from nine days back: the week plus its edges, and a rollup the simulator computes quickly.
  const sim = await SimProcess.start([
    '--now',
    opts.now.toISOString(),
    '--data-start',
    addDays(today, -9),
    '--companies',
    String(opts.companies),
    '--events-per-day',
    '10',
  ]);
  try {
    const name = `scale-${opts.companies}`;
    const cfg = writeJson(opts.work, `${name}.json`, {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: addDays(today, -6),
      max_concurrent_requests: opts.concurrency,
    });
    const catalog = writeJson(opts.work, `${name}-catalog.json`, catalogSelecting(['company_rollup', 'company_events']));
    const run = await runNode(tapBin, ['--config', cfg, '--catalog', catalog], { stdout: 'protocol', timeoutMs: 1_800_000 });
    if (run.code !== 0) throw new Error(`scale ${opts.companies}: the tap exited with ${run.code}:\n${run.stderr.slice(-3000)}`);
    const byEndpoint = await sim.requestsByEndpoint();
    const summaries = parseSummaries(run.stderr);
    const p = run.protocol!;
    return {
      companies: opts.companies,
      requested: byEndpoint['company-events'] ?? 0,
      requests: summaries.reduce((n, s) => n + s.requests, 0),
      records: p.records,
      wallSec: r2(run.wallSec),
      cpuSec: r2(run.cpuSec),
      peakRssMB: r1(run.peakRssMB),
      states: p.states,
      stateBytes: p.stateBytes,
      recordBytes: p.recordBytes,
      maxRecordsBetweenStates: p.maxRecordsBetweenStates,
      maxSecondsBetweenStates: r1(p.maxSecondsBetweenStates),
    };
  } finally {
    await sim.stop();
  }
}
