// The simulator's faults for the tap's output hygiene: a gateway page echoing the
// Authorization header (token-echo-html), a row value holding the token (token-echo-value),
// and a column name made to forge a log line (log-forge-header).

import { expect } from 'chai';

import { FORGED_COLUMN, ScarfSimulator } from '../index.js';
import { apiUrl, get, NOW, parseCsv, TOKEN } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const AGG = '/v2/packages/acme-oss/aggregates';
const Q = { start_date: '2026-03-10', end_date: '2026-03-11' };

describe('simulator: faults that echo the token or forge log lines', () => {
  let sim: ScarfSimulator;
  let url: string;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW });
    url = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => sim.clearFaults());

  it('token-echo-html: an HTML error page (403 by default) echoing the header as sent, base64, token-only base64 or cut', async () => {
    const header = `Bearer ${TOKEN}`;
    const expected = {
      plain: header,
      base64: Buffer.from(header).toString('base64'),
      'base64-token': Buffer.from(TOKEN).toString('base64'),
      truncated: header.slice(0, 24) + '...',
    } as const;
    for (const [echo, shown] of Object.entries(expected)) {
      sim.setFaults([{ kind: 'token-echo-html', echo: echo as keyof typeof expected, offset: 10 }]);
      const r = await get(apiUrl(url, EV, Q));
      expect(r.status, echo).to.equal(403);
      expect(r.headers['content-type']).to.match(/^text\/html/);
      expect(r.body, echo).to.include(`<p>${'.'.repeat(10)}</p><pre>Authorization: ${shown}</pre>`);
    }
    sim.setFaults([{ kind: 'token-echo-html', status: 502 }]);
    expect((await get(apiUrl(url, EV, Q))).status).to.equal(502);
    expect(sim.requests.at(-1)!.fault).to.equal('token-echo-html');
  });

  it('token-echo-value: one row whose column holds offset filler characters then the token (CSV and NDJSON)', async () => {
    sim.setFaults([{ kind: 'token-echo-value', column: 'user_agent', offset: 5 }]);
    const csv = parseCsv((await get(apiUrl(url, EV, Q))).body);
    const j = csv.header.indexOf('user_agent');
    expect(csv.rows.filter((row) => row[j] === `xxxxx${TOKEN}`)).to.have.length(1);
    sim.setFaults([{ kind: 'token-echo-value', endpoint: 'aggregates' }]);
    const lines = (await get(apiUrl(url, AGG, Q))).body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.filter((o) => o.total === 'x'.repeat(70) + TOKEN)).to.have.length(1);
  });

  it('log-forge-header: one more column whose name breaks the line and opens an ANSI colour, on every row', async () => {
    expect(FORGED_COLUMN).to.equal('x\n[tap-scarf] INFO forged\x1b[31m');
    const normal = parseCsv((await get(apiUrl(url, EV, Q))).body);
    sim.setFaults([{ kind: 'log-forge-header' }]);
    const csv = parseCsv((await get(apiUrl(url, EV, Q))).body);
    expect(csv.errors).to.deep.equal([]);
    expect(csv.header).to.deep.equal([...normal.header, FORGED_COLUMN]);
    expect(csv.rows).to.deep.equal(normal.rows.map((row) => [...row, '']));
    sim.setFaults([{ kind: 'log-forge-header', value: 'odd\rname' }]);
    const agg = (await get(apiUrl(url, AGG, Q))).body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(agg.length).to.be.greaterThan(0);
    for (const o of agg) expect(o['odd\rname']).to.equal('x');
  });
});
