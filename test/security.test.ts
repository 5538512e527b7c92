// Secrets: the API token never appears in any output — logs, errors, stack traces (debug on),
// --about, Airbyte LOG/TRACE/CONNECTION_STATUS messages, state — even when Scarf echoes it
// back; it travels only in the Authorization header, never in a URL. Every run here (and in
// the other reliability tests, through runChecked) has its whole stdout and stderr searched.
import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import { ScarfSimulator } from '../sim/index.js';
import { tmpDir, writeJson, type TapRun } from './helpers/tap.js';
import { allOutputs, catalogFor, expectNoToken, runChecked, TOKEN } from './helpers/reliability.js';

const DEBUG = { TAP_SCARF_DEBUG: '1' };

describe('security: the token never leaves through any output', function () {
  this.timeout(60_000);
  let sim: ScarfSimulator;
  let echo: Server;
  let echoUrl = '';
  const echoAuth: (string | undefined)[] = [];
  let dir: string;

  const config = (extra: Record<string, unknown> = {}) =>
    writeJson(dir, `config-${Math.random().toString(36).slice(2)}.json`, {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: '2026-10-01',
      end_date: '2026-10-02',
      aggregates_breakdowns: ['by-total'],
      ...extra,
    });

  before(async () => {
    sim = new ScarfSimulator({
      seed: 3,
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 20,
      companies: 4,
    });
    await sim.start();
    // A server that echoes the Authorization header in its error messages, as a careless API might.
    echo = createServer((req, res) => {
      echoAuth.push(req.headers.authorization);
      const status = req.url?.includes('/events') ? 401 : 403;
      res.writeHead(status, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          message: `token rejected: ${req.headers.authorization}`,
          code: 'unauthorized',
          debug: { url: req.url, headers: req.headers },
        }),
      );
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const addr = echo.address();
    echoUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    dir = tmpDir('tap-scarf-security-');
  });
  after(async () => {
    await sim.stop();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  it('--about (text, json, markdown), --version, --help and --discover with the token configured', async () => {
    const env = { TAP_SCARF_API_TOKEN: TOKEN, TAP_SCARF_OWNER: 'acme-oss', TAP_SCARF_BASE_URL: sim.url };
    for (const args of [
      ['--about'],
      ['--about', '--format', 'json'],
      ['--about', '--format', 'markdown'],
      ['--version'],
      ['--help'],
      ['--discover', '--config', 'ENV'],
      ['--discover', '--config', config()],
    ]) {
      const run = await runChecked(args, { env });
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).to.equal(0);
    }
  });

  it('a sync with retries, TAP_SCARF_DEBUG=1: retry logs and state carry no token; it goes only in the Authorization header', async () => {
    sim.setFaults([
      { kind: '429', endpoint: 'events', nth: 1, retryAfter: 1 },
      { kind: 'reset-mid-body', endpoint: 'aggregates', nth: 1 },
      { kind: 'cut-mid-row', endpoint: 'company-events', nth: 1 },
    ]);
    const run = await runChecked(['--config', config()], { env: DEBUG }, sim);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(/attempt 1 failed/);
    expect(sim.requests.length).to.be.greaterThan(3);
    expect(
      sim.requests.every((r) => r.authorized),
      'every request carried the token (in its header)',
    ).to.equal(true);
  });

  it('failures with debug on (exhausted retries, bad data, connection refused) print no token', async () => {
    sim.setFaults([
      { kind: '503', endpoint: 'events', nth: 1, times: 100 },
      { kind: 'bad-value', endpoint: 'aggregates', nth: 1, column: 'total', value: TOKEN },
    ]);
    let run = await runChecked(
      ['--config', config({ max_retries: 1 }), '--catalog', writeJson(dir, 'c1.json', catalogFor(['events', 'aggregates']))],
      { env: DEBUG },
      sim,
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/giving up after 2 attempts/);
    // The bad value *is* the token: the error quoting it must mask it.
    expect(run.stderr).to.match(/field "total": invalid integer "\*\*\*"/);
    run = await runChecked(
      [
        '--config',
        config({ base_url: 'http://127.0.0.1:1', max_retries: 1 }),
        '--catalog',
        writeJson(dir, 'c2.json', catalogFor(['events'])),
      ],
      { env: DEBUG },
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/ECONNREFUSED/);
  });

  it('a server echoing the token in its error body: Singer errors show *** instead', async () => {
    const run = await runChecked(
      ['--config', config({ base_url: echoUrl }), '--catalog', writeJson(dir, 'c3.json', catalogFor(['events']))],
      { env: DEBUG },
    );
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/Scarf said: "token rejected: Bearer \*\*\*"/);
    expect(echoAuth.at(-1)).to.equal(`Bearer ${TOKEN}`);
  });

  it('Airbyte spec, check, discover and read (LOG, TRACE ERROR, STATE, CONNECTION_STATUS) print no token', async () => {
    const runs: TapRun[] = [];
    runs.push(await runChecked(['spec']));
    runs.push(await runChecked(['check', '--config', config()], { env: DEBUG }, sim));
    runs.push(await runChecked(['check', '--config', config({ base_url: echoUrl })], { env: DEBUG }));
    expect(runs.at(-1)!.stdout).to.match(/CONNECTION_STATUS.*FAILED.*Bearer \*\*\*/);
    const discover = await runChecked(['discover', '--config', config()]);
    runs.push(discover);
    const catalog = discover.messages.find((m) => m.type === 'CATALOG')!.catalog as { streams: Record<string, any>[] };
    const configured = {
      streams: catalog.streams.map((stream) => ({
        stream,
        sync_mode: 'incremental',
        cursor_field: stream.default_cursor_field,
        destination_sync_mode: 'append_dedup',
        primary_key: stream.source_defined_primary_key,
      })),
    };
    const cat = writeJson(dir, 'configured.json', configured);
    sim.setFaults([
      { kind: '500', endpoint: 'events', nth: 1 },
      { kind: '503', endpoint: 'aggregates', nth: 1, times: 100 },
      { kind: 'malformed-row', endpoint: 'company-rollup', nth: 1 },
    ]);
    const read = await runChecked(['read', '--config', config({ max_retries: 1 }), '--catalog', cat], { env: DEBUG }, sim);
    runs.push(read);
    expect(read.code).to.equal(1);
    expect(read.messages.some((m) => m.type === 'TRACE' && m.trace.type === 'ERROR')).to.equal(true);
    expect(read.messages.some((m) => m.type === 'LOG' && /attempt 1 failed/.test(m.log.message))).to.equal(true);
    expect(read.messages.some((m) => m.type === 'STATE')).to.equal(true);
    const echoed = await runChecked(['read', '--config', config({ base_url: echoUrl }), '--catalog', cat], { env: DEBUG });
    expect(echoed.code).to.equal(1);
    expect(echoed.stdout).to.match(/Bearer \*\*\*/);
    for (const r of [...runs, echoed]) expect(r.badLines).to.deep.equal([]);
  });

  it('a config error with the token set in the environment prints no token', async () => {
    const run = await runChecked(['--config', 'ENV'], {
      env: {
        TAP_SCARF_API_TOKEN: TOKEN,
        TAP_SCARF_OWNER: 'acme-oss',
        TAP_SCARF_BASE_URL: 'http://api.scarf.sh',
        TAP_SCARF_DEBUG: '1',
      },
    });
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/plain http/);
  });

  it('sweep: no output collected from any run in this process holds the token', () => {
    expect(allOutputs.length).to.be.greaterThan(10);
    for (const o of allOutputs) expectNoToken(o.text, o.what);
  });
});
