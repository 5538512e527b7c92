// The simulator's slow-body faults: 'trickle' (bytes at a slow rate, never silent long enough
// for an idle timeout) and 'endless-rows' (valid complete rows forever). Both are bounded in
// the simulator (maxMs / maxBytes) so a client that never gives up still ends.

import { expect } from 'chai';

import { ScarfSimulator } from '../index.js';
import { apiUrl, get, NOW } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const AGG = '/v2/packages/acme-oss/aggregates';
const Q = { start_date: '2026-03-10', end_date: '2026-03-14' };

describe('simulator: slow-body faults (trickle, endless-rows)', function () {
  this.timeout(20_000);
  let sim: ScarfSimulator;
  let url: string;
  let normal: string;
  let normalAgg: string;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW });
    url = await sim.start();
    normal = (await get(apiUrl(url, EV, Q))).body;
    normalAgg = (await get(apiUrl(url, AGG, { ...Q, breakdown: 'by-country' }))).body;
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  const lines = (text: string) => text.split('\n').slice(0, -1);

  it('trickle: header and afterRows rows at once, then a prefix of the real body until maxMs closes the socket', async () => {
    sim.setFaults([{ kind: 'trickle', afterRows: 2, intervalMs: 5, chunkBytes: 1, maxMs: 300 }]);
    const r = await get(apiUrl(url, EV, Q));
    expect(r.status).to.equal(200);
    expect(r.complete, 'cut by maxMs').to.equal(false);
    const head = lines(normal).slice(0, 3).join('\n') + '\n';
    expect(r.body.startsWith(head), 'header and 2 rows before the trickle').to.equal(true);
    expect(normal.startsWith(r.body), 'a prefix of the real body').to.equal(true);
    expect(r.body.length).to.be.greaterThan(head.length).and.below(normal.length);
    expect(sim.requests[0]).to.include({ status: 200, fault: 'trickle' });
    expect((await get(apiUrl(url, EV, Q))).body, 'fires once by default').to.equal(normal);
  });

  it('trickle that is allowed to finish delivers exactly the real body (CSV and NDJSON)', async () => {
    sim.setFaults([{ kind: 'trickle', intervalMs: 1, chunkBytes: 4096 }]);
    const r = await get(apiUrl(url, EV, Q));
    expect([r.complete, r.body === normal]).to.deep.equal([true, true]);
    sim.setFaults([{ kind: 'trickle', endpoint: 'aggregates', intervalMs: 1, chunkBytes: 512 }]);
    const a = await get(apiUrl(url, AGG, { ...Q, breakdown: 'by-country' }));
    expect([a.complete, a.body === normalAgg]).to.deep.equal([true, true]);
  });

  it('endless-rows: the real body, then its complete rows again and again, until maxBytes closes the socket', async () => {
    sim.setFaults([{ kind: 'endless-rows', maxBytes: 3 * normal.length }]);
    const r = await get(apiUrl(url, EV, Q));
    expect(r.status).to.equal(200);
    expect(r.complete).to.equal(false);
    expect(r.body.startsWith(normal)).to.equal(true);
    expect(r.body.length).to.be.at.least(3 * normal.length);
    expect(r.body.endsWith('\n'), 'cut between rows: every row sent is complete').to.equal(true);
    const rows = new Set(lines(normal).slice(1));
    const extra = lines(r.body.slice(normal.length));
    expect(
      extra.filter((l) => !rows.has(l)),
      'only rows of the real body',
    ).to.deep.equal([]);
    expect(extra.length).to.be.greaterThan(rows.size);
    expect(sim.requests[0]).to.include({ status: 200, fault: 'endless-rows' });
  });

  it('endless-rows on NDJSON repeats the real lines; maxMs bounds it too', async () => {
    sim.setFaults([{ kind: 'endless-rows', endpoint: 'aggregates', maxMs: 300 }]);
    const r = await get(apiUrl(url, AGG, { ...Q, breakdown: 'by-country' }));
    expect(r.complete).to.equal(false);
    expect(r.body.startsWith(normalAgg)).to.equal(true);
    const known = new Set(lines(normalAgg));
    expect(lines(r.body).filter((l) => !known.has(l))).to.deep.equal([]);
    expect(r.body.length).to.be.greaterThan(normalAgg.length);
  });

  it('rejects bounds that are not positive numbers', () => {
    expect(() => sim.setFaults([{ kind: 'trickle', intervalMs: 0 }])).to.throw(/intervalMs must be a number > 0/);
    expect(() => sim.setFaults([{ kind: 'endless-rows', maxBytes: -1 }])).to.throw(/maxBytes must be a number > 0/);
  });
});
