// The recipe "another owner on the same state" (README, Recipes): setOptions({owner, seed})
// between syncs serves another owner's universe, and switching back serves the first one
// byte for byte again, so a tap's state can be switched back and forth against one truth.

import { expect } from 'chai';

import { ScarfSimulator } from '../index.js';
import { apiUrl, get, NOW, parseCsv } from './helpers.js';

const Q = { start_date: '2026-03-10', end_date: '2026-03-14' };
const RANGE = { start: Q.start_date, end: Q.end_date };

describe('simulator: another owner between syncs (setOptions owner + seed)', () => {
  let sim: ScarfSimulator;
  let url: string;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW, eventsPerDay: 20 });
    url = await sim.start();
  });
  after(() => sim.stop());

  it('serves the other owner only, with its own events and truth; switching back serves the first byte for byte', async () => {
    const acme = await get(apiUrl(url, '/v2/packages/acme-oss/events', Q));
    expect(acme.status).to.equal(200);
    const acmeTruth = sim.truth.events(RANGE);
    const acmeIds = new Set(parseCsv(acme.body).rows.map((r) => r[0]));
    expect(acmeIds.size).to.be.greaterThan(0);

    sim.setOptions({ owner: 'other-org', seed: 2 });
    const gone = await get(apiUrl(url, '/v2/packages/acme-oss/events', Q));
    expect([gone.status, JSON.parse(gone.body).code]).to.deep.equal([404, 'not-found']);
    const other = await get(apiUrl(url, '/v2/packages/other-org/events', Q));
    expect(other.status).to.equal(200);
    const otherTruth = sim.truth.events(RANGE);
    expect(otherTruth.length).to.be.greaterThan(0);
    expect(new Set(otherTruth.map((r) => r.owner))).to.deep.equal(new Set(['other-org']));
    // Another seed: no event of one owner is an event of the other.
    expect(otherTruth.filter((r) => acmeIds.has(r.id as string))).to.deep.equal([]);
    expect(new Set(parseCsv(other.body).rows.map((r) => r[0]))).to.deep.equal(new Set(otherTruth.map((r) => r.id)));

    sim.setOptions({ owner: 'acme-oss', seed: 1 });
    const again = await get(apiUrl(url, '/v2/packages/acme-oss/events', Q));
    expect(again.body).to.equal(acme.body);
    expect(sim.truth.events(RANGE)).to.deep.equal(acmeTruth);
    expect((await get(apiUrl(url, '/v2/packages/other-org/events', Q))).status).to.equal(404);
  });
});
