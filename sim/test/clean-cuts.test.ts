// Short bodies that look whole: a cut right after a complete row that still ends the HTTP
// message properly (chunked terminator, or a Content-Length equal to what was sent), and a
// complete response missing one day's rows. Only a count can tell these from the real body.

import { expect } from 'chai';

import { type Endpoint, type FaultSpec, ScarfSimulator, validateFaults } from '../index.js';
import { apiUrl, get, type Got, NOW, parseCsv, send } from './helpers.js';

const Q = { start_date: '2026-03-02', end_date: '2026-03-14' };

interface Target {
  endpoint: Endpoint;
  path: string;
  q: Record<string, string | string[]>;
  csv: boolean;
}

const TARGETS: Target[] = [
  { endpoint: 'events', path: '/v2/packages/acme-oss/events', q: Q, csv: true },
  { endpoint: 'company-events', path: '/v2/companies/acme-oss/globex.com/events', q: Q, csv: true },
  { endpoint: 'company-rollup', path: '/v2/packages/acme-oss/company-rollup', q: {}, csv: true },
  {
    endpoint: 'aggregates',
    path: '/v2/packages/acme-oss/aggregates',
    q: { ...Q, rollup: ['daily', 'weekly'], breakdown: ['by-total', 'by-company', 'by-country'] },
    csv: false,
  },
];

/** Data rows of a body: parsed CSV rows (a row may span lines), or NDJSON lines. */
function rowsOf(t: Target, body: string): string[][] {
  if (t.csv) {
    const { rows, errors } = parseCsv(body);
    expect(errors).to.deep.equal([]);
    return rows;
  }
  return body
    .split('\n')
    .filter(Boolean)
    .map((l) => [l]);
}

function expectClean(r: Got): void {
  expect(r.status).to.equal(200);
  expect(r.complete, 'the HTTP message is complete').to.equal(true);
  expect(r.error).to.equal(undefined);
}

describe('simulator: short bodies that end cleanly', () => {
  let sim: ScarfSimulator;
  let url: string;
  const normal = new Map<Endpoint, string>();

  before(async () => {
    sim = new ScarfSimulator({ now: NOW });
    url = await sim.start();
    for (const t of TARGETS) normal.set(t.endpoint, (await get(apiUrl(url, t.path, t.q))).body);
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  const once = async (t: Target, fault: Omit<FaultSpec, 'endpoint'>) => {
    sim.setFaults([{ ...fault, endpoint: t.endpoint }]);
    return get(apiUrl(url, t.path, t.q));
  };

  for (const t of TARGETS) {
    describe(t.endpoint, () => {
      it('cut-after-line endCleanly: half the rows, then the chunked terminator', async () => {
        const full = normal.get(t.endpoint)!;
        const fullRows = rowsOf(t, full);
        expect(fullRows.length).to.be.at.least(6);
        const r = await once(t, { kind: 'cut-after-line', endCleanly: true });
        expectClean(r);
        expect(r.headers['transfer-encoding']).to.equal('chunked');
        expect(r.headers['content-length']).to.equal(undefined);
        expect(full.startsWith(r.body)).to.equal(true);
        expect(r.body.endsWith('\n')).to.equal(true);
        expect(rowsOf(t, r.body)).to.deep.equal(fullRows.slice(0, Math.floor(fullRows.length / 2)));
        // the same bytes as the cut that closes the socket
        const dirty = await once(t, { kind: 'cut-after-line' });
        expect(dirty.complete).to.equal(false);
        expect(dirty.body).to.equal(r.body);
        expect(sim.requests.map((e) => [e.status, e.fault])).to.deep.equal([
          [200, 'cut-after-line'],
          [200, 'cut-after-line'],
        ]);
      });

      it("cut-after-line contentLength 'short': a Content-Length that equals the short body", async () => {
        const clean = await once(t, { kind: 'cut-after-line', endCleanly: true, afterRows: 3 });
        const r = await once(t, { kind: 'cut-after-line', contentLength: 'short', afterRows: 3 });
        expectClean(r);
        expect(r.headers['transfer-encoding']).to.equal(undefined);
        expect(r.headers['content-length']).to.equal(String(Buffer.byteLength(r.body)));
        expect(r.body).to.equal(clean.body);
        expect(rowsOf(t, r.body)).to.deep.equal(rowsOf(t, normal.get(t.endpoint)!).slice(0, 3));
        // and the full length is still there for the cut that announces more than it sends
        const full = await once(t, { kind: 'cut-after-line', contentLength: 'full', afterRows: 3 });
        expect(full.complete).to.equal(false);
        expect(full.headers['content-length']).to.equal(String(Buffer.byteLength(normal.get(t.endpoint)!)));
      });

      it('afterRows 0: nothing but the header (CSV) or an empty body (NDJSON), still complete', async () => {
        const r = await once(t, { kind: 'cut-after-line', contentLength: 'short', afterRows: 0 });
        expectClean(r);
        const full = normal.get(t.endpoint)!;
        expect(r.body).to.equal(t.csv ? full.slice(0, full.indexOf('\n') + 1) : '');
        expect(r.headers['content-length']).to.equal(String(Buffer.byteLength(r.body)));
      });

      it('afterRows past the last row: the whole body, properly ended', async () => {
        const r = await once(t, { kind: 'cut-after-line', endCleanly: true, afterRows: 1_000_000 });
        expectClean(r);
        expect(r.body).to.equal(normal.get(t.endpoint)!);
      });
    });
  }

  it("cut-mid-row and unterminated-quote with contentLength 'short': complete messages ending inside a row", async () => {
    const t = TARGETS[0]!;
    for (const kind of ['cut-mid-row', 'unterminated-quote'] as const) {
      const dirty = await once(t, { kind });
      expect(dirty.complete).to.equal(false);
      const r = await once(t, { kind, contentLength: 'short' });
      expectClean(r);
      expect(r.headers['content-length']).to.equal(String(Buffer.byteLength(r.body)));
      expect(r.body, kind).to.equal(dirty.body);
      expect(r.body.endsWith('\n')).to.equal(false);
    }
  });

  it('a header-only body cut cleanly is the header, with its own length', async () => {
    const t: Target = { ...TARGETS[1]!, path: '/v2/companies/acme-oss/unknown.example/events' };
    const full = (await get(apiUrl(url, t.path, t.q))).body;
    const r = await once(t, { kind: 'cut-after-line', contentLength: 'short' });
    expectClean(r);
    expect(r.body).to.equal(full);
    expect(r.headers['content-length']).to.equal(String(Buffer.byteLength(full)));
  });

  it('fires at random with probability 0.15, seeded: every response complete, the hit ones short', async () => {
    const run = async () => {
      const fired: number[] = [];
      sim.setFaults([
        { kind: 'cut-after-line', endpoint: 'events', endCleanly: true, probability: 0.15 },
        { kind: 'cut-after-line', endpoint: 'aggregates', contentLength: 'short', probability: 0.15 },
      ]);
      sim.resetRequests();
      for (let i = 0; i < 40; i++) {
        const t = TARGETS[i % 2 === 0 ? 0 : 3]!;
        const r = await get(apiUrl(url, t.path, t.q));
        expectClean(r);
        const full = normal.get(t.endpoint)!;
        const hit = sim.requests[i]!.fault === 'cut-after-line';
        if (hit) {
          fired.push(i);
          expect(rowsOf(t, r.body)).to.have.length(Math.floor(rowsOf(t, full).length / 2));
          expect(full.startsWith(r.body)).to.equal(true);
          if (t.csv) expect(r.headers['transfer-encoding']).to.equal('chunked');
          else expect(r.headers['content-length']).to.equal(String(Buffer.byteLength(r.body)));
        } else expect(r.body).to.equal(full);
      }
      return fired;
    };
    const fired = await run();
    expect(fired.length).to.be.within(2, 15);
    expect(fired.some((i) => i % 2 === 0) && fired.some((i) => i % 2 === 1)).to.equal(true);
    expect(await run()).to.deep.equal(fired);
  });
});

describe("simulator: afterRows 'random' (a seeded cut point per response)", () => {
  it('each firing cuts at its own row, at least one row short, the same sequence for the same seed; a bad afterRows is refused', async () => {
    const sim = new ScarfSimulator({ now: NOW });
    const url = await sim.start();
    try {
      const t = TARGETS[0]!;
      const full = rowsOf(t, (await get(apiUrl(url, t.path, t.q))).body);
      const run = async () => {
        sim.setFaults([{ kind: 'cut-after-line', endpoint: 'events', endCleanly: true, afterRows: 'random', probability: 1 }]);
        const lengths: number[] = [];
        for (let i = 0; i < 6; i++) {
          const r = await get(apiUrl(url, t.path, t.q));
          expectClean(r);
          const rows = rowsOf(t, r.body);
          expect(rows).to.deep.equal(full.slice(0, rows.length));
          lengths.push(rows.length);
        }
        return lengths;
      };
      const lengths = await run();
      expect(lengths.every((n) => n < full.length)).to.equal(true);
      expect(new Set(lengths).size, JSON.stringify(lengths)).to.be.at.least(4);
      expect(await run()).to.deep.equal(lengths);
    } finally {
      await sim.stop();
    }
    for (const bad of [-1, 1.5, 'half'])
      expect(() => validateFaults([{ kind: 'cut-after-line', afterRows: bad }]), String(bad)).to.throw(
        "afterRows must be an integer ≥ 0 or 'random'",
      );
  });
});

describe('simulator: drop-day (a complete response without one day)', () => {
  let sim: ScarfSimulator;
  let url: string;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW, duplicateRate: 0.2 });
    url = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => sim.clearFaults());

  const dayOf = (t: Target, header: string[], row: string[]) =>
    t.csv ? row[header.indexOf('time')]!.slice(0, 10) : (JSON.parse(row[0]!) as { date: string }).date;

  async function check(t: Target, fault: Omit<FaultSpec, 'endpoint'>, expectedDay?: string) {
    sim.clearFaults();
    const full = (await get(apiUrl(url, t.path, t.q))).body;
    const fullRows = rowsOf(t, full);
    const header = t.csv ? parseCsv(full).header : [];
    const day = expectedDay ?? dayOf(t, header, fullRows[Math.floor(fullRows.length / 2)]!);
    sim.setFaults([{ ...fault, endpoint: t.endpoint }]);
    sim.resetRequests();
    const r = await get(apiUrl(url, t.path, t.q));
    expectClean(r);
    expect(sim.requests[0]!.fault).to.equal('drop-day');
    const kept = fullRows.filter((row) => dayOf(t, header, row) !== day);
    expect(kept.length).to.be.lessThan(fullRows.length - 3);
    expect(rowsOf(t, r.body)).to.deep.equal(kept);
    if (t.csv) expect(r.body.startsWith(header.join(',') + '\n')).to.equal(true);
    return { full, fullRows, header, served: r.body };
  }

  it('events: every row of the day goes, its far-apart duplicates too; the rows around it stay', async () => {
    const t = TARGETS[0]!;
    const { fullRows, header } = await check(t, { kind: 'drop-day', date: '2026-03-09' }, '2026-03-09');
    // the day's rows are not one block (duplicates of the day before sit among them), so
    // this is more than cutting a range of lines
    const days = fullRows.map((row) => dayOf(t, header, row));
    const first = days.indexOf('2026-03-09');
    const last = days.lastIndexOf('2026-03-09');
    expect(days.slice(first, last + 1).some((d) => d !== '2026-03-09')).to.equal(true);
  });

  it('company-events: the company has events that day, and none of them is served', async () => {
    await check(TARGETS[1]!, { kind: 'drop-day', date: '2026-03-12' }, '2026-03-12');
  });

  it('aggregates: every row dated that day goes, in every rollup and breakdown', async () => {
    const t = TARGETS[3]!;
    const { served } = await check(t, { kind: 'drop-day', date: '2026-03-09' }, '2026-03-09'); // a Monday: weekly too
    const lines = served
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { rollup: string; date: string });
    expect(lines.some((l) => l.rollup === 'weekly' && l.date === '2026-03-02')).to.equal(true);
    expect(lines.some((l) => l.date === '2026-03-08') && lines.some((l) => l.date === '2026-03-10')).to.equal(true);
  });

  it('without date: the day of the halfway row (or of row afterRows)', async () => {
    await check(TARGETS[0]!, { kind: 'drop-day' });
    await check(TARGETS[3]!, { kind: 'drop-day' });
    await check(TARGETS[0]!, { kind: 'drop-day', afterRows: 0 }, Q.start_date);
  });

  it('a day outside the response changes nothing', async () => {
    const t = TARGETS[0]!;
    const full = (await get(apiUrl(url, t.path, t.q))).body;
    sim.setFaults([{ kind: 'drop-day', endpoint: 'events', date: '2026-01-01' }]);
    expect((await get(apiUrl(url, t.path, t.q))).body).to.equal(full);
  });
});

describe('simulator: clean-end and drop-day specs are validated', () => {
  const bad: [unknown, string][] = [
    [{ kind: 'reset-mid-body', contentLength: 'short' }, "contentLength 'short' applies to"],
    [{ kind: 'cut-after-line', contentLength: 'yes' }, "contentLength must be true, false, 'full' or 'short'"],
    [
      { kind: 'cut-after-line', contentLength: true, endCleanly: true },
      'a response announcing the full Content-Length cannot end cleanly',
    ],
    [
      { kind: 'cut-mid-row', contentLength: 'full', endCleanly: true },
      'a response announcing the full Content-Length cannot end cleanly',
    ],
    [{ kind: 'cut-after-line', endCleanly: 'yes' }, 'endCleanly must be a boolean'],
    [{ kind: 'drop-day' }, 'drop-day needs an endpoint with days'],
    [{ kind: 'drop-day', endpoint: 'company-rollup' }, 'drop-day needs an endpoint with days'],
    [{ kind: 'drop-day', endpoint: 'events', date: '2026-02-30' }, 'date must be a day, YYYY-MM-DD'],
  ];

  it('rejects each bad spec with a message naming the field', () => {
    for (const [spec, message] of bad) expect(() => validateFaults([spec]), JSON.stringify(spec)).to.throw(`fault 0: ${message}`);
    expect(validateFaults([{ kind: 'cut-after-line', contentLength: 'short', endCleanly: true }])).to.have.length(1);
    expect(validateFaults([{ kind: 'cut-after-line', contentLength: true }])).to.have.length(1);
  });

  it('answers 400 on the control API', async () => {
    const sim = new ScarfSimulator({ now: NOW });
    const url = await sim.start();
    try {
      const r = await send(`${url}/_sim/faults`, 'PUT', [{ kind: 'drop-day', endpoint: 'company-rollup' }]);
      expect(r.status).to.equal(400);
      expect(JSON.parse(r.text).message).to.include('drop-day needs an endpoint with days');
      expect(sim.activeFaults).to.deep.equal([]);
    } finally {
      await sim.stop();
    }
  });
});
