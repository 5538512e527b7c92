// What the aggregates count, checked from the served bodies alone: a daily by-total `total`
// summed over artifacts is the number of distinct event ids of that day in the events export
// (same package query), and a by-company `total` summed per domain and day is the number of
// distinct ids in that company's events export — with duplicates counted once and late
// events counted only once they have arrived. Then the options that make the two disagree.

import { spawn } from 'node:child_process';
import { once } from 'node:events';

import { expect } from 'chai';

import { ScarfSimulator, type SimOptions } from '../index.js';
import { addDays, apiUrl, get, NOW, parseCsv, send, SIM_CLI } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const AGG = '/v2/packages/acme-oss/aggregates';
const companyPath = (d: string) => `/v2/companies/acme-oss/${encodeURIComponent(d)}/events`;
const PACKAGES = ['@acme/widgets', 'acme-cli', 'acme/acme-server', 'acme-tools'];
const E = '2026-03-15'; // the sim day of NOW: a day still filling up
const S = addDays(E, -29);

type Counts = Record<string, number>;

function everyDay(start: string, end: string): Counts {
  const out: Counts = {};
  for (let d = start; d <= end; d = addDays(d, 1)) out[d] = 0;
  return out;
}

/** Distinct ids per UTC day of `time`, read from a served CSV export; also its row count. */
async function exportCounts(url: string, path: string, q: Record<string, string>, pkg?: string) {
  const r = await get(apiUrl(url, path, q));
  expect(r.status).to.equal(200);
  expect(r.complete).to.equal(true);
  const { header, rows, errors } = parseCsv(r.body);
  expect(errors).to.deep.equal([]);
  const [id, time, pack, domain] = ['id', 'time', 'package', 'origin_domain'].map((c) => header.indexOf(c));
  const ids = new Map<string, Set<string>>();
  const companyIds = new Set<string>();
  for (const row of rows) {
    if (pkg !== undefined && row[pack!] !== pkg) continue;
    if (row[domain!] !== '') companyIds.add(row[id!]!);
    const day = row[time!]!.slice(0, 10);
    let set = ids.get(day);
    if (!set) ids.set(day, (set = new Set()));
    set.add(row[id!]!);
  }
  const counts = everyDay(q.start_date!, q.end_date!);
  for (const [day, set] of ids) counts[day] = set.size;
  return { counts, rows: rows.length, distinct: [...ids.values()].reduce((a, s) => a + s.size, 0), companyIds: companyIds.size };
}

async function aggregateLines(url: string, q: Record<string, string | string[]>): Promise<Record<string, unknown>[]> {
  const r = await get(apiUrl(url, AGG, q));
  expect(r.status).to.equal(200);
  expect(r.complete).to.equal(true);
  return r.body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Daily totals summed over artifacts: by-total per day, or by-company per domain and day. */
function sumTotals(lines: Record<string, unknown>[], start: string, end: string, domain?: string): Counts {
  const out = everyDay(start, end);
  for (const l of lines) {
    if (l.rollup !== 'daily') continue;
    if (domain === undefined ? l.breakdown !== 'by-total' : l.breakdown !== 'by-company' || l.company_domain !== domain) continue;
    expect((l.date as string) in out, `row outside the range: ${JSON.stringify(l)}`).to.equal(true);
    out[l.date as string]! += l.total as number;
  }
  return out;
}

const sum = (c: Counts) => Object.values(c).reduce((a, n) => a + n, 0);

describe('simulator: aggregates count the distinct events the exports hold', () => {
  const cases: { name: string; opts: SimOptions; query?: string }[] = [
    { name: 'defaults', opts: {} },
    { name: 'legacy columns, ISO timestamps', opts: { columnSet: 'legacy', timestampStyle: 'iso' } },
    { name: 'shuffled columns, seed 7', opts: { columnSet: 'shuffled', seed: 7 } },
    { name: 'extra columns, many duplicates and late events', opts: { columnSet: 'extra', duplicateRate: 0.3, lateRate: 0.4 } },
    { name: 'no companies', opts: { companies: 0 } },
    { name: '40 companies, busy days', opts: { companies: 40, eventsPerDay: 120 } },
    ...PACKAGES.map((query) => ({ name: `package ${query}`, opts: { duplicateRate: 0.2 }, query })),
  ];

  for (const c of cases) {
    it(`${c.name}: daily by-total and by-company totals = distinct ids per day of the exports`, async () => {
      const sim = new ScarfSimulator({ now: NOW, ...c.opts });
      const url = await sim.start();
      try {
        const q: Record<string, string> = { start_date: S, end_date: E, ...(c.query ? { query: c.query } : {}) };
        const ev = await exportCounts(url, EV, q);
        const lines = await aggregateLines(url, { ...q, breakdown: ['by-total', 'by-company'] });
        const byTotal = sumTotals(lines, S, E);
        expect(byTotal).to.deep.equal(ev.counts);
        expect(sum(ev.counts)).to.be.greaterThan(c.query ? 100 : 1000);
        // the helpers the tap's tests use say the same
        expect(sim.truth.dailyCounts({ start: S, end: E, query: c.query })).to.deep.equal(ev.counts);
        expect(sim.truth.aggregatesDailyTotals({ start: S, end: E, query: c.query })).to.deep.equal(byTotal);

        const domains = sim.companyDomains();
        const withRows = new Set(lines.filter((l) => l.breakdown === 'by-company').map((l) => l.company_domain));
        expect([...withRows].every((d) => domains.includes(d as string))).to.equal(true);
        let companyEvents = 0;
        for (const d of domains) {
          const { start_date, end_date } = q;
          const ce = await exportCounts(url, companyPath(d), { start_date: start_date!, end_date: end_date! }, c.query);
          expect(sumTotals(lines, S, E, d), d).to.deep.equal(ce.counts);
          expect(sim.truth.companyDailyCounts(d, { start: S, end: E, query: c.query }), d).to.deep.equal(ce.counts);
          expect(sim.truth.aggregatesDailyTotals({ start: S, end: E, query: c.query, domain: d }), d).to.deep.equal(ce.counts);
          companyEvents += sum(ce.counts);
        }
        // the company exports together hold exactly the attributed events of the events export
        expect(companyEvents).to.equal(ev.companyIds);
        if (c.opts.companies !== 0) expect(companyEvents).to.be.greaterThan(0);
      } finally {
        await sim.stop();
      }
    });
  }

  it('counts a duplicated event once: the export has more rows than the aggregates count', async () => {
    const sim = new ScarfSimulator({ now: NOW, duplicateRate: 0.3 });
    const url = await sim.start();
    try {
      const q = { start_date: S, end_date: E };
      const ev = await exportCounts(url, EV, q);
      expect(ev.rows - ev.distinct).to.be.greaterThan(100);
      expect(sum(sumTotals(await aggregateLines(url, q), S, E))).to.equal(ev.distinct);
      const ce = await exportCounts(url, companyPath('globex.com'), q);
      expect(ce.rows).to.be.greaterThan(ce.distinct);
      expect(sum(sumTotals(await aggregateLines(url, { ...q, breakdown: 'by-company' }), S, E, 'globex.com'))).to.equal(
        ce.distinct,
      );
    } finally {
      await sim.stop();
    }
  });

  it('counts a late event in neither until it arrives, then in both', async () => {
    const sim = new ScarfSimulator({ now: NOW, lateRate: 0.5 });
    const url = await sim.start();
    try {
      const q = { start_date: addDays(E, -3), end_date: E };
      const q2 = { ...q, breakdown: ['by-total', 'by-company'] };
      const early = await exportCounts(url, EV, q);
      const earlyAgg = await aggregateLines(url, q2);
      expect(sumTotals(earlyAgg, q.start_date, q.end_date)).to.deep.equal(early.counts);
      const earlyGlobex = await exportCounts(url, companyPath('globex.com'), q);
      expect(sumTotals(earlyAgg, q.start_date, q.end_date, 'globex.com')).to.deep.equal(earlyGlobex.counts);

      sim.setNow(new Date(NOW.getTime() + 3 * 86_400_000));
      const later = await exportCounts(url, EV, q);
      const laterAgg = await aggregateLines(url, q2);
      expect(sumTotals(laterAgg, q.start_date, q.end_date)).to.deep.equal(later.counts);
      expect(sumTotals(laterAgg, q.start_date, q.end_date, 'globex.com')).to.deep.equal(
        (await exportCounts(url, companyPath('globex.com'), q)).counts,
      );
      // late events did arrive in between, on past days and not only on the day of the clock
      const grew = Object.keys(early.counts).filter((d) => later.counts[d]! > early.counts[d]!);
      expect(grew).to.include(addDays(E, -1));
      // An export read before an arrival and aggregates read after it disagree: the two must be
      // read at nearly the same time, or the difference retried, not taken for a loss.
      expect(sum(sumTotals(laterAgg, q.start_date, q.end_date))).to.be.greaterThan(sum(early.counts));
    } finally {
      await sim.stop();
    }
  });

  it('weekly and monthly rows count the distinct events from the period start to min(period end, end_date)', async () => {
    const sim = new ScarfSimulator({ now: NOW });
    const url = await sim.start();
    try {
      const q = { start_date: '2026-02-16', end_date: '2026-03-11' };
      const daily = (await exportCounts(url, EV, q)).counts;
      const lines = await aggregateLines(url, { ...q, rollup: ['weekly', 'monthly'], breakdown: 'by-total' });
      const got = new Map<string, number>();
      for (const l of lines) got.set(`${l.rollup} ${l.date}`, (got.get(`${l.rollup} ${l.date}`) ?? 0) + (l.total as number));
      const span = (from: string, to: string) =>
        Object.entries(daily)
          .filter(([d]) => d >= from && d <= to)
          .reduce((a, [, n]) => a + n, 0);
      expect(Object.fromEntries(got)).to.deep.equal({
        'weekly 2026-02-16': span('2026-02-16', '2026-02-22'),
        'weekly 2026-02-23': span('2026-02-23', '2026-03-01'),
        'weekly 2026-03-02': span('2026-03-02', '2026-03-08'),
        'weekly 2026-03-09': span('2026-03-09', '2026-03-11'),
        'monthly 2026-03-01': span('2026-03-01', '2026-03-11'),
      });
    } finally {
      await sim.stop();
    }
  });

  it('truth helpers: every day of the range in order, zeros for days without events and unknown domains', () => {
    const sim = new ScarfSimulator({ now: NOW, dataStart: '2026-03-10' });
    const days = Object.keys(everyDay('2026-03-08', '2026-03-17'));
    const counts = sim.truth.dailyCounts({ start: '2026-03-08', end: '2026-03-17' });
    expect(Object.keys(counts)).to.deep.equal(days);
    expect([counts['2026-03-08'], counts['2026-03-09'], counts['2026-03-16'], counts['2026-03-17']]).to.deep.equal([0, 0, 0, 0]);
    expect(counts['2026-03-10']).to.be.greaterThan(0);
    // the same numbers as grouping the events truth by day
    const byDay = everyDay('2026-03-08', '2026-03-17');
    for (const e of sim.truth.events({ start: '2026-03-08', end: '2026-03-17' })) byDay[(e.time as string).slice(0, 10)]!++;
    expect(counts).to.deep.equal(byDay);
    const unknown = sim.truth.companyDailyCounts('unknown.example', { start: '2026-03-08', end: '2026-03-17' });
    expect(unknown).to.deep.equal(everyDay('2026-03-08', '2026-03-17'));
    expect(sim.truth.companyDailyCounts('GLOBEX.com', { start: E, end: E })).to.deep.equal(
      sim.truth.companyDailyCounts('globex.com', { start: E, end: E }),
    );
  });

  it('serves the count truths on the control API', async () => {
    const sim = new ScarfSimulator({ now: NOW, aggregatesCountSkew: -1 });
    const url = await sim.start();
    try {
      const read = async (path: string) =>
        (await send(`${url}/_sim/truth/${path}`, 'GET')).text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { date: string; count: number });
      const asLines = (c: Counts) => Object.entries(c).map(([date, count]) => ({ date, count }));
      const q = { start: '2026-03-10', end: E };
      expect(await read(`daily-counts?start_date=${q.start}&end_date=${q.end}&query=acme-cli`)).to.deep.equal(
        asLines(sim.truth.dailyCounts({ ...q, query: 'acme-cli' })),
      );
      expect(await read(`company-daily-counts?domain=globex.com&start_date=${q.start}&end_date=${q.end}`)).to.deep.equal(
        asLines(sim.truth.companyDailyCounts('globex.com', q)),
      );
      expect(await read(`aggregates-daily-totals?domain=globex.com&start_date=${q.start}&end_date=${q.end}`)).to.deep.equal(
        asLines(sim.truth.aggregatesDailyTotals({ ...q, domain: 'globex.com' })),
      );
      expect(
        (await send(`${url}/_sim/truth/company-daily-counts?start_date=${q.start}&end_date=${q.end}`, 'GET')).status,
      ).to.equal(400);
    } finally {
      await sim.stop();
    }
  });
});

describe('simulator: aggregates that disagree with the exports (aggregatesCountSkew)', () => {
  const q = { start_date: addDays(E, -9), end_date: E };
  const breakdowns = ['by-total', 'by-company', 'by-country', 'by-client'];

  async function served(opts: SimOptions) {
    const sim = new ScarfSimulator({ now: NOW, ...opts });
    const url = await sim.start();
    try {
      const lines = await aggregateLines(url, { ...q, breakdown: breakdowns });
      const ev = await exportCounts(url, EV, q);
      const globex = await exportCounts(url, companyPath('globex.com'), q);
      const truth = sim.truth.aggregates({ start: q.start_date, end: q.end_date, breakdowns });
      return { sim, lines, ev, globex, truth };
    } finally {
      await sim.stop();
    }
  }

  it('-1: one fewer on every by-total and by-company row, never below 0; other breakdowns unchanged', async () => {
    const base = await served({});
    const skewed = await served({ aggregatesCountSkew: -1 });
    expect(skewed.ev.counts).to.deep.equal(base.ev.counts); // the exports do not change
    expect(skewed.lines.map((l) => ({ ...l, total: 0 }))).to.deep.equal(base.lines.map((l) => ({ ...l, total: 0 })));
    const expected = base.lines.map((l) =>
      l.breakdown === 'by-total' || l.breakdown === 'by-company' ? { ...l, total: Math.max(0, (l.total as number) - 1) } : l,
    );
    expect(skewed.lines).to.deep.equal(expected);
    // rows that counted one event stay, with total 0, so the day still has its rows
    expect(skewed.lines.some((l) => l.breakdown === 'by-company' && l.total === 0)).to.equal(true);
    // per day, the aggregates now count fewer than the export holds
    const got = sumTotals(skewed.lines, q.start_date, q.end_date);
    for (const [day, n] of Object.entries(base.ev.counts)) {
      const rows = base.lines.filter((l) => l.breakdown === 'by-total' && l.date === day && l.rollup === 'daily').length;
      expect(got[day], day).to.equal(n - rows);
      if (n > 0) expect(got[day]!).to.be.lessThan(n);
    }
    expect(sumTotals(skewed.lines, q.start_date, q.end_date, 'globex.com')).to.not.deep.equal(skewed.globex.counts);
    // the truth follows what is served; the count truths keep the exports' numbers
    expect(skewed.truth.map((t) => t.total)).to.deep.equal(skewed.lines.map((l) => l.total));
    expect(skewed.sim.truth.aggregatesDailyTotals({ start: q.start_date, end: q.end_date })).to.deep.equal(got);
    expect(skewed.sim.truth.dailyCounts({ start: q.start_date, end: q.end_date })).to.deep.equal(base.ev.counts);
  });

  it('per day: only the days named change, by their own amount', async () => {
    const base = await served({});
    const d1 = addDays(E, -5);
    const d2 = addDays(E, -2);
    const skewed = await served({ aggregatesCountSkew: { [d1]: 2, [d2]: -1 } });
    const want = sumTotals(base.lines, q.start_date, q.end_date);
    const rowsOf = (day: string) => base.lines.filter((l) => l.breakdown === 'by-total' && l.date === day).length;
    want[d1]! += 2 * rowsOf(d1);
    want[d2]! -= rowsOf(d2);
    expect(sumTotals(skewed.lines, q.start_date, q.end_date)).to.deep.equal(want);
    const changed = Object.keys(want).filter((d) => want[d] !== base.ev.counts[d]);
    expect(changed).to.deep.equal([d1, d2]);
  });

  it('is settable from the command line, and a bad value exits 2', async function () {
    this.timeout(10_000);
    const run = (skew: string) =>
      spawn(process.execPath, [SIM_CLI, '--port', '0', '--now', NOW.toISOString(), '--aggregates-count-skew', skew], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const child = run(`{"${E}":-1}`);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const base = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
    const lines = await aggregateLines(base, { start_date: E, end_date: E });
    const truth = new ScarfSimulator({ now: NOW }).truth.aggregates({ start: E, end: E });
    expect(lines.map((l) => l.total)).to.deep.equal(truth.map((t) => Math.max(0, (t.total as number) - 1)));
    child.kill('SIGTERM');
    expect(await once(child, 'exit')).to.deep.equal([0, null]);

    for (const bad of ['1.5', '{"2026-03-01":x}']) {
      const c = run(bad);
      let err = '';
      c.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const [code] = (await once(c, 'exit')) as [number | null];
      expect(code, bad).to.equal(2);
      expect(err).to.contain(
        'SimOptions.aggregatesCountSkew must be an integer or an object mapping YYYY-MM-DD days to integers',
      );
    }
  });

  it('rejects a skew that is not an integer or a map of days to integers', () => {
    for (const bad of [0.5, 'x', { '2026-3-1': 1 }, { '2026-03-01': 1.5 }, [1]] as unknown[]) {
      expect(() => new ScarfSimulator({ now: NOW, aggregatesCountSkew: bad as number }), JSON.stringify(bad)).to.throw(
        'SimOptions.aggregatesCountSkew must be an integer or an object mapping YYYY-MM-DD days to integers',
      );
    }
  });
});
