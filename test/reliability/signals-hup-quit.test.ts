// SIGHUP (the terminal or session closed) and SIGQUIT (Ctrl-\) during a sync are handled like
// SIGTERM: the last line is a complete STATE covering only records already written, the exit
// code is 128 + the signal's number (129, 131), and resuming from that STATE loses nothing.
import { expect } from 'chai';

import { expectSameRecords, runChecked, streamRecords, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-06';

describe('signals: SIGHUP and SIGQUIT stop a sync like SIGTERM', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 29,
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 40,
      companies: 4,
    },
    { start_date: START, end_date: END, events_window_days: 1, aggregates_breakdowns: ['by-total'], max_concurrent_requests: 2 },
    'tap-scarf-hup-quit-',
  );

  for (const [signal, code] of [
    ['SIGHUP', 129],
    ['SIGQUIT', 131],
  ] as const) {
    it(`Singer: ${signal} mid-sync → exit ${code}, last line a complete safe STATE, resume loses nothing`, async () => {
      suite.sim.setOptions({ latencyMs: 120 });
      let run: TapRun;
      const cfg = suite.config();
      try {
        run = await runChecked(['--config', cfg], { killAfterLines: { lines: 20, signal } }, suite.sim);
      } finally {
        suite.sim.setOptions({ latencyMs: 0 });
      }
      expect(run.signal, `killed by ${signal} instead of stopping`).to.equal(null);
      expect(run.code, run.stderr).to.equal(code);
      expect(run.stdout.endsWith('\n'), 'the last stdout line is complete').to.equal(true);
      expect(run.badLines).to.deep.equal([]);
      const last = run.messages.at(-1)!;
      expect(last.type, 'the last message is STATE').to.equal('STATE');
      expect(run.stderr).to.include(`Stopped by ${signal}: writing the last safe state; the next run resumes from it.`);
      const events = suite.sim.truth.events({ start: START, end: END });
      expect(streamRecords(run, 'events').length, 'stopped mid-way').to.be.lessThan(events.length);

      // Safe: every event before the bookmark was emitted by this run.
      const mark = last.value.bookmarks?.events?.replication_key_value as string | undefined;
      const emitted = new Set(streamRecords(run, 'events').map((r) => r.id));
      if (mark) expect(events.filter((r) => (r.time as string) < mark && !emitted.has(r.id)).map((r) => r.id)).to.deep.equal([]);

      const rerun = await runChecked(
        ['--config', cfg, '--state', writeJson(suite.dir, `state-${signal}.json`, last.value)],
        {},
        suite.sim,
      );
      expect(rerun.code, rerun.stderr).to.equal(0);
      const union = new Map([...streamRecords(run, 'events'), ...streamRecords(rerun, 'events')].map((r) => [r.id, r]));
      expectSameRecords([...union.values()], events, 'id', `events after ${signal} + resume`);
    });
  }

  it('Airbyte read: SIGHUP mid-read → exit 129, the last lines are STATE, INCOMPLETE and the stop log', async () => {
    const { airbyteCatalog } = await import('../../src/airbyte/catalog.js');
    const catalog = {
      streams: airbyteCatalog().streams.map((stream) => ({
        stream,
        sync_mode: 'incremental',
        cursor_field: stream.default_cursor_field,
        destination_sync_mode: 'append_dedup',
        primary_key: stream.source_defined_primary_key,
      })),
    };
    const cat = writeJson(suite.dir, 'configured.json', catalog);
    suite.sim.setOptions({ latencyMs: 120 });
    let run: TapRun;
    try {
      run = await runChecked(
        ['read', '--config', suite.config(), '--catalog', cat],
        { killAfterLines: { lines: 30, signal: 'SIGHUP' } },
        suite.sim,
      );
    } finally {
      suite.sim.setOptions({ latencyMs: 0 });
    }
    expect(run.signal).to.equal(null);
    expect(run.code, run.stderr).to.equal(129);
    expect(run.stdout.endsWith('\n')).to.equal(true);
    expect(run.badLines).to.deep.equal([]);
    const last = run.messages.at(-1)!;
    expect(last.type).to.equal('LOG');
    expect(last.log.message).to.match(/^Stopped by a signal before the end of the read/);
    const before = run.messages.at(-2)!;
    expect(before.type === 'STATE' || (before.type === 'TRACE' && before.trace.stream_status?.status === 'INCOMPLETE')).to.equal(
      true,
    );
    expect(run.messages.some((m) => m.type === 'LOG' && /Stopped by SIGHUP/.test(m.log.message))).to.equal(true);
  });
});
