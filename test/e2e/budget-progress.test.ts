// Issue 18 item 5: a small max_requests_per_sync never livelocks. For budgets 1..5, syncs run
// back to back from each other's state: each one either makes progress (some stream's
// bookmark moves) or is refused before its first request, naming the smallest budget that
// works; a stream the budget starved is served first by the next sync; and every budget that
// is not refused at the start ends with the whole truth (docs/reliability.md "The request budget").
import { expect } from 'chai';

import { catalogFor, expectSameRecords, runCheckedInProcess, streamRecords, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-06';
const SIM_NOW = new Date('2026-10-12T12:00:00Z');

/** The bookmarks, without the marks around them. */
const progress = (st: Record<string, any> | undefined) =>
  JSON.stringify(st?.bookmarks ?? {}, (k, v: unknown) => (k === 'starved_since' || k === 'settings' ? undefined : v));

describe('max_requests_per_sync: progress guaranteed, or refused with the smallest budget that works (issue 18)', function () {
  this.timeout(300_000);
  const suite = useSimulator(
    { seed: 3, token: TOKEN, dataStart: '2026-09-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 20, companies: 4 },
    { start_date: START, end_date: END, events_window_days: 1, lookback_days: 1 },
    'tap-scarf-budget-',
  );
  const catalog = () => writeJson(suite.dir, 'cat.json', catalogFor(['events', 'aggregates']));

  for (const budget of [1, 2, 3, 4, 5]) {
    it(`budget ${budget}`, async () => {
      let state: Record<string, any> | undefined;
      const events = new Map<string, Record<string, any>>();
      const aggregates = new Map<string, Record<string, any>>();
      let refused: number | undefined;
      let syncs = 0;
      for (; syncs < 14; syncs++) {
        suite.sim.resetRequests();
        const args = ['--config', suite.config({ max_requests_per_sync: budget }), '--catalog', catalog()];
        if (state) args.push('--state', writeJson(suite.dir, `state-${budget}-${syncs}.json`, state));
        const run = await runCheckedInProcess(args, {}, suite.sim);
        if (run.code !== 0) {
          const m =
            /max_requests_per_sync is (\d+), but (\w+) needs (\d+) requests before its bookmark can move.*Set max_requests_per_sync to at least (\d+)/.exec(
              run.stderr,
            );
          expect(m, run.stderr.slice(-1500)).to.not.equal(null);
          expect(Number(m![3])).to.be.greaterThan(budget);
          expect(m![4]).to.equal(m![3]);
          expect(suite.sim.requests, 'refused before the first request').to.deep.equal([]);
          refused = Number(m![4]);
          break;
        }
        expect(suite.sim.requests.length).to.be.at.most(budget);
        for (const r of streamRecords(run, 'events')) events.set(r.id, r);
        for (const r of streamRecords(run, 'aggregates')) aggregates.set(r.row_key, r);
        const next = lastState(run) ?? state;
        const moved = progress(next) !== progress(state);
        const stopped = /STOPPED at max_requests_per_sync/.test(run.stderr);
        expect(moved || !stopped, `sync ${syncs + 1} under budget ${budget} spent it without progress`).to.equal(true);
        // "continues" is said only with a stream to serve first, or a stream stopped after moving.
        if (/the next sync continues/.test(run.stderr)) expect(moved).to.equal(true);
        state = next;
        if (!stopped) break;
      }
      if (budget === 1) {
        // Scarf's counts and the first window: 2.
        expect(refused).to.equal(2);
        return;
      }
      if (refused !== undefined) {
        // Refused only once the lookback is part of every step: counts, the lookback window, the next one.
        expect(refused).to.equal(3);
        expect(budget).to.equal(2);
        return;
      }
      expect(syncs, 'finished within 14 syncs').to.be.below(14);
      expectSameRecords([...events.values()], suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
      expectSameRecords(
        [...aggregates.values()],
        suite.sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: ['by-total'] }),
        'row_key',
        'aggregates',
      );
    });
  }

  it('a starved stream is served first by the next sync', async () => {
    // Budget 3: events takes it all (counts and two windows), aggregates waits, marked starved.
    const first = await runCheckedInProcess(
      ['--config', suite.config({ max_requests_per_sync: 3 }), '--catalog', catalog()],
      {},
      suite.sim,
    );
    expect(first.code, first.stderr.slice(-1500)).to.equal(0);
    const st = lastState(first)!;
    expect(st.bookmarks.aggregates.starved_since).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(first.stderr).to.match(/serving aggregates first \(starved by this budget\)/);
    suite.sim.resetRequests();
    const second = await runCheckedInProcess(
      [
        '--config',
        suite.config({ max_requests_per_sync: 3 }),
        '--catalog',
        catalog(),
        '--state',
        writeJson(suite.dir, 'st.json', st),
      ],
      {},
      suite.sim,
    );
    expect(second.code, second.stderr.slice(-1500)).to.equal(0);
    expect(suite.sim.requests[0]!.endpoint).to.equal('aggregates');
    expect(suite.sim.requests[0]!.query.breakdown).to.deep.equal(['by-total']);
    expect(lastState(second)!.bookmarks.aggregates.starved_since).to.equal(undefined);
  });
});
