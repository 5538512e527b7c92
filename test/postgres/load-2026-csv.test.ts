// `tap-scarf load` of the 2026 CSV streams (pixel_events, company_package_rollup,
// company_pixel_rollup) into a real PostgreSQL: tables made from their schemas and keys
// (src/destination/postgres/tables.ts), equal to the truth after a full load and after an
// incremental one whose lookback re-reads days already loaded (merged by the four-column key).
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { TABLES } from '../../src/destination/postgres/tables.js';
import { expectTable, runCli, tableRecords, withClient } from '../helpers/load.js';
import { testPostgres } from '../helpers/postgres.js';
import { catalogFor } from '../helpers/reliability.js';
import { tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const STREAMS = ['pixel_events', 'company_package_rollup', 'company_pixel_rollup'] as const;

describe('load into PostgreSQL: the 2026 CSV streams', function () {
  this.timeout(180_000);
  let sim: ScarfSimulator;
  let simUrl: string;
  let db: string;
  let password: string;

  before(async () => {
    const server = await testPostgres();
    password = server.password;
    db = await server.freshDatabase('load2026');
    sim = new ScarfSimulator({
      token: TOKEN,
      seed: 9,
      now: new Date('2026-11-08T12:00:00Z'),
      dataStart: '2026-10-20',
      eventsPerDay: 40,
      companies: 10,
    });
    simUrl = await sim.start();
  });
  after(async () => sim?.stop());

  function truth(stream: (typeof STREAMS)[number], start: string, end: string): Record<string, unknown>[] {
    if (stream === 'pixel_events') return sim.truth.pixelEvents({ start, end });
    const rows =
      stream === 'company_package_rollup'
        ? sim.truth.companyPackageRollup({ start, end })
        : sim.truth.companyPixelRollup({ start, end });
    return rows.map((r) => ({ owner: 'acme-oss', ...r, extra_fields: null }));
  }

  async function load(end: string): Promise<void> {
    const catalog = writeJson(tmpDir(), 'catalog.json', catalogFor([...STREAMS]));
    const run = await runCli(
      ['load', '--config', 'ENV', '--to', db, '--catalog', catalog],
      {
        env: {
          TAP_SCARF_API_TOKEN: TOKEN,
          TAP_SCARF_OWNER: 'acme-oss',
          TAP_SCARF_BASE_URL: simUrl,
          TAP_SCARF_START_DATE: '2026-11-01',
          TAP_SCARF_END_DATE: end,
          TAP_SCARF_AGGREGATES_WINDOW_DAYS: '3',
          TAP_SCARF_AGGREGATES_LOOKBACK_DAYS: '2',
        },
      },
      [password, TOKEN],
    );
    expect(run.code, run.stderr.slice(-2000)).to.equal(0);
  }

  it('tables keyed as declared; a full load then an incremental one equal the truth', async () => {
    expect(TABLES.company_pixel_rollup.key).to.deep.equal(['owner', 'date', 'pixel', 'company_domain']);
    expect(TABLES.company_package_rollup.columns.find((c) => c.name === 'date')!.type).to.equal('date');
    expect(TABLES.company_package_rollup.columns.find((c) => c.name === 'total')!.type).to.equal('bigint');
    await load('2026-11-04');
    await withClient(db, async (c) => {
      for (const s of STREAMS) {
        const want = truth(s, '2026-11-01', '2026-11-04');
        expect(want.length, s).to.be.greaterThan(0);
        expectTable(s, await tableRecords(c, s), want);
      }
      const { rows } = await c.query<{ attname: string }>(
        `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = '"scarf"."company_package_rollup"'::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
      );
      expect(rows.map((r) => r.attname)).to.deep.equal(['owner', 'date', 'package', 'company_domain']);
    });
    // Re-reads 2026-11-02..04 (the rollups' lookback) and 2026-11-04 (pixel_events'): merged by key.
    await load('2026-11-07');
    await withClient(db, async (c) => {
      for (const s of STREAMS) expectTable(s, await tableRecords(c, s), truth(s, '2026-11-01', '2026-11-07'));
    });
  });
});
