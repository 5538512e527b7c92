// Scarf's v3 aggregations export as the simulator serves it: counted from the same events as
// the v2 exports (checked from served bodies alone), the exclusive end and the 366-day limit,
// the case-sensitive owner, FastAPI's errors, artifact selection, the company segments, the
// narrowed window, retroactive revisions and Maven-style lag.

import { expect } from 'chai';

import { ScarfSimulator } from '../index.js';
import { addDays, apiUrl, get, type Got, NOW, parseCsv } from './helpers.js';

const OWNER = 'Acme-OSS';
const V3 = `/v3/insights/${OWNER}/aggregations/export`;
const EV = '/v2/packages/acme-oss/events';
const company = (d: string) => `/v2/companies/acme-oss/${d}/events`;
const TODAY = '2026-03-15';
const S = addDays(TODAY, -29);

type Row = Record<string, unknown>;
type Q = Record<string, string | string[]>;

const FIELDS = [
  'date',
  'artifact',
  'artifact_name',
  'artifact_type',
  'rollup',
  'breakdown',
  'breakdowns',
  'country',
  'company_name',
  'company_domain',
  'cloud_provider_name',
  'cloud_provider_domain',
  'platform',
  'version',
  'client',
  'variable',
  'value',
  'domain',
  'referer',
  'endpoint_id',
  'origin_id',
  'file_extension',
  'user_agent',
  'importance',
  'funnel_stage',
  'company_size',
  'sic_code',
  'total',
  'unique_origins',
  'unique_endpoints',
  'company_count',
  'points',
  'company_sic_codes',
  'last_seen',
];

function rowsOf(r: Got): Row[] {
  expect(r.status, r.body).to.equal(200);
  expect(r.complete).to.equal(true);
  if (r.headers['content-type'] === 'application/json') return (JSON.parse(r.body) as { data: Row[] }).data;
  expect(r.headers['content-type']).to.equal('application/x-ndjson');
  return r.body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Row);
}

/** Distinct ids per UTC day of `time` in a served CSV export (inclusive range), optionally only some rows. */
async function exportIds(
  url: string,
  path: string,
  start: string,
  end: string,
  keep: (row: Record<string, string>) => boolean = () => true,
) {
  const out: Record<string, Set<string>> = {};
  for (let d = start; d <= end; d = addDays(d, 1)) out[d] = new Set();
  const r = await get(apiUrl(url, path, { start_date: start, end_date: end }));
  expect(r.status).to.equal(200);
  const { header, rows, errors } = parseCsv(r.body);
  expect(errors).to.deep.equal([]);
  for (const cells of rows) {
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
    if (keep(row)) out[row.time!.slice(0, 10)]!.add(row.id!);
  }
  return out;
}

const sizes = (m: Record<string, Set<string>>) => Object.fromEntries(Object.entries(m).map(([d, s]) => [d, s.size]));

function sumBy(rows: Row[], start: string, end: string, keep: (r: Row) => boolean = () => true): Record<string, number> {
  const out: Record<string, number> = {};
  for (let d = start; d <= end; d = addDays(d, 1)) out[d] = 0;
  for (const r of rows) if (keep(r)) out[r.date as string]! += r.total as number;
  return out;
}

describe('simulator: v3 aggregations export', () => {
  let sim: ScarfSimulator;
  let url: string;
  const v3 = (q: Q, owner = OWNER) => get(apiUrl(url, `/v3/insights/${owner}/aggregations/export`, q));

  before(async () => {
    sim = new ScarfSimulator({ now: NOW, owner: OWNER, eventsPerDay: 20 });
    url = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  it('daily by-total, summed over artifacts, is the distinct ids of the events export per UTC day; by-company the same per company', async () => {
    const ids = await exportIds(url, EV, S, TODAY);
    const rows = rowsOf(await v3({ start_date: S, end_date: addDays(TODAY, 1), rollup: 'daily' }));
    expect(rows.every((r) => r.breakdown === 'by-total' && r.rollup === 'daily')).to.equal(true);
    expect(sumBy(rows, S, TODAY)).to.deep.equal(sizes(ids));
    expect(Object.values(sizes(ids)).every((n) => n > 0)).to.equal(true);
    for (const r of rows) expect(r.unique_origins as number).to.be.within(1, r.total as number);

    const byCompany = rowsOf(await v3({ start_date: S, end_date: addDays(TODAY, 1), breakdown: 'by-company' }));
    expect(byCompany).to.deep.equal(
      rowsOf(await v3({ start_date: S, end_date: addDays(TODAY, 1), breakdown_set: 'by-company' })),
    );
    for (const domain of ['globex.com', 'tesuto.co.jp', 'stark-industries.com']) {
      const own = await exportIds(url, company(domain), S, TODAY);
      expect(
        sumBy(byCompany, S, TODAY, (r) => r.company_domain === domain),
        domain,
      ).to.deep.equal(sizes(own));
      // …and the same ids as the entity-wide export's rows of that company.
      const inEvents = await exportIds(url, EV, S, TODAY, (row) => row.origin_domain === domain);
      expect(sizes(inEvents), domain).to.deep.equal(sizes(own));
    }
    const globex = byCompany.find((r) => r.company_domain === 'globex.com')!;
    expect(globex.company_name).to.equal('Globex Corporation');
    expect(globex.company_sic_codes).to.deep.equal(['7372']);
    expect(globex.last_seen).to.equal(`${globex.date as string} 00:00:00+00:00`);
    expect(sim.truth.aggregatesDailyTotals({ start: S, end: TODAY, api: 'v3' })).to.deep.equal(sizes(ids));
  });

  it('every row carries the same 34 fields in order, null where its breakdown has none; ids are UUIDs', async () => {
    const rows = rowsOf(
      await v3({ start_date: '2026-03-09', end_date: '2026-03-16', rollup: 'weekly', breakdown_set: 'by-version' }),
    );
    expect(rows.length).to.be.above(3);
    for (const r of rows) {
      expect(Object.keys(r)).to.deep.equal(FIELDS);
      expect(r.artifact).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(r.artifact_type).to.equal('package'); // pixels have no version
      expect([r.rollup, r.breakdown, r.breakdowns, r.date]).to.deep.equal(['weekly', 'by-version', ['by-version'], '2026-03-09']);
      const filled = FIELDS.filter((f) => r[f] !== null);
      expect(filled).to.deep.equal([...FIELDS.slice(0, 7), 'version', 'total', 'unique_origins', 'unique_endpoints']);
    }
    expect(
      sim.truth.aggregations({ start_date: '2026-03-09', end_date: '2026-03-16', rollup: 'weekly', breakdown_set: 'by-version' }),
    ).to.deep.equal(rows);
  });

  it('the end date is exclusive (v2 inclusive), reported in the effective-window headers; start = end is refused', async () => {
    const r = await v3({ start_date: '2026-03-10', end_date: '2026-03-11' });
    const rows = rowsOf(r);
    expect(new Set(rows.map((x) => x.date))).to.deep.equal(new Set(['2026-03-10']));
    expect([r.headers['x-scarf-effective-start-date'], r.headers['x-scarf-effective-end-date']]).to.deep.equal([
      '2026-03-10',
      '2026-03-11',
    ]);
    const v2 = (await get(apiUrl(url, '/v2/packages/acme-oss/aggregates', { start_date: '2026-03-10', end_date: '2026-03-10' })))
      .body;
    expect(sumBy(rows, '2026-03-10', '2026-03-10')['2026-03-10']).to.equal(
      v2
        .split('\n')
        .filter(Boolean)
        .reduce((n, l) => n + (JSON.parse(l) as { total: number }).total, 0),
    );
    const same = await v3({ start_date: '2026-03-10', end_date: '2026-03-10' });
    expect([same.status, JSON.parse(same.body)]).to.deep.equal([
      422,
      { detail: 'end_date must be after start_date (the end date is exclusive)' },
    ]);
  });

  it('without dates: the 30 days before the sim day; a window is at most 366 days (422 beyond)', async () => {
    const r = await v3({ rollup: 'total' });
    expect([r.headers['x-scarf-effective-start-date'], r.headers['x-scarf-effective-end-date']]).to.deep.equal([
      addDays(TODAY, -30),
      TODAY,
    ]);
    const year = new ScarfSimulator({ now: NOW, owner: OWNER, dataStart: '2025-01-01', eventsPerDay: 1, companies: 1 });
    const yurl = await year.start();
    try {
      const ask = (end: string) => get(apiUrl(yurl, V3, { start_date: '2025-03-01', end_date: end, rollup: 'yearly' }));
      const ok = rowsOf(await ask('2026-03-02')); // 366 days
      expect([...new Set(ok.map((x) => x.date))]).to.deep.equal(['2025-01-01', '2026-01-01']);
      const tooLong = await ask('2026-03-03');
      expect([tooLong.status, JSON.parse(tooLong.body)]).to.deep.equal([
        422,
        { detail: 'Date range cannot exceed 366 days (requested 367 days, end date exclusive)' },
      ]);
      expect(year.requests.map((x) => [x.endpoint, x.status])).to.deep.equal([
        ['aggregations', 200],
        ['aggregations', 422],
      ]);
    } finally {
      await year.stop();
    }
  });

  it('the owner is case-sensitive on v3 (404 detail) and not on v2', async () => {
    const q = { start_date: '2026-03-10', end_date: '2026-03-11' };
    expect((await v3(q)).status).to.equal(200);
    for (const other of ['acme-oss', 'ACME-OSS']) {
      const r = await v3(q, other);
      expect([r.status, JSON.parse(r.body)]).to.deep.equal([404, { detail: 'Organization not found' }]);
    }
    for (const other of ['acme-oss', 'ACME-OSS', OWNER])
      expect(
        (await get(apiUrl(url, `/v2/packages/${other}/events`, { start_date: '2026-03-10', end_date: '2026-03-10' }))).status,
      ).to.equal(200);
  });

  it('errors are FastAPI-shaped: 401/403 for the token and the plan, 422 for parameters (a list for a malformed one), 404/405', async () => {
    const q = { start_date: '2026-03-10', end_date: '2026-03-11' };
    const bad = await get(apiUrl(url, V3, q), { token: 'nope' });
    expect([bad.status, JSON.parse(bad.body)]).to.deep.equal([401, { detail: 'Invalid or missing API token' }]);
    const refused = async (opts: Parameters<ScarfSimulator['setOptions']>[0]) => {
      sim.setOptions(opts);
      try {
        return await v3(q);
      } finally {
        sim.setOptions(Object.fromEntries(Object.keys(opts).map((k) => [k, undefined])));
      }
    };
    for (const opts of [{ planIncludesAggregations: false }, { plan: 'free' as const }]) {
      const r = await refused(opts);
      expect([r.status, JSON.parse(r.body)]).to.deep.equal([
        403,
        { detail: "The organization's plan does not include aggregation exports" },
      ]);
    }
    const malformed = await v3({ start_date: '2026-3-10' });
    expect(malformed.status).to.equal(422);
    expect(JSON.parse(malformed.body).detail).to.deep.equal([
      {
        type: 'date_from_datetime_parsing',
        loc: ['query', 'start_date'],
        msg: 'Input should be a valid date or datetime, invalid character in year',
        input: '2026-3-10',
      },
    ]);
    const detail = async (extra: Q) => {
      const r = await v3({ ...q, ...extra });
      expect(r.status, JSON.stringify(extra)).to.equal(422);
      return JSON.parse(r.body).detail as string;
    };
    expect(await detail({ rollup: 'hourly' })).to.equal('Invalid rollup: hourly');
    expect(await detail({ rollup: ['daily', 'weekly'] })).to.equal('Give one rollup per request');
    expect(await detail({ breakdown_set: 'by-a,by-b,by-c' })).to.equal('A breakdown set has one or two dimensions');
    expect(await detail({ breakdown_set: 'by-planet' })).to.equal('Invalid breakdown: by-planet');
    expect(await detail({ breakdown_set: 'by-total', breakdown: 'by-total' })).to.equal(
      'Give breakdown_set or breakdown, not both',
    );
    expect(await detail({ breakdown_set: 'by-company-size' })).to.match(/need format=json, rollup=total and a single dimension/);
    expect(await detail({ query: 'acme*', package_id: 'all' })).to.equal(
      'query cannot be combined with package_id or tracking_pixel_id',
    );
    expect(await detail({ package_id: ['all', '8b2d4e6f-1a3c-4e5b-8d7f-9a0b1c2d3e02'] })).to.match(
      /'all' and 'none' cannot be combined/,
    );
    expect(await detail({ tracking_pixel_id: 'docs-pixel' })).to.equal("tracking_pixel_id: 'docs-pixel' is not a valid UUID");
    expect(await detail({ format: 'csv' })).to.equal('Invalid format: csv (ndjson or json)');
    const missing = await get(apiUrl(url, `/v3/insights/${OWNER}/aggregations`));
    expect([missing.status, JSON.parse(missing.body)]).to.deep.equal([404, { detail: 'Not Found' }]);
  });

  it('selects artifacts: ids (all / none), a name pattern; an unknown pixel id is 200 with no rows', async () => {
    const q = { start_date: '2026-03-08', end_date: '2026-03-15' };
    const all = rowsOf(await v3(q));
    const idOf = new Map(all.map((r) => [r.artifact_name as string, r.artifact as string]));
    expect([...idOf.keys()].sort()).to.deep.equal(
      ['@acme/widgets', 'acme-cli', 'acme-tools', 'acme/acme-server', 'docs-pixel', 'readme-pixel', 'website-pixel'].sort(),
    );
    const names = async (extra: Q) => new Set(rowsOf(await v3({ ...q, ...extra })).map((r) => r.artifact_name));
    expect(await names({ package_id: idOf.get('acme-cli')! })).to.deep.equal(new Set(['acme-cli']));
    expect(await names({ package_id: [idOf.get('acme-cli')!, idOf.get('acme-tools')!] })).to.deep.equal(
      new Set(['acme-cli', 'acme-tools']),
    );
    expect(await names({ package_id: 'all' })).to.deep.equal(
      new Set(['@acme/widgets', 'acme-cli', 'acme-tools', 'acme/acme-server']),
    );
    expect(await names({ package_id: 'none', tracking_pixel_id: 'all' })).to.deep.equal(
      new Set(['docs-pixel', 'readme-pixel', 'website-pixel']),
    );
    expect(await names({ query: 'acme*' })).to.deep.equal(new Set(['acme-cli', 'acme-tools', 'acme/acme-server']));
    const unknown = await v3({ ...q, tracking_pixel_id: '00000000-0000-4000-8000-000000000000', format: 'json' });
    expect([unknown.status, JSON.parse(unknown.body)]).to.deep.equal([200, { data: [] }]);
    // The selections partition the default rows.
    const parts = [
      ...rowsOf(await v3({ ...q, package_id: 'all' })),
      ...rowsOf(await v3({ ...q, package_id: 'none', tracking_pixel_id: 'all' })),
    ];
    expect(parts.reduce((n, r) => n + (r.total as number), 0)).to.equal(all.reduce((n, r) => n + (r.total as number), 0));
  });

  it('include_low_confidence=false leaves out the events with confidence below 0.5; group_by_artifact=false merges artifacts per type', async () => {
    const day = '2026-03-12';
    const q = { start_date: day, end_date: '2026-03-13' };
    const ids = await exportIds(url, EV, day, day);
    const low = await exportIds(url, EV, day, day, (row) => row.confidence !== '' && Number(row.confidence) < 0.5);
    expect(low[day]!.size).to.be.above(0);
    const total = (rows: Row[]) => rows.reduce((n, r) => n + (r.total as number), 0);
    expect(total(rowsOf(await v3({ ...q, include_low_confidence: 'false' })))).to.equal(ids[day]!.size - low[day]!.size);
    expect(total(rowsOf(await v3({ ...q, include_low_confidence: 'true' })))).to.equal(ids[day]!.size);

    const byArtifact = rowsOf(await v3(q));
    const merged = rowsOf(await v3({ ...q, group_by_artifact: 'false' }));
    expect(merged.map((r) => [r.artifact, r.artifact_name, r.artifact_type])).to.deep.equal([
      ['', null, 'package'],
      ['', null, 'pixel'],
    ]);
    for (const m of merged) expect(m.total).to.equal(total(byArtifact.filter((r) => r.artifact_type === m.artifact_type)));
  });

  it('format=json wraps the same rows in {"data": […]}; company segments count companies', async () => {
    const q = { start_date: '2026-03-01', end_date: '2026-03-15' };
    const nd = rowsOf(await v3({ ...q, breakdown_set: 'by-country,by-company' }));
    const js = await v3({ ...q, breakdown_set: 'by-country,by-company', format: 'json' });
    expect(js.headers['content-type']).to.equal('application/json');
    expect(js.body.startsWith('{"data":[{')).to.equal(true);
    expect(rowsOf(js)).to.deep.equal(nd);
    for (const r of nd)
      expect([typeof r.country, typeof r.company_domain, r.breakdowns]).to.deep.equal([
        'string',
        'string',
        ['by-country', 'by-company'],
      ]);

    // Companies with events of each artifact type in the window, from the export.
    const ev = await get(apiUrl(url, EV, { start_date: '2026-03-01', end_date: '2026-03-14' }));
    const { header, rows } = parseCsv(ev.body);
    const [dom, pix] = ['origin_domain', 'pixel'].map((c) => header.indexOf(c));
    const active = { package: new Set<string>(), pixel: new Set<string>() };
    for (const row of rows) if (row[dom!]) active[row[pix!] ? 'pixel' : 'package'].add(row[dom!]!);
    for (const b of ['by-company-funnel-stage', 'by-company-size']) {
      const seg = rowsOf(await v3({ ...q, breakdown_set: b, rollup: 'total', format: 'json', group_by_artifact: 'false' }));
      for (const type of ['package', 'pixel'] as const) {
        const mine = seg.filter((r) => r.artifact_type === type);
        expect(
          mine.reduce((n, r) => n + (r.company_count as number), 0),
          `${b} ${type}`,
        ).to.equal(active[type].size);
        for (const r of mine) expect([r.total, r.unique_origins, r.date]).to.deep.equal([null, null, '2026-03-01']);
      }
    }
  });

  it('weekly: rows dated by their Monday; a window starting mid-week counts only its own days', async () => {
    const daily = rowsOf(await v3({ start_date: '2026-03-04', end_date: '2026-03-14' }));
    const weekly = rowsOf(await v3({ start_date: '2026-03-04', end_date: '2026-03-14', rollup: 'weekly' }));
    const perDay = sumBy(daily, '2026-03-04', '2026-03-13');
    const sumDays = (from: string, to: string) =>
      Object.entries(perDay).reduce((n, [d, c]) => (d >= from && d <= to ? n + c : n), 0);
    const perWeek = weekly.reduce<Record<string, number>>(
      (m, r) => ({ ...m, [r.date as string]: (m[r.date as string] ?? 0) + (r.total as number) }),
      {},
    );
    expect(perWeek).to.deep.equal({
      '2026-03-02': sumDays('2026-03-04', '2026-03-08'),
      '2026-03-09': sumDays('2026-03-09', '2026-03-13'),
    });
  });

  it('aggregationsNarrow: the server answers a narrower window than asked, and says so in its headers', async () => {
    sim.setOptions({ aggregationsNarrow: { start: 2, end: 1 } });
    try {
      const q = { start_date: '2026-03-05', end_date: '2026-03-12' };
      const r = await v3(q);
      expect([r.headers['x-scarf-effective-start-date'], r.headers['x-scarf-effective-end-date']]).to.deep.equal([
        '2026-03-07',
        '2026-03-11',
      ]);
      expect([...new Set(rowsOf(r).map((x) => x.date))].sort()).to.deep.equal([
        '2026-03-07',
        '2026-03-08',
        '2026-03-09',
        '2026-03-10',
      ]);
      expect(sim.truth.aggregationsWindow(q)).to.deep.equal({ start: '2026-03-07', end: '2026-03-11' });
    } finally {
      sim.setOptions({ aggregationsNarrow: undefined });
    }
  });

  it('revisions: a re-read after the revision time finds the past period re-attributed (the same on every read before and after)', async () => {
    const day = '2026-03-03';
    const later = new Date('2026-03-16T07:00:00Z');
    // Data ends on the 8th, long arrived: between the two clocks only the revision changes anything.
    const rev = new ScarfSimulator({
      now: NOW,
      owner: OWNER,
      eventsPerDay: 20,
      dataEnd: '2026-03-08',
      revisions: [{ at: '2026-03-16T06:00:00Z', day, domain: 'initech.com', share: 0.5 }],
    });
    const rurl = await rev.start();
    try {
      const weekly = { start_date: '2026-02-23', end_date: '2026-03-09', rollup: 'weekly' };
      const read = async (q: Q) => rowsOf(await get(apiUrl(rurl, V3, q)));
      const byCompany = { ...weekly, breakdown_set: 'by-company' };
      const byTotal = { ...weekly, breakdown_set: 'by-total' };
      const before = await read(byCompany);
      const totalBefore = await read(byTotal);
      const ownBefore = await exportIds(rurl, company('initech.com'), day, day);
      expect(await read(byCompany)).to.deep.equal(before);
      rev.setNow(later);
      const after = await read(byCompany);
      expect(await read(byCompany)).to.deep.equal(after);
      const week = '2026-03-02';
      const initech = (rows: Row[], w: string) =>
        rows.filter((r) => r.company_domain === 'initech.com' && r.date === w).reduce((n, r) => n + (r.total as number), 0);
      const gained = initech(after, week) - initech(before, week);
      expect(gained).to.be.above(0);
      // Only that week changed, and only in attribution: by-total stays.
      expect(after.filter((r) => r.date !== week)).to.deep.equal(before.filter((r) => r.date !== week));
      expect(await read(byTotal)).to.deep.equal(totalBefore);
      // The exports agree: the company's export of that day gained the same events.
      const own = await exportIds(rurl, company('initech.com'), day, day);
      expect(own[day]!.size - ownBefore[day]!.size).to.equal(gained);
    } finally {
      await rev.stop();
    }
  });

  it("artifactLagDays: one artifact's events arrive a week late, in the export and the counts alike", async () => {
    const lag = new ScarfSimulator({ now: NOW, owner: OWNER, eventsPerDay: 20, artifactLagDays: { 'acme-cli': 7 } });
    const lurl = await lag.start();
    try {
      const q = { start_date: '2026-03-01', end_date: TODAY, package_id: 'all' };
      const cliDays = async () =>
        new Set(
          rowsOf(await get(apiUrl(lurl, V3, q)))
            .filter((r) => r.artifact_name === 'acme-cli')
            .map((r) => r.date as string),
        );
      const days = await cliDays();
      expect([...days].some((d) => d >= '2026-03-09')).to.equal(false);
      expect(days.has('2026-03-05')).to.equal(true);
      const cliInExport = await exportIds(lurl, EV, '2026-03-09', '2026-03-14', (row) => row.package === 'acme-cli');
      expect(Object.values(sizes(cliInExport))).to.deep.equal([0, 0, 0, 0, 0, 0]);
      lag.setNow(new Date('2026-03-23T12:00:00Z'));
      expect([...(await cliDays())].filter((d) => d >= '2026-03-09').length).to.be.above(3);
    } finally {
      await lag.stop();
    }
  });

  it('faults apply: a clean cut leaves JSON unclosed; the log records the endpoint and owner as asked', async () => {
    const q = { start_date: '2026-03-10', end_date: '2026-03-13', format: 'json' };
    const full = (await v3(q)).body;
    sim.setFaults([{ kind: 'cut-after-line', endpoint: 'aggregations', endCleanly: true, afterRows: 2 }]);
    const r = await v3(q);
    expect(r.complete).to.equal(true);
    expect(full.startsWith(r.body) && r.body.length < full.length).to.equal(true);
    expect(() => JSON.parse(r.body)).to.throw();
    expect(JSON.parse(r.body + ']}').data).to.deep.equal((JSON.parse(full) as { data: Row[] }).data.slice(0, 2));
    expect(sim.requests.at(-1)).to.include({ endpoint: 'aggregations', owner: OWNER, status: 200, fault: 'cut-after-line' });
  });
});
