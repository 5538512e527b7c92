// Failures to reach the server at all — https to a plain-http port, a certificate Node does
// not trust, nothing listening, a host that does not resolve — end the run with one readable
// line naming base_url, never raw OpenSSL text, and leave the bookmarks as they were.
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';

import { expect } from 'chai';

import { connectionProblem } from '../../src/scarf/client.js';
import { eventsBookmark } from '../helpers/bookmarks.js';
import { catalogFor, runChecked, runCheckedInProcess, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { repoRoot, type TapRun, writeJson } from '../helpers/tap.js';

const DAY = '2026-10-01';
const LABEL = `events ${DAY}..${DAY}`;
const STATE = { bookmarks: { events: eventsBookmark('2026-09-30T00:00:00.000000Z', DAY) } };
const CERT = path.join(repoRoot, 'test', 'fixtures', 'tls-self-signed-127.0.0.1.crt');
const KEY = path.join(repoRoot, 'test', 'fixtures', 'tls-self-signed-127.0.0.1.key');

function lastLine(run: TapRun): string {
  const lines = run.stderr.trimEnd().split('\n');
  return lines[lines.length - 1]!;
}

describe('scarf client: connection failures are one readable line naming base_url (Singer, end to end)', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    { seed: 3, token: TOKEN, dataStart: '2026-09-01', dataEnd: '2026-10-31', now: new Date('2026-10-07T12:00:00Z') },
    // verify_counts off: the first request is then the events window the messages name.
    { start_date: DAY, end_date: DAY, events_window_days: 1, max_retries: 1, verify_counts: false },
    'tap-scarf-connect-',
  );

  async function runEvents(baseUrl: string, env: Record<string, string> = {}): Promise<TapRun> {
    // Node reads NODE_EXTRA_CA_CERTS when a process starts: that case needs its own.
    const run = await (env.NODE_EXTRA_CA_CERTS ? runChecked : runCheckedInProcess)(
      [
        '--config',
        suite.config({ base_url: baseUrl }),
        '--catalog',
        writeJson(suite.dir, 'cat-events.json', catalogFor(['events'])),
        '--state',
        writeJson(suite.dir, 'state.json', STATE),
      ],
      { env },
    );
    expect(run.badLines).to.deep.equal([]);
    expect(run.messages.filter((m) => m.type === 'RECORD')).to.deep.equal([]);
    for (const m of run.messages.filter((m) => m.type === 'STATE')) expect(m.value, 'the bookmark stays').to.deep.equal(STATE);
    expect(run.stderr, 'no OpenSSL internals').not.to.match(/SSL routines|openssl|\.c:\d+/i);
    expect(run.stderr, 'no blank line').not.to.match(/\n\s*\n/);
    return run;
  }

  it('https:// to the plain-http simulator: "the server does not speak https", exit 1, no request reached the API', async () => {
    const host = new URL(suite.sim.url).host;
    const run = await runEvents(`https://${host}`);
    expect(run.code).to.equal(1);
    expect(lastLine(run)).to.equal(
      `ERROR 1 of 1 stream(s) failed: events: ${LABEL}: TLS handshake with ${host} failed: the server does not speak https. ` +
        `Check the base_url setting (https://${host}): use http://${host} for a plain-http server on this machine such as the bundled simulator.`,
    );
    expect(suite.sim.requests).to.deep.equal([]);
  });

  describe('a TLS server whose certificate Node does not trust', () => {
    let server: https.Server;
    let host = '';
    let seen = 0;
    before(async () => {
      server = https.createServer({ cert: fs.readFileSync(CERT), key: fs.readFileSync(KEY) }, (_req, res) => {
        seen++;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'unauthorized', message: 'Invalid or missing API token' }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));

    it('self-signed: names the certificate problem, base_url and NODE_EXTRA_CA_CERTS; exit 1, not retried', async () => {
      seen = 0;
      const run = await runEvents(`https://${host}`);
      expect(run.code).to.equal(1);
      expect(lastLine(run)).to.equal(
        `ERROR 1 of 1 stream(s) failed: events: ${LABEL}: the TLS certificate of ${host} was not accepted ` +
          `(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate). Check the base_url setting (https://${host}); ` +
          'behind a proxy that inspects TLS, give Node its CA certificate with the NODE_EXTRA_CA_CERTS environment variable.',
      );
      expect(run.stderr).not.to.match(/attempt 1 failed/);
      expect(seen).to.equal(0);
    });

    it('the advice works: with NODE_EXTRA_CA_CERTS naming that certificate the request gets through', async () => {
      seen = 0;
      const run = await runEvents(`https://${host}`, { NODE_EXTRA_CA_CERTS: CERT });
      expect(run.code).to.equal(1);
      expect(lastLine(run)).to.match(
        new RegExp(`^ERROR 1 of 1 stream\\(s\\) failed: events: ${LABEL}: Scarf rejected the API token \\(HTTP 401\\)`),
      );
      expect(seen).to.equal(1);
    });
  });

  it('nothing listening on a port of this machine (127.0.0.1 or [::1]): no retry, one line naming the port and base_url (issue 18)', async () => {
    for (const [listen, host] of [
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '[::1]'],
    ] as const) {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, listen, r));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const run = await runEvents(`http://${host}:${port}`);
      expect(run.code).to.equal(1);
      expect(run.stderr).not.to.match(/attempt 1 failed/);
      expect(lastLine(run)).to.equal(
        `ERROR 1 of 1 stream(s) failed: events: ${LABEL}: ${host}:${port} refused the connection (ECONNREFUSED: nothing listens on that port of this machine); start the server there (such as tap-scarf-sim) or check the base_url setting (http://${host}:${port})`,
      );
    }
  });

  it('a refusal from another host is still retried (a server may be restarting)', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:443'), { code: 'ECONNREFUSED' });
    expect(connectionProblem(e, 'https://10.0.0.7')).to.deep.equal({
      final: false,
      message:
        '10.0.0.7:443 refused the connection (ECONNREFUSED: nothing listens there); check the base_url setting (https://10.0.0.7)',
    });
  });
});

describe('scarf client: connectionProblem wording (errors as Node and undici raise them)', () => {
  const err = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('a host that does not resolve: final, names the host and base_url', () => {
    expect(connectionProblem(err('ENOTFOUND', 'getaddrinfo ENOTFOUND api.scraf.sh'), 'https://api.scraf.sh')).to.deep.equal({
      final: true,
      message:
        'the host api.scraf.sh of the base_url setting (https://api.scraf.sh) does not resolve (ENOTFOUND); check base_url.',
    });
  });

  it('https to a plain-http port elsewhere than loopback: points at https://api.scarf.sh, whatever way OpenSSL words it', () => {
    for (const e of [
      err(
        'ERR_SSL_WRONG_VERSION_NUMBER',
        '80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:354:\n',
      ),
      err('EPROTO', 'write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:\n'),
      err('ERR_SSL_PACKET_LENGTH_TOO_LONG', 'C0:error:0A0000C6:SSL routines:tls_get_more_records:packet length too long'),
    ]) {
      expect(connectionProblem(e, 'https://scarf.example.com:8080')).to.deep.equal({
        final: true,
        message:
          "TLS handshake with scarf.example.com:8080 failed: the server does not speak https. Check the base_url setting (https://scarf.example.com:8080): it must name an https server; Scarf's API is https://api.scarf.sh.",
      });
    }
  });

  it('a name mismatch and other TLS failures: one line, final', () => {
    const alt = connectionProblem(
      err(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: Host: api.scarf.sh. is not in the cert's altnames: DNS:*.example.com",
      ),
      'https://api.scarf.sh',
    );
    expect(alt!.final).to.equal(true);
    expect(alt!.message).to.match(
      /^the TLS certificate of api\.scarf\.sh:443 was not accepted \(ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match/,
    );
    const other = connectionProblem(
      err(
        'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
        'C0:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:\n',
      ),
      'https://api.scarf.sh',
    );
    expect(other).to.deep.equal({
      final: true,
      message:
        'TLS handshake with api.scarf.sh:443 failed (ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: tlsv1 alert protocol version). Check the base_url setting (https://api.scarf.sh).',
    });
  });

  it('passing failures (DNS down, connect timeout, unreachable) are retried and name base_url', () => {
    expect(connectionProblem(err('EAI_AGAIN', 'getaddrinfo EAI_AGAIN api.scarf.sh'), 'https://api.scarf.sh')).to.deep.equal({
      final: false,
      message:
        'looking up the host api.scarf.sh of the base_url setting (https://api.scarf.sh) failed for now (EAI_AGAIN: DNS unavailable)',
    });
    expect(connectionProblem(err('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'), 'https://api.scarf.sh')!.message).to.equal(
      'no connection to api.scarf.sh:443 within request_timeout_seconds (UND_ERR_CONNECT_TIMEOUT); check the base_url setting (https://api.scarf.sh) and the network',
    );
    expect(connectionProblem(err('ENETUNREACH', 'connect ENETUNREACH 10.0.0.1:443'), 'https://10.0.0.1')).to.deep.equal({
      final: false,
      message: '10.0.0.1:443 is unreachable (ENETUNREACH); check the base_url setting (https://10.0.0.1) and the network',
    });
  });

  it('anything else is not a connection problem', () => {
    expect(connectionProblem(err('ECONNRESET', 'other side closed'), 'https://api.scarf.sh')).to.equal(undefined);
    expect(connectionProblem(new Error('boom'), 'https://api.scarf.sh')).to.equal(undefined);
  });
});
