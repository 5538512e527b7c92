// Windows of new keys are copied straight into the events table (no staging table, no merge);
// windows that may hold known keys take the merge: the lookback re-read and the day the old
// bookmark points into, a load whose table has rows but no bookmark; and a direct COPY that
// meets a key the table holds anyway is rolled back and read again through the merge
// (src/destination/postgres/writer.ts, docs/postgres.md "Straight into the table").
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { expectTable, runCli, stateRows, tableRecords, withClient } from '../helpers/load.js';
import { testPostgres } from '../helpers/postgres.js';
import { catalogFor } from '../helpers/reliability.js';
import { tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const OWNER = 'acme-oss';

/** The writer's summary of the events stream: [windows copied straight in, windows merged]. */
function windowsOf(stderr: string): [number, number] {
  const m =
    /events: \d+ rows loaded into .* (\d+) window\(s\) copied straight into the table, (\d+) through the staging table and the merge\./.exec(
      stderr,
    );
  expect(m, stderr.slice(-3000)).to.not.equal(null);
  return [Number(m![1]), Number(m![2])];
}

describe('load into PostgreSQL: new windows straight into the table, known keys through the merge', function () {
  this.timeout(180_000);
  let sim: ScarfSimulator;
  let simUrl: string;
  let db: string;
  let password: string;
  let catalog: string;

  const load = (start: string, end: string, lookback: number) =>
    runCli(
      ['load', '--config', 'ENV', '--to', db, '--catalog', catalog],
      {
        env: {
          TAP_SCARF_API_TOKEN: TOKEN,
          TAP_SCARF_OWNER: OWNER,
          TAP_SCARF_BASE_URL: simUrl,
          TAP_SCARF_START_DATE: start,
          TAP_SCARF_END_DATE: end,
          TAP_SCARF_LOOKBACK_DAYS: String(lookback),
        },
      },
      [password, TOKEN],
    );

  before(async () => {
    const server = await testPostgres();
    password = server.password;
    db = await server.freshDatabase('direct');
    sim = new ScarfSimulator({
      token: TOKEN,
      seed: 21,
      now: new Date('2026-11-10T12:00:00Z'),
      dataStart: '2026-10-20',
      // ~1.2 MB of COPY text a day: a window is several 256 KB chunks, as at scale.
      eventsPerDay: 1500,
      companies: 8,
    });
    simUrl = await sim.start();
    catalog = writeJson(tmpDir(), 'catalog.json', catalogFor(['events']));
  });
  after(async () => sim?.stop());

  it('a first load copies every window straight in; the next load merges its lookback re-read and the bookmark’s day', async () => {
    const first = await load('2026-11-01', '2026-11-05', 2);
    expect(first.code, first.stderr.slice(-3000)).to.equal(0);
    expect(windowsOf(first.stderr), 'no row of the owner yet: all 5 days straight in').to.deep.equal([5, 0]);
    await withClient(db, async (c) => {
      expectTable('events', await tableRecords(c, 'events', OWNER), sim.truth.events({ start: '2026-11-01', end: '2026-11-05' }));
      expect((await stateRows(c, OWNER)).get('events/')?.replication_key_value).to.equal('2026-11-06T00:00:00.000000Z');
    });

    // Later: late events arrive for the lookback days; the bookmark (2026-11-06) minus 2 days
    // is re-read (11-04, 11-05: known keys) and 11-06, the bookmark's own day, is merged too;
    // 11-07 and 11-08 lie past anything committed.
    sim.setNow(new Date('2026-11-12T12:00:00Z'));
    const second = await load('2026-11-01', '2026-11-08', 2);
    expect(second.code, second.stderr.slice(-3000)).to.equal(0);
    expect(second.stderr).to.not.include('already holds');
    expect(windowsOf(second.stderr)).to.deep.equal([2, 3]);
    await withClient(db, async (c) => {
      expectTable('events', await tableRecords(c, 'events', OWNER), sim.truth.events({ start: '2026-11-01', end: '2026-11-08' }));
      expect((await stateRows(c, OWNER)).get('events/')?.replication_key_value).to.equal('2026-11-09T00:00:00.000000Z');
    });
  });

  it('a key the table already holds in a window past the bookmark: the direct COPY is rolled back and the window merged, one row per key', async () => {
    // An event of 2026-11-10 already in the table under an older time (as when Scarf changed an
    // event's time), inserted by hand: the window of 11-10 lies past the bookmark (11-09).
    const moved = sim.truth.events({ start: '2026-11-10', end: '2026-11-10' })[0]!;
    await withClient(db, (c) =>
      c.query(`INSERT INTO scarf.events (owner, id, "time", package) VALUES ($1, $2, '2026-11-03T05:00:00Z', 'stale')`, [
        OWNER,
        moved.id,
      ]),
    );
    sim.resetRequests();
    const run = await load('2026-11-01', '2026-11-11', 0);
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    expect(run.stderr).to.include('events: a window copied straight into "scarf"."events" met a key the table already holds');
    expect(run.stderr).to.include(`(owner, id)=(${OWNER}, ${String(moved.id)})`);
    expect(run.stderr).to.include("reading from the database's state again (attempt 2 of 3)");
    await withClient(db, async (c) => {
      const truth = sim.truth.events({ start: '2026-11-01', end: '2026-11-11' });
      const rows = await tableRecords(c, 'events', OWNER);
      expect(rows.length, 'one row per key, as many as the truth').to.equal(truth.length);
      expectTable('events', rows, truth);
      const { rows: same } = await c.query<{ package: string }>(`SELECT package FROM scarf.events WHERE owner = $1 AND id = $2`, [
        OWNER,
        moved.id,
      ]);
      expect(same.length).to.equal(1);
      expect(same[0]!.package, 'the stale row was replaced by the truth').to.equal(moved.package);
      expect((await stateRows(c, OWNER)).get('events/')?.replication_key_value).to.equal('2026-11-12T00:00:00.000000Z');
    });
    // The window of 11-10 was read twice (rolled back once); 11-09, committed before it, once.
    const days = sim.requests.filter((r) => r.endpoint === 'events').map((r) => r.query.start_date![0]!);
    expect(days.filter((d) => d === '2026-11-10').length).to.equal(2);
    expect(days.filter((d) => d === '2026-11-09').length).to.equal(1);
  });

  it('rows of the owner but no bookmark (the state row deleted by hand to read days again): every window merged', async () => {
    await withClient(db, (c) => c.query(`DELETE FROM scarf.tap_scarf_state WHERE owner = $1 AND stream = 'events'`, [OWNER]));
    const run = await load('2026-11-06', '2026-11-11', 0);
    expect(run.code, run.stderr.slice(-3000)).to.equal(0);
    expect(run.stderr).to.not.include('already holds');
    expect(windowsOf(run.stderr)).to.deep.equal([0, 6]);
    await withClient(db, async (c) =>
      expectTable('events', await tableRecords(c, 'events', OWNER), sim.truth.events({ start: '2026-11-01', end: '2026-11-11' })),
    );
  });

  it('a window larger than a sorted run: sent in bounded runs, each sorted, and every row lands once', async () => {
    // ~13 MB of binary COPY rows in one day: more than three runs of the writer's SORT_BYTES (4 MB).
    const big = new ScarfSimulator({
      token: TOKEN,
      seed: 22,
      now: new Date('2026-11-10T12:00:00Z'),
      dataStart: '2026-11-01',
      eventsPerDay: 25_000,
      companies: 8,
    });
    const url = await big.start();
    try {
      const server = await testPostgres();
      const bigDb = await server.freshDatabase('direct_runs');
      const run = await runCli(
        ['load', '--config', 'ENV', '--to', bigDb, '--catalog', catalog],
        {
          env: {
            TAP_SCARF_API_TOKEN: TOKEN,
            TAP_SCARF_OWNER: OWNER,
            TAP_SCARF_BASE_URL: url,
            TAP_SCARF_START_DATE: '2026-11-03',
            TAP_SCARF_END_DATE: '2026-11-03',
            TAP_SCARF_DEBUG: '1',
          },
        },
        [password, TOKEN],
      );
      expect(run.code, run.stderr.slice(-3000)).to.equal(0);
      expect(windowsOf(run.stderr)).to.deep.equal([1, 0]);
      const truth = big.truth.events({ start: '2026-11-03', end: '2026-11-03' });
      // The window went as runs of at most SORT_BYTES plus one row: never held whole.
      const runs = [...run.stderr.matchAll(/events: (\d+) rows sent in key order \((\d+) bytes\)\./g)].map((m) => ({
        rows: Number(m[1]),
        bytes: Number(m[2]),
      }));
      expect(runs.length, run.stderr.slice(-3000)).to.equal(4);
      expect(runs.reduce((n, r) => n + r.rows, 0)).to.equal(truth.length);
      for (const r of runs) expect(r.bytes).to.be.below((1 << 22) + 4096);
      await withClient(bigDb, async (c) => expectTable('events', await tableRecords(c, 'events', OWNER), truth));
    } finally {
      await big.stop();
    }
  });
});
