// The load's exactly-once promise under faults, against a real PostgreSQL: SIGKILL at random
// points of repeated loads (after each, the rows are exactly what the committed state covers;
// in the end, exactly the truth), a connection terminated by the server in the middle of a
// window (read again, committed once), a disk that fills up, and the errors a database user
// must be able to act on (unreachable, login refused, privileges, other column types), each
// before any Scarf request where it can be.
import { type ChildProcess, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { expect } from 'chai';
import type pg from 'pg';

import { type FaultSpec, ScarfSimulator } from '../../sim/index.js';
import { destinationError } from '../../src/destination/postgres/errors.js';
import { addDays, dayOf } from '../../src/streams/engine/days.js';
import { expectTable, runCli, stateRows, tableRecords, withClient } from '../helpers/load.js';
import { testPostgres } from '../helpers/postgres.js';
import { catalogFor } from '../helpers/reliability.js';
import { tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const OWNER = 'acme-oss';

function baseEnv(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { TAP_SCARF_API_TOKEN: TOKEN, TAP_SCARF_OWNER: OWNER, TAP_SCARF_BASE_URL: url, ...extra };
}

/** What the committed state covers is exactly what the tables hold, per stream (and per company). */
async function expectStateMatchesRows(c: pg.Client, sim: ScarfSimulator, start: string, companies = true): Promise<void> {
  // Killed before its tables were made (one transaction): nothing at all.
  if ((await c.query(`SELECT to_regclass('scarf.tap_scarf_state') AS t`)).rows[0].t === null) return;
  const state = await stateRows(c, OWNER);
  const events = await tableRecords(c, 'events');
  const ev = state.get('events/')?.replication_key_value as string | undefined;
  expectTable('events', events, ev && dayOf(ev) > start ? sim.truth.events({ start, end: addDays(dayOf(ev), -1) }) : []);
  const ag = state.get('aggregates/')?.replication_key_value as string | undefined;
  expectTable('aggregates', await tableRecords(c, 'aggregates'), ag ? sim.truth.aggregates({ start, end: ag }) : []);
  if (!companies) return;
  const rollup = await tableRecords(c, 'company_rollup');
  expectTable('company_rollup', rollup, rollup.length || state.has('company_rollup/') ? sim.truth.companyRollup() : []);
  const companyRows = await tableRecords(c, 'company_events');
  const covered: Record<string, unknown>[] = [];
  for (const [k, v] of state) {
    if (!k.startsWith('company_events/{')) continue;
    const domain = (v as { context: { company_domain: string } }).context.company_domain;
    const end = addDays(dayOf((v as { replication_key_value: string }).replication_key_value), -1);
    if (end >= start) covered.push(...sim.truth.companyEvents(domain, { start, end }));
  }
  expectTable('company_events', companyRows, covered);
}

/** Polls `ready` (never by the clock: each step of the load it waits for is its own) and signals the child once it holds. */
function signalWhen(ready: () => Promise<boolean>, signal: NodeJS.Signals = 'SIGKILL'): (child: ChildProcess) => void {
  return (child) => {
    void (async () => {
      while (child.exitCode === null && child.signalCode === null) {
        if (await ready().catch(() => false)) {
          child.kill(signal);
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
  };
}

/** The database's sessions of the load running a COPY into a staging table (rows sent, window not committed). */
async function copyActive(c: pg.Client, db: string): Promise<boolean> {
  const { rows } = await c.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = $1 AND application_name = 'tap-scarf' AND query LIKE 'COPY%' AND state = 'active'`,
    [db.slice(db.lastIndexOf('/') + 1)],
  );
  return rows[0]!.n > 0;
}

/** The events bookmark committed in database `db` (read from a session on the server's own database). */
async function committedThrough(db: string): Promise<string | undefined> {
  return withClient(
    db,
    async (d) => (await stateRows(d, OWNER).catch(() => new Map<string, any>())).get('events/')?.replication_key_value,
  );
}

/** A stall that holds a body halfway until the test acts (every read of it, retries included). */
function stall(spec: Omit<FaultSpec, 'kind'>): FaultSpec {
  return { kind: 'stall-mid-body', latencyMs: 600_000, times: 1000, ...spec };
}

describe('load: exactly once under SIGKILL at points of its progress', function () {
  this.timeout(300_000);

  it('each kill lands at a known point; the tables then hold exactly what the committed state covers, no key twice; the last load completes the truth', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('kill');
    const sim = new ScarfSimulator({
      token: TOKEN,
      seed: 21,
      now: new Date('2026-11-14T12:00:00Z'),
      dataStart: '2026-10-25',
      eventsPerDay: 1500,
      companies: 14,
      lateRate: 0,
      latencyMs: 5,
    });
    const url = await sim.start();
    const env = baseEnv(url, {
      TAP_SCARF_START_DATE: '2026-11-01',
      TAP_SCARF_END_DATE: '2026-11-14',
      TAP_SCARF_AGGREGATES_WINDOW_DAYS: '3',
    });
    const start = '2026-11-01';
    const stalled = (endpoint: string, domain?: string) =>
      sim.requests.some(
        (r) => r.fault === 'stall-mid-body' && r.endpoint === endpoint && (domain === undefined || r.domain === domain),
      );
    const bookmark = async (c: pg.Client, key: string) =>
      (await stateRows(c, OWNER).catch(() => new Map<string, any>())).get(key)?.replication_key_value as string | undefined;
    // A company with events in the range (its window is read; the stall holds it).
    const domain = sim.truth
      .companyRollup()
      .map((r) => r.company_domain as string)
      .find((d) => sim.truth.companyEvents(d, { start, end: '2026-11-14' }).length > 0)!;
    // Each point is defined by what the load has done (windows committed, a body halfway, a COPY open), never by a time.
    const points: {
      what: string;
      faults: FaultSpec[];
      ready: (c: pg.Client) => Promise<boolean>;
      then: (c: pg.Client) => Promise<void>;
    }[] = [
      {
        what: 'mid-COPY of the first events window, nothing committed',
        faults: [stall({ endpoint: 'events', coversDay: '2026-11-01', afterRows: 700 })],
        ready: async (c) => stalled('events') && (await copyActive(c, db)),
        then: async (c) => {
          expect(await bookmark(c, 'events/')).to.equal(undefined);
          expect(await tableRecords(c, 'events')).to.deep.equal([]);
        },
      },
      {
        what: 'mid-COPY of the 6th events window, after 5 committed',
        faults: [stall({ endpoint: 'events', coversDay: '2026-11-06', afterRows: 700 })],
        ready: async (c) =>
          stalled('events') && (await bookmark(c, 'events/')) === '2026-11-06T00:00:00.000000Z' && (await copyActive(c, db)),
        then: async (c) => {
          expect(await bookmark(c, 'events/')).to.equal('2026-11-06T00:00:00.000000Z');
          expectTable('events', await tableRecords(c, 'events'), sim.truth.events({ start, end: '2026-11-05' }));
        },
      },
      {
        what: 'right after the first aggregates window was committed',
        faults: [],
        ready: async (c) => (await bookmark(c, 'aggregates/')) !== undefined,
        then: async (c) => {
          expect(await bookmark(c, 'events/')).to.equal('2026-11-15T00:00:00.000000Z');
          expectTable('events', await tableRecords(c, 'events'), sim.truth.events({ start, end: '2026-11-14' }));
        },
      },
      {
        what: `halfway through the body of one company's events (${domain}), the rollup committed`,
        faults: [stall({ endpoint: 'company-events', domain })],
        ready: async (c) => stalled('company-events', domain) && (await bookmark(c, 'company_rollup/')) !== undefined,
        then: async (c) => {
          const state = await stateRows(c, OWNER);
          expect(state.get('aggregates/')?.replication_key_value).to.equal('2026-11-14');
          expect([...state.keys()].filter((k) => k.startsWith('company_events/{') && k.includes(domain))).to.deep.equal([]);
        },
      },
    ];
    try {
      for (const point of points) {
        sim.setFaults(point.faults);
        sim.resetRequests();
        const run = await withClient(db, (c) =>
          runCli(['load', '--config', 'ENV', '--to', db], { env, timeoutMs: 120_000, during: signalWhen(() => point.ready(c)) }, [
            server.password,
            TOKEN,
          ]),
        );
        expect(run.signal, `${point.what}: the kill landed while the load ran\n${run.stderr.slice(-2000)}`).to.equal('SIGKILL');
        await withClient(db, async (c) => {
          await point.then(c);
          await expectStateMatchesRows(c, sim, start);
        });
      }
      sim.clearFaults();
      const last = await runCli(['load', '--config', 'ENV', '--to', db], { env }, [server.password, TOKEN]);
      expect(last.code, last.stderr.slice(-2000)).to.equal(0);
      await withClient(db, async (c) => {
        await expectStateMatchesRows(c, sim, start);
        expectTable('events', await tableRecords(c, 'events'), sim.truth.events({ start, end: '2026-11-14' }));
        expectTable('aggregates', await tableRecords(c, 'aggregates'), sim.truth.aggregates({ start, end: '2026-11-14' }));
        expect(
          [...(await stateRows(c, OWNER)).keys()].filter((k) => k.startsWith('company_events/{')).length,
          'every company has its bookmark',
        ).to.be.greaterThan(0);
      });
    } finally {
      await sim.stop();
    }
  });
});

describe('load: a stop signal', function () {
  this.timeout(120_000);

  it('SIGTERM: the windows committed before it stay, the open one is rolled back, exit 143; the next load completes', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('term');
    const sim = new ScarfSimulator({
      token: TOKEN,
      seed: 4,
      now: new Date('2026-11-10T12:00:00Z'),
      dataStart: '2026-10-25',
      eventsPerDay: 200,
      lateRate: 0,
      latencyMs: 5,
    });
    // The 5th day's body holds halfway: the signal comes once the 4 windows before it are committed.
    sim.setFaults([stall({ endpoint: 'events', coversDay: '2026-11-05' })]);
    const url = await sim.start();
    const catalog = writeJson(tmpDir(), 'catalog.json', catalogFor(['events', 'aggregates']));
    const env = baseEnv(url, {
      TAP_SCARF_START_DATE: '2026-11-01',
      TAP_SCARF_END_DATE: '2026-11-10',
    });
    try {
      const stopped = await withClient(db, (c) =>
        runCli(
          ['load', '--config', 'ENV', '--to', db, '--catalog', catalog],
          {
            env,
            during: signalWhen(
              async () =>
                sim.requests.some((r) => r.fault === 'stall-mid-body') &&
                (await stateRows(c, OWNER)).get('events/')?.replication_key_value === '2026-11-05T00:00:00.000000Z',
              'SIGTERM',
            ),
          },
          [server.password, TOKEN],
        ),
      );
      expect(stopped.code, stopped.stderr.slice(-2000)).to.equal(143);
      expect(stopped.stderr).to.include('Stopped by SIGTERM: the database holds every window committed before it');
      await withClient(db, async (c) => {
        const ev = (await stateRows(c, OWNER)).get('events/')?.replication_key_value as string | undefined;
        expect(ev, 'the 4 windows committed before the signal, not the one it interrupted').to.equal(
          '2026-11-05T00:00:00.000000Z',
        );
        await expectStateMatchesRows(c, sim, '2026-11-01', false);
      });
      sim.clearFaults();
      const again = await runCli(['load', '--config', 'ENV', '--to', db, '--catalog', catalog], { env }, [
        server.password,
        TOKEN,
      ]);
      expect(again.code, again.stderr.slice(-2000)).to.equal(0);
      await withClient(db, async (c) =>
        expectTable('events', await tableRecords(c, 'events'), sim.truth.events({ start: '2026-11-01', end: '2026-11-10' })),
      );
    } finally {
      await sim.stop();
    }
  });
});

describe('load: a connection the server terminates in the middle of a window', function () {
  this.timeout(120_000);

  it('the window is rolled back, read again from the committed state, and committed once', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('drop');
    // Day 2's body holds halfway (every read of it: the tap's request timeout retries it), with its COPY open and rows
    // sent: then the server ends the session, and only then is the body let through. No step depends on a time.
    const sim = new ScarfSimulator({
      token: TOKEN,
      seed: 5,
      now: new Date('2026-11-04T12:00:00Z'),
      dataStart: '2026-10-25',
      eventsPerDay: 3000,
      lateRate: 0,
    });
    sim.setFaults([stall({ endpoint: 'events', coversDay: '2026-11-02' })]);
    const url = await sim.start();
    const catalog = writeJson(tmpDir(), 'catalog.json', catalogFor(['events']));
    let terminated = 0;
    try {
      const run = await withClient(server.url(), (c) =>
        runCli(
          ['load', '--config', 'ENV', '--to', db, '--catalog', catalog],
          {
            env: baseEnv(url, {
              TAP_SCARF_START_DATE: '2026-11-01',
              TAP_SCARF_END_DATE: '2026-11-03',
              TAP_SCARF_REQUEST_TIMEOUT_SECONDS: '2',
              TAP_SCARF_MAX_RETRIES: '50',
            }),
            during: (child) => {
              void (async () => {
                while (!terminated && child.exitCode === null) {
                  // Day 1 committed, day 2's body held with its COPY open: the only COPY is day 2's.
                  if (
                    sim.requests.some((r) => r.fault === 'stall-mid-body') &&
                    (await committedThrough(db)) === '2026-11-02T00:00:00.000000Z' &&
                    (await copyActive(c, db))
                  ) {
                    const { rows } = await c.query<{ n: number }>(
                      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
                        WHERE datname = $1 AND application_name = 'tap-scarf' AND query LIKE 'COPY%' AND state = 'active'`,
                      [db.slice(db.lastIndexOf('/') + 1)],
                    );
                    terminated += rows[0]!.n;
                    if (terminated) sim.clearFaults();
                  }
                  await new Promise((r) => setTimeout(r, 25));
                }
              })();
            },
          },
          [server.password, TOKEN],
        ),
      );
      expect(terminated, 'the server terminated the load’s session during a COPY').to.equal(1);
      expect(run.code, run.stderr.slice(-3000)).to.equal(0);
      expect(run.stderr).to.match(
        /events: Lost the connection to PostgreSQL at postgres@127\.0\.0\.1:\d+\/drop_\d+_\d+ while loading events/,
      );
      expect(run.stderr).to.include("reading from the database's state again (attempt 2 of 3)");
      await withClient(db, async (c) => {
        expectTable('events', await tableRecords(c, 'events'), sim.truth.events({ start: '2026-11-01', end: '2026-11-03' }));
        expect((await stateRows(c, OWNER)).get('events/')?.replication_key_value).to.equal('2026-11-04T00:00:00.000000Z');
      });
    } finally {
      await sim.stop();
    }
  });
});

describe('load: errors a database user can act on', function () {
  this.timeout(120_000);
  let sim: ScarfSimulator;
  let url: string;
  let catalog: string;
  const env = () => baseEnv(url, { TAP_SCARF_START_DATE: '2026-11-01', TAP_SCARF_END_DATE: '2026-11-02' });

  before(async () => {
    sim = new ScarfSimulator({
      token: TOKEN,
      seed: 3,
      now: new Date('2026-11-02T12:00:00Z'),
      dataStart: '2026-10-25',
      eventsPerDay: 30,
    });
    url = await sim.start();
    catalog = writeJson(tmpDir(), 'catalog.json', catalogFor(['events']));
  });
  beforeEach(() => sim.resetRequests());
  after(async () => sim?.stop());

  it('unreachable server: named with host and port, retried, exit 1, no Scarf request', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const pw = 'Unreach-Pw-93kd';
    const run = await runCli(
      ['load', '--config', 'ENV', '--to', `postgres://loader:${pw}@127.0.0.1:${port}/scarf`, '--catalog', catalog],
      { env: env() },
      [pw],
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`Cannot reach PostgreSQL at loader@127.0.0.1:${port}/scarf: connection refused`);
    expect(run.stderr).to.include('(attempt 5 of 5)');
    expect(sim.requests.length).to.equal(0);
  });

  it('login refused: says which user, never the password in any case', async () => {
    const server = await testPostgres();
    const wrong = 'Wrong-Pass-Qx81';
    const run = await runCli(
      ['load', '--config', 'ENV', '--to', `postgres://postgres:${wrong}@127.0.0.1:${server.port}/postgres`, '--catalog', catalog],
      { env: env() },
      [wrong],
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      /PostgreSQL at postgres@127\.0\.0\.1:\d+\/postgres refused the login of user 'postgres' \(password authentication failed/,
    );
    expect(run.stderr).to.include('the password is not shown');
    expect(sim.requests.length).to.equal(0);
  });

  it('missing privileges: names the user and the GRANT, before any Scarf request', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('priv');
    const pw = 'Limited-Pw-55zz';
    await withClient(server.url(), (c) => c.query(`CREATE ROLE limited_loader LOGIN PASSWORD '${pw}'`));
    const run = await runCli(
      [
        'load',
        '--config',
        'ENV',
        '--to',
        `postgres://limited_loader:${pw}@127.0.0.1:${server.port}/${db.slice(db.lastIndexOf('/') + 1)}`,
        '--catalog',
        catalog,
      ],
      { env: env() },
      [pw, server.password],
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      /PostgreSQL user 'limited_loader' lacks a privilege while preparing the tables: permission denied for database/,
    );
    expect(run.stderr).to.include('GRANT CREATE ON DATABASE');
    expect(sim.requests.length).to.equal(0);
  });

  it('a table with other column types: nothing changed, the ALTER to run is named', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('types');
    await withClient(db, async (c) => {
      await c.query('CREATE SCHEMA scarf');
      await c.query(
        'CREATE TABLE scarf.events (owner text NOT NULL, id text NOT NULL, "time" timestamp, dnt text, PRIMARY KEY (owner, id))',
      );
    });
    const run = await runCli(['load', '--config', 'ENV', '--to', db, '--catalog', catalog], { env: env() }, [server.password]);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include('Table "scarf"."events" exists with other column types than tap-scarf writes');
    expect(run.stderr).to.include('column "time" is timestamp without time zone, tap-scarf writes timestamp with time zone');
    expect(run.stderr).to.include(
      `ALTER TABLE "scarf"."events" ALTER COLUMN "time" TYPE timestamptz USING "time" AT TIME ZONE 'UTC';`,
    );
    expect(run.stderr).to.include('ALTER TABLE "scarf"."events" ALTER COLUMN "dnt" TYPE boolean USING "dnt"::boolean;');
    expect(sim.requests.length).to.equal(0);
    await withClient(db, async (c) => {
      const { rows } = await c.query(
        `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'scarf' AND table_name = 'events'`,
      );
      expect(rows[0].n, 'no column was added').to.equal(4);
    });
  });

  it('a table from an earlier version, without the newer columns: they are added and the load goes on', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('newcol');
    await withClient(db, async (c) => {
      await c.query('CREATE SCHEMA scarf');
      await c.query(
        `CREATE TABLE scarf.events (owner text NOT NULL, id text NOT NULL, type text, package text, version text, "time" timestamptz, referer text, user_agent text,
          variables text, origin_id text, origin_latitude numeric, origin_longitude numeric, origin_country text, origin_city text, origin_postal text,
          origin_connection_type text, origin_company text, origin_domain text, dnt boolean, confidence numeric, endpoint_id text, PRIMARY KEY (owner, id))`,
      );
    });
    const run = await runCli(['load', '--config', 'ENV', '--to', db, '--catalog', catalog], { env: env() }, [server.password]);
    expect(run.code, run.stderr.slice(-2000)).to.equal(0);
    for (const col of ['pixel', 'platform', 'origin_state', 'mtc_quota_exceeded', 'extra_fields'])
      expect(run.stderr).to.match(new RegExp(`added column "${col}" \\w+ to "scarf"\\."events"`));
    await withClient(db, async (c) =>
      expectTable('events', await tableRecords(c, 'events'), sim.truth.events({ start: '2026-11-01', end: '2026-11-02' })),
    );
  });

  it('a full disk (SQLSTATE 53100): the window rolled back, state and rows agree; with space again the load completes', async function () {
    const server = await testPostgres();
    // A real full disk: the database's tables and temporary files on a 2 MB tmpfs (root only; CI runs as root).
    const dir = tmpDir('tap-scarf-tiny-');
    fs.chmodSync(dir, 0o755); // the server runs as the postgres user when the tests run as root
    const spot = path.join(dir, 'ts');
    fs.mkdirSync(spot);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', spot], { stdio: 'ignore' });
    } catch {
      if (process.env.CI) throw new Error('mount -t tmpfs failed: the full-disk test needs root (CI runs as root)');
      this.skip();
    }
    const db = await server.freshDatabase('full');
    const name = db.slice(db.lastIndexOf('/') + 1);
    const big = new ScarfSimulator({
      token: TOKEN,
      seed: 9,
      now: new Date('2026-11-05T12:00:00Z'),
      dataStart: '2026-10-25',
      eventsPerDay: 1500,
      lateRate: 0,
    });
    const bigUrl = await big.start();
    try {
      if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', spot]);
      await withClient(server.url(), async (c) => {
        await c.query(`CREATE TABLESPACE ${name}_tiny LOCATION '${spot}'`);
        await c.query(`ALTER DATABASE ${name} SET default_tablespace = ${name}_tiny`);
        await c.query(`ALTER DATABASE ${name} SET temp_tablespaces = ${name}_tiny`);
      });
      const env = baseEnv(bigUrl, { TAP_SCARF_START_DATE: '2026-11-01', TAP_SCARF_END_DATE: '2026-11-05' });
      const full = await runCli(['load', '--config', 'ENV', '--to', db, '--catalog', catalog], { env }, [server.password]);
      expect(full.code).to.equal(1);
      expect(full.stderr).to.match(
        /is out of disk space \(SQLSTATE 53100, disk full\) while (loading|committing a window of) events: the window was rolled back/,
      );
      await withClient(db, async (c) => {
        const state = await stateRows(c, OWNER);
        const ev = state.get('events/')?.replication_key_value as string | undefined;
        expect(ev === undefined || ev < '2026-11-06', 'the load stopped before its end').to.equal(true);
        expectTable(
          'events',
          await tableRecords(c, 'events'),
          ev ? big.truth.events({ start: '2026-11-01', end: addDays(dayOf(ev), -1) }) : [],
        );
      });
      execFileSync('mount', ['-o', 'remount,size=64m', spot]);
      sim.clearFaults();
      const again = await runCli(['load', '--config', 'ENV', '--to', db, '--catalog', catalog], { env }, [server.password]);
      expect(again.code, again.stderr.slice(-2000)).to.equal(0);
      await withClient(db, async (c) =>
        expectTable('events', await tableRecords(c, 'events'), big.truth.events({ start: '2026-11-01', end: '2026-11-05' })),
      );
    } finally {
      await big.stop();
      await withClient(server.url(), async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`DROP TABLESPACE IF EXISTS ${name}_tiny`);
      }).catch(() => undefined);
      try {
        execFileSync('umount', [spot], { stdio: 'ignore' });
      } catch {
        // not mounted
      }
    }
  });

  it('SQLSTATE mapping: disk full, out of memory, a terminated session and a cancelled statement say what happened and what to do', () => {
    const target = { user: 'loader', host: 'db.internal', port: 5432, database: 'analytics', schema: 'scarf' };
    const full = destinationError(
      { code: '53100', message: 'could not extend file "base/1/2": No space left on device' },
      target,
      'loading events',
    );
    expect(full.message).to.include(
      'out of disk space (SQLSTATE 53100, disk full) while loading events: the window was rolled back',
    );
    expect(full.retry).to.equal(false);
    expect(destinationError({ code: '53200', message: 'out of memory' }, target, 'x').message).to.include('ran out of memory');
    const gone = destinationError(
      { code: '57P01', message: 'terminating connection due to administrator command' },
      target,
      'loading events',
    );
    expect(gone.message).to.include(
      'Lost the connection to PostgreSQL at loader@db.internal:5432/analytics while loading events',
    );
    expect(gone.retry).to.equal(true);
    expect(
      destinationError({ code: '57014', message: 'canceling statement due to statement timeout' }, target, 'x').retry,
    ).to.equal(true);
    expect(
      destinationError(Object.assign(new Error('getaddrinfo ENOTFOUND db.internal'), { code: 'ENOTFOUND' }), target, 'connecting')
        .message,
    ).to.include("host 'db.internal' does not resolve");
  });
});
