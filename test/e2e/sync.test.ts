// End-to-end: the CLI (in the test process, helpers/in-process.ts; a process where it is killed) against the simulator, compared with the simulator's ground truth.
import { expect } from 'chai';

import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, expectSameRecords } from '../helpers/reliability.js';
import { recordValidators } from '../helpers/schemas.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { byKey, lastState, records, runTap, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-06';
const SIM_NOW = new Date('2026-10-07T12:00:00Z');
const BREAKDOWNS = ['by-total', 'by-country', 'by-company'];

describe('sync against the simulator (Singer)', function () {
  this.timeout(120_000);
  const suite = useSimulator(
    { seed: 7, dataStart: '2026-07-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 60, companies: 14 },
    {
      start_date: START,
      end_date: END,
      aggregates_breakdowns: BREAKDOWNS,
    },
    'tap-scarf-test-',
  );
  const config = suite.config;

  function expectTruth(run: TapRun): void {
    expect(run.code, run.stderr).to.equal(0);
    expect(run.badLines, 'stdout holds only Singer messages').to.deep.equal([]);
    // A full sync emits each record once: Scarf's duplicate rows are dropped within a window.
    for (const [stream, key] of [
      ['events', 'id'],
      ['aggregates', 'row_key'],
      ['company_rollup', 'company_domain'],
      ['company_events', 'id'],
    ]) {
      const rows = records(run, stream!);
      expect(new Set(rows.map((r) => r[key!])).size, `${stream} emitted a key twice`).to.equal(rows.length);
    }
    expectSameRecords(records(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    expectSameRecords(
      records(run, 'aggregates'),
      suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: BREAKDOWNS }),
      'row_key',
      'aggregates',
    );
    expectSameRecords(records(run, 'company_rollup'), suite.sim.truth.companyRollup(), 'company_domain', 'company_rollup');
    const companyTruth = suite.sim.companyDomains().flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }));
    expectSameRecords(records(run, 'company_events'), companyTruth, 'id', 'company_events');
  }

  for (const [timestampStyle, booleanStyle] of [
    ['pg', 'tf'],
    ['iso', 'truefalse'],
  ] as const) {
    it(`a full sync of every stream equals the ground truth (${timestampStyle} timestamps, ${booleanStyle} booleans)`, async () => {
      suite.sim.setOptions({ timestampStyle, booleanStyle });
      try {
        const run = await runInProcess(['--config', config()]);
        expectTruth(run);
        // Every record validates against its schema, formats included, and carries nothing else.
        const validators = recordValidators();
        for (const m of run.messages.filter((x) => x.type === 'RECORD')) {
          const problem = validators[m.stream]!(m.record);
          expect(problem, `${m.stream} record ${JSON.stringify(m.record).slice(0, 200)}`).to.equal(undefined);
        }
        // SCHEMA precedes the first RECORD of its stream.
        const seenSchema = new Set<string>();
        for (const m of run.messages) {
          if (m.type === 'SCHEMA') seenSchema.add(m.stream);
          if (m.type === 'RECORD') expect(seenSchema.has(m.stream), `SCHEMA before RECORD of ${m.stream}`).to.equal(true);
        }
      } finally {
        suite.sim.setOptions({ timestampStyle: 'pg', booleanStyle: 'tf' });
      }
    });
  }

  it('de-duplicates ids Scarf sends twice and keeps microseconds', async () => {
    const run = await runInProcess(['--config', config()]);
    const ev = records(run, 'events');
    expect(new Set(ev.map((r) => r.id)).size).to.equal(ev.length);
    expect(run.stderr).to.match(/events: \d+ records, [1-9]\d* duplicate rows dropped/);
    expect(ev.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(r.time))).to.equal(true);
  });

  it('commits a STATE per completed events window, after its records, with the coverage bookmark (throttle interval lifted)', async () => {
    // The byte rule alone: a day of events outweighs a STATE of one bookmark more than tenfold,
    // so every window's STATE goes out (the default 10 s interval would hold them all back here).
    const run = await runInProcess(
      ['--config', config(), '--catalog', writeJson(suite.dir, 'cat-events.json', catalogFor(['events']))],
      {
        env: { TAP_SCARF_STATE_INTERVAL_MS: '0' },
      },
    );
    expect(run.code, run.stderr).to.equal(0);
    const state = lastState(run)!;
    expect(state.bookmarks.events).to.deep.equal({
      replication_key: 'time',
      replication_key_value: '2026-10-07T00:00:00.000000Z',
      settings: { start_date: START, package_query: null },
      owner: 'acme-oss',
    });
    // Every STATE's events bookmark is a day boundary at or after every record before it.
    let maxTime = '';
    for (const m of run.messages) {
      if (m.type === 'RECORD') maxTime = m.record.time > maxTime ? m.record.time : maxTime;
      if (m.type === 'STATE' && m.value.bookmarks.events)
        expect(m.value.bookmarks.events.replication_key_value > maxTime).to.equal(true);
    }
    const eventRequests = suite.sim.requests.filter((r) => r.endpoint === 'events');
    // Sorted: concurrent windows reach the server in any order (the records' order is checked above).
    expect(eventRequests.map((r) => r.query.start_date![0]).sort()).to.deep.equal([
      '2026-10-01',
      '2026-10-02',
      '2026-10-03',
      '2026-10-04',
      '2026-10-05',
      '2026-10-06',
    ]);
    expect(run.messages.filter((m) => m.type === 'STATE').length).to.be.at.least(6);
  });

  it('throttled by default: a sync shorter than 10 s writes one STATE per stream, after its last record, with every bookmark', async () => {
    const run = await runInProcess(['--config', config()]);
    expect(run.code, run.stderr).to.equal(0);
    const kinds = run.messages.map((m) => (m.type === 'STATE' ? 'STATE' : m.type === 'RECORD' ? m.stream : 'SCHEMA'));
    const states = kinds.map((k, i) => (k === 'STATE' ? i : -1)).filter((i) => i >= 0);
    expect(states, 'one STATE per stream').to.have.length(4);
    // Each STATE right before the next stream's SCHEMA (or at the end): after its stream's records.
    for (const i of states) expect(kinds[i + 1] ?? 'SCHEMA').to.equal('SCHEMA');
    const last = lastState(run)!;
    expect(Object.keys(last.bookmarks).sort()).to.deep.equal(['aggregates', 'company_events', 'company_rollup', 'events']);
    expect(last.bookmarks.company_events.partitions.length).to.equal(
      new Set(suite.sim.requests.filter((r) => r.endpoint === 'company-events').map((r) => r.domain)).size,
    );
  });

  it("a second sync from the first one's state loses nothing and re-reads only the lookback", async () => {
    const cat = writeJson(suite.dir, 'cat-ev.json', catalogFor(['events', 'company_events', 'company_rollup']));
    suite.sim.setNow(new Date('2026-10-04T12:00:00Z'));
    const first = await runInProcess(['--config', config({ end_date: '2026-10-04', lookback_days: 2 }), '--catalog', cat]);
    expect(first.code, first.stderr).to.equal(0);
    const state1 = lastState(first)!;
    expect(state1.bookmarks.events.replication_key_value).to.equal('2026-10-05T00:00:00.000000Z');

    suite.sim.setNow(new Date('2026-10-07T12:00:00Z'));
    suite.sim.resetRequests();
    const second = await runInProcess([
      '--config',
      config({ end_date: END, lookback_days: 2 }),
      '--catalog',
      cat,
      '--state',
      writeJson(suite.dir, 'state1.json', state1),
    ]);
    expect(second.code, second.stderr).to.equal(0);
    // Re-read only from bookmark day − lookback: 2026-10-03 onwards.
    const ev2 = records(second, 'events');
    expect(
      ev2.every((r) => r.time >= '2026-10-03T00:00:00.000000Z'),
      'second sync re-emits only the lookback window',
    ).to.equal(true);
    // Sorted: concurrent windows reach the server in any order.
    expect(
      suite.sim.requests
        .filter((r) => r.endpoint === 'events')
        .map((r) => r.query.start_date![0])
        .sort(),
    ).to.deep.equal(['2026-10-03', '2026-10-04', '2026-10-05', '2026-10-06']);
    // Together the two syncs hold every event of the range as Scarf knows it now (late arrivals included).
    const union = new Map([...byKey(records(first, 'events'), 'id'), ...byKey(ev2, 'id')]);
    expectSameRecords([...union.values()], suite.sim.truth.events({ start: START, end: END }), 'id', 'events after two syncs');
    const cUnion = new Map([...byKey(records(first, 'company_events'), 'id'), ...byKey(records(second, 'company_events'), 'id')]);
    const companyTruth = suite.sim.companyDomains().flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }));
    expectSameRecords([...cUnion.values()], companyTruth, 'id', 'company_events after two syncs');
    // company_rollup only re-emits companies seen since the bookmark (>=).
    const rb = state1.bookmarks.company_rollup.replication_key_value;
    expect(records(second, 'company_rollup').every((r) => r.last_seen === null || r.last_seen >= rb)).to.equal(true);
    // The per-stream summary counts what was written, not what the snapshot held.
    expect(second.stderr).to.include(`company_rollup: ${records(second, 'company_rollup').length} records,`);
    expect(records(second, 'company_rollup').length).to.be.lessThan(suite.sim.truth.companyRollup().length);
  });

  // A bookmark past the signpost: test/e2e/state-settings.test.ts.

  it('company_events asks only for companies with activity in the synced range', async () => {
    const run = await runInProcess([
      '--config',
      config(),
      '--catalog',
      writeJson(suite.dir, 'cat-ce.json', catalogFor(['company_events'])),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const asked = suite.sim.requests
      .filter((r) => r.endpoint === 'company-events')
      .map((r) => r.domain)
      .sort();
    const active = new Set(suite.sim.truth.activeDomains({ start: START, end: '2026-10-07' }));
    expect(asked.length).to.be.greaterThan(0);
    expect(
      asked.every((d) => active.has(d!)),
      `asked ${asked} but active ${[...active]}`,
    ).to.equal(true);
    expect(asked.length).to.be.lessThan(suite.sim.companyDomains().length);
    expect(suite.sim.requests.filter((r) => r.endpoint === 'company-rollup')).to.have.length(1);
    const state = lastState(run)!;
    expect(state.bookmarks.company_events.partitions.map((p: any) => p.context.company_domain).sort()).to.deep.equal(asked);
  });

  it('a sync killed with SIGKILL and restarted from its last STATE ends with the ground truth complete', async () => {
    suite.sim.setOptions({ latencyMs: 40 });
    try {
      const cfg = config();
      const killAt = 20 + Math.floor(Math.random() * 400);
      const killed = await runTap(['--config', cfg], { killAfterLines: { lines: killAt, signal: 'SIGKILL' } });
      const state = lastState(killed);
      const rerun = await runInProcess([
        '--config',
        cfg,
        ...(state ? ['--state', writeJson(suite.dir, 'killed-state.json', state)] : []),
      ]);
      expect(rerun.code, rerun.stderr).to.equal(0);
      for (const [stream, key] of [
        ['events', 'id'],
        ['company_events', 'id'],
        ['company_rollup', 'company_domain'],
        ['aggregates', 'row_key'],
      ] as const) {
        const union = new Map([...byKey(records(killed, stream), key), ...byKey(records(rerun, stream), key)]);
        const truth =
          stream === 'events'
            ? suite.sim.truth.events({ start: START, end: END })
            : stream === 'company_events'
              ? suite.sim.companyDomains().flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }))
              : stream === 'company_rollup'
                ? suite.sim.truth.companyRollup()
                : suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: BREAKDOWNS });
        expectSameRecords([...union.values()], truth, key, `${stream} after kill at line ${killAt} + resume`);
      }
    } finally {
      suite.sim.setOptions({ latencyMs: 0 });
    }
  });

  it('splits a window Scarf refuses as range-too-long and remembers the limit', async () => {
    suite.sim.setOptions({ maxRangeDays: 2 });
    try {
      const run = await runInProcess([
        '--config',
        // Only company-events' refusals are counted here; the counts' request learns its own limit.
        config({ verify_counts: false }),
        '--catalog',
        writeJson(suite.dir, 'cat-ce2.json', catalogFor(['company_events'])),
      ]);
      expect(run.code, run.stderr).to.equal(0);
      const companyTruth = suite.sim
        .companyDomains()
        .flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }));
      expectSameRecords(records(run, 'company_events'), companyTruth, 'id', 'company_events with a 2-day limit');
      const refused = suite.sim.requests.filter((r) => r.status === 400);
      expect(refused.length, 'only the first over-long request is refused; the limit is remembered').to.be.at.most(2);
    } finally {
      suite.sim.setOptions({ maxRangeDays: 31 });
    }
  });
});
