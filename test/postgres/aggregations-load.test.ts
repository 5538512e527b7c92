// `tap-scarf load` of the aggregations stream into a real PostgreSQL: its table (columns and key
// from schemas/aggregations.json and its declaration) equals the truth after a full load and
// after an incremental one whose rewrite window replaced a revised period's rows by key.
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { TABLES } from '../../src/destination/postgres/tables.js';
import { aggregationsRecord } from '../helpers/aggregations.js';
import { expectTable, runCli, stateRows, tableRecords, withClient } from '../helpers/load.js';
import { testPostgres } from '../helpers/postgres.js';
import { tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const OWNER = 'Acme-OSS';
const SETS = [['by-total'], ['by-company']];

describe('load into PostgreSQL: the aggregations table equals the truth, revised periods replaced by key', function () {
  this.timeout(180_000);

  it('full load, then an incremental one after a revision: the table equals the truth of the whole range', async () => {
    const server = await testPostgres();
    const db = await server.freshDatabase('aggregations');
    const sim = new ScarfSimulator({
      token: TOKEN,
      owner: OWNER,
      seed: 13,
      now: new Date('2026-03-15T12:00:00Z'),
      dataStart: '2026-01-01',
      eventsPerDay: 10,
      companies: 12,
    });
    const url = await sim.start();
    try {
      const catalog = writeJson(tmpDir(), 'catalog.json', {
        streams: [
          {
            tap_stream_id: 'aggregations',
            stream: 'aggregations',
            schema: {},
            metadata: [{ breadcrumb: [], metadata: { selected: true } }],
          },
        ],
      });
      const env = {
        TAP_SCARF_API_TOKEN: TOKEN,
        TAP_SCARF_OWNER: OWNER,
        TAP_SCARF_BASE_URL: url,
        TAP_SCARF_START_DATE: '2026-01-05',
        TAP_SCARF_END_DATE: '2026-03-15',
        TAP_SCARF_AGGREGATIONS_BREAKDOWN_SETS: JSON.stringify(SETS),
      };
      const truth = () =>
        SETS.flatMap((set) =>
          sim.truth
            .aggregations({ start_date: '2026-01-05', end_date: '2026-03-16', breakdown_set: set.join(',') })
            .map((row) => aggregationsRecord(row, OWNER)),
        );
      expect(TABLES.aggregations.key).to.deep.equal(['owner', 'row_key']);

      const first = await runCli(['load', '--config', 'ENV', '--to', db, '--catalog', catalog], { env }, [
        server.password,
        TOKEN,
      ]);
      expect(first.code, first.stderr.slice(-3000)).to.equal(0);
      const before = truth();
      await withClient(db, async (c) => expectTable('aggregations', await tableRecords(c, 'aggregations'), before));

      sim.setOptions({ revisions: [{ at: '2026-03-15T18:00:00Z', day: '2026-03-02', domain: 'initech.com', share: 1 }] });
      sim.setNow(new Date('2026-03-15T20:00:00Z'));
      const second = await runCli(['load', '--config', 'ENV', '--to', db, '--catalog', catalog], { env }, [
        server.password,
        TOKEN,
      ]);
      expect(second.code, second.stderr.slice(-3000)).to.equal(0);
      const after = truth();
      const old = new Set(before.map((r) => JSON.stringify(r)));
      expect(after.filter((r) => !old.has(JSON.stringify(r))).length, 'the revision changed rows').to.be.greaterThan(0);
      await withClient(db, async (c) => {
        expectTable('aggregations', await tableRecords(c, 'aggregations'), after);
        const state = await stateRows(c, 'acme-oss');
        expect(state.get('aggregations/')?.breakdowns).to.deep.equal({ 'by-total': '2026-03-15', 'by-company': '2026-03-15' });
      });
      // Only the rewrite window was read again: from 28 days before the bookmark.
      const v3 = sim.requests.filter((r) => r.endpoint === 'aggregations').slice(-2);
      expect(v3.map((r) => r.query.start_date![0])).to.deep.equal(['2026-02-15', '2026-02-15']);
    } finally {
      await sim.stop();
    }
  });
});
