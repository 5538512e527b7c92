// Each fault does what it says, on the requests it says.

import { expect } from 'chai';

import { type FaultSpec, ScarfSimulator } from '../index.js';
import { apiUrl, get, NOW, parseCsv } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const AGG = '/v2/packages/acme-oss/aggregates';
const Q = { start_date: '2026-03-10', end_date: '2026-03-14' };

describe('simulator: faults', () => {
  let sim: ScarfSimulator;
  let url: string;
  let normal: string;
  let normalRows: string[][];
  let normalAgg: string;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW });
    url = await sim.start();
    normal = (await get(apiUrl(url, EV, Q))).body;
    normalRows = parseCsv(normal).rows;
    normalAgg = (await get(apiUrl(url, AGG, { ...Q, breakdown: 'by-country' }))).body;
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  const once = async (fault: FaultSpec, path = EV, q: Record<string, string> = Q) => {
    sim.setFaults([fault]);
    return get(apiUrl(url, path, q));
  };

  it('answers 429/503 with JSON and the Retry-After it was given; 500 without', async () => {
    let r = await once({ kind: '429', retryAfter: 120 });
    expect([r.status, r.headers['retry-after'], JSON.parse(r.body).code]).to.deep.equal([429, '120', 'rate-limited']);
    const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
    r = await once({ kind: '503', retryAfter: date });
    expect([r.status, r.headers['retry-after'], JSON.parse(r.body).code]).to.deep.equal([503, date, 'service-unavailable']);
    r = await once({ kind: '429' });
    expect(r.headers).to.not.have.property('retry-after');
    r = await once({ kind: '500', retryAfter: 5 });
    expect([r.status, r.headers['retry-after'], JSON.parse(r.body).code]).to.deep.equal([500, undefined, 'internal-error']);
    expect(sim.requests.map((e) => [e.status, e.fault])).to.deep.equal([
      [429, '429'],
      [503, '503'],
      [429, '429'],
      [500, '500'],
    ]);
  });

  it('reset-before-headers: the connection dies before any status line', async () => {
    const r = await once({ kind: 'reset-before-headers' });
    expect(r.status).to.equal(0);
    expect(r.error).to.be.an('error');
    expect(sim.requests[0]).to.include({ status: 0, fault: 'reset-before-headers' });
    expect((await get(apiUrl(url, EV, Q))).body).to.equal(normal); // fires once by default
  });

  it('reset-mid-body: 200, part of the body, then an error', async () => {
    const r = await once({ kind: 'reset-mid-body' });
    expect(r.status).to.equal(200);
    expect(r.complete).to.equal(false);
    expect(r.error).to.be.an('error');
    expect(r.body.length).to.be.lessThan(normal.length);
    expect(normal.startsWith(r.body)).to.equal(true);
  });

  it('reset-mid-body with Content-Length: fewer bytes than announced', async () => {
    const r = await once({ kind: 'reset-mid-body', contentLength: true });
    expect(r.headers['content-length']).to.equal(String(Buffer.byteLength(normal)));
    expect(r.headers['transfer-encoding']).to.equal(undefined);
    expect(Buffer.byteLength(r.body)).to.be.lessThan(Buffer.byteLength(normal));
    expect(r.complete).to.equal(false);
  });

  it('cut-after-line: whole lines, then the socket closes without the chunked terminator', async () => {
    const r = await once({ kind: 'cut-after-line' });
    expect(r.status).to.equal(200);
    expect(r.body.endsWith('\n')).to.equal(true);
    expect(normal.startsWith(r.body)).to.equal(true);
    expect(parseCsv(r.body).rows).to.have.length(Math.floor(normalRows.length / 2));
    expect(r.complete).to.equal(false);
    expect(r.error).to.be.an('error');
  });

  it('cut-after-line honours afterRows and Content-Length', async () => {
    let r = await once({ kind: 'cut-after-line', afterRows: 3 });
    expect(parseCsv(r.body).rows).to.deep.equal(normalRows.slice(0, 3));
    r = await once({ kind: 'cut-after-line', afterRows: 0, contentLength: true });
    expect(r.body).to.equal(normal.split('\n')[0] + '\n');
    expect(r.complete).to.equal(false);
  });

  it('cut-mid-row: stops inside a field', async () => {
    const r = await once({ kind: 'cut-mid-row' });
    expect(r.body.endsWith('\n')).to.equal(false);
    expect(normal.startsWith(r.body)).to.equal(true);
    expect(r.complete).to.equal(false);
    const clean = await once({ kind: 'cut-mid-row', endCleanly: true });
    expect(clean.complete).to.equal(true);
    expect(clean.error).to.equal(undefined);
    expect(clean.body).to.equal(r.body);
  });

  it('unterminated-quote: a quoted field opened and never closed', async () => {
    const r = await once({ kind: 'unterminated-quote' });
    expect(r.complete).to.equal(false);
    expect(normal.startsWith(r.body)).to.equal(true);
    const lastRow = r.body.slice(r.body.lastIndexOf('\n', r.body.lastIndexOf(',"')) + 1);
    expect((lastRow.match(/"/g) ?? []).length % 2).to.equal(1);
    expect(parseCsv(r.body).errors.map((e) => e.type)).to.include('Quotes');
  });

  it('latency: delays the headers, then a normal body', async () => {
    const r = await once({ kind: 'latency', latencyMs: 200 });
    expect(r.headersAfterMs).to.be.at.least(190);
    expect(r.body).to.equal(normal);
    expect(sim.requests[0]!.fault).to.equal('latency');
  });

  it('stall-mid-body: pauses halfway, then completes', async () => {
    const r = await once({ kind: 'stall-mid-body', latencyMs: 300 });
    expect(r.maxGapMs).to.be.at.least(280);
    expect(r.complete).to.equal(true);
    expect(r.body).to.equal(normal);
  });

  it('malformed-row: a complete response with one row of the wrong width', async () => {
    const r = await once({ kind: 'malformed-row' });
    expect(r.complete).to.equal(true);
    const { header, rows } = parseCsv(r.body);
    const bad = rows.map((row, i) => [i, row.length] as const).filter(([, n]) => n !== header.length);
    expect(bad).to.have.length(1);
    expect(bad[0]![0]).to.equal(Math.floor(normalRows.length / 2));
    expect(rows).to.have.length(normalRows.length);
  });

  it('bad-json-line (and malformed-row) on aggregates: one line that is not JSON', async () => {
    for (const kind of ['bad-json-line', 'malformed-row'] as const) {
      const r = await once({ kind }, AGG, { ...Q, breakdown: 'by-country' });
      expect(r.complete).to.equal(true);
      const lines = r.body.split('\n').filter(Boolean);
      const bad = lines.filter((l) => {
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
      expect(bad, kind).to.have.length(1);
      expect(lines).to.have.length(normalAgg.split('\n').filter(Boolean).length);
    }
  });

  it('body cuts on aggregates NDJSON', async () => {
    const mid = await once({ kind: 'cut-mid-row' }, AGG, { ...Q, breakdown: 'by-country' });
    expect(mid.body.endsWith('\n')).to.equal(false);
    expect(normalAgg.startsWith(mid.body)).to.equal(true);
    const quote = await once({ kind: 'unterminated-quote' }, AGG, { ...Q, breakdown: 'by-country' });
    const last = quote.body.slice(quote.body.lastIndexOf('\n') + 1);
    expect((last.match(/"/g) ?? []).length % 2).to.equal(1);
    expect(quote.complete).to.equal(false);
  });

  it('faults strike even an empty body (header only)', async () => {
    const empty = { start_date: '2020-01-01', end_date: '2020-01-02' };
    const r = await once({ kind: 'cut-mid-row' }, EV, empty);
    expect(r.complete).to.equal(false);
    expect(r.body.endsWith('\n')).to.equal(false);
    const m = await once({ kind: 'malformed-row' }, EV, empty);
    expect(parseCsv(m.body).rows).to.have.length(1);
  });

  it('nth/times: fire on the nth matching request and the following times-1', async () => {
    sim.setFaults([{ kind: '503', nth: 2, times: 2 }]);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(apiUrl(url, EV, Q))).status);
    expect(statuses).to.deep.equal([200, 503, 503, 200, 200]);
  });

  it('counts only requests to its endpoint that would have succeeded', async () => {
    sim.setFaults([{ kind: '500', endpoint: 'aggregates', nth: 2 }]);
    expect((await get(apiUrl(url, AGG, Q), { token: 'bad' })).status).to.equal(401); // not counted
    expect((await get(apiUrl(url, EV, Q))).status).to.equal(200); // other endpoint
    expect((await get(apiUrl(url, AGG, Q))).status).to.equal(200); // 1st match
    expect((await get(apiUrl(url, AGG, Q))).status).to.equal(500); // 2nd match
  });

  it('first listed spec wins; every spec counts every request it matches', async () => {
    sim.setFaults([{ kind: '500' }, { kind: '503' }, { kind: '429', nth: 2 }]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(apiUrl(url, '/v2/packages/acme-oss/company-rollup'))).status);
    expect(statuses).to.deep.equal([500, 429, 200]);
  });

  it('probability: seeded, reproducible, unlimited', async () => {
    const run = async (seed: number, p: number) => {
      const s = new ScarfSimulator({ now: NOW, seed });
      const u = await s.start();
      s.setFaults([{ kind: '503', probability: p }]);
      const out: number[] = [];
      for (let i = 0; i < 24; i++) out.push((await get(apiUrl(u, '/v2/packages/acme-oss/company-rollup'))).status);
      await s.stop();
      return out;
    };
    const a = await run(5, 0.5);
    expect(await run(5, 0.5)).to.deep.equal(a);
    const fired = a.filter((x) => x === 503).length;
    expect(fired).to.be.within(5, 19);
    expect(await run(6, 0.5)).to.not.deep.equal(a);
    expect((await run(5, 1)).every((x) => x === 503)).to.equal(true);
    expect((await run(5, 0)).every((x) => x === 200)).to.equal(true);
  });
});
