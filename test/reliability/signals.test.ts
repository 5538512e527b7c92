// Interrupted syncs: SIGTERM/SIGINT during a sync. The tap finishes the line it is writing, emits the
// last safe STATE as its last line, and exits 143/130; resuming from that STATE loses nothing.
import { spawn } from 'node:child_process';

import { expect } from 'chai';

import {
  allOutputs,
  expectNoToken,
  expectSameRecords,
  runChecked,
  type Stream,
  streamRecords,
  TOKEN,
} from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, parseLines, tapBin, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-06';
const SIM_NOW = new Date('2026-10-07T12:00:00Z');
const BREAKDOWNS = ['by-total', 'by-country'];
const KEYS: Record<Stream, string> = {
  events: 'id',
  aggregates: 'row_key',
  company_rollup: 'company_domain',
  company_events: 'id',
};

describe('reliability: SIGTERM and SIGINT during a sync', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    { seed: 23, token: TOKEN, dataStart: '2026-09-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 40, companies: 6 },
    {
      start_date: START,
      end_date: END,
      events_window_days: 1,
      aggregates_window_days: 2,
      aggregates_breakdowns: BREAKDOWNS,
      max_concurrent_requests: 2,
    },
    'tap-scarf-signals-',
  );
  const config = suite.config;

  const truthOf = (stream: Stream) =>
    stream === 'events'
      ? suite.sim.truth.events({ start: START, end: END })
      : stream === 'aggregates'
        ? suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: BREAKDOWNS })
        : stream === 'company_rollup'
          ? suite.sim.truth.companyRollup()
          : suite.sim.companyDomains().flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }));

  /** Output of a stopped run: complete lines only, the last one a STATE. */
  function expectCleanStop(run: TapRun, code: number): Record<string, any> {
    expect(run.code, run.stderr).to.equal(code);
    expect(run.stdout.endsWith('\n'), 'the last stdout line is complete').to.equal(true);
    expect(run.badLines, 'every stdout line is JSON').to.deep.equal([]);
    const last = run.messages[run.messages.length - 1]!;
    expect(last.type, 'the last message is STATE').to.equal('STATE');
    expect(run.stderr).to.match(new RegExp(`Stopped by ${code === 130 ? 'SIGINT' : 'SIGTERM'}`));
    return last.value;
  }

  /** Every bookmark of `state` is covered by records this run emitted (it is a safe state). */
  function expectSafe(run: TapRun, state: Record<string, any>): void {
    const mark = state.bookmarks?.events?.replication_key_value as string | undefined;
    if (mark) {
      const emitted = new Set(streamRecords(run, 'events').map((r) => r.id));
      const uncovered = suite.sim.truth
        .events({ start: START, end: END })
        .filter((r) => (r.time as string) < mark && !emitted.has(r.id));
      expect(
        uncovered.map((r) => r.id),
        `events before ${mark} not emitted`,
      ).to.deep.equal([]);
    }
    // The final STATE never goes back behind a STATE printed before it.
    const states = run.messages.filter((m) => m.type === 'STATE').map((m) => m.value);
    const before = states[states.length - 2];
    if (before?.bookmarks?.events) expect(mark! >= before.bookmarks.events.replication_key_value).to.equal(true);
  }

  /** Resuming from the stop's STATE: the two runs together hold the whole ground truth. */
  async function expectResumeLosesNothing(stopped: TapRun, state: Record<string, any>, cfg: string): Promise<void> {
    const rerun = await runChecked(
      ['--config', cfg, '--state', writeJson(suite.dir, `stop-state-${Math.random()}.json`, state)],
      {},
      suite.sim,
    );
    expect(rerun.code, rerun.stderr).to.equal(0);
    for (const stream of Object.keys(KEYS) as Stream[]) {
      const union = new Map(
        [...streamRecords(stopped, stream), ...streamRecords(rerun, stream)].map((r) => [r[KEYS[stream]], r]),
      );
      expectSameRecords([...union.values()], truthOf(stream), KEYS[stream], `${stream} after stop + resume`);
    }
  }

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} mid-sync: last line a complete STATE equal to the safe state, exit ${code}, resume loses nothing`, async () => {
      suite.sim.setOptions({ latencyMs: 120 });
      try {
        const cfg = config();
        const run = await runChecked(['--config', cfg], { killAfterLines: { lines: 40, signal } }, suite.sim);
        const state = expectCleanStop(run, code);
        // Mid-way for real: the sync had not reached its end.
        expect(streamRecords(run, 'company_events').length, 'stopped before the last stream finished').to.be.lessThan(
          truthOf('company_events').length,
        );
        expectSafe(run, state);
        suite.sim.setOptions({ latencyMs: 0 });
        await expectResumeLosesNothing(run, state, cfg);
      } finally {
        suite.sim.setOptions({ latencyMs: 0 });
      }
    });
  }

  it('SIGTERM while stdout is backed up (a slow target): nothing half-written, the STATE still comes last', async () => {
    // stdout is not read until after the signal: the pipe and Node's buffer are full when it arrives.
    suite.sim.setOptions({ eventsPerDay: 400 });
    try {
      const cfg = config({ max_concurrent_requests: 1 });
      const child = spawn(process.execPath, [tapBin, '--config', cfg], {
        env: { ...process.env, TAP_SCARF_RETRY_BASE_MS: '5' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      // Wait until it is blocked on the pipe: it has asked for a few windows and stopped asking.
      const t0 = Date.now();
      while (suite.sim.requests.filter((r) => r.endpoint === 'events').length < 1 && Date.now() - t0 < 20_000)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 1500));
      const requestsAtSignal = suite.sim.requests.length;
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      let stdout = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => (stdout += d));
      const code = await exited;
      allOutputs.push({ what: 'backed-up SIGTERM run', text: stdout + stderr });
      expectNoToken(stdout + stderr, 'backed-up SIGTERM run');
      const run: TapRun = { code, signal: null, stdout, stderr, ...parseLines(stdout) };
      const state = expectCleanStop(run, 143);
      expect(requestsAtSignal, 'the sync was stopped mid-way').to.be.lessThan(6 + 3 + 1);
      expect(lastState(run)).to.deep.equal(state);
      expectSafe(run, state);
    } finally {
      suite.sim.setOptions({ eventsPerDay: 40 });
    }
  });
});
