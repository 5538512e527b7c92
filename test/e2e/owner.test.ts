// The owner in every record, every key and every company_events state partition, so several
// Scarf owners can share one warehouse table (and one owner spelled in any case is one owner).
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { airbyteCatalog } from '../../src/airbyte/catalog.js';
import { singerCatalog } from '../../src/catalog.js';
import { validateSettings } from '../../src/config/load.js';
import { StateStore } from '../../src/state.js';
import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, expectSameRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, records, type TapRun, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const START = '2026-10-01';
const END = '2026-10-04';
const SIM_NOW = new Date('2026-10-05T12:00:00Z');
const BREAKDOWNS = ['by-total', 'by-company'];
const SIM = { seed: 11, dataStart: '2026-08-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 40, companies: 8 };
const KEYS = {
  events: ['owner', 'id'],
  aggregates: ['owner', 'row_key'],
  company_rollup: ['owner', 'company_domain'],
  company_events: ['owner', 'id'],
} as const;

describe('owner: in every record, key and state partition', function () {
  this.timeout(120_000);
  const suite = useSimulator(SIM, { start_date: START, end_date: END, aggregates_breakdowns: BREAKDOWNS, lookback_days: 0 });

  function expectTruth(run: TapRun, owner: string): void {
    expect(run.code, run.stderr).to.equal(0);
    const sim = suite.sim;
    expectSameRecords(records(run, 'events'), sim.truth.events({ start: START, end: END }), 'id', 'events');
    expectSameRecords(
      records(run, 'aggregates'),
      sim.truth.aggregates({ start: START, end: END, rollup: 'daily', breakdowns: BREAKDOWNS }),
      'row_key',
      'aggregates',
    );
    expectSameRecords(records(run, 'company_rollup'), sim.truth.companyRollup(), 'company_domain', 'company_rollup');
    const companyTruth = sim.companyDomains().flatMap((d) => sim.truth.companyEvents(d, { start: START, end: END }));
    expectSameRecords(records(run, 'company_events'), companyTruth, 'id', 'company_events');
    for (const stream of Object.keys(KEYS)) {
      const rows = records(run, stream);
      expect(rows.length, `${stream} records`).to.be.greaterThan(0);
      expect(new Set(rows.map((r) => r.owner)), `${stream} owner column`).to.deep.equal(new Set([owner]));
      // The owner is the first column, as in the schema.
      expect(Object.keys(rows[0]!)[0], stream).to.equal('owner');
    }
    for (const r of records(run, 'aggregates')) expect(JSON.parse(r.row_key)[0]).to.equal(owner);
  }

  it("the simulator's ground truth carries the owner, lower-case, in every stream", () => {
    const sim = suite.sim;
    const all = [
      ...sim.truth.events({ start: START, end: START }),
      ...sim.truth.aggregates({ start: START, end: START, breakdowns: BREAKDOWNS }),
      ...sim.truth.companyRollup(),
      ...sim.companyDomains().flatMap((d) => sim.truth.companyEvents(d, { start: START, end: END })),
    ];
    expect(all.length).to.be.greaterThan(0);
    expect(all.every((r) => r.owner === 'acme-oss')).to.equal(true);
  });

  it("config owner 'ACME-OSS' → every record of every stream says 'acme-oss', equal to the ground truth; requests succeed", async () => {
    const run = await runInProcess(['--config', suite.config({ owner: 'ACME-OSS' })]);
    expectTruth(run, 'acme-oss');
    expect(run.stderr).to.include(
      "Setting 'owner': using 'ACME-OSS' as 'acme-oss' (Scarf's v2 exports match owners in any case; the aggregations stream asks v3, which does not, for 'ACME-OSS' as given).",
    );
    expect(suite.sim.requests.length).to.be.greaterThan(0);
    for (const r of suite.sim.requests) {
      expect(r.status, r.path).to.equal(200);
      expect(r.path, 'the request names the owner in lower case').to.include('/acme-oss');
    }
    const partitions = lastState(run)!.bookmarks.company_events.partitions as { context: Record<string, string> }[];
    expect(partitions.length).to.be.greaterThan(0);
    for (const p of partitions) {
      expect(Object.keys(p.context)).to.deep.equal(['owner', 'company_domain']);
      expect(p.context.owner).to.equal('acme-oss');
    }
  });

  it('an owner with surrounding blanks is trimmed; one of blanks only is refused', () => {
    expect(validateSettings({ api_token: 't', owner: '  Acme-OSS ' }).owner).to.equal('acme-oss');
    expect(() => validateSettings({ api_token: 't', owner: '   ' })).to.throw(/Setting 'owner'.*must not be empty/);
  });

  it('keys: every stream is keyed by owner first, in the Singer catalog (key_properties and metadata) and the Airbyte catalog', () => {
    const singer = Object.fromEntries(singerCatalog().streams.map((s) => [s.tap_stream_id, s]));
    const airbyte = Object.fromEntries(airbyteCatalog().streams.map((s) => [s.name, s]));
    for (const [stream, keys] of Object.entries(KEYS)) {
      const s = singer[stream]!;
      expect(s.key_properties, stream).to.deep.equal(keys);
      const top = s.metadata.find((m) => m.breadcrumb.length === 0)!.metadata;
      expect(top['table-key-properties'], stream).to.deep.equal(keys);
      const owner = s.metadata.find((m) => m.breadcrumb[1] === 'owner')!.metadata;
      expect(owner.inclusion, `${stream}.owner`).to.equal('automatic');
      expect(s.schema.required, stream).to.include('owner');
      expect(s.schema.properties.owner, stream).to.include({ type: 'string' });
      expect(airbyte[stream]!.source_defined_primary_key, stream).to.deep.equal(keys.map((k) => [k]));
      expect(airbyte[stream]!.json_schema.properties.owner, stream).to.include({ type: 'string' });
    }
  });

  it('the owner column is emitted even when the catalog deselects it (it is part of the key)', async () => {
    const cat = singerCatalog() as any;
    for (const s of cat.streams) {
      s.metadata[0].metadata.selected = s.tap_stream_id === 'events';
      for (const m of s.metadata)
        if (m.breadcrumb[1] === 'owner' || m.breadcrumb[1] === 'user_agent') m.metadata.selected = false;
    }
    const run = await runInProcess(['--config', suite.config(), '--catalog', writeJson(suite.dir, 'cat-no-owner.json', cat)]);
    expect(run.code, run.stderr).to.equal(0);
    const rows = records(run, 'events');
    expect(rows.length).to.be.greaterThan(0);
    expect(rows.every((r) => r.owner === 'acme-oss' && !('user_agent' in r))).to.equal(true);
  });

  it('company_events: a state written before owner was in the partition context resumes from it (no restart) and is rewritten with the owner', async () => {
    const domains = suite.sim.truth.activeDomains({ start: START, end: END }).sort();
    expect(domains.length).to.be.greaterThan(1);
    // An earlier tap-scarf covered every domain up to END (context without owner).
    const covered = `2026-10-05T00:00:00.000000Z`;
    const old = {
      bookmarks: {
        company_events: {
          settings: { start_date: START },
          partitions: domains.map((d) => ({
            context: { company_domain: d },
            replication_key: 'time',
            replication_key_value: covered,
          })),
        },
      },
    };
    const run = await runInProcess([
      '--config',
      suite.config(),
      '--catalog',
      writeJson(suite.dir, 'cat-ce.json', catalogFor(['company_rollup', 'company_events'])),
      '--state',
      writeJson(suite.dir, 'state-old.json', old),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    // Resumed: every domain was covered, so not one company-events request (a restart would ask for each).
    expect(suite.sim.requests.filter((r) => r.endpoint === 'company-events')).to.deep.equal([]);
    expect(records(run, 'company_events')).to.deep.equal([]);
    expect(run.stderr).to.include(
      `State of 'company_events' has ${domains.length} partition(s) without an owner in their context (an earlier tap-scarf wrote them): taking them as partitions of owner 'acme-oss'.`,
    );
    const parts = lastState(run)!.bookmarks.company_events.partitions;
    expect(parts).to.deep.equal(
      domains.map((d) => ({
        context: { owner: 'acme-oss', company_domain: d },
        replication_key: 'time',
        replication_key_value: covered,
      })),
    );
  });

  it("a state without owners is made the owner's once, when the sync reads it: the first STATE already has the owner's shape, and --plan counts from the same state as the read", async () => {
    const domains = suite.sim.truth.activeDomains({ start: START, end: END }).sort();
    expect(domains.length).to.be.greaterThan(2);
    // An earlier tap-scarf read half the companies to the end (contexts without owner) and events up to Oct 2.
    const covered = domains.slice(0, Math.ceil(domains.length / 2));
    const old = {
      bookmarks: {
        events: { replication_key: 'time', replication_key_value: '2026-10-02T00:00:00.000000Z' },
        company_events: {
          partitions: covered.map((d) => ({
            context: { company_domain: d },
            replication_key: 'time',
            replication_key_value: '2026-10-05T00:00:00.000000Z',
          })),
        },
      },
    };
    const args = [
      '--config',
      suite.config(),
      '--catalog',
      writeJson(suite.dir, 'cat-migrate.json', catalogFor(['events', 'company_rollup', 'company_events'])),
      '--state',
      writeJson(suite.dir, 'state-migrate.json', old),
    ];
    const adopted = `State of 'company_events' has ${covered.length} partition(s) without an owner in their context (an earlier tap-scarf wrote them): taking them as partitions of owner 'acme-oss'.`;
    const times = (text: string, line: string) => text.split(line).length - 1;

    const plan = await runInProcess([...args, '--plan', '--format', 'json']);
    expect(plan.code, plan.stderr).to.equal(0);
    expect(times(plan.stderr, adopted), plan.stderr).to.equal(1);
    const json = JSON.parse(plan.stdout.trim());
    // Its requests on company-events, without the one for Scarf's counts (verify_counts).
    const planned = (json.streams.company_events as number) - (json.counts.company_events as number);

    suite.sim.resetRequests();
    const run = await runInProcess(args);
    expect(run.code, run.stderr).to.equal(0);
    expect(times(run.stderr, adopted), run.stderr).to.equal(1);
    // The plan found the covered companies' bookmarks as the read did: neither asks for them.
    const asked = suite.sim.requests.filter((r) => r.endpoint === 'company-events').map((r) => r.domain!);
    expect(asked.filter((d) => covered.includes(d))).to.deep.equal([]);
    expect(asked.length).to.be.greaterThan(0);
    expect(planned).to.equal(asked.length);

    // The first STATE is written by events, before company_events has run, and is already the owner's.
    const firstState = run.messages.findIndex((m) => m.type === 'STATE');
    const firstCompanyEvent = run.messages.findIndex((m) => m.type === 'RECORD' && m.stream === 'company_events');
    expect(firstState).to.be.greaterThan(-1);
    expect(firstState).to.be.lessThan(firstCompanyEvent);
    const first = run.messages[firstState]!.value.bookmarks;
    expect(first.events.owner).to.equal('acme-oss');
    expect(first.company_events.owner).to.equal('acme-oss');
    expect(first.company_events.partitions).to.deep.equal(
      covered.map((d) => ({
        context: { owner: 'acme-oss', company_domain: d },
        replication_key: 'time',
        replication_key_value: '2026-10-05T00:00:00.000000Z',
      })),
    );
  });

  it('company_events: an old partition resumes where it was, and only the rest of the range is read', async () => {
    const [d] = suite.sim.truth.activeDomains({ start: '2026-10-03', end: END }).sort();
    const old = {
      bookmarks: {
        company_events: {
          partitions: [
            { context: { company_domain: d }, replication_key: 'time', replication_key_value: '2026-10-03T00:00:00.000000Z' },
          ],
        },
      },
    };
    const run = await runInProcess([
      '--config',
      suite.config({ company_domains: [d] }),
      '--catalog',
      writeJson(suite.dir, 'cat-ce2.json', catalogFor(['company_events'])),
      '--state',
      writeJson(suite.dir, 'state-old2.json', old),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const asked = suite.sim.requests.filter((r) => r.endpoint === 'company-events');
    expect(asked.map((r) => [r.query.start_date![0], r.query.end_date![0]])).to.deep.equal([['2026-10-03', END]]);
    expectSameRecords(
      records(run, 'company_events'),
      suite.sim.truth.companyEvents(d!, { start: '2026-10-03', end: END }),
      'id',
      'company_events',
    );
    expect(lastState(run)!.bookmarks.company_events.partitions.map((p: any) => p.context)).to.deep.equal([
      { owner: 'acme-oss', company_domain: d },
    ]);
  });

  it('StateStore: a partition already written with the owner wins over an old one of the same domain', () => {
    const store = new StateStore({
      bookmarks: {
        company_events: {
          partitions: [
            {
              context: { company_domain: 'a.com' },
              replication_key: 'time',
              replication_key_value: '2026-10-01T00:00:00.000000Z',
            },
            {
              context: { owner: 'acme-oss', company_domain: 'a.com' },
              replication_key: 'time',
              replication_key_value: '2026-10-03T00:00:00.000000Z',
            },
            {
              context: { company_domain: 'b.com' },
              replication_key: 'time',
              replication_key_value: '2026-10-02T00:00:00.000000Z',
            },
          ],
        },
      },
    });
    store.adoptOwnerlessPartitions('company_events', 'acme-oss');
    const value = (d: string) => store.partitionValue('company_events', { owner: 'acme-oss', company_domain: d }, 'time');
    expect(value('a.com')).to.equal('2026-10-03T00:00:00.000000Z');
    expect(value('b.com')).to.equal('2026-10-02T00:00:00.000000Z');
    expect(store.snapshot().bookmarks.company_events!.partitions!.length).to.equal(2);
  });
});

describe('owner: two owners in one table', function () {
  this.timeout(120_000);
  const sims: ScarfSimulator[] = [];
  let dir = '';
  before(async () => {
    // The same seed: the two owners' exports hold the very same event ids and company domains.
    for (const owner of ['acme-oss', 'Acme-Labs']) {
      const sim = new ScarfSimulator({ ...SIM, token: TOKEN, owner });
      await sim.start();
      sims.push(sim);
    }
    dir = tmpDir('tap-scarf-owners-');
  });
  after(async () => Promise.all(sims.map((s) => s.stop())));

  it('records of two owners never share a key, though their ids and domains are equal', async () => {
    const runs: TapRun[] = [];
    for (const [i, owner] of ['acme-oss', 'acme-labs'].entries()) {
      const config = writeJson(dir, `config-${owner}.json`, {
        api_token: TOKEN,
        owner,
        base_url: sims[i]!.url,
        start_date: START,
        end_date: END,
        aggregates_breakdowns: BREAKDOWNS,
      });
      runs.push(await runInProcess(['--config', config]));
      expect(runs[i]!.code, runs[i]!.stderr).to.equal(0);
    }
    for (const [stream, keys] of Object.entries(KEYS)) {
      const [a, b] = runs.map((r) => records(r, stream));
      expect(a!.length, stream).to.be.greaterThan(0);
      // Without the owner the natural keys collide: the second owner would overwrite the first.
      const natural = (r: Record<string, any>) =>
        stream === 'aggregates' ? JSON.stringify(JSON.parse(r.row_key).slice(1)) : String(r[keys[1]]);
      const inB = new Set(b!.map(natural));
      expect(a!.filter((r) => inB.has(natural(r))).length, `${stream}: natural keys both owners have`).to.equal(a!.length);
      const key = (r: Record<string, any>) => JSON.stringify(keys.map((k) => r[k]));
      const union = new Set([...a!, ...b!].map(key));
      expect(union.size, `${stream}: every record of both owners keeps its own row`).to.equal(a!.length + b!.length);
      expect(new Set(b!.map((r) => r.owner)), stream).to.deep.equal(new Set(['acme-labs']));
    }
    // row_key alone is unique across the owners too.
    const rowKeys = runs.flatMap((r) => records(r, 'aggregates').map((x) => x.row_key));
    expect(new Set(rowKeys).size).to.equal(rowKeys.length);
  });
});
