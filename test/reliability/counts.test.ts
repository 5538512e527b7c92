// Count reconciliation end to end (docs/reliability.md "Completeness: count reconciliation"): bodies that
// end cleanly but short, on every endpoint, are caught by Scarf's own counts and read again;
// aggregates that count differently are warned about, with bounded re-reads; a clean sync
// pays no request for the check when the aggregates stream reads the counts' own rows (its
// window is served from them), one when it reads something else.
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
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-10';
const SIM_NOW = new Date('2026-10-12T12:00:00Z');
const ALL = ['events', 'aggregates', 'company_rollup', 'company_events'];

function logLines(run: TapRun, re: RegExp): string[] {
  return run.stderr.split('\n').filter((l) => re.test(l));
}

describe('verify_counts: every window reconciled against Scarf’s aggregates counts', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    // Data starts with the synced range, so every company's activity is in the verified days.
    { seed: 5, token: TOKEN, dataStart: START, dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 30, companies: 8 },
    { start_date: START, end_date: END, events_window_days: 1, aggregates_window_days: 31 },
    'tap-scarf-counts-',
  );
  const catalog = () => writeJson(suite.dir, 'cat-all.json', catalogFor(ALL));
  const byEndpoint = () => {
    const out: Record<string, number> = {};
    for (const r of suite.sim.requests) out[r.endpoint] = (out[r.endpoint] ?? 0) + 1;
    return out;
  };
  const faulted = (endpoint: string) => suite.sim.requests.filter((r) => r.endpoint === endpoint && r.fault).length;
  const sync = (extra: Record<string, unknown> = {}) =>
    runCheckedInProcess(['--config', suite.config(extra), '--catalog', catalog()], {}, suite.sim);
  const truthCompanyEvents = () =>
    suite.sim.companyDomains().flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }));

  function expectComplete(run: TapRun): void {
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    expect(run.badLines).to.deep.equal([]);
    expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    expectSameRecords(streamRecords(run, 'company_events'), truthCompanyEvents(), 'id', 'company_events');
    expectSameRecords(streamRecords(run, 'company_rollup'), suite.sim.truth.companyRollup(), 'company_domain', 'company_rollup');
    for (const s of ['events', 'company_events', 'company_rollup'] as const) expectNoRepeats(run, s);
  }

  it('a clean sync makes no more requests than with verify_counts false (the aggregates window is the counts), and says what it verified', async () => {
    const off = await sync({ verify_counts: false });
    expectComplete(off);
    const without = byEndpoint();
    suite.sim.resetRequests();
    const on = await sync();
    expectComplete(on);
    const withIt = byEndpoint();
    // The counts request is the aggregates stream's window: daily by-total rows, served from it.
    expect(withIt).to.deep.equal(without);
    const aggregatesTruth = suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: ['by-total'] });
    expectSameRecords(streamRecords(on, 'aggregates'), aggregatesTruth, 'row_key', 'aggregates served from the counts');
    expectSameRecords(streamRecords(off, 'aggregates'), aggregatesTruth, 'row_key', 'aggregates read on their own');
    const ref = suite.sim.requests.filter((r) => r.endpoint === 'aggregates' && r.query.breakdown?.includes('by-company'));
    expect(ref.map((r) => r.query)).to.deep.equal([
      { start_date: [START], end_date: [END], rollup: ['daily'], breakdown: ['by-total', 'by-company'] },
    ]);
    // the same records and the same final state either way
    expect(streamRecords(on, 'events').length).to.equal(streamRecords(off, 'events').length);
    expect(lastState(on)).to.deep.equal(lastState(off));
    expect(
      logLines(
        on,
        /events: .*; 10 windows verified against Scarf's counts: 10 equal, 0 re-read after a short body, 0 disagree; done\.$/,
      ),
    ).to.have.length(1);
    const domains = withIt['company-events']!;
    expect(
      logLines(
        on,
        new RegExp(`company_events: .*; ${domains} windows verified against Scarf's counts: ${domains} equal, 0 re-read`),
      ),
    ).to.have.length(1);
    expect(logLines(on, /company_rollup: .*; 1 window verified against Scarf's counts: 1 equal/)).to.have.length(1);
    expect(
      logLines(on, /aggregates: .*; 1 window\(s\) taken from Scarf's counts read for verify_counts \(no request of their own\)/),
    ).to.have.length(1);
    expect(
      logLines(
        on,
        /METRIC: \{"type":"counter","metric":"windows_verified","value":10,"tags":\{"stream":"events","equal":10,"reread":0,"disagree":0\}\}/,
      ),
    ).to.have.length(1);
    expect(logLines(off, /verified/)).to.deep.equal([]);
  });

  for (const variant of [{ endCleanly: true }, { contentLength: 'short' as const }]) {
    it(`clean cuts (${JSON.stringify(variant)}) on ~20 % of the responses of every endpoint → complete data; each cut window costs one more request`, async () => {
      const spec = (endpoint: FaultSpec['endpoint']): FaultSpec => ({
        kind: 'cut-after-line',
        ...variant,
        afterRows: 'random',
        endpoint,
        probability: 0.2,
      });
      suite.sim.setFaults([spec('events'), spec('company-events'), spec('company-rollup'), spec('aggregates')]);
      const run = await sync();
      expectComplete(run);
      const n = byEndpoint();
      // One request per window plus one per cut response: the cut is noticed and read again.
      expect(faulted('events') + faulted('company-events'), 'some cuts happened').to.be.at.least(2);
      expect(n.events).to.equal(10 + faulted('events'));
      const windows = Number(/company_events: .*?(\d+) windows, /.exec(run.stderr)![1]);
      expect(n['company-events']).to.equal(windows + faulted('company-events'));
      expect(n['company-rollup']).to.equal(1 + faulted('company-rollup'));
      // The counts (which serve the aggregates stream's window), plus one request per re-read
      // of the counts (a cut of the counts shows as days with more events than counted).
      const countRereads = logLines(run, /reading Scarf's counts for .* again/).length;
      expect(n.aggregates).to.equal(1 + countRereads);
      expectSameRecords(
        streamRecords(run, 'aggregates'),
        suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: ['by-total'] }),
        'row_key',
        'aggregates served from the counts as last read',
      );
      expect(countRereads).to.be.at.most(3 * (10 + windows));
      // One re-read per cut response: the short days' span, or a day alone after a re-read cut too.
      const reread = logLines(run, /reading (\S+ again \(its bookmark waits|the day alone)/).length;
      expect(reread).to.equal(faulted('events') + faulted('company-events'));
      expect(logLines(run, /Accepted as Scarf serves it/)).to.deep.equal([]);
    });
  }

  it('a clean cut of the rollup snapshot: the companies after the cut are noticed, the snapshot read again, their events synced', async () => {
    suite.sim.setFaults([{ kind: 'cut-after-line', endpoint: 'company-rollup', contentLength: 'short', afterRows: 3 }]);
    const run = await sync();
    expectComplete(run);
    expect(byEndpoint()['company-rollup']).to.equal(2);
    expect(
      logLines(
        run,
        /company_rollup: Scarf counts events in 2026-10-01\.\.2026-10-10 of \d+ companies the company-rollup snapshot does not list/,
      ),
    ).to.have.length(1);
    expect(
      logLines(
        run,
        /company_rollup: .*1 window verified against Scarf's counts: 0 equal, 1 re-read after a short body, 0 disagree/,
      ),
    ).to.have.length(1);
  });

  it('short counts (a reference cut cleanly) are read again for the days they miss, then every window agrees', async () => {
    // The first aggregates request of the sync is the reference (events run first).
    suite.sim.setFaults([{ kind: 'cut-after-line', endpoint: 'aggregates', endCleanly: true, nth: 1 }]);
    const run = await sync();
    expectComplete(run);
    const rereads = logLines(run, /reading Scarf's counts for .* again/);
    expect(rereads.length).to.be.at.least(1);
    // one request per re-read of the counts and the reference, which serves the aggregates stream's window
    expect(byEndpoint().aggregates).to.equal(1 + rereads.length);
    expect(logLines(run, /Accepted as Scarf serves it/)).to.deep.equal([]);
  });

  it('aggregates counting one fewer per day: every day stays open in the state, the sync fails after emitting everything; accepted per stream it exits 0', async () => {
    suite.sim.setOptions({ aggregatesCountSkew: -1 });
    try {
      const run = await sync();
      expect(run.code, run.stderr.slice(-3000)).to.equal(1);
      expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
      expectSameRecords(streamRecords(run, 'company_events'), truthCompanyEvents(), 'id', 'company_events');
      const state = lastState(run)!;
      const held = suite.sim.truth.dailyCounts({ start: START, end: END });
      const counted = suite.sim.truth.aggregatesDailyTotals({ start: START, end: END });
      // More than counted: only the counts are read again (once per window), never the export.
      expect(state.bookmarks.events.open_days).to.deep.equal(
        Object.keys(held)
          .sort()
          .map((day) => ({ day, owner: 'acme-oss', scarf_count: counted[day], held: held[day], reads: 1 })),
      );
      const n = byEndpoint();
      expect(n.events).to.equal(10);
      const windows = Number(/company_events: .*?(\d+) windows, /.exec(run.stderr)![1]);
      // One re-read of the counts per window with a day over its count: every events window, and the companies with events.
      const countRereads = logLines(run, /reading Scarf's counts for .* again/).length;
      expect(n.aggregates).to.equal(2 + countRereads);
      expect(countRereads).to.be.within(10 + 1, 10 + windows);
      expect(logLines(run, /for the rest of this sync no window is read again/)).to.deep.equal([]);
      // The last lines list the open days.
      const tail = run.stderr.trim().split('\n').slice(-4).join('\n');
      expect(tail).to.match(
        /ERROR events: 10 open day\(s\), not proven complete against Scarf's counts: 2026-10-01 \(Scarf counts \d+, the export held \d+, 1 read\)/,
      );

      suite.sim.resetRequests();
      const accepted = await sync({ accept_count_mismatches: ['events', 'company_events'] });
      expectComplete(accepted);
      const after = lastState(accepted)!;
      expect(after.bookmarks.events.count_mismatches).to.equal('accepted');
      expect(after.bookmarks.events.open_days).to.equal(undefined);
      expect(after.bookmarks.company_events.count_mismatches).to.equal('accepted');
      expect(
        logLines(
          accepted,
          /^INFO events: .*; count mismatches accepted \(accept_count_mismatches\): 10 day\(s\) accepted: 2026-10-01/,
        ),
      ).to.have.length(1);
      expect(
        logLines(accepted, /^WARNING events: 2026-10-\d\d .*accepted as it is, because accept_count_mismatches names events/),
      ).to.have.length(10);
    } finally {
      suite.sim.setOptions({ aggregatesCountSkew: 0 });
    }
  });

  it('aggregates counting one more per day: each day is read alone once more, then kept open (exit 1), its reads counted', async () => {
    suite.sim.setOptions({ aggregatesCountSkew: 1 });
    try {
      const run = await sync({ verify_counts: true });
      expect(run.code, run.stderr.slice(-3000)).to.equal(1);
      expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
      // 10 one-day windows, each read once more; nothing new, so not again.
      expect(byEndpoint().events).to.equal(10 + 10);
      expect(byEndpoint().aggregates).to.equal(2);
      const open = lastState(run)!.bookmarks.events.open_days as {
        day: string;
        reads: number;
        held: number;
        scarf_count: number;
      }[];
      expect(open.map((e) => e.day)).to.have.length(10);
      expect(open.every((e) => e.reads === 2 && e.scarf_count > e.held)).to.equal(true);
    } finally {
      suite.sim.setOptions({ aggregatesCountSkew: 0 });
    }
  });

  it('aggregates (the reference itself, not checked): a body cut cleanly heals on the next sync within aggregates_lookback_days', async () => {
    const settings = {
      aggregates_window_days: 7,
      aggregates_lookback_days: 7,
      aggregates_breakdowns: ['by-total', 'by-country'],
    };
    const cat = writeJson(suite.dir, 'cat-agg.json', catalogFor(['aggregates']));
    // Windows 10-01..10-07 and 10-08..10-10: the second one ends cleanly after 5 rows.
    suite.sim.setFaults([{ kind: 'cut-after-line', endpoint: 'aggregates', contentLength: 'short', nth: 2, afterRows: 5 }]);
    const first = await runCheckedInProcess(['--config', suite.config(settings), '--catalog', cat], {}, suite.sim);
    expect(first.code, first.stderr).to.equal(0);
    const truth = suite.sim.truth.aggregates({
      start: START,
      end: END,
      rollup: 'daily',
      breakdowns: settings.aggregates_breakdowns,
    });
    const lost = truth.length - streamRecords(first, 'aggregates').length;
    expect(lost, 'the cut went unnoticed: rows are missing after the first sync').to.be.greaterThan(10);
    expect(suite.sim.requests.map((r) => r.endpoint)).to.deep.equal(['aggregates', 'aggregates']);
    suite.sim.clearFaults();
    const state = writeJson(suite.dir, 'state-agg.json', lastState(first));
    const second = await runCheckedInProcess(
      ['--config', suite.config(settings), '--catalog', cat, '--state', state],
      {},
      suite.sim,
    );
    expect(second.code, second.stderr).to.equal(0);
    // The lookback re-reads 10-03..10-10, which holds every day the cut lost.
    const latest = new Map<string, Record<string, any>>();
    for (const run of [first, second]) for (const rec of streamRecords(run, 'aggregates')) latest.set(rec.row_key, rec);
    expectSameRecords([...latest.values()], truth, 'row_key', 'aggregates, latest of two syncs');
  });

  it('a counts request refused for by-company does not fail events, which needs only by-total', async () => {
    suite.sim.setFaults([
      { kind: 'http-error', endpoint: 'aggregates', status: 403, params: { breakdown: 'by-company' }, times: 1e9 },
    ]);
    const cat = writeJson(suite.dir, 'cat-events.json', catalogFor(['events']));
    const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', cat], {}, suite.sim);
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    const counts = suite.sim.requests.filter((r) => r.endpoint === 'aggregates').map((r) => [r.status, r.query.breakdown]);
    expect(counts).to.deep.equal([
      [403, ['by-total', 'by-company']],
      [200, ['by-total']],
    ]);
    expect(logLines(run, /^WARNING Scarf refused the counts request with both by-total and by-company/)).to.have.length(1);
    expect(logLines(run, /events: .*10 windows verified against Scarf's counts: 10 equal/)).to.have.length(1);
  });

  it('aggregates checked against the by-total counts: a window cut cleanly is read again in the same sync; one that cannot be checked is said', async () => {
    const cat = writeJson(suite.dir, 'cat-ev-agg.json', catalogFor(['events', 'aggregates']));
    // The counts are the first aggregates request (events run first), the stream's one window the
    // second: with by-country too, the window is not the counts' rows, so it is read and checked.
    const breakdowns = { aggregates_breakdowns: ['by-total', 'by-country'] };
    suite.sim.setFaults([{ kind: 'cut-after-line', endpoint: 'aggregates', contentLength: 'short', nth: 2, afterRows: 4 }]);
    const run = await runCheckedInProcess(['--config', suite.config(breakdowns), '--catalog', cat], {}, suite.sim);
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    expectSameRecords(
      streamRecords(run, 'aggregates'),
      suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: breakdowns.aggregates_breakdowns }),
      'row_key',
      'aggregates',
    );
    expect(byEndpoint().aggregates).to.equal(3);
    expect(
      logLines(
        run,
        /^INFO aggregates 2026-10-01\.\.2026-10-10: 2026-10-\d\d: Scarf counts \d+ events, the aggregates' by-total rows sum to \d+; reading the window again\.$/,
      ),
    ).to.have.length(1);
    expect(
      logLines(run, /aggregates: .*1 window verified against Scarf's counts: 0 equal, 1 re-read after a short body/),
    ).to.have.length(1);

    // Weekly rollup: no daily sums to compare; passed, but said.
    suite.sim.resetRequests();
    suite.sim.clearFaults();
    const weekly = await runCheckedInProcess(
      ['--config', suite.config({ aggregates_rollup: 'weekly' }), '--catalog', cat],
      {},
      suite.sim,
    );
    expect(weekly.code, weekly.stderr.slice(-3000)).to.equal(0);
    expect(
      logLines(
        weekly,
        /^WARNING aggregates .*: not checked against Scarf's counts, because aggregates_rollup is weekly, not daily/,
      ),
    ).to.have.length(1);
    expect(
      logLines(
        weekly,
        /aggregates: .*; \d+ window\(s\) not checked against Scarf's counts \(aggregates_rollup is weekly, not daily\)/,
      ),
    ).to.have.length(1);
  });

  it('with package_query: the company counts are read without it (the company export takes none), one request more', async () => {
    // The by-total counts (with the query) serve the aggregates window; the company counts are the one more.
    const query = { package_query: '@acme/widgets' };
    const off = await sync({ ...query, verify_counts: false });
    expect(off.code, off.stderr).to.equal(0);
    const without = byEndpoint();
    suite.sim.resetRequests();
    const on = await sync(query);
    expect(on.code, on.stderr.slice(-3000)).to.equal(0);
    expect(byEndpoint()).to.deep.equal({ ...without, aggregates: without.aggregates! + 1 });
    const counts = suite.sim.requests.filter(
      (r) => r.endpoint === 'aggregates' && r.query.rollup?.[0] === 'daily' && !r.query.breakdown?.includes('by-country'),
    );
    expect(counts.map((r) => [r.query.breakdown, r.query.query])).to.deep.include.members([
      [['by-total'], ['@acme/widgets']],
      [['by-company'], undefined],
    ]);
    expectSameRecords(
      streamRecords(on, 'events'),
      suite.sim.truth.events({ start: START, end: END, query: '@acme/widgets' }),
      'id',
      'events',
    );
    expectSameRecords(streamRecords(on, 'company_events'), truthCompanyEvents(), 'id', 'company_events');
    expect(logLines(on, /Accepted as Scarf serves it/)).to.deep.equal([]);
  });
});
