// verify_counts without the legacy v2 aggregates export: when v2 answers no rows (as it does
// for some organizations) or 404/410 (the day it is removed), the daily counts come from v3,
// and events and company_events stay verified, a clean cut still found and read again.
import { expect } from 'chai';

import { runInProcess } from '../helpers/in-process.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { records, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-05';

describe('verify_counts from v3 when v2 aggregates has no counts', function () {
  this.timeout(180_000);
  const suite = useSimulator(
    {
      seed: 21,
      owner: 'Acme-OSS',
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 20,
      companies: 8,
    },
    { owner: 'Acme-OSS', start_date: START, end_date: END, max_concurrent_requests: 1 },
  );
  const catalog = (streams: string[]) =>
    writeJson(suite.dir, `cat-${streams.join('-')}.json`, {
      streams: streams.map((s) => ({
        tap_stream_id: s,
        stream: s,
        schema: {},
        metadata: [{ breadcrumb: [], metadata: { selected: true } }],
      })),
    });
  const byEndpoint = () => {
    const out: Record<string, number> = {};
    for (const r of suite.sim.requests) out[r.endpoint] = (out[r.endpoint] ?? 0) + 1;
    return out;
  };

  for (const v2 of ['empty', '404', '410'] as const) {
    it(`v2 aggregates ${v2}: events verified against v3's counts (exit 0), and a clean cut is still read again`, async () => {
      suite.sim.setOptions({ v2Aggregates: v2 });
      try {
        // The third events window ends cleanly after 5 rows: only the counts can tell.
        suite.sim.setFaults([{ kind: 'cut-after-line', endpoint: 'events', nth: 3, afterRows: 5, endCleanly: true }]);
        const run = await runInProcess(['--config', suite.config(), '--catalog', catalog(['events'])]);
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stderr).to.include(
          `verify_counts: Scarf's legacy v2 aggregates export ${v2 === 'empty' ? 'answered no rows' : `answered HTTP ${v2}`}`,
        );
        expect(run.stderr).to.match(
          /events: .*; 5 windows verified against Scarf's counts: 4 equal, 1 re-read after a short body, 0 disagree; done\./,
        );
        const ids = new Set(records(run, 'events').map((r) => r.id));
        expect([...ids].sort()).to.deep.equal(
          suite.sim.truth
            .events({ start: START, end: END })
            .map((r) => r.id)
            .sort(),
        );
        // One v2 request (that showed it has no counts), one v3 request for the by-total counts, the cut window twice.
        expect(byEndpoint()).to.deep.equal({ aggregates: 1, aggregations: 1, events: 6 });
        const v3 = suite.sim.requests.find((r) => r.endpoint === 'aggregations')!;
        expect(v3.path).to.equal('/v3/insights/Acme-OSS/aggregations/export');
        expect(v3.query).to.deep.include({
          start_date: [START],
          end_date: ['2026-10-06'],
          rollup: ['daily'],
          breakdown_set: ['by-total'],
        });
      } finally {
        suite.sim.setOptions({ v2Aggregates: 'rows' });
      }
    });
  }

  it('v2 aggregates empty: company_events verified against v3 by-company counts', async () => {
    suite.sim.setOptions({ v2Aggregates: 'empty' });
    try {
      const run = await runInProcess(['--config', suite.config(), '--catalog', catalog(['company_rollup', 'company_events'])]);
      expect(run.code, run.stderr).to.equal(0);
      const domains = suite.sim.truth.activeDomains({ start: START, end: END });
      expect(run.stderr).to.match(
        new RegExp(
          `company_events: .*; ${domains.length} windows verified against Scarf's counts: ${domains.length} equal, 0 re-read`,
        ),
      );
      const want = domains
        .flatMap((d) => suite.sim.truth.companyEvents(d, { start: START, end: END }))
        .map((r) => r.id)
        .sort();
      expect(
        records(run, 'company_events')
          .map((r) => r.id)
          .sort(),
      ).to.deep.equal(want);
      expect(suite.sim.requests.filter((r) => r.endpoint === 'aggregations').map((r) => r.query.breakdown_set![0])).to.include(
        'by-company',
      );
    } finally {
      suite.sim.setOptions({ v2Aggregates: 'rows' });
    }
  });
});
