// Issue 20 item 3: the daily by-total counts verify_counts reads are the very rows the
// aggregates stream asks for with its default settings (daily, by-total, package_query), so
// the sync reads them once: the counts request widens to the aggregates stream's pending days
// and its windows are served from it (docs/reliability.md "Counts shared with the aggregates
// stream"). What cannot be served (v3 counts, a day a verified stream could not prove) is read
// by the stream itself, as before.
import { expect } from 'chai';

import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, expectSameRecords, runCheckedInProcess, streamRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const FIRST_NOW = new Date('2026-10-12T12:00:00Z');
const LATER_NOW = new Date('2026-10-14T12:00:00Z');

function requestsPerStream(run: TapRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of run.stderr.matchAll(/^(?:INFO|WARNING|ERROR) (\w+): \d+ records, .*?, (\d+) API requests \(Scarf Runs\)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

describe('counts shared with the aggregates stream (verify_counts reads them once)', function () {
  this.timeout(120_000);
  const suite = useSimulator(
    { seed: 11, dataStart: '2026-09-20', dataEnd: '2026-10-31', now: FIRST_NOW, eventsPerDay: 20, companies: 4 },
    { start_date: START, end_date: '2026-10-12' },
    'tap-scarf-shared-',
  );
  const catalog = () => writeJson(suite.dir, 'cat-ev-agg.json', catalogFor(['events', 'aggregates']));
  const aggregatesRequests = () => suite.sim.requests.filter((r) => r.endpoint === 'aggregates');
  const truth = (start: string, end: string) =>
    suite.sim.truth.aggregates({ start, end, rollup: 'daily', breakdowns: ['by-total'] });

  async function plan(args: string[]): Promise<Record<string, any>> {
    suite.sim.resetRequests();
    const run = await runInProcess([...args, '--plan', '--format', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    expect(suite.sim.requests, 'the plan makes no request').to.deep.equal([]);
    return JSON.parse(run.stdout.trim()) as Record<string, any>;
  }

  it('full, then incremental with the default lookbacks: one counts request serves the aggregates stream; the plan says so and equals the request log', async () => {
    const config = suite.config();
    const cat = catalog();
    const planned = await plan(['--config', config, '--catalog', cat]);
    expect(planned.streams).to.deep.equal({ events: 13, aggregates: 0 });
    expect(planned.details.aggregates).to.match(/1 window taken from Scarf's counts read for verify_counts \(no request\)/);

    suite.sim.resetRequests();
    const full = await runCheckedInProcess(['--config', config, '--catalog', cat], {}, suite.sim);
    expect(full.code, full.stderr.slice(-3000)).to.equal(0);
    expect(requestsPerStream(full)).to.deep.equal(planned.streams);
    expect(suite.sim.requests.length).to.equal(planned.total);
    expect(aggregatesRequests().map((r) => r.query)).to.deep.equal([
      { start_date: [START], end_date: ['2026-10-12'], rollup: ['daily'], breakdown: ['by-total', 'by-company'] },
    ]);
    expectSameRecords(streamRecords(full, 'aggregates'), truth(START, '2026-10-12'), 'row_key', 'aggregates, full');
    expect(full.stderr).to.match(
      /aggregates: .*; 1 window\(s\) taken from Scarf's counts read for verify_counts \(no request of their own\)/,
    );
    expect(full.stderr).to.not.match(/not checked against Scarf's counts/);

    // Two days later: events reads 10-12..10-14 (from its bookmark, a lookback day included),
    // aggregates 7 lookback days (10-05..10-14).
    // Before, that was a counts request for events' days and one for the aggregates window.
    suite.sim.setNow(LATER_NOW);
    const state = writeJson(suite.dir, 'state-shared.json', lastState(full));
    const later = suite.config({ end_date: '2026-10-14' });
    const next = await plan(['--config', later, '--catalog', cat, '--state', state]);
    expect(next.streams).to.deep.equal({ events: 4, aggregates: 0 });
    suite.sim.resetRequests();
    const incremental = await runCheckedInProcess(['--config', later, '--catalog', cat, '--state', state], {}, suite.sim);
    expect(incremental.code, incremental.stderr.slice(-3000)).to.equal(0);
    expect(requestsPerStream(incremental)).to.deep.equal(next.streams);
    expect(suite.sim.requests.length).to.equal(next.total);
    expect(aggregatesRequests().map((r) => [r.query.start_date, r.query.end_date])).to.deep.equal([
      [['2026-10-05'], ['2026-10-14']],
    ]);
    expectSameRecords(
      streamRecords(incremental, 'aggregates'),
      truth('2026-10-05', '2026-10-14'),
      'row_key',
      'aggregates, incremental',
    );
    expect(lastState(incremental)!.bookmarks.aggregates.replication_key_value).to.equal(
      lastState(full)!.bookmarks.aggregates.replication_key_value.replace('2026-10-12', '2026-10-14'),
    );
  });

  it('a cut counts body is read again before the aggregates stream takes its rows: the served rows are the complete ones', async () => {
    // The first aggregates request is the counts: cut cleanly after a few rows (days go missing).
    suite.sim.setFaults([{ kind: 'cut-after-line', endpoint: 'aggregates', endCleanly: true, nth: 1, afterRows: 5 }]);
    const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', catalog()], {}, suite.sim);
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    const rereads = run.stderr.split('\n').filter((l) => /reading Scarf's counts for .* again/.test(l));
    expect(rereads.length).to.be.at.least(1);
    expect(aggregatesRequests()).to.have.length(1 + rereads.length);
    expectSameRecords(
      streamRecords(run, 'aggregates'),
      truth(START, '2026-10-12'),
      'row_key',
      'aggregates after a cut counts body',
    );
  });

  it('a day missing from the counts body (a gap) that events does not judge is not served: the aggregates stream reads its window itself, its rows complete', async () => {
    suite.sim.setNow(FIRST_NOW);
    const cat = catalog();
    const full = await runCheckedInProcess(['--config', suite.config(), '--catalog', cat], {}, suite.sim);
    expect(full.code, full.stderr.slice(-3000)).to.equal(0);
    // Two days later events reads 10-12..10-14 and aggregates its lookback 10-05..10-14: the
    // widened counts body lacks 10-06, a day no events window judges (so nothing re-reads it).
    suite.sim.setNow(LATER_NOW);
    suite.sim.resetRequests();
    suite.sim.setFaults([{ kind: 'drop-day', endpoint: 'aggregates', date: '2026-10-06', nth: 1 }]);
    const state = writeJson(suite.dir, 'state-gap.json', lastState(full));
    const later = suite.config({ end_date: '2026-10-14' });
    const run = await runCheckedInProcess(['--config', later, '--catalog', cat, '--state', state], {}, suite.sim);
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    expect(
      aggregatesRequests().map((r) => [r.query.start_date, r.query.end_date, r.query.breakdown, r.fault ?? null]),
    ).to.deep.equal([
      [['2026-10-05'], ['2026-10-14'], ['by-total', 'by-company'], 'drop-day'],
      [['2026-10-05'], ['2026-10-14'], ['by-total'], null],
      // The stream's rows hold the day the counts lack: the counts are read again for it.
      [['2026-10-06'], ['2026-10-06'], ['by-total', 'by-company'], null],
    ]);
    expect(run.stderr).to.include(
      "aggregates 2026-10-05..2026-10-14: 2026-10-06: Scarf counts 0 events (no row for the day in its counts), the aggregates' by-total rows sum to",
    );
    expect(run.stderr).to.not.match(/taken from Scarf's counts/);
    expectSameRecords(
      streamRecords(run, 'aggregates'),
      truth('2026-10-05', '2026-10-14'),
      'row_key',
      'aggregates after a counts gap',
    );
  });

  it('v2 aggregates answering no rows: the counts come from v3, and the aggregates stream reads v2 itself once and fails naming aggregations (v3 counts events)', async () => {
    suite.sim.setOptions({ v2Aggregates: 'empty' });
    try {
      const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', catalog()], {}, suite.sim);
      // events is verified against v3; the legacy stream's empty rows cannot be proven against it.
      expect(run.code, run.stderr.slice(-3000)).to.equal(1);
      expect(run.stderr).to.match(/events: .*12 windows verified against Scarf's counts: 12 equal/);
      // v2's empty counts answer, then the stream's own window: v3's rows are not the stream's
      // rows. No re-read: the export already answered no row this sync, day by day would too.
      expect(aggregatesRequests().map((r) => r.query.breakdown)).to.deep.equal([['by-total', 'by-company'], ['by-total']]);
      expect(suite.sim.requests.filter((r) => r.endpoint === 'aggregations')).to.have.length(1);
      expect(streamRecords(run, 'aggregates')).to.deep.equal([]);
      expect(run.stderr).to.match(
        /FAILED: aggregates 2026-10-01\.\.2026-10-12: Scarf's legacy v2 aggregates export answered no rows, while its v3 counts show events \(2026-10-01: \d+, and 11 more day\(s\)\), so the window cannot be proven complete and its bookmark stays; .*select the aggregations stream/,
      );
      expect(run.stderr).to.not.match(/taken from Scarf's counts/);
    } finally {
      suite.sim.setOptions({ v2Aggregates: 'rows' });
    }
  });
});
