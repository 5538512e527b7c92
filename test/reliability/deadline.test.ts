// End to end: request_deadline_seconds ends a request whose body never finishes although
// bytes keep coming — trickled a byte at a time (the idle timeout never fires) or valid
// complete rows forever. A request past its deadline is a failed attempt, retried by the
// usual policy without emitting any record twice; when the retries run out the stream fails
// with a message naming the setting to raise, and its bookmark stays.
import { expect } from 'chai';

import type { FaultSpec } from '../../sim/index.js';
import { aggregatesBookmark, eventsBookmark } from '../helpers/bookmarks.js';
import {
  catalogFor,
  expectNoRepeats,
  expectSameRecords,
  runCheckedInProcess,
  streamRecords,
  TOKEN,
} from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-03';
const DAYS = 3;
const BREAKDOWNS = ['by-total', 'by-country'];
const LATE = 'no complete answer within request_deadline_seconds (1 s)';
const RAISE = '; raise request_deadline_seconds if one window of this export is just very large or the connection slow';
// The simulator's own bound: without a deadline the tap would wait this long per attempt, then see a cut body.
const SIM_BOUND = { maxMs: 5000 };

describe('reliability: request_deadline_seconds ends trickled and endless bodies (Singer, end to end)', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 21,
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 30,
      companies: 4,
      duplicateRate: 0,
    },
    {
      start_date: START,
      end_date: END,
      events_window_days: 1,
      aggregates_window_days: 1,
      aggregates_breakdowns: BREAKDOWNS,
      max_concurrent_requests: 1,
      // The idle timeout is far longer than the gaps of a trickle: only the deadline can end it.
      request_timeout_seconds: 5,
      request_deadline_seconds: 1,
    },
    'tap-scarf-deadline-',
  );
  const catalog = (stream: string) => writeJson(suite.dir, `cat-${stream}.json`, catalogFor([stream]));
  const requests = (endpoint: string) => suite.sim.requests.filter((r) => r.endpoint === endpoint);
  const stderrLines = (run: TapRun) => run.stderr.trimEnd().split('\n');
  const lastLine = (run: TapRun) => stderrLines(run).at(-1)!;

  async function cleanState(stream: string): Promise<unknown> {
    suite.sim.clearFaults();
    const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', catalog(stream)], {}, suite.sim);
    expect(run.code, run.stderr).to.equal(0);
    suite.sim.resetRequests();
    return lastState(run);
  }

  const passing: { name: string; fault: FaultSpec }[] = [
    {
      name: 'a body trickled a byte every 50 ms',
      fault: { kind: 'trickle', afterRows: 3, intervalMs: 50, chunkBytes: 1, ...SIM_BOUND },
    },
    { name: 'a body of complete rows without end', fault: { kind: 'endless-rows', ...SIM_BOUND } },
  ];
  for (const c of passing) {
    it(`events: ${c.name}, once → a failed attempt, retried; truth, ${DAYS}+1 requests, no record twice, same state as a clean run`, async () => {
      const clean = await cleanState('events');
      suite.sim.setFaults([{ ...c.fault, endpoint: 'events', nth: 2 }]);
      const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', catalog('events')], {}, suite.sim);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.badLines).to.deep.equal([]);
      expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
      expectNoRepeats(run, 'events');
      expect(requests('events')).to.have.length(DAYS + 1);
      const retries = stderrLines(run).filter((l) => / attempt \d failed/.test(l));
      expect(retries).to.have.length(1);
      expect(retries[0]).to.match(
        new RegExp(
          `^WARNING events 2026-10-02\\.\\.2026-10-02: attempt 1 failed \\(${LATE.replace(/[()]/g, '\\$&')}\\); retry 1 of 8 in \\d+\\.\\d{3} s$`,
        ),
      );
      expect(lastLine(run)).to.match(/^INFO /);
      expect(lastState(run)).to.deep.equal(clean);
    });
  }

  it('events: every request trickles → max_retries+1 attempts, exit 1, the message names request_deadline_seconds, the bookmark stays', async () => {
    const state = { bookmarks: { events: eventsBookmark('2026-09-30T00:00:00.000000Z', START) } };
    suite.sim.setFaults([
      { kind: 'trickle', endpoint: 'events', times: 1000, afterRows: 3, intervalMs: 50, chunkBytes: 1, ...SIM_BOUND },
    ]);
    const run = await runCheckedInProcess(
      [
        '--config',
        suite.config({ max_retries: 2 }),
        '--catalog',
        catalog('events'),
        '--state',
        writeJson(suite.dir, 'st-ev.json', state),
      ],
      {},
      suite.sim,
    );
    expect(run.code).to.equal(1);
    expect(run.badLines).to.deep.equal([]);
    // The first window (start_date: the bookmark's lookback reaches before it) fails; nothing after it is asked.
    const label = `events ${START}..${START}`;
    expect(requests('events')).to.have.length(3);
    expect(stderrLines(run).filter((l) => / attempt \d failed/.test(l))).to.deep.equal([
      `WARNING ${label}: attempt 1 failed (${LATE}); retry 1 of 2 in ${/attempt 1 failed.* in (\d+\.\d{3}) s/.exec(run.stderr)![1]} s`,
      `WARNING ${label}: attempt 2 failed (${LATE}); retry 2 of 2 in ${/attempt 2 failed.* in (\d+\.\d{3}) s/.exec(run.stderr)![1]} s`,
    ]);
    expect(lastLine(run)).to.equal(
      `ERROR 1 of 1 stream(s) failed: events: ${label}: giving up after 3 attempts (max_retries 2, 0 s waited of max_retry_wait_seconds 900); last failure: ${LATE}${RAISE}`,
    );
    // The three rows each attempt delivered before trickling are complete records: out once, not three times.
    const truth = suite.sim.truth.events({ start: START, end: START });
    expect(streamRecords(run, 'events')).to.deep.equal(truth.slice(0, 3));
    for (const m of run.messages.filter((m) => m.type === 'STATE')) expect(m.value).to.deep.equal(state);
  });

  it('aggregates (NDJSON): every request endless → exit 1, the message names request_deadline_seconds, each row once, the bookmark stays', async () => {
    const state = { bookmarks: { aggregates: aggregatesBookmark('2026-10-02', START, BREAKDOWNS) } };
    suite.sim.setFaults([{ kind: 'endless-rows', endpoint: 'aggregates', times: 1000, ...SIM_BOUND }]);
    const run = await runCheckedInProcess(
      [
        '--config',
        suite.config({ max_retries: 1, aggregates_lookback_days: 0 }),
        '--catalog',
        catalog('aggregates'),
        '--state',
        writeJson(suite.dir, 'st-agg.json', state),
      ],
      {},
      suite.sim,
    );
    expect(run.code).to.equal(1);
    expect(run.badLines).to.deep.equal([]);
    const label = 'aggregates 2026-10-02..2026-10-02';
    expect(requests('aggregates')).to.have.length(2);
    expect(lastLine(run)).to.equal(
      `ERROR 1 of 1 stream(s) failed: aggregates: ${label}: giving up after 2 attempts (max_retries 1, 0 s waited of max_retry_wait_seconds 900); last failure: ${LATE}${RAISE}`,
    );
    // The real rows came out once (the repeats and the retry's rows are duplicates), but the window is not complete: no new bookmark.
    expectSameRecords(
      streamRecords(run, 'aggregates'),
      suite.sim.truth.aggregates({ start: '2026-10-02', end: '2026-10-02', rollup: 'daily', breakdowns: BREAKDOWNS }),
      'row_key',
      'aggregates',
    );
    expectNoRepeats(run, 'aggregates');
    for (const m of run.messages.filter((m) => m.type === 'STATE')) expect(m.value).to.deep.equal(state);
  });
});
