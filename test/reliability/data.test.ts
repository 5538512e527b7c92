// Malformed data: a complete response holding a row the tap cannot read or type stops that stream
// with an error naming stream, window, row/line and column; no record is dropped silently or
// emitted half-typed; the other streams still finish and commit their state; exit 1 with a
// summary of what failed.
import { expect } from 'chai';

import type { FaultSpec } from '../../sim/index.js';
import { catalogFor, expectSameRecords, runCheckedInProcess, type Stream, streamRecords, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-03';
const SIM_NOW = new Date('2026-10-07T12:00:00Z');
const BREAKDOWNS = ['by-total', 'by-country'];

describe('reliability: malformed data stops the stream, never a dropped or half-typed record', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    { seed: 5, token: TOKEN, dataStart: '2026-09-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 30, companies: 6 },
    {
      start_date: START,
      end_date: END,
      events_window_days: 1,
      aggregates_window_days: 1,
      aggregates_breakdowns: BREAKDOWNS,
      // One request at a time: the failing window is always the second one.
      max_concurrent_requests: 1,
      // The faults here target the nth aggregates request of the stream itself, not the
      // counts' request verify_counts makes first (test/reliability/counts.test.ts).
      verify_counts: false,
    },
    'tap-scarf-data-',
  );
  const config = suite.config;

  const truthOf = (stream: Stream, domains?: string[]) => {
    switch (stream) {
      case 'events':
        return suite.sim.truth.events({ start: START, end: END });
      case 'aggregates':
        return suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: BREAKDOWNS });
      case 'company_rollup':
        return suite.sim.truth.companyRollup();
      case 'company_events':
        return (domains ?? suite.sim.companyDomains()).flatMap((d) =>
          suite.sim.truth.companyEvents(d, { start: START, end: END }),
        );
    }
  };
  const KEYS: Record<Stream, string> = {
    events: 'id',
    aggregates: 'row_key',
    company_rollup: 'company_domain',
    company_events: 'id',
  };

  /** Every record the failed stream did emit is exactly the truth's record: none half-typed. */
  function expectOnlyTrueRecords(run: TapRun, stream: Stream): void {
    const truth = new Map(truthOf(stream).map((r) => [r[KEYS[stream]] as string, r]));
    for (const rec of streamRecords(run, stream)) {
      expect(rec, `${stream} record ${rec[KEYS[stream]]}`).to.deep.equal(truth.get(rec[KEYS[stream]]));
    }
  }

  function expectFinished(run: TapRun, streams: Stream[]): void {
    const state = lastState(run)!;
    for (const s of streams) {
      const domains =
        s === 'company_events'
          ? [...new Set(suite.sim.requests.filter((r) => r.endpoint === 'company-events').map((r) => r.domain!))]
          : undefined;
      expectSameRecords(streamRecords(run, s), truthOf(s, domains), KEYS[s], `${s} (not affected by the other stream's failure)`);
      expect(state.bookmarks[s], `${s} committed its state`).to.not.equal(undefined);
      if (s === 'aggregates') expect(state.bookmarks.aggregates.replication_key_value).to.equal(END);
      if (s === 'events') expect(state.bookmarks.events.replication_key_value).to.equal('2026-10-04T00:00:00.000000Z');
    }
  }

  const cases: { name: string; streams: Stream[]; failing: Stream; fault: FaultSpec; message: RegExp; bookmark?: unknown }[] = [
    {
      name: 'events: a row with the wrong number of fields',
      streams: ['events', 'aggregates', 'company_rollup', 'company_events'],
      failing: 'events',
      fault: { kind: 'malformed-row', endpoint: 'events', nth: 2, afterRows: 7 },
      message:
        /ERROR 1 of 4 stream\(s\) failed: events: Stream events, window events 2026-10-02\.\.2026-10-02: CSV data row 8 has 22 fields but the header has 24/,
      bookmark: {
        replication_key: 'time',
        replication_key_value: '2026-10-02T00:00:00.000000Z',
        settings: { start_date: START, package_query: null },
        owner: 'acme-oss',
      },
    },
    {
      name: 'events: an unparseable timestamp',
      streams: ['events', 'aggregates'],
      failing: 'events',
      fault: { kind: 'bad-value', endpoint: 'events', nth: 2, afterRows: 4, column: 'time', value: '2026-10-02 25:61:00+00' },
      message:
        /failed: events: Stream events, window events 2026-10-02\.\.2026-10-02, row 5: column "time": invalid timestamp "2026-10-02 25:61:00\+00"/,
      bookmark: {
        replication_key: 'time',
        replication_key_value: '2026-10-02T00:00:00.000000Z',
        settings: { start_date: START, package_query: null },
        owner: 'acme-oss',
      },
    },
    {
      name: 'events: an unparseable boolean',
      streams: ['events', 'aggregates'],
      failing: 'events',
      fault: { kind: 'bad-value', endpoint: 'events', nth: 1, afterRows: 0, column: 'dnt', value: 'maybe' },
      message:
        /failed: events: Stream events, window events 2026-10-01\.\.2026-10-01, row 1: column "dnt": invalid boolean "maybe"/,
    },
    {
      name: 'company_events: an unparseable number',
      streams: ['aggregates', 'company_events'],
      failing: 'company_events',
      fault: { kind: 'bad-value', endpoint: 'company-events', nth: 2, afterRows: 1, column: 'origin_latitude', value: '52,5N' },
      message:
        // One company's bad body is that company's failure: the others are read (issue 18, item 6).
        /failed: company_events: 1 company failed \(its bookmark stays; the other \d+ were read and committed\): \S+ \(1 failed sync in a row: Stream company_events, window company_events \S+ 2026-10-01\.\.2026-10-03, row 2: column "origin_latitude": invalid number "52,5N"/,
    },
    {
      name: 'aggregates: a line that is not JSON',
      streams: ['events', 'aggregates'],
      failing: 'aggregates',
      fault: { kind: 'bad-json-line', endpoint: 'aggregates', nth: 2, afterRows: 3 },
      message:
        /failed: aggregates: Stream aggregates, window aggregates 2026-10-02\.\.2026-10-02: NDJSON line 4 is not valid JSON/,
      bookmark: {
        replication_key: 'date',
        replication_key_value: '2026-10-01',
        breakdowns: { 'by-total': '2026-10-01', 'by-country': '2026-10-01' },
        settings: { start_date: START, package_query: null, rollup: 'daily' },
        owner: 'acme-oss',
      },
    },
    {
      name: 'aggregates: a count that is not an integer',
      streams: ['events', 'aggregates'],
      failing: 'aggregates',
      fault: { kind: 'bad-value', endpoint: 'aggregates', nth: 3, afterRows: 2, column: 'total', value: 'lots' },
      message:
        /failed: aggregates: Stream aggregates, window aggregates 2026-10-03\.\.2026-10-03, line 3: field "total": invalid integer "lots"/,
      bookmark: {
        replication_key: 'date',
        replication_key_value: '2026-10-02',
        breakdowns: { 'by-total': '2026-10-02', 'by-country': '2026-10-02' },
        settings: { start_date: START, package_query: null, rollup: 'daily' },
        owner: 'acme-oss',
      },
    },
  ];

  // The rollup is company_events' list of companies: when the sync's one rollup request fails,
  // company_events fails with that cause instead of paying for the same answer again.
  it('company_rollup: an unparseable integer → company_events fails with that cause, no second rollup request; exit 1', async () => {
    suite.sim.setFaults([
      { kind: 'bad-value', endpoint: 'company-rollup', nth: 1, afterRows: 2, column: 'total_events', value: '12x' },
    ]);
    const run = await runCheckedInProcess(
      ['--config', config(), '--catalog', writeJson(suite.dir, 'cat.json', catalogFor(['company_rollup', 'company_events']))],
      {},
      suite.sim,
    );
    expect(run.code, run.stderr).to.equal(1);
    expect(suite.sim.requests.map((r) => r.endpoint)).to.deep.equal(['company-rollup']);
    expectOnlyTrueRecords(run, 'company_rollup');
    expect(streamRecords(run, 'company_events')).to.deep.equal([]);
    const cause =
      'Stream company_rollup, window company-rollup snapshot, row 3: column "total_events": invalid integer "12x": expected an integer such as 42';
    expect(run.stderr).to.contain(
      `no bookmark; FAILED: company_events needs the list of companies from company-rollup, whose request failed earlier in this sync (no second request made): ${cause}. Fix that and run again, or set company_domains`,
    );
    const lines = run.stderr.trim().split('\n');
    expect(lines[lines.length - 1]).to.match(/^ERROR 2 of 2 stream\(s\) failed: company_rollup: .*\| company_events: /);
  });

  it('company_events alone, its rollup request answered 500 until retries run out → one retried request, then it fails naming the cause', async () => {
    suite.sim.setFaults([{ kind: '500', endpoint: 'company-rollup', nth: 1, times: 100 }]);
    const run = await runCheckedInProcess(
      ['--config', config({ max_retries: 2 }), '--catalog', writeJson(suite.dir, 'cat.json', catalogFor(['company_events']))],
      {},
      suite.sim,
    );
    expect(run.code, run.stderr).to.equal(1);
    // 1 + max_retries attempts of the one request, and no company-events request without a list.
    expect(suite.sim.requests.map((r) => r.endpoint)).to.deep.equal(['company-rollup', 'company-rollup', 'company-rollup']);
    expect(run.stderr).to.match(
      /company_events needs the list of companies from company-rollup, whose request failed \(no second request made\): company-rollup snapshot: giving up after 3 attempts/,
    );
    expect(lastState(run)?.bookmarks?.company_events).to.equal(undefined);
  });

  for (const c of cases) {
    it(`${c.name} → the stream stops with stream, window, row and column named; the others finish; exit 1`, async () => {
      suite.sim.setFaults([c.fault]);
      const run = await runCheckedInProcess(
        ['--config', config(), '--catalog', writeJson(suite.dir, 'cat.json', catalogFor(c.streams))],
        {},
        suite.sim,
      );
      expect(run.code, run.stderr).to.equal(1);
      expect(run.badLines).to.deep.equal([]);
      expect(run.stderr).to.match(c.message);
      // Data errors are not retried: exactly one request hit the bad response.
      expect(suite.sim.requests.filter((r) => r.fault).length).to.equal(1);
      expect(run.stderr).to.not.match(/attempt \d+ failed/);
      expectOnlyTrueRecords(run, c.failing);
      expectFinished(
        run,
        c.streams.filter((s) => s !== c.failing),
      );
      const state = lastState(run)!;
      if (c.bookmark !== undefined)
        expect(state.bookmarks[c.failing], 'the failed stream keeps the bookmark of its last complete window').to.deep.equal(
          c.bookmark,
        );
      // The failure is the last word on stderr.
      const lines = run.stderr.trim().split('\n');
      expect(lines[lines.length - 1]).to.match(/^ERROR \d of \d stream\(s\) failed: /);
    });
  }
});
