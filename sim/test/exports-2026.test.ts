// The v2 exports of the 2026 API: tracking-pixel events, the company package and pixel rollups,
// the switch deciding whether the entity-wide events export holds pixel views, the legacy v2
// aggregates answering nothing (or gone), and every fault kind on every new endpoint.

import { expect } from 'chai';

import { type Endpoint, FAULT_KINDS, type FaultKind, type FaultSpec, ScarfSimulator } from '../index.js';
import { apiUrl, dedupe, get, type Got, NOW, parseCsv, typeCsvRow } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const PIX = '/v2/tracking-pixels/acme-oss/events';
const PKG_ROLLUP = '/v2/companies/acme-oss/package-rollup';
const PIX_ROLLUP = '/v2/companies/acme-oss/pixel-rollup';
const AGG = '/v2/packages/acme-oss/aggregates';
const Q = { start_date: '2026-03-08', end_date: '2026-03-14' };

type CsvRow = Record<string, string> & { id: string; time: string; date: string };

function csvOf(r: Got): { header: string[]; rows: CsvRow[] } {
  expect(r.status, r.body).to.equal(200);
  expect(r.complete).to.equal(true);
  const { header, rows, errors } = parseCsv(r.body);
  expect(errors).to.deep.equal([]);
  return { header, rows: rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])) as CsvRow) };
}

describe('simulator: 2026 v2 exports', () => {
  let sim: ScarfSimulator;
  let url: string;
  const read = (path: string, q: Record<string, string> = Q) => get(apiUrl(url, path, q));

  before(async () => {
    sim = new ScarfSimulator({ now: NOW, eventsPerDay: 20 });
    url = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  it('tracking-pixel events: the events columns, inclusive days, exactly the pixel views of the entity-wide export', async () => {
    const pix = csvOf(await read(PIX));
    const ev = csvOf(await read(EV));
    expect(pix.header).to.deep.equal(ev.header);
    expect(pix.rows.length).to.be.above(20);
    for (const r of pix.rows) expect([r.type, r.package, r.pixel !== '']).to.deep.equal(['pixel-fetch', '', true]);
    const ids = (rows: Record<string, string>[]) => new Set(rows.map((r) => r.id));
    expect(ids(pix.rows)).to.deep.equal(ids(ev.rows.filter((r) => r.pixel !== '')));
    expect(new Set(pix.rows.map((r) => r.time.slice(0, 10)))).to.deep.equal(
      new Set(['2026-03-08', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14']),
    );
    const { header, rows } = parseCsv((await read(PIX)).body);
    expect(sim.truth.pixelEvents({ start: Q.start_date, end: Q.end_date })).to.deep.equal(
      dedupe(rows.map((row) => typeCsvRow('events', header, row))),
    );
    // v2's checks: any owner case, dates required, the range limit.
    expect((await read('/v2/tracking-pixels/ACME-OSS/events')).status).to.equal(200);
    expect((await read(PIX, { start_date: '2026-03-08' })).status).to.equal(400);
    const long = await read(PIX, { start_date: '2026-01-01', end_date: '2026-03-14' });
    expect([long.status, JSON.parse(long.body).code]).to.deep.equal([400, 'range-too-long']);
    expect(sim.requests.map((r) => r.endpoint)).to.include('pixel-events');
  });

  it('pixelsInEvents false: the entity-wide export leaves pixel views out (truth both ways); v2 counts still hold them', async () => {
    const range = { start: Q.start_date, end: Q.end_date };
    const withPixels = csvOf(await read(EV)).rows;
    const counts = sim.truth.dailyCounts(range);
    sim.setOptions({ pixelsInEvents: false });
    try {
      const without = csvOf(await read(EV)).rows;
      expect(without.every((r) => r.pixel === '')).to.equal(true);
      expect(without).to.deep.equal(withPixels.filter((r) => r.pixel === ''));
      const typed = (rs: Record<string, unknown>[]) => rs.map((r) => r.id);
      expect(typed(sim.truth.events(range))).to.deep.equal([...new Set(without.map((r) => r.id))]);
      const pixels = sim.truth.pixelDailyCounts(range);
      const packages = sim.truth.dailyCounts(range);
      for (const d of Object.keys(counts)) expect(packages[d]! + pixels[d]!, d).to.equal(counts[d]);
      expect(sim.truth.aggregatesDailyTotals(range)).to.deep.equal(counts);
      expect(sim.truth.aggregatesDailyTotals({ ...range, type: 'package' })).to.deep.equal(packages);
      expect(sim.truth.aggregatesDailyTotals({ ...range, type: 'pixel', api: 'v3' })).to.deep.equal(pixels);
    } finally {
      sim.setOptions({ pixelsInEvents: undefined });
    }
  });

  for (const [path, type] of [
    [PKG_ROLLUP, 'package'],
    [PIX_ROLLUP, 'pixel'],
  ] as const) {
    it(`company ${type} rollup: one row per day, ${type} and company, counted from the company exports`, async () => {
      const got = csvOf(await read(path));
      expect(got.header).to.deep.equal(['date', type, `${type}_name`, 'company', 'company_domain', 'total', 'total_unique']);
      expect(got.rows.length).to.be.above(5);
      expect(new Set(got.rows.map((r) => r.date)).size).to.be.above(3);
      for (const r of got.rows) expect(r.date >= Q.start_date && r.date <= Q.end_date, r.date).to.equal(true);
      // Recount from each company's events export: distinct ids and origins per day and artifact.
      const expected: Record<string, { total: Set<string>; origins: Set<string>; company: string }> = {};
      for (const domain of sim.companyDomains()) {
        const ev = csvOf(await read(`/v2/companies/acme-oss/${domain}/events`)).rows;
        for (const e of ev) {
          const artifact = type === 'pixel' ? e.pixel : e.package;
          if (!artifact) continue;
          const key = [e.time.slice(0, 10), artifact, domain].join(' ');
          expected[key] ??= { total: new Set(), origins: new Set(), company: e.origin_company! };
          expected[key].total.add(e.id!);
          expected[key].origins.add(e.origin_id!);
        }
      }
      const served = Object.fromEntries(
        got.rows.map((r) => [
          [r.date, r[`${type}_name`], r.company_domain].join(' '),
          [r.company, Number(r.total), Number(r.total_unique)],
        ]),
      );
      expect(served).to.deep.equal(
        Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, [v.company, v.total.size, v.origins.size]])),
      );
      for (const r of got.rows) expect(r[type]).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
      const truth = type === 'package' ? sim.truth.companyPackageRollup : sim.truth.companyPixelRollup;
      expect(truth({ start: Q.start_date, end: Q.end_date })).to.deep.equal(
        got.rows.map((r) => ({ ...r, total: Number(r.total), total_unique: Number(r.total_unique) })),
      );
    });
  }

  it("v2Aggregates: 'empty' answers 200 with no rows (v3 still counts), '404' and '410' answer the endpoint gone", async () => {
    const range = { start: Q.start_date, end: Q.end_date };
    try {
      sim.setOptions({ v2Aggregates: 'empty' });
      const empty = await read(AGG);
      expect([empty.status, empty.headers['content-type'], empty.body, empty.complete]).to.deep.equal([
        200,
        'application/x-ndjson',
        '',
        true,
      ]);
      expect(Object.values(sim.truth.aggregatesDailyTotals(range))).to.deep.equal([0, 0, 0, 0, 0, 0, 0]);
      expect(sim.truth.aggregatesDailyTotals({ ...range, api: 'v3' })).to.deep.equal(sim.truth.dailyCounts(range));
      sim.setOptions({ v2Aggregates: '404' });
      const gone = await read(AGG);
      expect([gone.status, JSON.parse(gone.body).code]).to.deep.equal([404, 'not-found']);
      sim.setOptions({ v2Aggregates: '410' });
      const removed = await read(AGG);
      expect([removed.status, JSON.parse(removed.body).code]).to.deep.equal([410, 'gone']);
      expect(sim.requests.map((r) => [r.endpoint, r.status])).to.deep.equal([
        ['aggregates', 200],
        ['aggregates', 404],
        ['aggregates', 410],
      ]);
    } finally {
      sim.setOptions({ v2Aggregates: undefined });
    }
  });

  describe('every fault kind applies to every new endpoint, and is logged', () => {
    const targets: { endpoint: Endpoint; path: string; q: Record<string, string>; column: string }[] = [
      { endpoint: 'pixel-events', path: PIX, q: Q, column: 'time' },
      { endpoint: 'company-package-rollup', path: PKG_ROLLUP, q: Q, column: 'total' },
      { endpoint: 'company-pixel-rollup', path: PIX_ROLLUP, q: Q, column: 'total' },
      {
        endpoint: 'aggregations',
        path: '/v3/insights/acme-oss/aggregations/export',
        q: { start_date: '2026-03-08', end_date: '2026-03-15', breakdown_set: 'by-company' },
        column: 'total',
      },
    ];
    /** Small bounds so the slow kinds end quickly. */
    const spec = (kind: FaultKind, column: string): FaultSpec => ({
      kind,
      latencyMs: 30,
      maxMs: 300,
      maxBytes: kind === 'body-cap' ? 200 : 20_000,
      ...(kind === 'trickle' ? { intervalMs: 2, chunkBytes: 1, maxMs: 200 } : {}),
      ...(kind === 'http-error' ? { status: 502 } : {}),
      ...(kind === 'bad-value' || kind === 'token-echo-value' ? { column } : {}),
      ...(kind === 'rename-column' ? { column, value: column.toUpperCase() } : {}),
      ...(kind === 'set-value' ? { column, value: null } : {}),
      ...(kind === 'respell-domain' ? { rowDomain: 'globex.com' } : {}),
    });
    const same = (a: Got, b: Got) => a.status === b.status && a.raw.equals(b.raw) && a.complete === b.complete;
    // What only shows in the timing or the headers, or does nothing on a JSON body.
    const unchangedBody: Partial<Record<FaultKind, string>> = {
      latency: 'a delay',
      'stall-mid-body': 'a pause',
      'token-echo-header': 'a header',
      'empty-column-name': 'a CSV header only',
    };

    for (const t of targets) {
      it(t.endpoint, async function () {
        this.timeout(20_000);
        const normal = await get(apiUrl(url, t.path, t.q));
        expect(normal.status).to.equal(200);
        for (const kind of FAULT_KINDS) {
          sim.resetRequests();
          sim.setFaults([{ ...spec(kind, t.column), endpoint: t.endpoint }]);
          const t0 = Date.now();
          const r = await get(apiUrl(url, t.path, t.q));
          const elapsed = Date.now() - t0;
          expect(
            sim.requests.map((x) => [x.endpoint, x.fault]),
            kind,
          ).to.deep.equal([[t.endpoint, kind]]);
          if (kind === 'latency') expect(r.headersAfterMs, kind).to.be.at.least(25);
          // Lower bounds only (the server waits latencyMs, 30, before the headers / the end; timers may fire a little early).
          if (kind === 'stall-mid-body') expect(elapsed, kind).to.be.at.least(25);
          if (kind === 'token-echo-header') expect(r.headers['content-encoding'], kind).to.equal('SIM-TOKEN');
          const csvOnly = kind === 'empty-column-name' && t.endpoint === 'aggregations';
          if (kind in unchangedBody && (kind !== 'empty-column-name' || csvOnly)) expect(same(r, normal), kind).to.equal(true);
          else expect(same(r, normal), `${kind} changed the answer`).to.equal(false);
        }
      });
    }
  });
});
