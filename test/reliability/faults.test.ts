// Reliability end to end: the built CLI against the simulator's fault switches. For each fault
// kind the output, de-duplicated by key, equals the ground truth; the request count is
// exactly one more than without the fault; no key is emitted twice (the window's key set
// survives its retries); each retry is logged with its reason and without the token.
import { expect } from 'chai';

import type { FaultSpec } from '../../sim/index.js';
import {
  catalogFor,
  expectNoRepeats,
  expectSameRecords,
  runCheckedInProcess,
  streamRecords,
  TOKEN,
} from '../helpers/reliability.js';
import { useSimulator, useStateAfterEveryWindow } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-03';
const DAYS = 3; // events windows of one day: 3 requests without faults
const SIM_NOW = new Date('2026-10-07T12:00:00Z');
const BREAKDOWNS = ['by-total', 'by-country'];

describe('reliability: every fault kind is retried, nothing lost, nothing twice (Singer, end to end)', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 11,
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: SIM_NOW,
      eventsPerDay: 40,
      companies: 6,
      duplicateRate: 0.1,
    },
    {
      start_date: START,
      end_date: END,
      events_window_days: 1,
      aggregates_window_days: 1,
      aggregates_breakdowns: BREAKDOWNS,
    },
    'tap-scarf-reliability-',
  );
  const config = suite.config;
  // These tests follow each window's STATE (after its records, one per window): the 10 s
  // interval is lifted, and the byte rule alone lets every window's STATE through here (a
  // day of events outweighs a STATE of this size more than tenfold).
  useStateAfterEveryWindow();

  const eventsOnly = () => writeJson(suite.dir, 'cat-events.json', catalogFor(['events']));
  const aggregatesOnly = () => writeJson(suite.dir, 'cat-agg.json', catalogFor(['aggregates']));

  const endpointRequests = (endpoint: string) => suite.sim.requests.filter((r) => r.endpoint === endpoint);

  function expectEventsTruth(run: TapRun): void {
    expect(run.code, run.stderr).to.equal(0);
    expect(run.badLines).to.deep.equal([]);
    expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    expectNoRepeats(run, 'events');
  }

  /** Every STATE comes after every record its bookmark covers (checked against the ground truth). */
  function expectStateAfterItsRecords(run: TapRun): void {
    const truth = suite.sim.truth.events({ start: START, end: END });
    const emitted = new Set<string>();
    let states = 0;
    for (const m of run.messages) {
      if (m.type === 'RECORD' && m.stream === 'events') emitted.add(m.record.id);
      if (m.type === 'STATE' && m.value.bookmarks?.events) {
        states++;
        const mark = m.value.bookmarks.events.replication_key_value as string;
        const notYet = truth.filter((r) => r.time! < mark && !emitted.has(r.id as string)).map((r) => r.id);
        expect(notYet, `STATE ${mark} written before the records it covers`).to.deep.equal([]);
      }
    }
    expect(states).to.be.at.least(DAYS);
  }

  // `wait`: the logged wait before the retry, in seconds (TAP_SCARF_RETRY_BASE_MS=5 scales every
  // wait, Retry-After included, by 5/1000: Retry-After 40 s → 0.200 s).
  const cases: {
    name: string;
    fault: () => FaultSpec;
    reason: RegExp;
    wait?: [number, number];
    extra?: Record<string, unknown>;
  }[] = [
    {
      name: '429 with Retry-After in seconds',
      fault: () => ({ kind: '429', retryAfter: 40 }),
      reason: /HTTP 429/,
      wait: [0.2, 0.2],
    },
    { name: '500', fault: () => ({ kind: '500' }), reason: /HTTP 500/ },
    // An HTTP-date 60 s ahead (second precision) → about 0.3 s.
    {
      name: '503 with an HTTP-date Retry-After',
      fault: () => ({ kind: '503', retryAfter: new Date(Date.now() + 60_000).toUTCString() }),
      reason: /HTTP 503/,
      wait: [0.25, 0.3],
    },
    {
      name: 'connection reset before the headers',
      fault: () => ({ kind: 'reset-before-headers' }),
      reason: /ECONNRESET|socket|closed/i,
    },
    {
      name: 'connection reset mid-body',
      fault: () => ({ kind: 'reset-mid-body' }),
      reason: /incomplete body.*failed before its end/,
    },
    {
      name: 'body cut after a complete line (chunked, no terminator)',
      fault: () => ({ kind: 'cut-after-line' }),
      reason: /incomplete body.*failed before its end/,
    },
    {
      name: 'body cut after a complete line (short of its Content-Length)',
      fault: () => ({ kind: 'cut-after-line', contentLength: true }),
      reason: /incomplete body/,
    },
    { name: 'body cut mid-row (socket closed)', fault: () => ({ kind: 'cut-mid-row' }), reason: /incomplete body/ },
    {
      name: 'body cut mid-row, response ended cleanly',
      fault: () => ({ kind: 'cut-mid-row', endCleanly: true }),
      reason: /incomplete body.*middle of row \d+ \(\d+ of 24 fields\)/,
    },
    {
      name: 'unterminated quote, response ended cleanly',
      fault: () => ({ kind: 'unterminated-quote', endCleanly: true }),
      reason: /incomplete body.*inside a quoted field/,
    },
    {
      name: 'no headers within request_timeout_seconds (latency 2.5 s, timeout 1 s)',
      fault: () => ({ kind: 'latency', latencyMs: 2500 }),
      reason: /UND_ERR_HEADERS_TIMEOUT|Headers Timeout/i,
      extra: { request_timeout_seconds: 1 },
    },
    {
      name: 'a body that stalls longer than request_timeout_seconds (2.5 s, timeout 1 s)',
      fault: () => ({ kind: 'stall-mid-body', latencyMs: 2500 }),
      reason: /incomplete body.*(UND_ERR_BODY_TIMEOUT|Body Timeout)/i,
      extra: { request_timeout_seconds: 1 },
    },
  ];

  for (const c of cases) {
    it(`events: ${c.name} → retried; truth, ${DAYS}+1 requests, no record twice`, async () => {
      suite.sim.setFaults([{ ...c.fault(), endpoint: 'events', nth: 2 }]);
      const run = await runCheckedInProcess(['--config', config(c.extra), '--catalog', eventsOnly()], {}, suite.sim);
      expectEventsTruth(run);
      const reqs = endpointRequests('events');
      expect(reqs.length, 'requests: one per day window plus the one retry').to.equal(DAYS + 1);
      expect(reqs.filter((r) => r.fault).length).to.equal(1);
      const retries = run.stderr.split('\n').filter((l) => /attempt 1 failed/.test(l));
      expect(retries, run.stderr).to.have.length(1);
      expect(retries[0]).to.match(/^WARNING events 2026-10-0\d\.\.2026-10-0\d: attempt 1 failed \(/);
      expect(retries[0]).to.match(c.reason);
      const wait = /retry 1 of 8 in (\d+\.\d{3}) s$/.exec(retries[0]!);
      expect(wait, retries[0]).to.not.equal(null);
      if (c.wait) expect(Number(wait![1]), 'the wait honours Retry-After').to.be.within(c.wait[0], c.wait[1]);
      else expect(Number(wait![1]), 'backoff with jitter: base 5 ms for the first retry').to.be.at.most(0.005);
      expectStateAfterItsRecords(run);
    });
  }

  it('events: a body cut after some rows emits each row once — the retry emits only the rows the failed attempt had not', async () => {
    // 5 rows go out before the cut; they are complete records and stay emitted; the retry skips them.
    suite.sim.setFaults([{ kind: 'cut-mid-row', endpoint: 'events', nth: 1, afterRows: 5 }]);
    const run = await runCheckedInProcess(
      ['--config', config({ max_concurrent_requests: 1 }), '--catalog', eventsOnly()],
      {},
      suite.sim,
    );
    expectEventsTruth(run);
    // Output order: the first window's records, then its STATE; the first five are the ones the cut attempt delivered.
    const firstState = run.messages.findIndex((m) => m.type === 'STATE');
    const firstWindow = run.messages
      .slice(0, firstState)
      .filter((m) => m.type === 'RECORD')
      .map((m) => m.record);
    expect(firstWindow.every((r) => r.time.startsWith('2026-10-01'))).to.equal(true);
    expect(new Set(firstWindow.map((r) => r.id)).size).to.equal(suite.sim.truth.events({ start: START, end: START }).length);
    expect(run.stderr).to.match(/events: \d+ records, [1-9]\d* duplicate rows dropped/);
  });

  for (const c of [
    { name: 'cut mid-line (socket closed)', fault: { kind: 'cut-mid-row' } as FaultSpec },
    { name: 'cut after a complete line', fault: { kind: 'cut-after-line' } as FaultSpec },
  ]) {
    it(`aggregates (NDJSON): ${c.name} → retried; truth, N+1 requests, no row twice`, async () => {
      suite.sim.setFaults([{ ...c.fault, endpoint: 'aggregates', nth: 2 }]);
      const run = await runCheckedInProcess(['--config', config(), '--catalog', aggregatesOnly()], {}, suite.sim);
      expect(run.code, run.stderr).to.equal(0);
      expectSameRecords(
        streamRecords(run, 'aggregates'),
        suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: BREAKDOWNS }),
        'row_key',
        'aggregates',
      );
      expectNoRepeats(run, 'aggregates');
      expect(endpointRequests('aggregates')).to.have.length(DAYS + 1);
      expect(run.stderr).to.match(/WARNING aggregates 2026-10-0\d\.\.2026-10-0\d: attempt 1 failed \(.+\); retry 1 of 8/);
    });
  }

  it('company_rollup and company_events: a cut body is retried too', async () => {
    suite.sim.setFaults([
      { kind: 'cut-after-line', endpoint: 'company-rollup', nth: 1 },
      { kind: 'reset-mid-body', endpoint: 'company-events', nth: 1 },
    ]);
    const run = await runCheckedInProcess(
      ['--config', config(), '--catalog', writeJson(suite.dir, 'cat-co.json', catalogFor(['company_rollup', 'company_events']))],
      {},
      suite.sim,
    );
    expect(run.code, run.stderr).to.equal(0);
    expectSameRecords(streamRecords(run, 'company_rollup'), suite.sim.truth.companyRollup(), 'company_domain', 'company_rollup');
    const asked = [...new Set(endpointRequests('company-events').map((r) => r.domain!))];
    const companyTruth = asked.flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }));
    expectSameRecords(streamRecords(run, 'company_events'), companyTruth, 'id', 'company_events');
    expect(suite.sim.truth.activeDomains({ start: START, end: END }).every((d) => asked.includes(d))).to.equal(true);
    expectNoRepeats(run, 'company_rollup');
    expectNoRepeats(run, 'company_events');
    expect(endpointRequests('company-rollup')).to.have.length(2);
    expect(endpointRequests('company-events')).to.have.length(asked.length + 1);
  });

  describe('bounded retries', () => {
    it('max_retries bounds the attempts: the window fails, the other streams finish, exit 1 with a summary', async () => {
      suite.sim.setFaults([{ kind: '500', endpoint: 'events', nth: 1, times: 1000 }]);
      const run = await runCheckedInProcess(
        [
          '--config',
          config({ max_retries: 2, max_concurrent_requests: 1 }),
          '--catalog',
          writeJson(suite.dir, 'cat-ea.json', catalogFor(['events', 'aggregates'])),
        ],
        {},
        suite.sim,
      );
      expect(run.code).to.equal(1);
      // One window: 1 + 2 retries; the stream stops there.
      expect(endpointRequests('events')).to.have.length(3);
      expect(run.stderr).to.match(
        /events 2026-10-01\.\.2026-10-01: giving up after 3 attempts \(max_retries 2, .*\); last failure: HTTP 500/,
      );
      expect(run.stderr).to.match(
        /ERROR 1 of 2 stream\(s\) failed: events: events 2026-10-01\.\.2026-10-01: giving up after 3 attempts/,
      );
      // aggregates still ran to the end and committed its state.
      expectSameRecords(
        streamRecords(run, 'aggregates'),
        suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: BREAKDOWNS }),
        'row_key',
        'aggregates',
      );
      expect(lastState(run)!.bookmarks.aggregates.replication_key_value).to.equal(END);
      expect(lastState(run)!.bookmarks.events).to.equal(undefined);
      expect(run.badLines).to.deep.equal([]);
    });

    it('max_retry_wait_seconds bounds the total wait, Retry-After included', async () => {
      // Retry-After 400 s scales to 2 s, more than the 1 s budget: asking again before Scarf
      // allows would only be refused (and billed), so the tap gives up at once.
      suite.sim.setFaults([{ kind: '429', endpoint: 'events', nth: 1, times: 1000, retryAfter: 400 }]);
      const t0 = Date.now();
      const run = await runCheckedInProcess(
        ['--config', config({ max_retry_wait_seconds: 1, max_concurrent_requests: 1 }), '--catalog', eventsOnly()],
        {},
        suite.sim,
      );
      expect(run.code).to.equal(1);
      expect(endpointRequests('events')).to.have.length(1);
      expect(run.stderr).not.to.match(/retry 1 of 8/);
      expect(run.stderr).to.match(
        /giving up after 1 attempt \(max_retries 8, 0 s waited of max_retry_wait_seconds 1\); last failure: HTTP 429 with Retry-After 400, longer than the wait left \(raise max_retry_wait_seconds/,
      );
      expect(Date.now() - t0).to.be.below(15_000);
    });

    it('max_retry_wait_seconds 0 means no retry at all', async () => {
      suite.sim.setFaults([{ kind: '503', endpoint: 'events', nth: 1 }]);
      const run = await runCheckedInProcess(
        ['--config', config({ max_retry_wait_seconds: 0 }), '--catalog', eventsOnly()],
        {},
        suite.sim,
      );
      expect(run.code).to.equal(1);
      expect(endpointRequests('events').filter((r) => r.query.start_date![0] === START)).to.have.length(1);
      expect(run.stderr).to.match(/giving up after 1 attempt /);
    });
  });
});
