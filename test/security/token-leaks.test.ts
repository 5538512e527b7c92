// Secrets: the API token never appears in any output — logs, errors, stack traces (debug on),
// --about, Airbyte LOG/TRACE/CONNECTION_STATUS messages, state — even when Scarf echoes it
// back; it travels only in the Authorization header, never in a URL. Every run here (and in
// the other reliability tests, through runChecked) has its whole stdout and stderr searched.
import { createServer, type Server } from 'node:http';

import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { airbyteCatalog as catalog } from '../../src/airbyte/catalog.js';
import { allOutputs, catalogFor, expectNoToken, runChecked, TOKEN } from '../helpers/reliability.js';
import { everyRunOutput, type TapRun, tmpDir, writeJson } from '../helpers/tap.js';

const DEBUG = { TAP_SCARF_DEBUG: '1' };

/**
 * What must appear in no output: every 8-character piece of the token (a token cut by a clip,
 * or echoed in part by a proxy, still gives away that much), and the base64 of the token and
 * of its Authorization header value, as a gateway's error page may echo them.
 */
const TOKEN_PIECES = (() => {
  const pieces = new Set<string>();
  for (let i = 0; i + 8 <= TOKEN.length; i++) pieces.add(TOKEN.slice(i, i + 8));
  for (const b64 of [Buffer.from(TOKEN).toString('base64'), Buffer.from(`Bearer ${TOKEN}`).toString('base64')])
    for (let i = 0; i + 16 <= b64.length - 4; i += 4) pieces.add(b64.slice(i, i + 16));
  return [...pieces];
})();

/**
 * The first piece of the token found in text, in any letter case (a header or a message may
 * have been case-folded on its way out: issue 18, defect 8), with its surroundings, or undefined.
 */
function tokenPiece(text: string): string | undefined {
  const folded = text.toLowerCase();
  for (const p of TOKEN_PIECES) {
    const at = folded.length === text.length ? folded.indexOf(p.toLowerCase()) : text.indexOf(p);
    if (at >= 0) return `${JSON.stringify(p)} in …${JSON.stringify(text.slice(Math.max(0, at - 60), at + 60))}…`;
  }
  return undefined;
}

function expectNoTokenPiece(text: string, what: string): void {
  expect(tokenPiece(text), `${what} holds a piece of the API token`).to.equal(undefined);
}

/** Every output collected in this process: runs through runTap/runChecked and the hand-spawned ones. */
function sweepAll(): { outputs: number; found: string[] } {
  const found: string[] = [];
  let outputs = 0;
  for (const o of [...allOutputs, ...everyRunOutput]) {
    outputs++;
    const piece = tokenPiece(o.text);
    if (piece) found.push(`${o.what}: ${piece}`);
  }
  return { outputs, found };
}

// After every test file of this mocha run (a root hook), not only this one: whatever ran
// before or after this file, no output of any run holds a piece of the token.
after(function () {
  this.timeout(60_000);
  const { found } = sweepAll();
  expect(found, 'outputs holding a piece of the API token').to.deep.equal([]);
});

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
      // verify_counts off: the faults aim at the events window and the aggregates stream's body.
      [
        '--config',
        config({ max_retries: 1, verify_counts: false }),
        '--catalog',
        writeJson(dir, 'c1.json', catalogFor(['events', 'aggregates'])),
      ],
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

  describe('a gateway page or a value echoing the token, cut or encoded', () => {
    const events = () => writeJson(dir, 'c-events.json', catalogFor(['events']));
    /** A Singer sync of events against `faults`: exit 1, and no piece of the token in its output. */
    async function singerFails(faults: Parameters<ScarfSimulator['setFaults']>[0], catalog = events()): Promise<TapRun> {
      sim.setFaults(faults);
      const run = await runChecked(['--config', config({ max_retries: 0 }), '--catalog', catalog], { env: DEBUG }, sim);
      expect(run.code, run.stderr).to.equal(1);
      expect(sim.requests.some((r) => r.fault === faults[0]!.kind)).to.equal(true);
      expectNoTokenPiece(run.stdout + run.stderr, 'Singer output');
      return run;
    }

    for (const echo of ['base64', 'base64-token', 'truncated'] as const) {
      it(`token-echo-html (${echo}): the page is quoted with the token masked`, async () => {
        const run = await singerFails([{ kind: 'token-echo-html', endpoint: 'events', echo }]);
        expect(run.stderr).to.match(/Scarf said: "<!DOCTYPE html>.*Authorization: [^"]*\*\*\*/);
      });
    }

    it('token-echo-html (plain) with the token across the 300-character clip of "Scarf said"', async () => {
      // The page's text before the token is 108 characters + the filler: the token starts at 295.
      const run = await singerFails([{ kind: 'token-echo-html', endpoint: 'events', offset: 295 - 108 }]);
      expect(run.stderr).to.match(/Scarf said: "<!DOCTYPE html>/);
    });

    it('token-echo-value: a CSV timestamp and an NDJSON number holding the token across the 80-character quote', async () => {
      let run = await singerFails([{ kind: 'token-echo-value', endpoint: 'events', column: 'time', offset: 70 }]);
      expect(run.stderr).to.match(/invalid timestamp "x{70}\*\*\*"/);
      run = await singerFails(
        [{ kind: 'token-echo-value', endpoint: 'aggregates', column: 'total', offset: 72 }],
        writeJson(dir, 'c-agg.json', catalogFor(['aggregates'])),
      );
      expect(run.stderr).to.match(/invalid integer "x{72}\*\*\*"/);
    });

    it('Airbyte check and read: CONNECTION_STATUS, LOG and TRACE messages hold no piece of the token', async () => {
      sim.setFaults([{ kind: 'token-echo-html', echo: 'truncated', times: 100 }]);
      const check = await runChecked(['check', '--config', config()], { env: DEBUG }, sim);
      expect(check.stdout).to.match(/CONNECTION_STATUS.*FAILED/);
      const configured = {
        streams: catalog()
          .streams.filter((s) => s.name === 'events' || s.name === 'aggregates')
          .map((stream) => ({ stream, sync_mode: 'full_refresh', destination_sync_mode: 'overwrite' })),
      };
      const cat = writeJson(dir, 'configured-echo.json', configured);
      sim.setFaults([
        { kind: 'token-echo-value', endpoint: 'events', column: 'time', offset: 75 },
        { kind: 'token-echo-value', endpoint: 'aggregates', offset: 76 },
      ]);
      const read = await runChecked(['read', '--config', config({ max_retries: 0 }), '--catalog', cat], { env: DEBUG }, sim);
      expect(read.code).to.equal(1);
      expect(read.messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'ERROR').length).to.be.greaterThan(0);
      for (const r of [check, read]) {
        expect(r.badLines).to.deep.equal([]);
        expectNoTokenPiece(r.stdout + r.stderr, `Airbyte ${r === check ? 'check' : 'read'}`);
      }
    });
  });

  describe('sweep (after the tests above)', () => {
    it('no output collected from any run in this process holds the token or any 8-character piece of it', () => {
      const { outputs, found } = sweepAll();
      expect(outputs).to.be.greaterThan(10);
      for (const o of allOutputs) expectNoToken(o.text, o.what);
      expect(found).to.deep.equal([]);
    });
  });
});
