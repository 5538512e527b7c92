// The Runs plan (`--plan`, `plan`) against what the sync then does (the simulator's request
// log), the request budget (max_requests_per_sync), and the range-limit search on a long
// backfill, all end to end.
import { expect } from 'chai';

import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, expectSameRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, records, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const MID = '2026-10-08';
const END = '2026-10-12';
const SIM_NOW = new Date('2026-10-13T12:00:00Z');
const STREAMS = ['events', 'aggregates', 'company_rollup', 'company_events'];
const ENDPOINT: Record<string, string> = {
  events: 'events',
  aggregates: 'aggregates',
  company_rollup: 'company-rollup',
  company_events: 'company-events',
  pixel_events: 'pixel-events',
  company_package_rollup: 'company-package-rollup',
  company_pixel_rollup: 'company-pixel-rollup',
  aggregations: 'aggregations',
};
/** Every stream, the opt-in 2026 exports included. */
const EVERY_STREAM = Object.keys(ENDPOINT);

/** Requests per stream, from the sync's own summary lines ("events: … 12 API requests (Scarf Runs) …"). */
function requestsPerStream(run: TapRun): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of run.stderr.matchAll(/^(?:INFO|WARNING|ERROR) (\w+): \d+ records, .*?, (\d+) API requests \(Scarf Runs\)/gm))
    out[m[1]!] = Number(m[2]);
  return out;
}

describe('the Runs plan and the request budget', function () {
  this.timeout(180_000);
  const suite = useSimulator(
    { seed: 5, dataStart: '2026-08-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 30, companies: 14 },
    { start_date: START, end_date: END, aggregates_breakdowns: ['by-total', 'by-company'] },
  );
  // What the plan says each endpoint receives: a stream's requests on its own endpoint, and
  // its requests for Scarf's counts (verify_counts) on the aggregates endpoint.
  const endpointPlan = (planned: Record<string, any>, streams: readonly string[]) => {
    const out: Record<string, number> = {};
    for (const s of streams) {
      const counts = (planned.counts?.[s] as number | undefined) ?? 0;
      out[ENDPOINT[s]!] = (out[ENDPOINT[s]!] ?? 0) + planned.streams[s] - counts;
      out.aggregates = (out.aggregates ?? 0) + counts;
    }
    return out;
  };
  const byEndpoint = () => {
    const out: Record<string, number> = {};
    for (const r of suite.sim.requests) out[r.endpoint] = (out[r.endpoint] ?? 0) + 1;
    return out;
  };

  async function plan(args: string[]): Promise<Record<string, any>> {
    suite.sim.resetRequests();
    const run = await runInProcess(args);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines, 'one JSON object').to.have.length(1);
    return JSON.parse(lines[0]!);
  }

  for (const streams of [STREAMS, EVERY_STREAM, ['events', 'company_events'], ['aggregates', 'company_rollup']]) {
    it(`--plan equals the requests of the sync, full then incremental (${streams.join(', ')})`, async () => {
      const catalog = writeJson(suite.dir, `cat-${streams.join('-')}.json`, catalogFor(streams));
      const first = suite.config({ end_date: MID });
      const planned = await plan(['--config', first, '--catalog', catalog, '--plan', '--format', 'json']);
      const needsRollup = streams.includes('company_events');
      expect(
        suite.sim.requests.map((r) => r.endpoint),
        'the plan reads the rollup only to count companies',
      ).to.deep.equal(needsRollup ? ['company-rollup'] : []);
      expect(planned.plan_requests).to.equal(needsRollup ? 1 : 0);
      // Ranges over one day, Scarf's limit not known yet: each refusal would cost a request more.
      expect(planned.bound).to.equal('lower');
      expect(Object.keys(planned.streams)).to.deep.equal(streams);

      suite.sim.resetRequests();
      const full = await runInProcess(['--config', first, '--catalog', catalog]);
      expect(full.code, full.stderr).to.equal(0);
      expect(requestsPerStream(full)).to.deep.equal(planned.streams);
      expect(suite.sim.requests.length).to.equal(planned.total);
      if (!streams.includes('company_rollup') && needsRollup)
        expect(byEndpoint()['company-rollup'], 'company_events reads the rollup itself: counted under it').to.equal(1);
      else for (const [e, n] of Object.entries(endpointPlan(planned, streams))) expect(byEndpoint()[e] ?? 0, e).to.equal(n);

      // Incremental: the next sync from that state, four days further.
      const state = writeJson(suite.dir, `state-${streams.join('-')}.json`, lastState(full));
      const later = suite.config({ end_date: END });
      const next = await plan(['--config', later, '--catalog', catalog, '--state', state, '--plan', '--format', 'json']);
      suite.sim.resetRequests();
      const incremental = await runInProcess(['--config', later, '--catalog', catalog, '--state', state]);
      expect(incremental.code, incremental.stderr).to.equal(0);
      expect(requestsPerStream(incremental)).to.deep.equal(next.streams);
      expect(suite.sim.requests.length).to.equal(next.total);
      // From the state (events covered up to 2026-10-09T00:00), events resumes a lookback day
      // before it: 2026-10-08..2026-10-12, 5 windows, not from start_date; the snapshot streams
      // cost the same either way.
      if (streams.includes('events')) expect(next.details.events).to.match(/^5 windows of 1 day, 2026-10-08\.\.2026-10-12/);
    });
  }

  it('--plan --format json: "exact" only when no range is over one day (no refusal possible), else "lower"', async () => {
    const cat = writeJson(suite.dir, 'cat-events-only.json', catalogFor(['events']));
    const exact = await plan([
      '--config',
      suite.config({ verify_counts: false }),
      '--catalog',
      cat,
      '--plan',
      '--format',
      'json',
    ]);
    expect(exact.bound).to.equal('exact');
    const wide = await plan([
      '--config',
      suite.config({ verify_counts: false, events_window_days: 3 }),
      '--catalog',
      cat,
      '--plan',
      '--format',
      'json',
    ]);
    expect(wide.bound).to.equal('lower');
    // The counts request of verify_counts spans the pending days.
    const counted = await plan(['--config', suite.config(), '--catalog', cat, '--plan', '--format', 'json']);
    expect(counted.bound).to.equal('lower');
  });

  it('--plan prints a table, and --plan-upper-bound makes no request', async () => {
    suite.sim.resetRequests();
    const text = await runInProcess(['--config', suite.config(), '--plan']);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(
      /^ {2}events +13 {2}12 windows of 1 day, 2026-10-01\.\.2026-10-12; 1 request for Scarf's counts \(verify_counts\)$/m,
    );
    expect(text.stdout).to.match(/^ {2}total +\d+$/m);
    expect(text.stdout).to.include('This plan made 1 request (the company-rollup snapshot).');

    const bound = await plan(['--config', suite.config(), '--plan-upper-bound', '--format', 'json']);
    expect(suite.sim.requests).to.deep.equal([]);
    expect(bound.plan_requests).to.equal(0);
    expect(bound.streams.company_events, 'companies cannot be counted without the rollup').to.equal(null);
    expect(bound.total).to.equal(null);
    expect(bound.bound).to.equal('unknown');

    // With company_domains the bound is a number: every listed domain, before the rollup filter.
    const domains = suite.sim.companyDomains().slice(0, 5);
    const listed = await plan(['--config', suite.config({ company_domains: domains }), '--plan-upper-bound', '--format', 'json']);
    expect(suite.sim.requests).to.deep.equal([]);
    expect(listed.streams.company_events).to.equal(5);
    expect(listed.bound).to.equal('upper');
    const exact = await plan(['--config', suite.config({ company_domains: domains }), '--plan', '--format', 'json']);
    expect(exact.streams.company_events).to.be.at.most(5);
    // The companies are counted; their multi-day ranges may still be refused.
    expect(exact.bound).to.equal('lower');
  });

  it('Airbyte: `plan` with the configured catalog and state equals the requests of `read`', async () => {
    const cfg = suite.config({ end_date: MID });
    const discovered = await runInProcess(['discover', '--config', cfg]);
    const catalog = discovered.messages.find((m) => m.type === 'CATALOG')!.catalog;
    const configured = {
      streams: catalog.streams.map((stream: Record<string, any>) => ({
        stream,
        sync_mode: 'incremental',
        cursor_field: stream.default_cursor_field,
        destination_sync_mode: 'append_dedup',
        primary_key: stream.source_defined_primary_key,
      })),
    };
    const catFile = writeJson(suite.dir, 'configured.json', configured);
    const planned = await plan(['plan', '--config', cfg, '--catalog', catFile, '--format', 'json']);
    suite.sim.resetRequests();
    const read = await runInProcess(['read', '--config', cfg, '--catalog', catFile]);
    expect(read.code, read.stderr).to.equal(0);
    expect(suite.sim.requests.length).to.equal(planned.total);
    for (const [e, n] of Object.entries(endpointPlan(planned, STREAMS))) expect(byEndpoint()[e] ?? 0, e).to.equal(n);

    // The next read, from the state the platform keeps (the last STATE of each stream).
    const states = new Map<string, unknown>();
    for (const m of read.messages) if (m.type === 'STATE') states.set(m.state.stream.stream_descriptor.name, m.state);
    const state = writeJson(suite.dir, 'airbyte-state.json', [...states.values()]);
    const later = suite.config({ end_date: END });
    const next = await plan(['plan', '--config', later, '--catalog', catFile, '--state', state, '--format', 'json']);
    suite.sim.resetRequests();
    const again = await runInProcess(['read', '--config', later, '--catalog', catFile, '--state', state]);
    expect(again.code, again.stderr).to.equal(0);
    expect(suite.sim.requests.length).to.equal(next.total);
    expect(next.total).to.be.lessThan(planned.total);

    // Airbyte Cloud users cannot run a command: check logs what a first read would cost,
    // with no request beyond its own.
    suite.sim.resetRequests();
    const check = await runInProcess(['check', '--config', cfg]);
    expect(suite.sim.requests.map((r) => r.endpoint)).to.deep.equal(['aggregates']);
    const fixed = planned.streams.events + planned.streams.aggregates + planned.streams.company_rollup;
    expect(check.messages.map((m) => m.log?.message)).to.include(
      `check: a first read of every stream (days ${START}..${MID}) would make at least ${fixed} API requests (Scarf Runs): events ${planned.streams.events}, aggregates ${planned.streams.aggregates}, company_rollup 1, company_events one per active company. The plan command counts a read from its catalog and state (README "Requests (Scarf Runs)").`,
    );

    // Without flags: the text form, and its help.
    const text = await runInProcess(['plan', '--config', later, '--catalog', catFile, '--state', state]);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/^ {2}total +\d+$/m);
    const help = await runInProcess(['plan', '--help']);
    expect(help.stdout).to.include('Usage: tap-scarf plan --config FILE');
  });

  it('max_requests_per_sync stops at exactly the budget (retries count), exit 0, and the next syncs finish the job', async () => {
    const budget = 7;
    const cfg = suite.config({ max_requests_per_sync: budget });
    const planned = await plan(['--config', cfg, '--plan', '--format', 'json']);
    expect(planned.max_requests_per_sync).to.equal(budget);
    expect(planned.total).to.be.greaterThan(2 * budget);
    const forecast = planned.syncs as number;
    expect(forecast).to.be.greaterThan(2);

    // The second events request fails once with 503: its retry is a request, and counts.
    suite.sim.setFaults([{ kind: '503', endpoint: 'events', nth: 2 }]);
    const KEYS = [
      ['events', 'id'],
      ['aggregates', 'row_key'],
      ['company_rollup', 'company_domain'],
      ['company_events', 'id'],
    ] as const;
    const truth: Record<string, Record<string, any>[]> = {
      events: suite.sim.truth.events({ start: START, end: END }),
      aggregates: suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: ['by-total', 'by-company'] }),
      company_rollup: suite.sim.truth.companyRollup(),
      company_events: suite.sim.companyDomains().flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END })),
    };
    const union = new Map<string, Map<string, Record<string, any>>>(STREAMS.map((s) => [s, new Map()]));
    const complete = () => KEYS.every(([s, key]) => truth[s]!.every((r) => union.get(s)!.has(r[key])));
    let state: string | undefined;
    let syncs = 0;
    while (!complete()) {
      syncs++;
      expect(syncs, 'the backfill ends within one sync of what --plan said (the 503 cost a request)').to.be.at.most(forecast + 1);
      suite.sim.resetRequests();
      const run = await runInProcess(['--config', cfg, ...(state ? ['--state', state] : [])]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.badLines).to.deep.equal([]);
      if (syncs === 1) expect(suite.sim.requests.filter((r) => r.status === 503)).to.have.length(1);
      for (const [s, key] of KEYS) for (const r of records(run, s)) union.get(s)!.set(r[key], r);
      if (lastState(run)) state = writeJson(suite.dir, `budget-state-${syncs}.json`, lastState(run));
      if (run.stderr.includes('Stopped after 7 API requests, the max_requests_per_sync setting')) {
        expect(suite.sim.requests.length, `sync ${syncs} makes exactly the budget`).to.equal(budget);
        expect(run.stderr).to.match(/STOPPED at max_requests_per_sync before its end/);
      } else expect(suite.sim.requests.length).to.be.at.most(budget);
      suite.sim.clearFaults();
    }
    expect(syncs).to.be.within(forecast, forecast + 1);
    for (const [s, key] of KEYS)
      expectSameRecords([...union.get(s)!.values()], truth[s]!, key, `${s}: the union of ${syncs} syncs`);
  });

  it('a budget that only pays for what every sync re-reads: --plan says the backfill never finishes', async () => {
    const planned = await plan([
      '--config',
      suite.config({ max_requests_per_sync: 1 }),
      '--catalog',
      writeJson(suite.dir, 'cat-events.json', catalogFor(['events'])),
      '--plan',
      '--format',
      'json',
    ]);
    // One request a sync re-reads the lookback day it ended on: no progress.
    expect(planned.syncs).to.equal(null);
    expect(planned.never_finishes).to.equal(true);
  });
});

describe('the range-limit search on a long backfill (simulator)', function () {
  this.timeout(120_000);
  const suite = useSimulator(
    { seed: 3, dataStart: '2025-09-01', dataEnd: '2026-10-31', now: new Date('2026-10-02T12:00:00Z'), maxRangeDays: 92 },
    // Only the company-events requests are counted here: Scarf's counts (verify_counts) aside.
    { start_date: '2025-10-01', end_date: '2026-09-30', max_concurrent_requests: 1, verify_counts: false },
  );

  it('365 days of company_events for 3 companies against a 92-day limit: 16 requests, the ideal 12 plus 4 refused', async () => {
    const domains = suite.sim.companyDomains().slice(0, 3);
    const run = await runInProcess([
      '--config',
      suite.config({ company_domains: domains }),
      '--catalog',
      writeJson(suite.dir, 'cat-ce.json', catalogFor(['company_events'])),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const spans = suite.sim.requests.map((r) => {
      const a = Date.parse(r.query.start_date![0]!);
      const b = Date.parse(r.query.end_date![0]!);
      return `${(b - a) / 86_400_000 + 1}${r.status === 400 ? 'r' : ''}`;
    });
    // First company: halving to the first accepted range, then one probe (137 days) that
    // would have saved a request; second: one probe (122 days, which would read it in 3).
    expect(spans).to.deep.equal(
      ['365r', '183r', '92', '137r', '92', '92', '89'].concat(['122r', '92', '92', '92', '89'], ['92', '92', '92', '89']),
    );
    const truth = domains.flatMap((d) => suite.sim.truth.companyEvents(d, { start: '2025-10-01', end: '2026-09-30' }));
    expectSameRecords(records(run, 'company_events'), truth, 'id', 'company_events over 365 days');
  });
});
