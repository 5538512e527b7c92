// Issue 18, items 4 and 6: which companies company_events reads, and what one failing company
// does to the others. Against the simulator's truth: the exact records of every company with
// events in the range, the requests made, the state's partitions and failure records, the
// exit code and the lines that name the failure.
import { expect } from 'chai';

import type { FaultSpec } from '../../sim/index.js';
import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, configuredCatalogFor, expectSameRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, records, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-04';
const ALWAYS = 1_000_000;
const LOOKBACK = { lookback_days: 1 };

describe('company_events: the company list and failing companies (issue 18, items 4 and 6)', function () {
  this.timeout(180_000);
  const suite = useSimulator(
    { seed: 5, dataStart: '2026-08-01', dataEnd: '2026-10-31', now: new Date('2026-10-05T12:00:00Z'), companies: 8 },
    { start_date: START, end_date: END, lookback_days: 0, max_concurrent_requests: 1, max_retries: 1 },
  );

  const active = () => suite.sim.truth.activeDomains({ start: START, end: END }).sort();
  const truthOf = (domains: string[], start = START) =>
    domains.flatMap((d) => suite.sim.truth.companyEvents(d, { start, end: END }));
  const asked = () => suite.sim.requests.filter((r) => r.endpoint === 'company-events').map((r) => r.domain!);

  async function sync(
    settings: Record<string, unknown>,
    faults: FaultSpec[],
    state?: unknown,
    streams = ['company_events'],
  ): Promise<TapRun> {
    suite.sim.setFaults(faults);
    suite.sim.resetRequests();
    const args = [
      '--config',
      suite.config(settings),
      '--catalog',
      writeJson(suite.dir, `cat-${Math.random().toString(36).slice(2)}.json`, catalogFor(streams)),
    ];
    if (state) args.push('--state', writeJson(suite.dir, `state-${Math.random().toString(36).slice(2)}.json`, state));
    return runInProcess(args);
  }

  describe('the company list (item 4)', () => {
    it('company_domains matches the rollup case-insensitively: a domain the rollup spells otherwise is read', async () => {
      const [d] = active();
      const spelled = d!.toUpperCase();
      // With company_rollup in the sync, its snapshot says which listed companies are active.
      const run = await sync(
        { company_domains: [d], verify_counts: false },
        [{ kind: 'respell-domain', endpoint: 'company-rollup', rowDomain: d!, value: spelled, times: ALWAYS }],
        undefined,
        ['company_rollup', 'company_events'],
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(records(run, 'company_rollup').map((r) => r.company_domain)).to.include(spelled);
      expect(asked()).to.deep.equal([d]);
      const recs = records(run, 'company_events');
      expect(recs.length).to.be.greaterThan(0);
      expectSameRecords(recs, truthOf([d!]), 'id', 'company_events');
    });

    it('an empty last_seen is unknown, so that company is read (and said)', async () => {
      const [d] = active();
      const run = await sync({ verify_counts: false }, [
        { kind: 'set-value', endpoint: 'company-rollup', column: 'last_seen', value: null, rowDomain: d!, times: ALWAYS },
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(asked()).to.include(d);
      expectSameRecords(records(run, 'company_events'), truthOf(active()), 'id', 'company_events');
      expect(run.stderr).to.include(
        'company_events: the company-rollup snapshot gives no last_seen for 1 company (an empty value, a row missing, or a renamed column): reading them as active.',
      );
    });

    it('a renamed last_seen column skips no company: every company is read', async () => {
      const run = await sync({ verify_counts: false }, [
        { kind: 'rename-column', endpoint: 'company-rollup', column: 'last_seen', value: 'lastSeen', times: ALWAYS },
      ]);
      expect(run.code, run.stderr).to.equal(0);
      // Every company the rollup lists (the ones with an event so far), whatever its last_seen.
      expect(new Set(asked())).to.deep.equal(new Set(suite.sim.truth.companyRollup().map((r) => r.company_domain)));
      expectSameRecords(records(run, 'company_events'), truthOf(active()), 'id', 'company_events');
    });

    it("a company Scarf's by-company counts show active is read, though the rollup's last_seen says it is not", async () => {
      const [d] = active();
      const run = await sync({}, [
        { kind: 'set-value', endpoint: 'company-rollup', column: 'last_seen', value: '2026-09-01', rowDomain: d!, times: ALWAYS },
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(asked()).to.include(d);
      expectSameRecords(records(run, 'company_events'), truthOf(active()), 'id', 'company_events');
    });
  });

  describe('a failing company (item 6)', () => {
    it('every company failing is the stream failing: after the first 3 fail and none was read, no other is asked', async () => {
      const domains = suite.sim.companyDomains().slice(0, 6);
      const run = await sync({ company_domains: domains }, [
        { kind: 'http-error', status: 404, endpoint: 'company-events', times: ALWAYS },
      ]);
      expect(run.code).to.not.equal(0);
      expect(asked()).to.deep.equal([...domains].sort().slice(0, 3));
      expect(run.stderr).to.include(
        'ERROR company_events: the first 3 companies asked all failed and none was read: taken as a failure of the stream, not of one company, so no other company is asked in this sync (their failures are recorded).',
      );
      const parts = lastState(run)!.bookmarks.company_events.partitions as Record<string, any>[];
      expect(parts.map((p) => [p.context.company_domain, p.failure.attempts])).to.deep.equal(
        [...domains]
          .sort()
          .slice(0, 3)
          .map((d) => [d, 1]),
      );
    });

    it('Airbyte: the stream ends INCOMPLETE with an error naming the company; its stream_state records the failure; exit non-zero', async () => {
      const domains = active();
      const bad = domains[0]!;
      suite.sim.setFaults([{ kind: 'http-error', status: 404, endpoint: 'company-events', domain: bad, times: ALWAYS }]);
      suite.sim.resetRequests();
      const run = await runInProcess([
        'read',
        '--config',
        suite.config(),
        '--catalog',
        writeJson(suite.dir, 'configured-ce.json', configuredCatalogFor(['company_events'])),
      ]);
      expect(run.code).to.not.equal(0);
      const traces = run.messages.filter((m) => m.type === 'TRACE').map((m) => m.trace);
      expect(traces.filter((t) => t.type === 'STREAM_STATUS').map((t) => t.stream_status.status)).to.deep.equal([
        'STARTED',
        'RUNNING',
        'INCOMPLETE',
      ]);
      const errors = traces.filter((t) => t.type === 'ERROR').map((t) => t.error.message as string);
      expect(
        errors.some((e) => e.includes(`1 company failed (its bookmark stays; the other ${domains.length - 1} were read`)),
      ).to.equal(true);
      expect(errors.some((e) => e.includes(bad))).to.equal(true);
      const records = run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.data);
      expectSameRecords(records, truthOf(domains.slice(1)), 'id', 'company_events of the others');
      const states = run.messages.filter((m) => m.type === 'STATE').map((m) => m.state.stream.stream_state);
      const failed = (states.at(-1).partitions as Record<string, any>[]).find((p) => p.context.company_domain === bad)!;
      expect(failed.failure.attempts).to.equal(1);
    });

    it('a company failing on its open day is not asked for its window in the same sync (it failed; the next sync tries again)', async () => {
      const [bad, good] = active();
      const faults: FaultSpec[] = [{ kind: 'http-error', status: 404, endpoint: 'company-events', domain: bad!, times: ALWAYS }];
      const part = (domain: string) => ({
        context: { owner: 'acme-oss', company_domain: domain },
        replication_key: 'time',
        replication_key_value: '2026-10-03T00:00:00.000000Z',
      });
      const open = (domain: string) => ({
        day: '2026-10-02',
        owner: 'acme-oss',
        company_domain: domain,
        scarf_count: 5,
        held: 4,
        reads: 1,
      });
      const state = {
        bookmarks: { company_events: { partitions: [part(bad!), part(good!)], open_days: [open(bad!), open(good!)] } },
      };
      const run = await sync({ company_domains: [bad, good] }, faults, state);
      expect(run.code, run.stderr).to.not.equal(0);
      const windows = (d: string) =>
        suite.sim.requests
          .filter((r) => r.endpoint === 'company-events' && r.domain === d)
          .map((r) => `${r.query.start_date![0]}..${r.query.end_date![0]}`);
      expect(windows(bad!), 'only its open day, once').to.deep.equal(['2026-10-02..2026-10-02']);
      // The other company: its open day, then its window from its bookmark.
      expect(windows(good!)).to.deep.equal(['2026-10-02..2026-10-02', `2026-10-03..${END}`]);
      expect(run.stderr).to.include(`company_events: 1 company failed`);
      const parts = lastState(run)!.bookmarks.company_events.partitions as Record<string, any>[];
      expect(parts.find((p) => p.context.company_domain === bad)!.replication_key_value).to.equal('2026-10-03T00:00:00.000000Z');
    });

    it('stopped by max_requests_per_sync after a company failed: the stream still fails (exit non-zero) naming it, the budget stop is said, the others read are committed', async () => {
      const domains = active();
      const bad = domains[0]!;
      const faults: FaultSpec[] = [{ kind: 'http-error', status: 404, endpoint: 'company-events', domain: bad, times: ALWAYS }];
      // The budget of a sync that asks the bad company and two others, then stops.
      const free = await sync({}, faults);
      const perCompany = new Map<string, number>();
      for (const d of asked()) perCompany.set(d, (perCompany.get(d) ?? 0) + 1);
      const before = suite.sim.requests.length - asked().length;
      expect(free.code, free.stderr).to.not.equal(0);
      const budget = before + perCompany.get(bad)! + perCompany.get(domains[1]!)! + perCompany.get(domains[2]!)!;
      const run = await sync({ max_requests_per_sync: budget }, faults);
      expect(suite.sim.requests.length, 'the budget holds').to.equal(budget);
      expect(run.code, run.stderr).to.not.equal(0);
      expect(run.stderr).to.include(
        `Stopped after ${budget} API requests, the max_requests_per_sync setting: company_events stopped at the bookmark of its last complete window.`,
      );
      expect(run.stderr).to.include(`company_events: 1 company failed (its bookmark stays): ${bad} (1 failed sync in a row: `);
      expect(run.stderr).to.include('ERROR 1 of 1 stream(s) failed: company_events: 1 company failed');
      const parts = lastState(run)!.bookmarks.company_events.partitions as Record<string, any>[];
      const failed = parts.find((p) => p.context.company_domain === bad)!;
      expect(failed.failure.attempts).to.equal(1);
      expect(failed.replication_key_value).to.equal(undefined);
      const read = parts.filter((p) => p.replication_key_value).map((p) => p.context.company_domain as string);
      expect(read.sort()).to.deep.equal([domains[1]!, domains[2]!].sort());
      expectSameRecords(records(run, 'company_events'), truthOf(read), 'id', 'company_events read before the stop');
    });

    for (const [what, fault] of [
      ['404 on every read', { kind: 'http-error', status: 404 }],
      ['500 after every retry', { kind: '500' }],
    ] as const) {
      it(`${what}: the others are read and committed, the failure is recorded and named, exit non-zero; next sync it comes last; once it answers it is read`, async () => {
        const domains = active();
        expect(domains.length).to.be.greaterThan(3);
        // The first in "furthest behind" order (all start at start_date): the domain order.
        const bad = domains[0]!;
        const good = domains.slice(1);
        const faults: FaultSpec[] = [{ ...fault, endpoint: 'company-events', domain: bad, times: ALWAYS } as FaultSpec];

        // lookback_days 1: the next sync re-reads the others' last day, so they are pending too.
        const first = await sync(LOOKBACK, faults);
        expect(first.code, first.stderr).to.not.equal(0);
        expectSameRecords(records(first, 'company_events'), truthOf(good), 'id', 'company_events of the others');
        const state1 = lastState(first)!;
        const parts = state1.bookmarks.company_events.partitions as Record<string, any>[];
        const byDomain = new Map(parts.map((p) => [p.context.company_domain, p]));
        for (const d of good) expect(byDomain.get(d)?.replication_key_value, d).to.equal('2026-10-05T00:00:00.000000Z');
        const failed = byDomain.get(bad)!;
        expect(failed.replication_key_value, 'no bookmark for the failing company').to.equal(undefined);
        expect(failed.failure.attempts).to.equal(1);
        expect(failed.failure.last_error).to.include(`company_events ${bad} ${START}..${END}`);
        expect(failed.failure.last_failed_at).to.match(/^\d{4}-\d\d-\d\dT/);
        expect(first.stderr).to.include(`ERROR company_events ${bad}: company_events ${bad} ${START}..${END}: `);
        expect(first.stderr).to.include(
          `ERROR 1 of 1 stream(s) failed: company_events: 1 company failed (its bookmark stays; the other ${good.length} were read and committed): ${bad} (1 failed sync in a row: company_events ${bad} ${START}..${END}: `,
        );

        // The next sync: the failing company after the others (their lookback), attempts 2.
        const second = await sync(LOOKBACK, faults, state1);
        expect(second.code, second.stderr).to.not.equal(0);
        const order = asked().filter((d, i, all) => all.indexOf(d) === i);
        expect(order.at(-1), 'the failing company is asked last').to.equal(bad);
        // Before it, the others with events since their bookmark (the rest are skipped as inactive).
        expect(order.length).to.be.greaterThan(1);
        expect(good).to.include.members(order.slice(0, -1));
        const state2 = lastState(second)!;
        const failed2 = (state2.bookmarks.company_events.partitions as Record<string, any>[]).find(
          (p) => p.context.company_domain === bad,
        )!;
        expect(failed2.failure.attempts).to.equal(2);
        expect(second.stderr).to.include(`${bad} (2 failed syncs in a row: `);

        // It answers again: read from start_date, the failure record gone, exit 0.
        const third = await sync(LOOKBACK, [], state2);
        expect(third.code, third.stderr).to.equal(0);
        expectSameRecords(
          records(third, 'company_events'),
          [...truthOf([bad]), ...truthOf(good, END)],
          'id',
          'company_events once it answers',
        );
        const healed = (lastState(third)!.bookmarks.company_events.partitions as Record<string, any>[]).find(
          (p) => p.context.company_domain === bad,
        )!;
        expect(healed).to.deep.equal({
          context: { owner: 'acme-oss', company_domain: bad },
          replication_key: 'time',
          replication_key_value: '2026-10-05T00:00:00.000000Z',
        });
      });
    }
  });
});
