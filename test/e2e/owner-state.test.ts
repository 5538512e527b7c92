// Issue 18, item 3: a bookmark belongs to one owner. Syncs in a row on ONE state file with the
// owner switched back and forth (Singer and Airbyte state forms): each owner's records are
// exactly its ground truth from its own bookmark (or start_date), never from another owner's.
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { log } from '../../src/log.js';
import { parseState, StateStore } from '../../src/state.js';
import { selectOwner } from '../../src/streams/state/owners.js';
import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, configuredCatalogFor, expectSameRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-09-10';
// Syncs 1 and 2 read up to D1 (end_date), syncs 3 and 4 up to D3; the simulator's clock is
// the next day's noon, so every event of those days has arrived (lateRate 0).
const D1 = '2026-10-01';
const D2 = '2026-10-02';
const D3 = '2026-10-03';
const noonAfter = (day: string) => new Date(`${day.slice(0, 8)}${String(Number(day.slice(8)) + 1).padStart(2, '0')}T12:00:00Z`);
const BREAKDOWNS = ['by-total'];
const STREAMS = ['events', 'aggregates', 'company_rollup', 'company_events'];
const OWNERS = { 'acme-oss': { owner: 'acme-oss', seed: 1 }, 'other-org': { owner: 'other-org', seed: 2 } } as const;
type Owner = keyof typeof OWNERS;

describe('owner: a bookmark belongs to one owner (issue 18, item 3)', function () {
  this.timeout(180_000);
  const suite = useSimulator(
    { seed: 1, dataStart: '2026-08-01', dataEnd: '2026-10-31', now: noonAfter(D1), eventsPerDay: 25, companies: 6, lateRate: 0 },
    { start_date: START, lookback_days: 0, aggregates_lookback_days: 0, aggregates_breakdowns: BREAKDOWNS },
  );
  afterEach(() => suite.sim.setOptions({ owner: 'acme-oss', seed: 1 }));

  /** The simulator serving `owner`, its clock at noon after `day`. */
  function serve(owner: Owner, day: string): ScarfSimulator {
    suite.sim.setOptions({ ...OWNERS[owner], now: noonAfter(day) });
    suite.sim.resetRequests();
    return suite.sim;
  }

  type Recs = Record<string, Record<string, any>[]>;

  /** Where each windowed stream starts for an owner: start_date, or (after a sync up to D1) its own bookmark. */
  interface From {
    events: string;
    aggregates: string;
    company_events: string;
  }
  const FROM_START: From = { events: START, aggregates: START, company_events: START };
  // After a sync up to D1 with lookback 0: events and company_events are covered to D2's
  // midnight, aggregates to D1 (the day of its last period, read again).
  const FROM_BOOKMARK: From = { events: D2, aggregates: D1, company_events: D2 };

  /** The records `owner` must get up to `end`; rollup rows from `rollupFrom` (its last_seen bookmark). */
  function expectTruth(recs: Recs, owner: Owner, from: From, end: string, rollupFrom: string | undefined, what: string): void {
    const sim = suite.sim;
    expectSameRecords(recs.events!, sim.truth.events({ start: from.events, end }), 'id', `${what} events`);
    expectSameRecords(
      recs.aggregates!,
      sim.truth.aggregates({ start: from.aggregates, end, rollup: 'daily', breakdowns: BREAKDOWNS }),
      'row_key',
      `${what} aggregates`,
    );
    const rollup = sim.truth.companyRollup().filter((r) => rollupFrom === undefined || (r.last_seen as string) >= rollupFrom);
    expectSameRecords(recs.company_rollup!, rollup, 'company_domain', `${what} company_rollup`);
    const companies = sim.companyDomains().flatMap((d) => sim.truth.companyEvents(d, { start: from.company_events, end }));
    expectSameRecords(recs.company_events!, companies, 'id', `${what} company_events`);
    for (const s of STREAMS) {
      if (s !== 'company_rollup') expect(recs[s]!.length, `${what} ${s}`).to.be.greaterThan(0);
      expect(new Set(recs[s]!.map((r) => r.owner)), `${what} ${s} owner`).to.deep.equal(new Set(recs[s]!.length ? [owner] : []));
    }
    // Nothing before the owner's own start was asked for.
    for (const r of sim.requests) {
      const first = r.query.start_date?.[0] ?? '';
      if (r.endpoint === 'events') expect(first >= from.events, `${what}: ${r.path} from ${first}`).to.equal(true);
      if (r.endpoint === 'company-events')
        expect(first >= from.company_events, `${what}: ${r.path} from ${first}`).to.equal(true);
    }
  }

  const singerRecords = (run: TapRun): Recs =>
    Object.fromEntries(
      STREAMS.map((s) => [s, run.messages.filter((m) => m.type === 'RECORD' && m.stream === s).map((m) => m.record)]),
    );
  const airbyteRecords = (run: TapRun): Recs =>
    Object.fromEntries(
      STREAMS.map((s) => [s, run.messages.filter((m) => m.type === 'RECORD' && m.record.stream === s).map((m) => m.record.data)]),
    );

  /** The four syncs, run by `sync` (which keeps the state between them); returns the final state of each. */
  async function switchBackAndForth(
    sync: (owner: Owner, end: string) => Promise<{ recs: Recs; code: number | null; stderr: string; state: Record<string, any> }>,
  ): Promise<void> {
    // 1. acme-oss from start_date.
    serve('acme-oss', D1);
    const s1 = await sync('acme-oss', D1);
    expect(s1.code, s1.stderr).to.equal(0);
    expectTruth(s1.recs, 'acme-oss', FROM_START, D1, undefined, 'sync 1 (acme-oss)');
    const acmeRollupMark = s1.state.company_rollup.replication_key_value as string;

    // 2. other-org on the same state: from start_date, though acme-oss's bookmarks say D1.
    serve('other-org', D1);
    const s2 = await sync('other-org', D1);
    expect(s2.code, s2.stderr).to.equal(0);
    expectTruth(s2.recs, 'other-org', FROM_START, D1, undefined, 'sync 2 (other-org)');
    // The first sync marked every entry with its owner.
    for (const s of STREAMS) expect(s1.state[s].owner, s).to.equal('acme-oss');
    expect(s2.stderr).to.include(
      "State of 'events' was last written for owner 'acme-oss'; this sync is for owner 'other-org': no bookmark of 'other-org' yet, so reading from start_date ('acme-oss''s bookmark is kept for when it is configured again).",
    );
    for (const s of STREAMS) {
      expect(s2.state[s].owner, s).to.equal('other-org');
      expect(Object.keys(s2.state[s].other_owners), s).to.deep.equal(['acme-oss']);
    }
    // acme-oss's entry is kept as it was.
    expect(s2.state.events.other_owners['acme-oss']).to.deep.equal(
      Object.fromEntries(Object.entries(s1.state.events).filter(([k]) => k !== 'owner')),
    );
    const otherRollupMark = s2.state.company_rollup.replication_key_value as string;

    // 3. acme-oss two days later: from its own bookmark, not other-org's, not start_date.
    serve('acme-oss', D3);
    const s3 = await sync('acme-oss', D3);
    expect(s3.code, s3.stderr).to.equal(0);
    expectTruth(s3.recs, 'acme-oss', FROM_BOOKMARK, D3, acmeRollupMark, 'sync 3 (acme-oss again)');
    expect(s3.stderr).to.include("this sync is for owner 'acme-oss': resuming from its own bookmark");
    for (const s of STREAMS) expect(Object.keys(s3.state[s].other_owners), s).to.deep.equal(['other-org']);

    // 4. other-org again: from its own bookmark.
    serve('other-org', D3);
    const s4 = await sync('other-org', D3);
    expect(s4.code, s4.stderr).to.equal(0);
    expectTruth(s4.recs, 'other-org', FROM_BOOKMARK, D3, otherRollupMark, 'sync 4 (other-org again)');
    expect(s4.state.events.other_owners['acme-oss'].replication_key_value).to.equal('2026-10-04T00:00:00.000000Z');
  }

  it('Singer: four syncs on one state file, owner acme-oss, other-org, acme-oss, other-org', async () => {
    const cat = writeJson(suite.dir, 'cat-all.json', catalogFor(STREAMS));
    let state: Record<string, any> | undefined;
    await switchBackAndForth(async (owner, end) => {
      const args = ['--config', suite.config({ owner, end_date: end }), '--catalog', cat];
      if (state) args.push('--state', writeJson(suite.dir, `state-${Math.random().toString(36).slice(2)}.json`, state));
      const run = await runInProcess(args);
      state = lastState(run);
      return { recs: singerRecords(run), code: run.code, stderr: run.stderr, state: state!.bookmarks };
    });
  });

  it("--plan counts another owner's requests from start_date, not from the bookmark of the owner the state was written for", async () => {
    serve('acme-oss', D1);
    const cat = writeJson(suite.dir, 'cat-events.json', catalogFor(['events']));
    const first = await runInProcess(['--config', suite.config({ owner: 'acme-oss', end_date: D1 }), '--catalog', cat]);
    expect(first.code, first.stderr).to.equal(0);
    const state = writeJson(suite.dir, 'state-plan.json', lastState(first));
    const planned = async (owner: Owner, withState: boolean) => {
      const run = await runInProcess([
        '--config',
        suite.config({ owner, end_date: D1 }),
        '--catalog',
        cat,
        ...(withState ? ['--state', state] : []),
        '--plan',
        '--format',
        'json',
      ]);
      expect(run.code, run.stderr).to.equal(0);
      return JSON.parse(run.stdout.trim()).streams.events as number;
    };
    serve('other-org', D1);
    const fresh = await planned('other-org', false);
    expect(fresh).to.be.greaterThan(20);
    expect(await planned('other-org', true)).to.equal(fresh);
    serve('acme-oss', D1);
    expect(await planned('acme-oss', true)).to.equal(0);
  });

  it('Airbyte: the same four syncs on per-stream state', async () => {
    const cat = writeJson(suite.dir, 'configured-all.json', configuredCatalogFor(STREAMS));
    let states: unknown[] | undefined;
    await switchBackAndForth(async (owner, end) => {
      const args = ['read', '--config', suite.config({ owner, end_date: end }), '--catalog', cat];
      if (states) args.push('--state', writeJson(suite.dir, `ab-state-${Math.random().toString(36).slice(2)}.json`, states));
      const run = await runInProcess(args);
      // The platform keeps each stream's last STATE.
      const last = new Map<string, any>();
      for (const m of run.messages) if (m.type === 'STATE') last.set(m.state.stream.stream_descriptor.name, m.state);
      states = [...last.values()];
      const logs = run.messages
        .filter((m) => m.type === 'LOG')
        .map((m) => m.log.message as string)
        .join('\n');
      const state = Object.fromEntries([...last].map(([name, s]) => [name, s.stream.stream_state]));
      return { recs: airbyteRecords(run), code: run.code, stderr: `${run.stderr}\n${logs}`, state };
    });
  });
});

describe('owner: state written before owners were recorded', () => {
  const covered = '2026-10-01T00:00:00.000000Z';
  const events = { replication_key: 'time', replication_key_value: covered };
  const partition = (owner: string | undefined, d: string) => ({
    context: owner ? { owner, company_domain: d } : { company_domain: d },
    replication_key: 'time',
    replication_key_value: covered,
  });

  function select(bookmarks: Record<string, unknown> | StateStore, owner: string): { store: StateStore; logs: string[] } {
    const store = bookmarks instanceof StateStore ? bookmarks : new StateStore(parseState({ bookmarks }, 'test'));
    const logs: string[] = [];
    const { info, warn } = log;
    log.info = (m: string) => void logs.push(`INFO ${m}`);
    log.warn = (m: string) => void logs.push(`WARN ${m}`);
    try {
      selectOwner(store, ['events', 'company_events'], owner);
    } finally {
      Object.assign(log, { info, warn });
    }
    return { store, logs };
  }

  it('nothing in the state names an owner: the bookmark is taken as the configured owner’s, said once', () => {
    const { store, logs } = select({ events }, 'acme-oss');
    expect(store.bookmark('events')).to.deep.equal({ ...events, owner: 'acme-oss' });
    expect(store.value('events', 'time')).to.equal(covered);
    expect(logs).to.deep.equal([
      "INFO State of 'events' does not record its owner (an earlier tap-scarf wrote it): taking it as owner 'acme-oss''s, the one configured (nothing in the state names another owner).",
    ]);
  });

  it('the state names only another owner (its company partitions): the bookmark is that owner’s, the configured one starts from start_date', () => {
    const { store } = select({ events, company_events: { partitions: [partition('acme-oss', 'a.com')] } }, 'other-org');
    expect(store.value('events', 'time')).to.equal(undefined);
    expect(store.bookmark('events')).to.deep.equal({ owner: 'other-org', other_owners: { 'acme-oss': events } });
    expect(store.bookmark('company_events')).to.deep.equal({
      owner: 'other-org',
      other_owners: { 'acme-oss': { partitions: [partition('acme-oss', 'a.com')] } },
    });
    // Back to acme-oss: its bookmark again.
    expect(select(store, 'acme-oss').logs).to.deep.equal(
      ['events', 'company_events'].map(
        (s) =>
          `INFO State of '${s}' was last written for owner 'other-org'; this sync is for owner 'acme-oss': resuming from its own bookmark ('other-org''s bookmark is kept for when it is configured again).`,
      ),
    );
    expect(store.value('events', 'time')).to.equal(covered);
    expect(store.partitionValue('company_events', { owner: 'acme-oss', company_domain: 'a.com' }, 'time')).to.equal(covered);
  });

  it('the state names the configured owner only: adopted, its partitions without an owner too (the same step)', () => {
    const { store, logs } = select(
      { events, company_events: { partitions: [partition('acme-oss', 'a.com'), partition(undefined, 'b.com')] } },
      'acme-oss',
    );
    expect(store.value('events', 'time')).to.equal(covered);
    expect(store.bookmark('company_events')!.partitions).to.deep.equal([
      partition('acme-oss', 'a.com'),
      partition('acme-oss', 'b.com'),
    ]);
    expect(logs).to.include(
      "INFO State of 'company_events' has 1 partition(s) without an owner in their context (an earlier tap-scarf wrote them): taking them as partitions of owner 'acme-oss'.",
    );
  });

  it('the state names several owners: nobody can tell whose the bookmark is, so it is kept aside and not used (a warning)', () => {
    const { store, logs } = select(
      { events, company_events: { partitions: [partition('acme-oss', 'a.com'), partition('other-org', 'a.com')] } },
      'acme-oss',
    );
    expect(store.value('events', 'time')).to.equal(undefined);
    expect(store.bookmark('events')).to.deep.equal({ owner: 'acme-oss', unowned: events });
    expect(logs.filter((l) => l.startsWith('WARN'))).to.deep.equal([
      `WARN State of 'events' does not record its owner (an earlier tap-scarf wrote it): the state records several owners (acme-oss, other-org), so it cannot tell whose it is: it is kept under "unowned" and not used, and owner 'acme-oss' reads from start_date.`,
    ]);
    expect(store.bookmark('company_events')!.partitions).to.deep.equal([partition('acme-oss', 'a.com')]);
    expect(store.bookmark('company_events')!.other_owners).to.deep.equal({
      'other-org': { partitions: [partition('other-org', 'a.com')] },
    });
  });

  it('an entry of another owner is checked like the bookmark itself', () => {
    expect(() =>
      parseState(
        { bookmarks: { events: { owner: 'a', other_owners: { b: { replication_key_value: 'yesterday' } } } } },
        'state file s.json',
      ),
    ).to.throw(
      `State from state file s.json, stream 'events' (of owner 'b', in other_owners): replication_key_value "yesterday" is not a valid date or RFC3339 timestamp.`,
    );
  });
});
