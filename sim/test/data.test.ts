// The data the simulator serves: parseable, typed exactly like its ground truth, and
// exhibiting every quirk the tap must survive (duplicates, disorder, late arrivals, styles,
// column sets, inactive companies).

import { expect } from 'chai';

import { EVENT_COLUMNS_CURRENT, eventColumns, ScarfSimulator } from '../index.js';
import { addDays, apiUrl, dedupe, get, NOW, parseCsv, typeAggregate, typeCsvRow } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const AGG = '/v2/packages/acme-oss/aggregates';
const ROLLUP = '/v2/packages/acme-oss/company-rollup';
const S = '2026-03-01';
const E = '2026-03-14';

describe('simulator: served data vs ground truth', () => {
  let sim: ScarfSimulator;
  let url: string;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW });
    url = await sim.start();
  });
  after(() => sim.stop());
  afterEach(() =>
    sim.setOptions({ timestampStyle: 'pg', booleanStyle: 'tf', columnSet: 'current', rollupSeenStyle: 'date', now: NOW }),
  );

  async function events(
    q: Record<string, string> = { start_date: S, end_date: E },
    path = EV,
    stream = 'events',
    extra: Record<string, unknown> = {},
  ) {
    const r = await get(apiUrl(url, path, q));
    expect(r.status).to.equal(200);
    expect(r.complete).to.equal(true);
    const { header, rows, errors } = parseCsv(r.body);
    expect(errors).to.deep.equal([]);
    for (const row of rows) expect(row.length).to.equal(header.length);
    return { raw: r.body, header, rows, typed: rows.map((row) => typeCsvRow(stream, header, row, extra)) };
  }

  it('serves RFC 4180 CSV whose typed, de-duplicated rows equal the truth', async () => {
    const { typed } = await events();
    const truth = sim.truth.events({ start: S, end: E });
    expect(truth.length).to.be.greaterThan(500);
    expect(dedupe(typed)).to.deep.equal(truth);
  });

  it('exercises the hard cells: quotes, commas, newlines, multi-KB agents, "" vs empty', async () => {
    const { raw, typed } = await events({ start_date: '2026-02-12', end_date: '2026-03-14' });
    const agents = typed.map((r) => String(r.user_agent));
    expect(agents.some((a) => a.includes('"') && a.includes(','))).to.equal(true);
    expect(agents.some((a) => a.includes('\n'))).to.equal(true);
    expect(agents.some((a) => a.includes('\r\n'))).to.equal(true);
    expect(agents.some((a) => a.length > 2048)).to.equal(true);
    expect(raw).to.contain(',"",'); // quoted empty string (Postgres' text '') …
    expect(raw).to.match(/,,/); // … and a true empty (NULL): both are null in the truth
    expect(typed.some((r) => r.package === null && r.pixel !== null)).to.equal(true);
    const names = sim.truth.companyRollup().map((r) => r.company_name);
    expect(names).to.include.members(['Zürich Ünïcode AG', '株式会社テスト', 'Ωmega "Labs", Inc.']);
  });

  it('sends duplicates (adjacent and far apart) that the truth does not have', async () => {
    const { rows, typed } = await events();
    const ids = typed.map((r) => r.id as string);
    expect(new Set(ids).size).to.be.lessThan(ids.length);
    const firstAt = new Map<string, number>();
    const gaps: number[] = [];
    ids.forEach((id, i) => (firstAt.has(id) ? gaps.push(i - firstAt.get(id)!) : firstAt.set(id, i)));
    expect(gaps).to.include(1);
    expect(Math.max(...gaps)).to.be.greaterThan(20);
    // duplicates are identical rows
    const byId = new Map<string, string>();
    rows.forEach((row, i) => {
      const text = JSON.stringify(row);
      if (byId.has(ids[i]!)) expect(text).to.equal(byId.get(ids[i]!));
      else byId.set(ids[i]!, text);
    });
    sim.setOptions({ duplicateRate: 0 });
    const none = await events();
    sim.setOptions({ duplicateRate: 0.03 });
    expect(none.typed).to.deep.equal(sim.truth.events({ start: S, end: E }));
  });

  it('does not sort rows by time', async () => {
    const { typed } = await events({ start_date: E, end_date: E });
    const times = typed.map((r) => r.time as string);
    expect(times.some((t, i) => i > 0 && t < times[i - 1]!)).to.equal(true);
  });

  it('writes Postgres timestamps with trimmed fractions and t/f booleans by default', async () => {
    const { rows, header } = await events();
    const t = header.indexOf('time');
    const times = rows.map((r) => r[t]!);
    for (const x of times) expect(x).to.match(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,5}[1-9]|\.[1-9])?\+00$/);
    expect(times.some((x) => !x.includes('.'))).to.equal(true); // whole seconds: no fraction at all
    expect(times.some((x) => /\.\d{1,3}\+/.test(x))).to.equal(true); // trimmed zeros
    expect(times.some((x) => /\.\d{6}\+/.test(x))).to.equal(true);
    expect(new Set(rows.map((r) => r[header.indexOf('dnt')]))).to.have.keys('t', 'f', '');
  });

  it('writes ISO timestamps with milliseconds and true/false booleans when asked', async () => {
    sim.setOptions({ timestampStyle: 'iso', booleanStyle: 'truefalse' });
    const { rows, header, typed } = await events();
    for (const r of rows) expect(r[header.indexOf('time')]).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(new Set(rows.map((r) => r[header.indexOf('mtc_quota_exceeded')]))).to.include.keys('true', 'false');
    expect(dedupe(typed)).to.deep.equal(sim.truth.events({ start: S, end: E }));
    expect(typed.every((r) => /\.\d{3}000Z$/.test(r.time as string))).to.equal(true);
  });

  it('serves the legacy column set (no pixel, platform, mtc_quota_exceeded → null)', async () => {
    sim.setOptions({ columnSet: 'legacy' });
    const { header, typed } = await events();
    expect(header).to.not.include.members(['pixel']);
    expect(header.some((h) => h === 'platform' || h === 'mtc_quota_exceeded')).to.equal(false);
    const truth = sim.truth.events({ start: S, end: E });
    expect(dedupe(typed)).to.deep.equal(truth);
    expect(truth.every((r) => r.pixel === null && r.platform === null && r.mtc_quota_exceeded === null)).to.equal(true);
  });

  it('serves a shuffled column order with the same data', async () => {
    sim.setOptions({ columnSet: 'shuffled' });
    const { header, typed } = await events();
    expect(header).to.not.deep.equal(EVENT_COLUMNS_CURRENT);
    expect([...header].sort()).to.deep.equal([...EVENT_COLUMNS_CURRENT].sort());
    expect(header).to.deep.equal(eventColumns('shuffled', 1));
    const truth = sim.truth.events({ start: S, end: E });
    expect(dedupe(typed)).to.deep.equal(truth);
    sim.setOptions({ columnSet: 'current' });
    expect(sim.truth.events({ start: S, end: E })).to.deep.equal(truth);
  });

  it('serves an unknown column in the middle; the truth keeps it in extra_fields', async () => {
    sim.setOptions({ columnSet: 'extra' });
    const { header, typed } = await events();
    const i = header.indexOf('origin_asn');
    expect(i).to.be.within(8, header.length - 8);
    const truth = sim.truth.events({ start: S, end: E });
    expect(dedupe(typed)).to.deep.equal(truth);
    expect(truth.some((r) => r.extra_fields === '{"origin_asn":null}')).to.equal(true);
    expect(truth.every((r) => /^\{"origin_asn":("AS\d+"|null)\}$/.test(r.extra_fields as string))).to.equal(true);
  });

  it('lets late events appear once the clock moves forward, in served data and truth alike', async () => {
    const day = '2026-03-14';
    sim.setOptions({ lateRate: 0.3 }); // only arrival times change, never the events themselves
    const before = sim.truth.events({ start: day, end: day });
    sim.setNow(new Date(NOW.getTime() + 2 * 86_400_000));
    const later = sim.truth.events({ start: day, end: day });
    const { typed } = await events({ start_date: day, end_date: day });
    expect(dedupe(typed)).to.deep.equal(later);
    sim.setOptions({ now: NOW, lateRate: 0.05 });
    const oldIds = new Set(before.map((r) => r.id));
    const arrived = later.filter((r) => !oldIds.has(r.id));
    expect(arrived.length).to.be.greaterThan(0);
    expect(before.every((r) => later.some((l) => l.id === r.id))).to.equal(true);
    // events of today exist only up to the clock
    const today = sim.truth.events({ start: '2026-03-15', end: '2026-03-15' });
    expect(today.every((r) => (r.time as string) <= NOW.toISOString().replace('Z', '000Z'))).to.equal(true);
    expect(sim.truth.events({ start: '2026-03-16', end: '2026-03-20' })).to.deep.equal([]);
  });

  it('filters events by exact package name; pixel events never match', async () => {
    const { typed } = await events({ start_date: S, end_date: E, query: 'acme-cli' });
    expect(typed.length).to.be.greaterThan(10);
    expect(typed.every((r) => r.package === 'acme-cli')).to.equal(true);
    expect(dedupe(typed)).to.deep.equal(sim.truth.events({ start: S, end: E, query: 'acme-cli' }));
  });

  it('serves company events that are exactly the events rows of that company', async () => {
    const all = dedupe((await events()).typed);
    const domains = sim.truth.activeDomains({ start: S, end: E });
    expect(domains).to.include('globex.com');
    expect(domains).to.not.include.members(['initech.com', 'umbrella-corp.com', 'hooli.xyz']);
    let union = 0;
    for (const d of domains) {
      const path = `/v2/companies/acme-oss/${encodeURIComponent(d)}/events`;
      const { typed } = await events({ start_date: S, end_date: E }, path, 'company_events', { company_domain: d });
      const truth = sim.truth.companyEvents(d, { start: S, end: E });
      expect(dedupe(typed)).to.have.deep.members(truth);
      expect(Object.keys(truth[0]!)).to.deep.equal(['owner', ...EVENT_COLUMNS_CURRENT, 'company_domain', 'extra_fields']);
      for (const r of truth) {
        const { company_domain, ...rest } = r;
        expect(company_domain).to.equal(d);
        expect(all).to.deep.include(rest);
      }
      union += truth.length;
    }
    expect(union).to.equal(all.filter((r) => r.origin_domain !== null).length);
    const unknown = await get(apiUrl(url, '/v2/companies/acme-oss/unknown.example/events', { start_date: S, end_date: E }));
    expect(unknown.status).to.equal(200);
    expect(unknown.body).to.equal(EVENT_COLUMNS_CURRENT.join(',') + '\n');
  });

  it('serves a company rollup equal to the truth, with inactive companies that have no recent events', async () => {
    const r = await get(apiUrl(url, ROLLUP));
    expect(r.headers['content-type']).to.equal('text/csv; charset=utf-8');
    const { header, rows, errors } = parseCsv(r.body);
    expect(errors).to.deep.equal([]);
    const typed = rows.map((row) => typeCsvRow('company_rollup', header, row));
    expect(typed).to.deep.equal(sim.truth.companyRollup());
    const by = new Map(typed.map((t) => [t.company_domain, t]));
    expect(by.get('initech.com')).to.include({
      funnel_stage: 'inactive',
      last_seen: '2026-01-04T00:00:00.000000Z',
      inactive_start_date: '2026-03-06',
    });
    expect(by.get('umbrella-corp.com')!.funnel_stage).to.equal('inactive');
    expect(by.get('globex.com')!.package_totals).to.match(/^(@?[\w/-]+=\d+)(&@?[\w/-]+=\d+)*$/);
    expect(by.get('stark-industries.com')!.company_linkedin_url).to.equal(null);
    const active = sim.truth.activeDomains({ start: addDays('2026-03-15', -30), end: '2026-03-15' });
    expect(active).to.not.include('initech.com');

    // Hooli's last event is 58 days old: three days later it turns inactive, last_seen unchanged.
    const hooli = by.get('hooli.xyz')!;
    expect(hooli.funnel_stage).to.not.equal('inactive');
    sim.setNow(new Date(NOW.getTime() + 3 * 86_400_000));
    const later = sim.truth.companyRollup().find((t) => t.company_domain === 'hooli.xyz')!;
    expect(later.funnel_stage).to.equal('inactive');
    expect(later.last_seen).to.equal(hooli.last_seen);
  });

  it('serves rollup variants: legacy columns, timestamp first/last_seen', async () => {
    sim.setOptions({ columnSet: 'legacy', rollupSeenStyle: 'timestamp', timestampStyle: 'iso' });
    const r = await get(apiUrl(url, ROLLUP));
    const { header, rows } = parseCsv(r.body);
    expect(header).to.not.include('package_totals');
    expect(header).to.not.include('total_downloads');
    expect(rows[0]![header.indexOf('first_seen')]).to.match(/T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const typed = rows.map((row) => typeCsvRow('company_rollup', header, row));
    expect(typed).to.deep.equal(sim.truth.companyRollup());
    expect(typed.every((t) => t.package_totals === null && t.scarf_url === null)).to.equal(true);
  });

  it('serves aggregates NDJSON equal to the truth, with counts that add up to the events', async () => {
    const breakdowns = [
      'by-total',
      'by-company',
      'by-country',
      'by-cloudprovider',
      'by-platform',
      'by-version',
      'by-client',
      'by-variable',
      'by-domain',
      'by-referer',
      'by-educational-organization',
      'by-govermental-organization',
      'by-total-do-not-track',
    ];
    const r = await get(apiUrl(url, AGG, { start_date: S, end_date: E, breakdown: breakdowns }));
    expect(r.headers['content-type']).to.equal('application/x-ndjson');
    const lines = r.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const l of lines) {
      expect(l).to.include.keys('date', 'artifact', 'breakdown', 'rollup', 'total');
      expect(Number.isInteger(l.total)).to.equal(true);
    }
    expect(new Set(lines.map((l) => l.breakdown))).to.have.keys(...breakdowns);
    const typed = lines.map(typeAggregate);
    expect(typed).to.deep.equal(sim.truth.aggregates({ start: S, end: E, breakdowns }));
    expect(new Set(typed.map((t) => t.row_key)).size).to.equal(typed.length);

    // Independent check: daily by-total = distinct events per (day, artifact).
    const evs = sim.truth.events({ start: S, end: E });
    const count = new Map<string, number>();
    for (const e of evs) {
      const k = `${(e.time as string).slice(0, 10)}|${e.package ?? e.pixel}`;
      count.set(k, (count.get(k) ?? 0) + 1);
    }
    const totals = new Map(lines.filter((l) => l.breakdown === 'by-total').map((l) => [`${l.date}|${l.artifact}`, l.total]));
    expect(totals).to.deep.equal(count);
    // by-company sums to the company-attributed events.
    const byCompany = lines.filter((l) => l.breakdown === 'by-company').reduce((a, l) => a + (l.total as number), 0);
    expect(byCompany).to.equal(evs.filter((e) => e.origin_domain !== null).length);
    const byVariable = lines.filter((l) => l.breakdown === 'by-variable');
    expect(byVariable.some((l) => l.variable === 'os' && l.value === 'linux')).to.equal(true);
    expect(lines.find((l) => l.breakdown === 'by-educational-organization')!.domain).to.equal('example-state.edu');
  });

  it('rolls aggregates up by ISO week, month and year, counting only up to end_date', async () => {
    const q = { start: '2026-02-23', end: '2026-03-11' };
    const daily = sim.truth.aggregates({ ...q, breakdowns: ['by-total'] });
    const weekly = sim.truth.aggregates({ ...q, rollup: 'weekly', breakdowns: ['by-total'] });
    expect([...new Set(weekly.map((w) => w.date))]).to.deep.equal(['2026-02-23', '2026-03-02', '2026-03-09']);
    for (const w of weekly) {
      const end = w.date === '2026-03-09' ? '2026-03-11' : addDays(w.date as string, 6);
      const sum = daily
        .filter((d) => d.artifact === w.artifact && (d.date as string) >= (w.date as string) && (d.date as string) <= end)
        .reduce((a, d) => a + (d.total as number), 0);
      expect(w.total, `${w.date} ${w.artifact}`).to.equal(sum);
      expect(w.total_unique as number).to.be.at.most(w.total as number);
    }
    const monthly = sim.truth.aggregates({ ...q, rollup: 'monthly' });
    expect([...new Set(monthly.map((m) => m.date))]).to.deep.equal(['2026-03-01']);
    const r = await get(apiUrl(url, AGG, { start_date: '2026-01-01', end_date: '2026-01-20', rollup: ['yearly', 'weekly'] }));
    const lines = r.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect([...new Set(lines.map((l) => `${l.rollup} ${l.date}`))]).to.deep.equal([
      'yearly 2026-01-01',
      'weekly 2026-01-05',
      'weekly 2026-01-12',
      'weekly 2026-01-19',
    ]);
  });

  it('adds an unknown aggregates key in the extra column set', async () => {
    sim.setOptions({ columnSet: 'extra' });
    const r = await get(apiUrl(url, AGG, { start_date: E, end_date: E }));
    const typed = r.body
      .trim()
      .split('\n')
      .map((l) => typeAggregate(JSON.parse(l)));
    expect(typed).to.deep.equal(sim.truth.aggregates({ start: E, end: E }));
    expect(typed[0]!.extra_fields).to.match(/^\{"artifact_type":"(npm|pypi|docker|file|pixel)"\}$/);
  });

  it('is deterministic per seed and differs between seeds', () => {
    const a = new ScarfSimulator({ now: NOW, seed: 7 }).truth.events({ start: E, end: E });
    const b = new ScarfSimulator({ now: NOW, seed: 7 }).truth.events({ start: E, end: E });
    const c = new ScarfSimulator({ now: NOW, seed: 8 }).truth.events({ start: E, end: E });
    expect(a).to.deep.equal(b);
    expect(c.map((r) => r.id)).to.not.deep.equal(a.map((r) => r.id));
  });
});

describe('simulator: thousands of companies (the scale a popular project sees)', () => {
  it('serves 3,000 companies with one rollup row each and event ids that never collide', async () => {
    const start = addDays(NOW.toISOString().slice(0, 10), -3);
    const sim = new ScarfSimulator({ now: NOW, companies: 3000, dataStart: start, eventsPerDay: 20 });
    const url = await sim.start();
    try {
      const rollup = await get(apiUrl(url, ROLLUP));
      const { header, rows } = parseCsv(rollup.body);
      const typed = rows.map((row) => typeCsvRow('company_rollup', header, row));
      expect(typed).to.deep.equal(sim.truth.companyRollup());
      // Companies past the 255 the id's stream byte holds are there and have events of their own.
      expect(typed.map((t) => t.company_domain)).to.include.members(['company300.example', 'company2999.example']);
      const r = await get(apiUrl(url, EV, { start_date: start, end_date: addDays(start, 2) }));
      const ev = parseCsv(r.body);
      const ids = ev.rows.map((row) => row[ev.header.indexOf('id')]!);
      const truth = sim.truth.events({ start, end: addDays(start, 2) });
      expect(truth.length).to.be.greaterThan(3000);
      expect(new Set(truth.map((t) => t.id)).size, 'distinct ids in the truth').to.equal(truth.length);
      expect(new Set(ids)).to.deep.equal(new Set(truth.map((t) => t.id)));
    } finally {
      await sim.stop();
    }
  });

  it('refuses more companies than its event ids can tell apart', () => {
    expect(() => new ScarfSimulator({ companies: 65_536 })).to.throw(/companies must be an integer within 0\.\.65535/);
  });
});
