// `tap-scarf load` into a real PostgreSQL (test/helpers/postgres.ts) from the simulator: every
// stream equals the ground truth after a full and an incremental load (lookback re-reads and
// revised aggregates merged by key), several owners share the tables, `verify` finds a day
// deleted by hand, and the Scarf exporter's table is taken over.
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { addDays, dayOf } from '../../src/streams/engine/days.js';
import { expectTable, runCli, stateRows, tableRecords, withClient } from '../helpers/load.js';
import { testPostgres } from '../helpers/postgres.js';
import { catalogFor } from '../helpers/reliability.js';
import { tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const OWNER = 'acme-oss';
const BREAKDOWNS = ['by-total', 'by-country'];

function env(sim: ScarfSimulator, url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    TAP_SCARF_API_TOKEN: TOKEN,
    TAP_SCARF_OWNER: OWNER,
    TAP_SCARF_BASE_URL: url,
    TAP_SCARF_AGGREGATES_BREAKDOWNS: BREAKDOWNS.join(','),
    ...extra,
  };
}

function truthOf(sim: ScarfSimulator, start: string, end: string) {
  const domains = sim.truth.activeDomains({ start, end });
  return {
    events: sim.truth.events({ start, end }),
    aggregates: sim.truth.aggregates({ start, end, breakdowns: BREAKDOWNS }),
    company_rollup: sim.truth.companyRollup(),
    company_events: domains.flatMap((d) => sim.truth.companyEvents(d, { start, end })),
  };
}

describe('load into PostgreSQL: every stream equals the truth, incrementally, per owner', function () {
  this.timeout(180_000);
  let sim: ScarfSimulator;
  let simUrl: string;
  let db: string;
  let password: string;

  before(async () => {
    const server = await testPostgres();
    password = server.password;
    db = await server.freshDatabase('load');
    sim = new ScarfSimulator({
      token: TOKEN,
      seed: 7,
      now: new Date('2026-11-10T12:00:00Z'),
      dataStart: '2026-10-20',
      eventsPerDay: 60,
      companies: 14,
      columnSet: 'extra',
    });
    simUrl = await sim.start();
  });
  after(async () => sim?.stop());

  it('a full load, then an incremental one after the clock moved: tables equal the truth, late events and revised counts merged by key', async () => {
    const first = await runCli(
      ['load', '--config', 'ENV', '--to', db],
      {
        env: env(sim, simUrl, {
          TAP_SCARF_START_DATE: '2026-11-01',
          TAP_SCARF_END_DATE: '2026-11-10',
          TAP_SCARF_LOOKBACK_DAYS: '3',
        }),
      },
      [password, TOKEN],
    );
    expect(first.code, first.stderr.slice(-3000)).to.equal(0);
    expect(first.stdout, 'load writes nothing to stdout').to.equal('');
    const before = await withClient(db, async (c) => {
      const t = truthOf(sim, '2026-11-01', '2026-11-10');
      for (const s of ['events', 'aggregates', 'company_rollup', 'company_events'] as const)
        expectTable(s, await tableRecords(c, s), t[s]);
      expect(
        (await tableRecords(c, 'events')).some((r) => r.extra_fields !== null),
        'extra_fields loaded as jsonb',
      ).to.equal(true);
      return new Map((await tableRecords(c, 'aggregates')).map((r) => [r.row_key as string, r.total]));
    });

    // Two days later: new days, late events of the lookback days, and recounted aggregates.
    sim.setNow(new Date('2026-11-12T12:00:00Z'));
    sim.resetRequests();
    const second = await runCli(
      ['load', '--config', 'ENV', '--to', db],
      {
        env: env(sim, simUrl, {
          TAP_SCARF_START_DATE: '2026-11-01',
          TAP_SCARF_END_DATE: '2026-11-12',
          TAP_SCARF_LOOKBACK_DAYS: '3',
        }),
      },
      [password, TOKEN],
    );
    expect(second.code, second.stderr.slice(-3000)).to.equal(0);
    await withClient(db, async (c) => {
      const t = truthOf(sim, '2026-11-01', '2026-11-12');
      for (const s of ['events', 'aggregates', 'company_rollup', 'company_events'] as const)
        expectTable(s, await tableRecords(c, s), t[s]);
      const revised = (await tableRecords(c, 'aggregates')).filter(
        (r) => before.has(r.row_key as string) && before.get(r.row_key as string) !== r.total,
      );
      expect(revised.length, 'some aggregates were recounted and replaced').to.be.greaterThan(0);
      // The incremental load read events from its bookmark (2026-11-11) minus lookback_days (3), not from start_date.
      const starts = sim.requests.filter((r) => r.endpoint === 'events').map((r) => r.query.start_date![0]!);
      expect(starts.sort()[0]).to.equal('2026-11-08');
      const state = await stateRows(c, OWNER);
      expect(state.get('events/')?.replication_key_value).to.equal('2026-11-13T00:00:00.000000Z');
      expect(state.get('aggregates/')?.replication_key_value).to.equal('2026-11-12');
      expect([...state.keys()].filter((k) => k.startsWith('company_events/{')).length).to.equal(
        sim.truth.activeDomains({ start: '2026-11-01', end: '2026-11-12' }).length,
      );
    });
  });

  it('verify: every day equal, then a day deleted by hand is reported with its counts (exit 1)', async () => {
    const ok = await runCli(['verify', '--config', 'ENV', '--to', db], { env: env(sim, simUrl) }, [password, TOKEN]);
    expect(ok.code, ok.stderr.slice(-2000)).to.equal(0);
    expect(ok.stdout).to.match(/Verified 12 UTC day\(s\), 2026-11-01\.\.2026-11-12/);
    expect(ok.stdout).to.include('every day holds exactly the events Scarf counts');
    const domains = sim.truth.activeDomains({ start: '2026-11-01', end: '2026-11-12' });
    // Each company's days: 2026-11-01 to the day before its own bookmark.
    const companyDays = await withClient(db, async (c) => {
      let n = 0;
      for (const [k, v] of await stateRows(c, OWNER))
        if (k.startsWith('company_events/{'))
          for (let d = '2026-11-01'; d < dayOf(v.replication_key_value as string) && d <= '2026-11-12'; d = addDays(d, 1)) n++;
      return n;
    });
    expect(companyDays, 'most companies to the last day').to.be.greaterThan(11 * domains.length);
    expect(ok.stdout).to.match(
      new RegExp(`Verified ${companyDays} company-day\\(s\\) of ${domains.length} companies, 2026-11-01\\.\\.2026-11-12`),
    );
    expect(ok.stdout).to.include('every company holds exactly the events Scarf counts on each day');
    const deleted = await withClient(db, async (c) => {
      const r = await c.query(
        `DELETE FROM scarf.events WHERE owner = $1 AND "time" >= '2026-11-05T00:00:00Z' AND "time" < '2026-11-06T00:00:00Z'`,
        [OWNER],
      );
      return r.rowCount ?? 0;
    });
    expect(deleted).to.be.greaterThan(0);
    const bad = await runCli(['verify', '--config', 'ENV', '--to', db], { env: env(sim, simUrl) }, [password, TOKEN]);
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.include('1 day(s) differ');
    expect(bad.stdout).to.match(new RegExp(`2026-11-05\\s+0\\s+${deleted}\\s+-${deleted}`));
    expect(bad.stderr).to.include('verify: 1 of 12 day(s) differ');
    expect(bad.stdout, 'company_events untouched so far').to.include('every company holds exactly the events Scarf counts');

    // One company's events of one day deleted by hand: that company and day, and no other, are reported.
    const domain = domains.find((d) => sim.truth.companyEvents(d, { start: '2026-11-07', end: '2026-11-07' }).length > 0)!;
    const gone = await withClient(db, async (c) => {
      const r = await c.query(
        `DELETE FROM scarf.company_events WHERE owner = $1 AND company_domain = $2 AND "time" >= '2026-11-07T00:00:00Z' AND "time" < '2026-11-08T00:00:00Z'`,
        [OWNER, domain],
      );
      return r.rowCount ?? 0;
    });
    expect(gone).to.equal(sim.truth.companyEvents(domain, { start: '2026-11-07', end: '2026-11-07' }).length);
    const worse = await runCli(['verify', '--config', 'ENV', '--to', db], { env: env(sim, simUrl) }, [password, TOKEN]);
    expect(worse.code).to.equal(1);
    expect(worse.stdout).to.include('1 company-day(s) differ');
    const escaped = domain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(worse.stdout).to.match(new RegExp(`2026-11-07\\s+0\\s+${gone}\\s+-${gone}\\s+${escaped}\\n`));
    const part = await withClient(db, async (c) => {
      const { rows } = await c.query<{ part: string }>(
        `SELECT part FROM scarf.tap_scarf_state WHERE owner = $1 AND stream = 'company_events' AND part <> ''`,
        [OWNER],
      );
      return rows.find((r) => (JSON.parse(r.part) as { company_domain: string }).company_domain === domain)!.part;
    });
    expect(worse.stdout, 'the state row to delete is named').to.include(
      `DELETE FROM "scarf"."tap_scarf_state" WHERE owner = '${OWNER}' AND stream = 'company_events' AND part = '${part}'; then load with start_date 2026-11-07.`,
    );
    expect(worse.stderr).to.include(
      `verify: 1 of ${companyDays} company-day(s) of company_events differ from Scarf's by-company counts: 2026-11-07 ${domain} (database 0, Scarf ${gone})`,
    );
  });

  it('several owners share the tables: each owner’s rows equal its truth, keyed and stated per owner', async () => {
    const other = new ScarfSimulator({
      token: TOKEN,
      owner: 'Other-Org',
      seed: 99,
      now: new Date('2026-11-12T12:00:00Z'),
      dataStart: '2026-10-20',
      eventsPerDay: 40,
      companies: 13,
    });
    const otherUrl = await other.start();
    try {
      const dir = tmpDir();
      const catalog = writeJson(dir, 'catalog.json', catalogFor(['events', 'company_rollup']));
      const run = await runCli(
        ['load', '--config', 'ENV', '--to', db, '--catalog', catalog],
        {
          env: env(other, otherUrl, {
            TAP_SCARF_OWNER: 'OTHER-ORG',
            TAP_SCARF_START_DATE: '2026-11-01',
            TAP_SCARF_END_DATE: '2026-11-12',
          }),
        },
        [password, TOKEN],
      );
      expect(run.code, run.stderr.slice(-2000)).to.equal(0);
      await withClient(db, async (c) => {
        expectTable(
          'events',
          await tableRecords(c, 'events', 'other-org'),
          other.truth.events({ start: '2026-11-01', end: '2026-11-12' }),
        );
        expectTable('company_rollup', await tableRecords(c, 'company_rollup', 'other-org'), other.truth.companyRollup());
        // The first owner's rows are untouched (less the day deleted by hand above).
        const mine = sim.truth
          .events({ start: '2026-11-01', end: '2026-11-12' })
          .filter((r) => !String(r.time).startsWith('2026-11-05'));
        expectTable('events', await tableRecords(c, 'events', OWNER), mine);
        expectTable('company_rollup', await tableRecords(c, 'company_rollup', OWNER), sim.truth.companyRollup());
        expect((await stateRows(c, 'other-org')).get('events/')?.replication_key_value).to.equal('2026-11-13T00:00:00.000000Z');
        const { rows } = await c.query<{ owner: string; n: string }>(
          'SELECT owner, count(*) AS n FROM scarf.company_rollup GROUP BY owner ORDER BY owner',
        );
        expect(rows.map((r) => r.owner)).to.deep.equal([OWNER, 'other-org']);
      });
    } finally {
      await other.stop();
    }
  });
});

describe("load: taking over from Scarf's exporter (scarf_events_raw), configured by its own variables", function () {
  this.timeout(120_000);

  it('imports the exporter table de-duplicated, continues from its last day, and loads exactly the truth', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('exporter');
    const sim = new ScarfSimulator({
      token: TOKEN,
      seed: 11,
      now: new Date('2026-11-08T12:00:00Z'),
      dataStart: '2026-10-20',
      eventsPerDay: 50,
    });
    const url = await sim.start();
    try {
      // What the exporter left: 11-01..11-05 with its duplicates, the last day partly, and the row its range guard seeds.
      const raw = sim.truth.events({ start: '2026-11-01', end: '2026-11-05' });
      const cut = raw.filter((r, i) => !(String(r.time).startsWith('2026-11-05') && i % 3 === 0));
      await withClient(db, async (c) => {
        await c.query(`CREATE TABLE scarf_events_raw (id text, type text, package text, pixel text, version text, time timestamp, referer text, user_agent text,
          platform text, variables text, origin_id text, origin_latitude numeric, origin_longitude numeric, origin_country text, origin_city text,
          origin_postal text, origin_connection_type text, origin_company text, origin_domain text, dnt boolean, confidence numeric, endpoint_id text,
          origin_state text, mtc_quota_exceeded boolean)`);
        const cols = [
          'id',
          'type',
          'package',
          'pixel',
          'version',
          'time',
          'referer',
          'user_agent',
          'platform',
          'variables',
          'origin_id',
          'origin_latitude',
          'origin_longitude',
          'origin_country',
          'origin_city',
          'origin_postal',
          'origin_connection_type',
          'origin_company',
          'origin_domain',
          'dnt',
          'confidence',
          'endpoint_id',
          'origin_state',
          'mtc_quota_exceeded',
        ];
        const rows = [...cut, ...cut.filter((_, i) => i % 10 === 0)];
        for (let i = 0; i < rows.length; i += 200) {
          const batch = rows.slice(i, i + 200);
          const values: unknown[] = [];
          const tuples = batch.map(
            (r) =>
              `(${cols
                .map((col) => {
                  values.push(col === 'time' ? String(r.time).replace('T', ' ').replace('Z', '') : r[col]);
                  return `$${values.length}`;
                })
                .join(', ')})`,
          );
          await c.query(`INSERT INTO scarf_events_raw (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, values);
        }
        await c.query('INSERT INTO scarf_events_raw (time) VALUES (now())');
      });
      const today = new Date().toISOString().slice(0, 10);
      let backfill = 0;
      while (addDays(today, -backfill) > '2026-11-01') backfill++;
      const dir = tmpDir();
      const catalog = writeJson(dir, 'catalog.json', catalogFor(['events']));
      const run = await runCli(
        ['load', '--catalog', catalog],
        {
          env: {
            SCARF_API_TOKEN: TOKEN,
            SCARF_ENTITY_NAME: 'ACME-OSS',
            PSQL_CONN_STRING: db,
            BACKFILL_DAYS: String(backfill),
            TAP_SCARF_BASE_URL: url,
            TAP_SCARF_END_DATE: '2026-11-08',
          },
        },
        [server.password, TOKEN],
      );
      expect(run.code, run.stderr.slice(-3000)).to.equal(0);
      expect(run.stderr, run.stderr.slice(0, 3000)).to.match(
        /Imported public\.scarf_events_raw \(Scarf exporter\) into "scarf"\."events" for owner 'acme-oss'/,
      );
      expect(run.stderr).to.include(`${cut.length + Math.ceil(cut.length / 10) + 1} rows, ${cut.length} distinct events`);
      // Only from the exporter's last day on (minus the lookback day) was anything downloaded.
      const starts = sim.requests.filter((r) => r.endpoint === 'events').map((r) => r.query.start_date![0]!);
      expect(starts.sort()[0]).to.equal('2026-11-04');
      await withClient(db, async (c) => {
        expectTable(
          'events',
          await tableRecords(c, 'events', OWNER),
          sim.truth.events({ start: '2026-11-01', end: '2026-11-08' }),
        );
        expect(
          (await c.query('SELECT count(*)::int AS n FROM scarf_events_raw')).rows[0].n,
          'the exporter table is left as it was',
        ).to.equal(cut.length + Math.ceil(cut.length / 10) + 1);
      });
      const verify = await runCli(
        ['verify'],
        { env: { SCARF_API_TOKEN: TOKEN, SCARF_ENTITY_NAME: 'acme-oss', PSQL_CONN_STRING: db, TAP_SCARF_BASE_URL: url } },
        [server.password, TOKEN],
      );
      expect(verify.code, verify.stderr.slice(-2000)).to.equal(0);
      expect(verify.stdout).to.match(/Verified 8 UTC day\(s\), 2026-11-01\.\.2026-11-08/);
    } finally {
      await sim.stop();
    }
  });
});
