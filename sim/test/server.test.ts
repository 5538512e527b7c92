// The simulator's HTTP surface: auth, owners, plans, date checks, request log, control API, CLI.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';

import { expect } from 'chai';

import { ScarfSimulator } from '../index.js';
import { apiUrl, get, NOW, send, SIM_CLI } from './helpers.js';

const EV = '/v2/packages/acme-oss/events';
const range = { start_date: '2026-03-10', end_date: '2026-03-14' };

describe('simulator: HTTP surface', () => {
  let sim: ScarfSimulator;
  let url: string;

  before(async () => {
    sim = new ScarfSimulator({ now: NOW });
    url = await sim.start();
  });
  after(() => sim.stop());
  beforeEach(() => {
    sim.resetRequests();
    sim.setOptions({ badTokenStatus: 401, plan: 'pro' });
  });

  it('serves the events CSV with the documented headers', async () => {
    const r = await get(apiUrl(url, EV, range));
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.equal('text/csv; charset=utf-8');
    expect(r.headers['content-disposition']).to.equal('attachment; filename=events-scarf-export-2026-03-10-2026-03-14.csv');
    expect(r.headers['transfer-encoding']).to.equal('chunked');
    expect(r.body.split('\n')[0]).to.match(/^id,type,package,pixel,/);
    expect(r.body.endsWith('\n')).to.equal(true);
  });

  it('answers a missing or wrong token with 401 and a JSON error', async () => {
    for (const token of [null, 'wrong']) {
      const r = await get(apiUrl(url, EV, range), { token });
      expect(r.status).to.equal(401);
      expect(r.headers['www-authenticate']).to.equal('Bearer');
      expect(JSON.parse(r.body)).to.deep.equal({ message: 'Invalid or missing API token', code: 'unauthorized' });
    }
    expect(sim.requests.map((e) => e.authorized)).to.deep.equal([false, false]);
  });

  it('can answer a bad token with 403 instead (the doc leaves it open)', async () => {
    sim.setOptions({ badTokenStatus: 403 });
    const r = await get(apiUrl(url, EV, range), { token: 'nope' });
    expect(r.status).to.equal(403);
    expect(JSON.parse(r.body).code).to.equal('forbidden');
  });

  it('matches the owner case-insensitively and 404s other owners', async () => {
    expect((await get(apiUrl(url, '/v2/packages/ACME-Oss/events', range))).status).to.equal(200);
    const r = await get(apiUrl(url, '/v2/packages/someone-else/events', range));
    expect(r.status).to.equal(404);
    expect(JSON.parse(r.body).code).to.equal('not-found');
    const c = await get(apiUrl(url, '/v2/companies/other/globex.com/events', range));
    expect(c.status).to.equal(404);
  });

  it('answers 403 not-a-pro-member on a free plan', async () => {
    sim.setOptions({ plan: 'free' });
    for (const path of [
      EV,
      '/v2/packages/acme-oss/aggregates',
      '/v2/packages/acme-oss/company-rollup',
      '/v2/companies/acme-oss/globex.com/events',
    ]) {
      const r = await get(apiUrl(url, path, range));
      expect(r.status, path).to.equal(403);
      const body = JSON.parse(r.body);
      expect(body.code).to.equal('not-a-pro-member');
      expect(body.message).to.contain('not eligible for export');
    }
  });

  it('rejects ranges longer than maxRangeDays with 400 range-too-long (inclusive count)', async () => {
    expect((await get(apiUrl(url, EV, { start_date: '2026-02-01', end_date: '2026-03-03' }))).status).to.equal(200); // 31 days
    const r = await get(apiUrl(url, EV, { start_date: '2026-02-01', end_date: '2026-03-04' })); // 32 days
    expect(r.status).to.equal(400);
    expect(JSON.parse(r.body)).to.deep.equal({
      code: 'range-too-long',
      message: 'Date range too long: 32 days requested, at most 31 days allowed',
    });
    sim.setOptions({ maxRangeDays: 7 });
    expect(
      (await get(apiUrl(url, '/v2/companies/acme-oss/globex.com/events', { start_date: '2026-03-01', end_date: '2026-03-08' })))
        .status,
    ).to.equal(400);
    expect(
      (await get(apiUrl(url, '/v2/packages/acme-oss/aggregates', { start_date: '2026-03-01', end_date: '2026-03-07' }))).status,
    ).to.equal(200);
    sim.setOptions({ maxRangeDays: 31 });
  });

  it('rejects missing, malformed and reversed dates with 400 bad-request', async () => {
    for (const q of [
      {},
      { start_date: '2026-03-01' },
      { start_date: '2026-3-1', end_date: '2026-03-02' },
      { start_date: '2026-02-30', end_date: '2026-03-02' },
      { start_date: '2026-03-05', end_date: '2026-03-02' },
    ] as Record<string, string>[]) {
      const r = await get(apiUrl(url, EV, q));
      expect(r.status, JSON.stringify(q)).to.equal(400);
      expect(JSON.parse(r.body).code).to.equal('bad-request');
    }
  });

  it('validates the package query, rollups and breakdowns', async () => {
    expect(JSON.parse((await get(apiUrl(url, EV, { ...range, query: '' }))).body).code).to.equal('invalid-package-query');
    const unknown = await get(apiUrl(url, EV, { ...range, query: 'no-such-package' }));
    expect([unknown.status, JSON.parse(unknown.body).code]).to.deep.equal([404, 'not-found']);
    const agg = '/v2/packages/acme-oss/aggregates';
    expect((await get(apiUrl(url, agg, { ...range, rollup: 'hourly' }))).status).to.equal(400);
    expect((await get(apiUrl(url, agg, { ...range, breakdown: ['by-total', 'by-governmental-organization'] }))).status).to.equal(
      400,
    );
    expect((await get(apiUrl(url, agg, { ...range, breakdown: 'by-govermental-organization' }))).status).to.equal(200);
  });

  it('404s unknown paths and 405s other methods', async () => {
    const r = await get(apiUrl(url, '/v2/packages/acme-oss/nothing', range));
    expect([r.status, JSON.parse(r.body).code]).to.deep.equal([404, 'not-found']);
    const p = await send(apiUrl(url, EV, range), 'POST');
    expect(p.status).to.equal(405);
  });

  it('logs every API request with its endpoint, query, status and auth', async () => {
    await get(apiUrl(url, '/v2/packages/acme-oss/aggregates', { ...range, breakdown: ['by-company', 'by-country'] }));
    await get(apiUrl(url, '/v2/companies/acme-oss/globex.com/events', range), { token: 'bad' });
    await get(apiUrl(url, '/v2/packages/acme-oss/company-rollup'));
    await get(apiUrl(url, '/nowhere'));
    await send(`${url}/_sim/requests`, 'GET'); // control calls are not logged
    const log = sim.requests;
    expect(log.map((e) => [e.endpoint, e.status, e.authorized])).to.deep.equal([
      ['aggregates', 200, true],
      ['company-events', 401, false],
      ['company-rollup', 200, true],
      ['other', 404, true],
    ]);
    expect(log[0]!.query).to.deep.equal({
      ...{ start_date: ['2026-03-10'], end_date: ['2026-03-14'] },
      breakdown: ['by-company', 'by-country'],
    });
    expect(log[1]).to.include({
      owner: 'acme-oss',
      domain: 'globex.com',
      method: 'GET',
      path: '/v2/companies/acme-oss/globex.com/events',
    });
    expect(log[0]!.simNow).to.equal(NOW.toISOString());
    expect(log[0]!.at).to.be.a('number');
  });

  it('delays every response by latencyMs', async () => {
    sim.setOptions({ latencyMs: 150 });
    const r = await get(apiUrl(url, EV, range), { token: 'bad' });
    sim.setOptions({ latencyMs: 0 });
    expect(r.headersAfterMs).to.be.at.least(140);
  });

  it('exposes the control API over HTTP', async () => {
    await get(apiUrl(url, EV, range));
    const log = JSON.parse((await send(`${url}/_sim/requests`, 'GET')).text);
    expect(log).to.have.length(1);
    expect((await send(`${url}/_sim/requests`, 'DELETE')).status).to.equal(204);
    expect(sim.requests).to.have.length(0);

    expect((await send(`${url}/_sim/faults`, 'PUT', [{ kind: '503', endpoint: 'events', retryAfter: 1 }])).status).to.equal(204);
    expect((await get(apiUrl(url, EV, range))).status).to.equal(503);
    expect((await get(apiUrl(url, EV, range))).status).to.equal(200);
    expect((await send(`${url}/_sim/faults`, 'PUT', [{ kind: 'nope' }])).status).to.equal(400);

    const moved = await send(`${url}/_sim/now`, 'PUT', { now: '2026-03-20T00:00:00Z' });
    expect(JSON.parse(moved.text).now).to.equal('2026-03-20T00:00:00.000Z');
    expect(sim.nowMs()).to.equal(Date.parse('2026-03-20T00:00:00Z'));
    await send(`${url}/_sim/now`, 'PUT', { now: NOW.toISOString() });

    const truth = await send(apiUrl(url, '/_sim/truth/events', range), 'GET');
    const rows = truth.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).to.deep.equal(sim.truth.events({ start: range.start_date, end: range.end_date }));
    const agg = await send(
      apiUrl(url, '/_sim/truth/aggregates', {
        start_date: '2026-03-09',
        end_date: '2026-03-14',
        rollup: 'weekly',
        breakdown: ['by-company'],
      }),
      'GET',
    );
    const aggTruth = sim.truth.aggregates({
      start: '2026-03-09',
      end: '2026-03-14',
      rollup: 'weekly',
      breakdowns: ['by-company'],
    });
    expect(aggTruth.length).to.be.greaterThan(3);
    expect(
      agg.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).to.deep.equal(aggTruth);
    const ce = await send(apiUrl(url, '/_sim/truth/company-events', { ...range, domain: 'globex.com' }), 'GET');
    expect(
      ce.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).to.deep.equal(sim.truth.companyEvents('globex.com', { start: range.start_date, end: range.end_date }));
    expect((await send(`${url}/_sim/truth/company-rollup`, 'GET')).text.trim().split('\n')).to.have.length(
      sim.truth.companyRollup().length,
    );

    const opts = await send(`${url}/_sim/options`, 'PUT', { timestampStyle: 'iso' });
    expect(JSON.parse(opts.text).timestampStyle).to.equal('iso');
    expect(sim.options.timestampStyle).to.equal('iso');
    sim.setOptions({ timestampStyle: 'pg' });
    expect(sim.requests.every((e) => e.endpoint !== 'other')).to.equal(true);
  });

  it('closes open connections on stop()', async () => {
    const s = new ScarfSimulator({ now: NOW });
    const u = await s.start();
    s.setFaults([{ kind: 'stall-mid-body', latencyMs: 60_000 }]);
    const pending = get(apiUrl(u, EV, range));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await s.stop();
    const r = await pending;
    expect(Date.now() - t0).to.be.below(1000);
    expect(r.complete).to.equal(false);
  });
});

describe('simulator: CLI', () => {
  it('prints its URL, serves, and exits 0 on SIGTERM', async function () {
    this.timeout(10_000);
    const child = spawn(
      process.execPath,
      [SIM_CLI, '--port', '0', '--now', NOW.toISOString(), '--owner', 'acme-oss', '--token', 'tok-1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const m = /^Scarf simulator listening on (http:\/\/127\.0\.0\.1:\d+) \(owner acme-oss, token tok-1\)$/.exec(line);
    expect(m, line).to.not.equal(null);
    const r = await get(apiUrl(m![1]!, EV, range), { token: 'tok-1' });
    expect(r.status).to.equal(200);
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).to.equal(0);
  });

  it('--help names the command and the README that exists beside the compiled simulator', async () => {
    const child = spawn(process.execPath, [SIM_CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).to.equal(0);
    expect(out.split('\n')[0]).to.equal('Usage: tap-scarf-sim [options]');
    const readme = /control API \(\/_sim\/…\): (\S+README\.md)$/m.exec(out)?.[1];
    expect(readme, out).to.be.a('string');
    expect(existsSync(readme!), readme).to.equal(true);
  });

  it('rejects bad options with exit code 2', async () => {
    const child = spawn(process.execPath, [SIM_CLI, '--port', '0', '--timestamp-style', 'weird'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).to.equal(2);
    expect(err).to.contain('timestampStyle');
  });

  it('takes the 2026 options from the command line; a revision naming an unknown company exits 2', async function () {
    this.timeout(10_000);
    const child = spawn(
      process.execPath,
      [
        SIM_CLI,
        ...['--port', '0', '--now', NOW.toISOString(), '--v2-aggregates', 'empty', '--no-pixels-in-events', '--no-final-newline'],
        ...['--aggregations-narrow', '{"end":1}', '--artifact-lag-days', '{"acme-cli":7}', '--aggregates-count-scale', '0.8'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    try {
      const opts = JSON.parse((await get(`${base}/_sim/options`)).body) as Record<string, unknown>;
      expect(opts).to.deep.include({
        v2Aggregates: 'empty',
        pixelsInEvents: false,
        finalNewline: false,
        aggregationsNarrow: { start: 0, end: 1 },
        artifactLagDays: { 'acme-cli': 7 },
        aggregatesCountScale: 0.8,
        planIncludesAggregations: true,
      });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    const bad = spawn(
      process.execPath,
      [SIM_CLI, '--port', '0', '--revisions', '[{"at":"2026-03-01T00:00:00Z","day":"2026-02-01","domain":"nope.example"}]'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    bad.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(bad, 'exit')) as [number | null];
    expect(code).to.equal(2);
    expect(err).to.equal("tap-scarf-sim: SimOptions.revisions[0]: nope.example is none of the simulator's companies\n");
  });
});
