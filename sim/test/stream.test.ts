// Streaming at scale, cached bodies, and agreement of the simulator's column lists with schemas/.

import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { expect } from 'chai';

import {
  AGGREGATE_RECORD_KEYS,
  COMPANY_EVENT_RECORD_KEYS,
  EVENT_RECORD_KEYS,
  ROLLUP_RECORD_KEYS,
  ScarfSimulator,
} from '../index.js';
import { apiUrl, get, NOW, schemaProps, TOKEN } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('simulator: scale and caching', () => {
  it('streams a 200k-row response without holding it (retained heap stays small)', async function () {
    this.timeout(30_000);
    const sim = new ScarfSimulator({ now: NOW, eventsPerDay: 20_000, maxRangeDays: 400 });
    const url = await sim.start();
    gc();
    const base = process.memoryUsage().heapUsed;
    let bytes = 0;
    let rows = 0;
    let peak = 0;
    let nextCheck = 8e6;
    let paused = false;
    await new Promise<void>((resolve, reject) => {
      http.get(
        apiUrl(url, '/v2/packages/acme-oss/events', { start_date: '2026-03-01', end_date: '2026-03-10' }),
        { headers: { authorization: `Bearer ${TOKEN}` }, agent: false },
        (res) => {
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) rows++;
            if (bytes >= nextCheck) {
              nextCheck += 8e6;
              gc();
              peak = Math.max(peak, process.memoryUsage().heapUsed - base);
              if (!paused) {
                // A slow reader: the server must wait (backpressure), not buffer the rest.
                paused = true;
                res.pause();
                setTimeout(() => {
                  gc();
                  peak = Math.max(peak, process.memoryUsage().heapUsed - base);
                  res.resume();
                }, 300);
              }
            }
          });
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
    });
    await sim.stop();
    expect(rows).to.be.greaterThan(200_000);
    expect(bytes).to.be.greaterThan(60e6);
    if (process.env.SIM_VERBOSE) console.log(`retained ${peak} B while streaming ${bytes} B`);
    expect(peak, `retained ${Math.round(peak / 1e6)} MB while streaming ${Math.round(bytes / 1e6)} MB`).to.be.lessThan(24e6);
  });

  it('cacheBodies replays byte-identical bodies (and the same bytes as streaming)', async () => {
    const q = { start_date: '2026-03-01', end_date: '2026-03-14' };
    const plain = new ScarfSimulator({ now: NOW });
    const cached = new ScarfSimulator({ now: NOW, cacheBodies: true });
    const [u1, u2] = [await plain.start(), await cached.start()];
    for (const path of [
      '/v2/packages/acme-oss/events',
      '/v2/packages/acme-oss/aggregates',
      '/v2/packages/acme-oss/company-rollup',
      '/v2/companies/acme-oss/globex.com/events',
    ]) {
      const a = await get(apiUrl(u2, path, q));
      const b = await get(apiUrl(u2, path, q));
      const c = await get(apiUrl(u1, path, q));
      expect(a.body.length, path).to.be.greaterThan(100);
      expect(Buffer.from(a.body).equals(Buffer.from(b.body)), path).to.equal(true);
      expect(a.body, path).to.equal(c.body);
      expect(a.headers['content-type']).to.equal(c.headers['content-type']);
    }
    // Faults still apply to cached bodies.
    cached.setFaults([{ kind: 'cut-after-line', afterRows: 2 }]);
    expect((await get(apiUrl(u2, '/v2/packages/acme-oss/events', q))).complete).to.equal(false);
    await Promise.all([plain.stop(), cached.stop()]);
  });

  it('keeps its record key order in step with schemas/*.json', () => {
    expect(EVENT_RECORD_KEYS).to.deep.equal(Object.keys(schemaProps('events')));
    expect(COMPANY_EVENT_RECORD_KEYS).to.deep.equal(Object.keys(schemaProps('company_events')));
    expect(ROLLUP_RECORD_KEYS).to.deep.equal(Object.keys(schemaProps('company_rollup')));
    expect(AGGREGATE_RECORD_KEYS).to.deep.equal(Object.keys(schemaProps('aggregates')));
  });

  it('produces records whose keys and types fit the schemas', () => {
    const sim = new ScarfSimulator({ now: NOW, columnSet: 'extra' });
    const check = (stream: string, recs: Record<string, unknown>[]) => {
      const props = schemaProps(stream);
      const keys = JSON.stringify(Object.keys(props));
      const problems: string[] = [];
      expect(recs.length, stream).to.be.greaterThan(0);
      for (const r of recs) {
        if (JSON.stringify(Object.keys(r)) !== keys) problems.push(`${stream}: keys ${Object.keys(r).join(',')}`);
        for (const [k, v] of Object.entries(r)) {
          const types = ([] as string[]).concat(props[k]!.type);
          const t = v === null ? 'null' : Number.isInteger(v) && types.includes('integer') ? 'integer' : typeof v;
          if (!types.includes(t)) problems.push(`${stream}.${k} = ${JSON.stringify(v)}`);
          if (v !== null && props[k]!.format === 'date-time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/.test(String(v)))
            problems.push(`${stream}.${k} = ${v}`);
          if (v !== null && props[k]!.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(String(v)))
            problems.push(`${stream}.${k} = ${v}`);
        }
      }
      expect(problems).to.deep.equal([]);
    };
    const q = { start: '2026-03-01', end: '2026-03-14' };
    check('events', sim.truth.events(q));
    check('company_events', sim.truth.companyEvents('globex.com', q));
    check('company_rollup', sim.truth.companyRollup());
    check('aggregates', sim.truth.aggregates({ ...q, breakdowns: ['by-total', 'by-company', 'by-variable'] }));
  });
});
