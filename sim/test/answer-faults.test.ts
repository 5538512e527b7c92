// The simulator's answers that are not exports, byte for byte as sim/README.md describes them.
import http from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

import { expect } from 'chai';

import { type FaultSpec, ScarfSimulator } from '../index.js';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  complete: boolean;
}

function get(url: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: 'Bearer sim-token' } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      const done = () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts), complete: res.complete });
      res.on('end', done);
      res.on('aborted', done);
      res.on('error', done);
    });
    req.on('error', reject);
  });
}

describe('simulator: answer faults', function () {
  this.timeout(30_000);
  const sim = new ScarfSimulator({ seed: 2, now: new Date('2026-10-07T12:00:00Z'), dataStart: '2026-09-01', eventsPerDay: 10 });
  let events = '';
  let aggregates = '';
  before(async () => {
    const url = await sim.start();
    events = `${url}/v2/packages/acme-oss/events?start_date=2026-10-01&end_date=2026-10-01`;
    aggregates = `${url}/v2/packages/acme-oss/aggregates?start_date=2026-10-01&end_date=2026-10-01`;
  });
  after(() => sim.stop());
  const withFault = async (fault: FaultSpec, url: string) => {
    sim.setFaults([fault]);
    return get(url);
  };

  it('empty-200: 200, Content-Length 0, no Content-Type; 204: nothing', async () => {
    const e = await withFault({ kind: 'empty-200' }, events);
    expect([e.status, e.headers['content-length'], e.headers['content-type'], e.body.length]).to.deep.equal([
      200,
      '0',
      undefined,
      0,
    ]);
    const n = await withFault({ kind: '204' }, aggregates);
    expect([n.status, n.body.length]).to.deep.equal([204, 0]);
    expect(sim.requests.at(-1)).to.include({ status: 204, fault: '204' });
  });

  it('json-on-csv: a JSON error with 200; html-page: a sign-in page with 200', async () => {
    const j = await withFault({ kind: 'json-on-csv', message: 'boom' }, events);
    expect(j.status).to.equal(200);
    expect(j.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(JSON.parse(j.body.toString())).to.deep.equal({ message: 'boom', code: 'export-failed' });
    const h = await withFault({ kind: 'html-page' }, aggregates);
    expect([h.status, h.headers['content-type']]).to.deep.equal([200, 'text/html; charset=utf-8']);
    expect(h.body.toString())
      .to.match(/^<!DOCTYPE html>/)
      .and.match(/<title>Sign in - Corporate Web Gateway<\/title>/);
  });

  it('content-encoding: the real body, compressed, with Content-Encoding', async () => {
    const plain = await get(events);
    const g = await withFault({ kind: 'content-encoding' }, events);
    expect(g.headers['content-encoding']).to.equal('gzip');
    expect(gunzipSync(g.body).equals(plain.body)).to.equal(true);
    const b = await withFault({ kind: 'content-encoding', encoding: 'br' }, events);
    expect(b.headers['content-encoding']).to.equal('br');
    expect(brotliDecompressSync(b.body).equals(plain.body)).to.equal(true);
  });

  it('endless-row: the header, an opened quoted field, filler up to maxBytes, then the socket closes', async () => {
    const r = await withFault({ kind: 'endless-row', maxBytes: 300_000 }, events);
    const text = r.body.toString();
    const header = (await get(events)).body.toString().split('\n')[0] + '\n';
    expect(text.startsWith(header + '"x')).to.equal(true);
    expect(r.body.length).to.equal(300_000);
    expect(r.complete).to.equal(false);
    expect(/^x+$/.test(text.slice(header.length + 1))).to.equal(true);
  });

  it('empty-column-name: the third column (or `column`) named "" in the header, rows untouched', async () => {
    const plain = (await get(events)).body.toString().split('\n');
    const r = (await withFault({ kind: 'empty-column-name' }, events)).body.toString().split('\n');
    const cells = plain[0]!.split(',');
    cells[2] = '';
    expect(r[0]).to.equal(cells.join(','));
    expect(r.slice(1)).to.deep.equal(plain.slice(1));
    const t = (await withFault({ kind: 'empty-column-name', column: 'time' }, events)).body.toString().split('\n')[0]!;
    expect(t.split(',')[plain[0]!.split(',').indexOf('time')]).to.equal('');
  });
});
