// The attacks issue 18's defences are proven against, each deterministic and aimed by
// endpoint, day, domain or parameter: a gateway's byte cap, a day header-only on every read,
// counts that lag or exceed the export, a renamed column, a domain spelled otherwise, an
// empty last_seen, a company that always fails, a body ending inside its last field, bodies
// without a final line break, a token echoed in a header, a redirect, bytes that are not UTF-8.

import { expect } from 'chai';
import Papa from 'papaparse';

import { type FaultSpec, ScarfSimulator, validateFaults } from '../index.js';
import { apiUrl, get, type Got, NOW, parseCsv, TOKEN } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const AGG = '/v2/packages/acme-oss/aggregates';
const ROLLUP = '/v2/packages/acme-oss/company-rollup';
const V3 = '/v3/insights/acme-oss/aggregations/export';
const Q = { start_date: '2026-03-10', end_date: '2026-03-14' };
const V3Q = { start_date: '2026-03-10', end_date: '2026-03-15' };
const ALWAYS = 1_000_000;

const ndjson = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function expectComplete(r: Got): void {
  expect(r.status).to.equal(200);
  expect(r.complete, 'the HTTP message is complete').to.equal(true);
  expect(r.error).to.equal(undefined);
}

describe('simulator: attacks (issue 18)', () => {
  let sim: ScarfSimulator;
  let url: string;
  let normal: Got;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW, eventsPerDay: 20 });
    url = await sim.start();
    normal = await get(apiUrl(url, EV, Q));
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });
  const withFaults = (faults: FaultSpec[], path: string, q: Record<string, string | string[]> = Q) => {
    sim.setFaults(faults);
    return get(apiUrl(url, path, q));
  };

  describe('body-cap: a gateway that ends every body at N bytes, properly framed', () => {
    it('cut: byte — exactly the first N bytes, the same on every read; a shorter body passes whole', async () => {
      const cap = Math.floor(normal.raw.length / 2);
      sim.setFaults([{ kind: 'body-cap', endpoint: 'events', maxBytes: cap, times: ALWAYS }]);
      const reads = [await get(apiUrl(url, EV, Q)), await get(apiUrl(url, EV, Q))];
      for (const r of reads) {
        expectComplete(r);
        expect(r.headers['transfer-encoding']).to.equal('chunked');
        expect(r.raw.equals(normal.raw.subarray(0, cap))).to.equal(true);
      }
      const oneDay = await get(apiUrl(url, EV, { start_date: '2026-03-12', end_date: '2026-03-12' }));
      expect(oneDay.raw.length).to.be.below(cap);
      sim.clearFaults();
      expect(oneDay.raw.equals((await get(apiUrl(url, EV, { start_date: '2026-03-12', end_date: '2026-03-12' }))).raw)).to.equal(
        true,
      );
    });

    it("cut: line — the complete rows that fit; contentLength 'short' declares exactly what is sent", async () => {
      const cap = Math.floor(normal.raw.length / 3);
      const r = await withFaults(
        [{ kind: 'body-cap', endpoint: 'events', maxBytes: cap, cut: 'line', contentLength: 'short' }],
        EV,
      );
      expectComplete(r);
      expect(r.headers['content-length']).to.equal(String(r.raw.length));
      expect(r.raw.length).to.be.at.most(cap);
      expect(r.raw.equals(normal.raw.subarray(0, r.raw.length))).to.equal(true);
      const got = parseCsv(r.body);
      expect(got.errors).to.deep.equal([]);
      const all = parseCsv(normal.body).rows;
      expect(got.rows).to.deep.equal(all.slice(0, got.rows.length));
      // The next row would not have fitted.
      const rest = normal.raw.subarray(r.raw.length).toString('utf8');
      const next = Papa.parse(rest, { preview: 1, newline: '\n' }).meta.cursor;
      expect(r.raw.length + Buffer.byteLength(rest.slice(0, next))).to.be.above(cap);
    });

    it('caps v3 JSON bodies too (no closing bracket: not JSON)', async () => {
      const q = { ...V3Q, format: 'json' };
      const full = await get(apiUrl(url, V3, q));
      const r = await withFaults([{ kind: 'body-cap', endpoint: 'aggregations', maxBytes: 300 }], V3, q);
      expectComplete(r);
      expect(r.raw.equals(full.raw.subarray(0, 300))).to.equal(true);
      expect(() => JSON.parse(r.body)).to.throw();
    });
  });

  describe('a day missing on every read, aimed with coversDay', () => {
    it("drop-day with coversDay: the day's one-day export is header-only on every read; other requests are not counted", async () => {
      const day = '2026-03-12';
      const header = normal.body.split('\n')[0] + '\n';
      sim.setFaults([{ kind: 'drop-day', endpoint: 'events', date: day, coversDay: day, times: ALWAYS }]);
      const other = await get(apiUrl(url, EV, { start_date: '2026-03-13', end_date: '2026-03-13' }));
      for (let i = 0; i < 2; i++) {
        const r = await get(apiUrl(url, EV, { start_date: day, end_date: day }));
        expectComplete(r);
        expect(r.body).to.equal(header);
      }
      const week = await get(apiUrl(url, EV, Q));
      expect(parseCsv(week.body).rows.filter((row) => row[5]!.startsWith(day))).to.deep.equal([]);
      expect(sim.requests.map((x) => x.fault ?? null)).to.deep.equal([null, 'drop-day', 'drop-day', 'drop-day']);
      expect(other.body.split('\n').length).to.be.above(2);
      // What the counts say for that day is untouched.
      expect(sim.truth.aggregatesDailyTotals({ start: day, end: day })[day]).to.be.above(0);
    });

    it('drop-day on the v3 counts: a day missing from the counts body', async () => {
      const q = { ...V3Q, rollup: 'daily' };
      const full = ndjson((await get(apiUrl(url, V3, q))).body);
      const r = await withFaults([{ kind: 'drop-day', endpoint: 'aggregations', date: '2026-03-11' }], V3, q);
      expect(ndjson(r.body)).to.deep.equal(full.filter((row) => row.date !== '2026-03-11'));
      expect(full.some((row) => row.date === '2026-03-11')).to.equal(true);
    });
  });

  describe('counts that lag or exceed the export', () => {
    afterEach(() =>
      sim.setOptions({ aggregatesCountScale: undefined, aggregatesCountSkew: undefined, countDistortionOn: undefined }),
    );

    it("aggregatesCountScale per day: that day's by-total and by-company totals × 0.8 (half up), on v2 and v3; the exports unchanged", async () => {
      const day = '2026-03-14';
      const v2q = { ...Q, breakdown: ['by-total', 'by-company', 'by-country'] };
      const v3q = { ...V3Q, breakdown_set: 'by-total' };
      const before2 = ndjson((await get(apiUrl(url, AGG, v2q))).body);
      const before3 = ndjson((await get(apiUrl(url, V3, v3q))).body);
      const counts = sim.truth.dailyCounts({ start: Q.start_date, end: Q.end_date });
      sim.setOptions({ aggregatesCountScale: { [day]: 0.8 } });
      const scaled = (rows: Record<string, unknown>[], breakdowns: string[]) =>
        rows.map((row) =>
          row.date === day && breakdowns.includes(row.breakdown as string)
            ? { ...row, total: Math.floor((row.total as number) * 0.8 + 0.5) }
            : row,
        );
      expect(ndjson((await get(apiUrl(url, AGG, v2q))).body)).to.deep.equal(scaled(before2, ['by-total', 'by-company']));
      expect(ndjson((await get(apiUrl(url, V3, v3q))).body)).to.deep.equal(scaled(before3, ['by-total']));
      expect(sim.truth.dailyCounts({ start: Q.start_date, end: Q.end_date })).to.deep.equal(counts);
      const said = sim.truth.aggregatesDailyTotals({ start: day, end: day, api: 'v3' })[day]!;
      expect(said).to.equal(
        scaled(before3, ['by-total'])
          .filter((r) => r.date === day)
          .reduce((n, r) => n + (r.total as number), 0),
      );
      expect(said).to.be.below(counts[day]!);
    });

    it('aggregatesCountSkew +1 with countDistortionOn v3: v3 counts exceed the export, v2 stays exact', async () => {
      sim.setOptions({ aggregatesCountSkew: 1, countDistortionOn: 'v3' });
      const range = { start: Q.start_date, end: Q.end_date };
      const exact = sim.truth.dailyCounts(range);
      expect(sim.truth.aggregatesDailyTotals(range)).to.deep.equal(exact);
      const v3 = sim.truth.aggregatesDailyTotals({ ...range, api: 'v3' });
      const rowsPerDay = ndjson((await get(apiUrl(url, V3, V3Q))).body).reduce<Record<string, number>>(
        (m, r) => ({ ...m, [r.date as string]: (m[r.date as string] ?? 0) + 1 }),
        {},
      );
      for (const d of Object.keys(exact)) expect(v3[d], d).to.equal(exact[d]! + rowsPerDay[d]!);
    });
  });

  describe('renamed columns and keys', () => {
    it('rename-column on CSV: `Time`, ` time`, a renamed last_seen — header only, rows untouched', async () => {
      const header = normal.body.split('\n')[0]!.split(',');
      for (const name of ['Time', ' time']) {
        const r = await withFaults([{ kind: 'rename-column', endpoint: 'events', column: 'time', value: name }], EV);
        expectComplete(r);
        const [h, ...rest] = r.body.split('\n');
        expect(h!.split(',')).to.deep.equal(header.map((c) => (c === 'time' ? name : c)));
        expect(rest.join('\n')).to.equal(normal.body.split('\n').slice(1).join('\n'));
      }
      const rollup = (await get(apiUrl(url, ROLLUP))).body;
      const r = await withFaults(
        [{ kind: 'rename-column', endpoint: 'company-rollup', column: 'last_seen', value: 'lastSeen' }],
        ROLLUP,
        {},
      );
      expect(r.body.split('\n')[0]).to.equal(rollup.split('\n')[0]!.replace(',last_seen,', ',lastSeen,'));
      expect(r.body.split('\n').slice(1)).to.deep.equal(rollup.split('\n').slice(1));
    });

    it('rename-column on NDJSON: the key renamed in place on every line', async () => {
      const full = ndjson((await get(apiUrl(url, AGG, Q))).body);
      const r = await withFaults([{ kind: 'rename-column', endpoint: 'aggregates', column: 'total', value: 'Total' }], AGG);
      const got = ndjson(r.body);
      expect(got.map((o) => Object.keys(o))).to.deep.equal(
        full.map((o) => Object.keys(o).map((k) => (k === 'total' ? 'Total' : k))),
      );
      expect(got.map((o) => o.Total)).to.deep.equal(full.map((o) => o.total));
    });
  });

  describe('the company list', () => {
    const rollupRows = async (faults: FaultSpec[]) => {
      const r = await withFaults(faults, ROLLUP, {});
      expectComplete(r);
      return parseCsv(r.body);
    };

    it('respell-domain: the rollup spells one domain in another case (events and the list keep theirs)', async () => {
      const plain = await rollupRows([]);
      const j = plain.header.indexOf('company_domain');
      const spelled = await rollupRows([{ kind: 'respell-domain', endpoint: 'company-rollup', rowDomain: 'GLOBEX.com' }]);
      expect(spelled.rows.map((row) => row[j])).to.deep.equal(
        plain.rows.map((row) => (row[j] === 'globex.com' ? 'Globex.com' : row[j])),
      );
      const chosen = await rollupRows([
        { kind: 'respell-domain', endpoint: 'company-rollup', rowDomain: 'tesuto.co.jp', value: 'Tesuto.CO.jp' },
      ]);
      expect(chosen.rows.map((row) => row[j]))
        .to.include('Tesuto.CO.jp')
        .and.not.include('tesuto.co.jp');
      // Only the domain cells change.
      expect(chosen.rows.map((row) => row.filter((_, k) => k !== j))).to.deep.equal(
        plain.rows.map((row) => row.filter((_, k) => k !== j)),
      );
      expect(sim.companyDomains()).to.include('tesuto.co.jp');
    });

    it('set-value: an empty last_seen for one company (NULL), or a text for every row', async () => {
      const plain = await rollupRows([]);
      const j = plain.header.indexOf('last_seen');
      const d = plain.header.indexOf('company_domain');
      const r = await withFaults(
        [{ kind: 'set-value', endpoint: 'company-rollup', column: 'last_seen', value: null, rowDomain: 'globex.com' }],
        ROLLUP,
        {},
      );
      const got = parseCsv(r.body);
      expect(got.rows.map((row) => row[j])).to.deep.equal(plain.rows.map((row) => (row[d] === 'globex.com' ? '' : row[j])));
      // NULL: an empty field, not a quoted empty string.
      expect(r.body.split('""').length).to.equal((await get(apiUrl(url, ROLLUP))).body.split('""').length);
      const all = await rollupRows([{ kind: 'set-value', endpoint: 'company-rollup', column: 'last_seen', value: 'soon' }]);
      expect(new Set(all.rows.map((row) => row[j]))).to.deep.equal(new Set(['soon']));
    });

    it('a company that always fails: 404 (or 500) for its domain on every read, any case; the others answer', async () => {
      sim.setFaults([
        { kind: 'http-error', status: 404, endpoint: 'company-events', domain: 'initech.com', times: ALWAYS },
        { kind: '500', endpoint: 'company-events', domain: 'hooli.xyz', times: ALWAYS },
      ]);
      for (let i = 0; i < 3; i++) {
        const a = await get(apiUrl(url, '/v2/companies/acme-oss/Initech.com/events', Q));
        expect([a.status, JSON.parse(a.body)]).to.deep.equal([404, { message: 'Not Found', code: 'not-found' }]);
        expect((await get(apiUrl(url, '/v2/companies/acme-oss/hooli.xyz/events', Q))).status).to.equal(500);
      }
      expect((await get(apiUrl(url, '/v2/companies/acme-oss/globex.com/events', Q))).status).to.equal(200);
      expect(sim.requests.map((x) => x.fault ?? null)).to.deep.equal([
        ...[...Array(6).keys()].map((i) => (i % 2 ? '500' : 'http-error')),
        null,
      ]);
    });
  });

  describe('bodies that end cleanly inside their last row', () => {
    it('cut-in-last-field: complete rows, then a row with every field but a cut last one, no line break', async () => {
      const full = parseCsv(normal.body);
      const k = 5;
      const r = await withFaults([{ kind: 'cut-in-last-field', endpoint: 'events', afterRows: k }], EV);
      expectComplete(r);
      expect(r.body.endsWith('\n')).to.equal(false);
      expect(normal.body.startsWith(r.body)).to.equal(true);
      const got = parseCsv(r.body);
      expect(got.errors).to.deep.equal([]);
      const struck = got.rows.length - 1;
      expect(struck).to.be.at.least(k);
      expect(got.rows.slice(0, struck)).to.deep.equal(full.rows.slice(0, struck));
      const cut = got.rows[struck]!;
      const real = full.rows[struck]!;
      expect(cut.length, 'the field count still matches').to.equal(full.header.length);
      expect(cut.slice(0, -1)).to.deep.equal(real.slice(0, -1));
      expect(real.at(-1)!.startsWith(cut.at(-1)!) && cut.at(-1)!.length < real.at(-1)!.length).to.equal(true);
      // Every row between the cut point and the struck row had an empty last field.
      for (const row of full.rows.slice(k, struck)) expect(row.at(-1)).to.equal('');
    });

    it('on NDJSON it ends inside the last value; contentLength short declares it', async () => {
      const full = (await get(apiUrl(url, AGG, Q))).body;
      const r = await withFaults(
        [{ kind: 'cut-in-last-field', endpoint: 'aggregates', afterRows: 2, contentLength: 'short' }],
        AGG,
      );
      expectComplete(r);
      expect(r.headers['content-length']).to.equal(String(r.raw.length));
      const lines = r.body.split('\n');
      expect(lines.slice(0, 2)).to.deep.equal(full.split('\n').slice(0, 2));
      expect(full.split('\n')[2]!.startsWith(lines[2]!) && lines[2]!.length < full.split('\n')[2]!.length).to.equal(true);
    });

    it('finalNewline false: every body ends without a line break after its last row, even header-only ones', async () => {
      const targets: [string, Record<string, string>][] = [
        [EV, Q],
        ['/v2/companies/acme-oss/globex.com/events', Q],
        ['/v2/companies/acme-oss/unknown.example/events', Q],
        [ROLLUP, {}],
        [AGG, Q],
        [V3, V3Q],
        ['/v2/tracking-pixels/acme-oss/events', Q],
        ['/v2/companies/acme-oss/package-rollup', Q],
      ];
      const before = await Promise.all(targets.map(([p, q]) => get(apiUrl(url, p, q))));
      sim.setOptions({ finalNewline: false });
      try {
        for (const [i, [p, q]] of targets.entries()) {
          const r = await get(apiUrl(url, p, q));
          expect(before[i]!.body.endsWith('\n'), p).to.equal(true);
          expect(r.body, p).to.equal(before[i]!.body.slice(0, -1));
        }
        // A fault that answers a whole body keeps the rule.
        const bad = await withFaults([{ kind: 'bad-value', endpoint: 'events' }], EV);
        expect(bad.body.endsWith('\n')).to.equal(false);
        expect(bad.body.split('\n')).to.have.length(normal.body.split('\n').length - 1);
      } finally {
        sim.setOptions({ finalNewline: undefined });
      }
    });
  });

  describe('hostile answers', () => {
    it('token-echo-header: the token in another letter case in an unasked Content-Encoding, on a normal body', async () => {
      const r = await withFaults([{ kind: 'token-echo-header', endpoint: 'events' }], EV);
      expect(r.status).to.equal(200);
      expect(r.headers['content-encoding']).to.equal(TOKEN.toUpperCase());
      expect(r.headers['content-encoding']).to.not.equal(TOKEN);
      expect(r.raw.equals(normal.raw)).to.equal(true);
      const e = await withFaults([{ kind: 'token-echo-header', header: 'X-Debug-Auth', echo: 'lower', status: 502 }], V3, V3Q);
      expect([e.status, e.headers['x-debug-auth'], JSON.parse(e.body)]).to.deep.equal([
        502,
        TOKEN.toLowerCase(),
        { detail: 'Bad Gateway' },
      ]);
    });

    it('redirect: 301 to another host (or the Location and status given)', async () => {
      const r = await withFaults([{ kind: 'redirect' }], EV);
      expect(r.status).to.equal(301);
      expect(new URL(r.headers.location!).host).to.equal('login.example.invalid');
      expect(r.headers.location).to.not.include(TOKEN);
      const s = await withFaults([{ kind: 'redirect', status: 308, location: 'http://127.0.0.1:9/elsewhere' }], AGG);
      expect([s.status, s.headers.location]).to.deep.equal([308, 'http://127.0.0.1:9/elsewhere']);
      expect(sim.requests.at(-1)).to.include({ status: 308, fault: 'redirect' });
    });

    it('invalid-utf8: three bytes that are not UTF-8 in one row, the rest byte for byte', async () => {
      const bad = Buffer.from([0xc3, 0x28, 0xff]);
      const r = await withFaults([{ kind: 'invalid-utf8', endpoint: 'events' }], EV);
      expectComplete(r);
      const at = r.raw.indexOf(bad);
      expect(at).to.be.above(0);
      expect(Buffer.concat([r.raw.subarray(0, at), r.raw.subarray(at + 3)]).equals(normal.raw)).to.equal(true);
      expect(r.body).to.include('\uFFFD(\uFFFD');
      const agg = (await get(apiUrl(url, AGG, Q))).raw;
      const j = await withFaults([{ kind: 'invalid-utf8', endpoint: 'aggregates', afterRows: 0 }], AGG);
      const k = j.raw.indexOf(bad);
      expect(Buffer.concat([j.raw.subarray(0, k), j.raw.subarray(k + 3)]).equals(agg)).to.equal(true);
    });

    it('params: a counts request refused for by-company while by-total answers (v2 repeated, v3 comma-separated)', async () => {
      sim.setFaults([
        { kind: 'http-error', status: 403, endpoint: 'aggregates', params: { breakdown: 'by-company' }, times: ALWAYS },
        { kind: 'http-error', status: 422, endpoint: 'aggregations', params: { breakdown_set: 'by-company' }, times: ALWAYS },
      ]);
      const status = async (p: string, q: Record<string, string | string[]>) =>
        (await get(apiUrl(url, p, { ...Q, ...q }))).status;
      expect(await status(AGG, { breakdown: 'by-total' })).to.equal(200);
      expect(await status(AGG, { breakdown: 'by-company' })).to.equal(403);
      expect(await status(AGG, { breakdown: ['by-total', 'by-company'] })).to.equal(403);
      expect(await status(V3, { ...V3Q, breakdown_set: 'by-referer,by-company' })).to.equal(422);
      expect(await status(V3, { ...V3Q, breakdown_set: 'by-referer' })).to.equal(200);
    });

    it('error faults answer in the shape of the API: v3 `{detail}`, v2 `{message, code}`', async () => {
      const v3 = await withFaults([{ kind: '429', retryAfter: 2 }], V3, V3Q);
      expect([v3.status, v3.headers['retry-after'], JSON.parse(v3.body)]).to.deep.equal([
        429,
        '2',
        { detail: 'Too many requests' },
      ]);
      const v2 = await withFaults([{ kind: 'http-error', status: 410, message: 'Gone for good', code: 'gone' }], EV);
      expect([v2.status, JSON.parse(v2.body)]).to.deep.equal([410, { message: 'Gone for good', code: 'gone' }]);
    });
  });

  it('refuses specs that miss what their kind needs, naming the field', () => {
    const bad: [unknown, string][] = [
      [{ kind: 'http-error' }, 'http-error needs status'],
      [{ kind: 'http-error', status: 200 }, 'status must be an integer within 400..599'],
      [{ kind: 'redirect', status: 404 }, 'status must be 301, 302, 303, 307, 308'],
      [{ kind: 'body-cap' }, 'body-cap needs maxBytes'],
      [{ kind: 'body-cap', maxBytes: 10, cut: 'row' }, "cut is 'byte' or 'line', for body-cap only"],
      [{ kind: 'body-cap', maxBytes: 10, contentLength: true }, "body-cap always ends cleanly: contentLength 'short' or none"],
      [{ kind: 'rename-column', column: 'time' }, 'rename-column needs value'],
      [{ kind: 'set-value', column: 'last_seen' }, 'set-value needs value'],
      [{ kind: 'respell-domain' }, 'respell-domain needs rowDomain'],
      [{ kind: '500', domain: '' }, 'domain must be a non-empty string'],
      [{ kind: '500', coversDay: '2026-13-01' }, 'coversDay must be a day'],
      [{ kind: '500', params: { breakdown: 1 } }, 'params must be an object of strings'],
      [{ kind: '500', endpoint: 'v3' }, 'unknown endpoint v3'],
    ];
    for (const [spec, message] of bad) expect(() => validateFaults([spec]), JSON.stringify(spec)).to.throw(`fault 0: ${message}`);
  });
});
