import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { expect } from 'chai';

import { checkBaseUrl } from '../../src/config/base-url.js';
import { ApiError, ConfigError, DataError, RangeTooLongError, RequestBudgetReached, TransientError } from '../../src/errors.js';
import { Level, setLogSink } from '../../src/log.js';
import { ScarfClient, ScarfClientOptions } from '../../src/scarf/client.js';
import { readCsv } from '../../src/scarf/csv-rows.js';
import { aggregatesPath, buildUrl, companyEventsPath, companyRollupPath, eventsPath } from '../../src/scarf/endpoints.js';
import { readNdjson } from '../../src/scarf/ndjson-rows.js';
import { rejects } from '../helpers/assert.js';
import { TOKEN } from '../helpers/token.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

interface TestServer {
  url: string;
  requests: { url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function serve(handler: Handler): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res, requests.length);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const logs: { level: Level; message: string }[] = [];
let servers: TestServer[] = [];
let clients: ScarfClient[] = [];

async function setup(handler: Handler, opts: Partial<ScarfClientOptions> = {}) {
  const s = await serve(handler);
  servers.push(s);
  const client = new ScarfClient({
    baseUrl: s.url,
    token: TOKEN,
    userAgent: 'tap-scarf/test',
    timeoutMs: 2000,
    maxRetries: 3,
    maxRetryWaitMs: 60_000,
    maxConcurrent: 2,
    owner: 'acme',
    retryBaseMs: 5,
    ...opts,
  });
  clients.push(client);
  return { s, client };
}

function csvRows(client: ScarfClient, label = 'events 2026-11-01..2026-11-01', attempts: number[] = []) {
  return client.fetch(
    {
      endpoint: 'events',
      format: 'csv',
      path: eventsPath('acme'),
      query: { start_date: '2026-11-01', end_date: '2026-11-01' },
      label,
    },
    async (body, info) => {
      attempts.push(info.attempt);
      const rows: string[][] = [];
      await readCsv(body, { onHeader() {}, onRow: (f) => void rows.push(f) }, { label });
      return rows;
    },
  );
}

const CSV = 'id,type\ne1,a\ne2,b\n';

describe('scarf/client ScarfClient', function () {
  this.timeout(10000);

  before(() => {
    setLogSink((level, message) => logs.push({ level, message }));
  });
  after(() => {
    setLogSink((level, message) => void process.stderr.write(`${level} ${message}\n`));
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.close()));
    clients = [];
    servers = [];
    // The token must never reach a log line, whatever the test did.
    for (const l of logs) expect(l.message).to.not.contain(TOKEN);
    logs.length = 0;
  });

  it('sends an authenticated GET and hands the body to consume', async () => {
    const { s, client } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end(CSV);
    });
    const rows = await csvRows(client);
    expect(rows).to.deep.equal([
      ['e1', 'a'],
      ['e2', 'b'],
    ]);
    expect(s.requests).to.have.length(1);
    const r = s.requests[0]!;
    expect(r.url).to.equal('/v2/packages/acme/events?start_date=2026-11-01&end_date=2026-11-01');
    expect(r.headers.authorization).to.equal(`Bearer ${TOKEN}`);
    expect(r.headers['user-agent']).to.equal('tap-scarf/test');
    expect(r.headers.accept).to.equal('text/csv');
    expect(client.requestCount).to.equal(1);
    expect(client.requestsByEndpoint).to.deep.equal({ events: 1 });
    const metrics = logs.filter((l) => l.message.startsWith('METRIC: ')).map((l) => JSON.parse(l.message.slice(8)));
    expect(metrics).to.have.length(1);
    expect(metrics[0]).to.deep.include({ type: 'timer', metric: 'http_request_duration' });
    expect(metrics[0].tags).to.deep.equal({ endpoint: 'events', http_status_code: 200, status: 'succeeded' });
    expect(metrics[0].value).to.be.a('number');
  });

  it('repeats array query params and asks aggregates for NDJSON', async () => {
    const { s, client } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"total":1}\n{"total":2}\n');
    });
    const objs = await client.fetch(
      {
        endpoint: 'aggregates',
        format: 'ndjson',
        path: aggregatesPath('acme'),
        query: {
          start_date: '2026-11-01',
          end_date: '2026-11-07',
          query: undefined,
          rollup: ['daily'],
          breakdown: ['by-company', 'by-country'],
        },
        label: 'aggregates',
      },
      async (body) => {
        const out: unknown[] = [];
        await readNdjson(body, { onObject: (o) => void out.push(o) });
        return out;
      },
    );
    expect(objs).to.have.length(2);
    expect(s.requests[0]!.url).to.equal(
      '/v2/packages/acme/aggregates?start_date=2026-11-01&end_date=2026-11-07&rollup=daily&breakdown=by-company&breakdown=by-country',
    );
    expect(s.requests[0]!.headers.accept).to.equal('application/x-ndjson');
  });

  it('429 with Retry-After seconds, then success', async () => {
    const { client } = await setup((_req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '2', 'content-type': 'application/json' });
        res.end('{"message":"slow down"}');
      } else res.end(CSV);
    });
    const t0 = Date.now();
    expect(await csvRows(client)).to.have.length(2);
    expect(Date.now() - t0).to.be.at.least(9); // 2 s × (5 ms / 1000 ms)
    expect(client.requestCount).to.equal(2);
    const warns = logs.filter((l) => l.level === 'WARNING');
    expect(warns).to.have.length(1);
    expect(warns[0]!.message).to.match(
      /^events 2026-11-01\.\.2026-11-01: attempt 1 failed \(HTTP 429\); retry 1 of 3 in 0\.010 s$/,
    );
    const metrics = logs.filter((l) => l.message.startsWith('METRIC: ')).map((l) => JSON.parse(l.message.slice(8)).tags);
    expect(metrics).to.deep.equal([
      { endpoint: 'events', http_status_code: 429, status: 'failed' },
      { endpoint: 'events', http_status_code: 200, status: 'succeeded' },
    ]);
  });

  it('429 with an HTTP-date Retry-After, then success', async () => {
    const { client } = await setup((_req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': new Date(Date.now() + 3000).toUTCString() });
        res.end();
      } else res.end(CSV);
    });
    expect(await csvRows(client)).to.have.length(2);
    expect(client.requestCount).to.equal(2);
    expect(logs.find((l) => l.level === 'WARNING')!.message).to.match(/HTTP 429/);
  });

  it('500 then success', async () => {
    const { client } = await setup((_req, res, n) => {
      res.writeHead(n === 1 ? 500 : 200);
      res.end(n === 1 ? 'oops' : CSV);
    });
    expect(await csvRows(client)).to.have.length(2);
    expect(client.requestCount).to.equal(2);
  });

  it('max_requests_per_sync: a retry past the budget is not sent, and says which setting stopped it', async () => {
    const { s, client } = await setup(
      (_req, res) => {
        res.writeHead(500);
        res.end('oops');
      },
      { maxRequests: 2 },
    );
    const err = await rejects(csvRows(client));
    expect(err).to.be.instanceOf(RequestBudgetReached);
    expect((err as Error).message).to.equal(
      'max_requests_per_sync (2) is spent: events 2026-11-01..2026-11-01 was not requested',
    );
    // Each attempt is a request (a Run): the first and its retry; the second retry is refused.
    expect(s.requests).to.have.length(2);
    expect(client.requestCount).to.equal(2);
    expect(await rejects(csvRows(client))).to.be.instanceOf(RequestBudgetReached);
    expect(s.requests).to.have.length(2);
  });

  it('a reset mid-body re-issues the request and calls consume again', async () => {
    const attempts: number[] = [];
    const { client } = await setup((_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '1000' });
        res.write('id,type\ne1,a\ne2,');
        setTimeout(() => res.socket?.destroy(), 20);
      } else res.end(CSV);
    });
    expect(await csvRows(client, 'events w', attempts)).to.deep.equal([
      ['e1', 'a'],
      ['e2', 'b'],
    ]);
    expect(attempts).to.deep.equal([1, 2]);
    expect(client.requestCount).to.equal(2);
    expect(logs.find((l) => l.level === 'WARNING')!.message).to.match(
      /^events w: attempt 1 failed \(incomplete body: .*\); retry 1 of 3/,
    );
  });

  it('a close-delimited body cut mid-row is retried', async () => {
    const attempts: number[] = [];
    const { client } = await setup((req, res, n) => {
      if (n === 1) {
        req.socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\nid,type\ne1,a\ne2');
      } else res.end(CSV);
    });
    expect(await csvRows(client, 'events w', attempts)).to.have.length(2);
    expect(attempts).to.deep.equal([1, 2]);
  });

  it('a response that never comes (headers timeout) and a silent body (body timeout) are retried', async () => {
    const { client } = await setup(
      (_req, res, n) => {
        if (n === 1) return; // never answer
        if (n === 2) {
          res.writeHead(200, { 'content-type': 'text/csv' });
          res.write('id,type\ne1,a\n'); // then silence
          return;
        }
        res.end(CSV);
      },
      { timeoutMs: 150 },
    );
    expect(await csvRows(client)).to.have.length(2);
    expect(client.requestCount).to.equal(3);
    const warns = logs.filter((l) => l.level === 'WARNING').map((l) => l.message);
    expect(warns[0]).to.match(/UND_ERR_HEADERS_TIMEOUT/);
    expect(warns[1]).to.match(/incomplete body.*UND_ERR_BODY_TIMEOUT/);
  });

  it('exhausted retries → TransientError naming label, attempts and last reason', async () => {
    const { client } = await setup(
      (_req, res) => {
        res.writeHead(503);
        res.end();
      },
      { maxRetries: 2 },
    );
    const err = await rejects(csvRows(client, 'events 2026-11-01..2026-11-03'));
    expect(err).to.be.instanceOf(TransientError);
    expect(err.message).to.match(/^events 2026-11-01\.\.2026-11-03: giving up after 3 attempts .*last failure: HTTP 503$/);
    expect(client.requestCount).to.equal(3);
    expect(logs.filter((l) => l.level === 'WARNING')).to.have.length(2);
  });

  it('connection refused on loopback is final at once (ConfigError, one request)', async () => {
    const s = await serve(() => {});
    await s.close();
    const client = new ScarfClient({
      baseUrl: s.url,
      token: TOKEN,
      userAgent: 'ua',
      timeoutMs: 1000,
      maxRetries: 1,
      maxRetryWaitMs: 1000,
      maxConcurrent: 1,
      retryBaseMs: 5,
    });
    clients.push(client);
    const err = await rejects(csvRows(client, 'events x'));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.match(/refused the connection \(ECONNREFUSED: nothing listens on that port of this machine\)/);
    expect(client.requestCount).to.equal(1);
  });

  it('the total wait budget ends the retries', async () => {
    const { client } = await setup(
      (_req, res) => {
        res.writeHead(429, { 'retry-after': '10' }); // 50 ms at the test scale
        res.end();
      },
      { maxRetries: 10, maxRetryWaitMs: 60 },
    );
    const err = await rejects(csvRows(client));
    expect(err).to.be.instanceOf(TransientError);
    // Waits 50 ms; the next Retry-After (50 ms) exceeds the 10 ms left: no early, billed retry.
    expect(client.requestCount).to.equal(2);
  });

  const errorCases: { name: string; status: number; body: string; cls: typeof ApiError; re: RegExp; failure: string }[] = [
    {
      name: '401',
      status: 401,
      body: '{"message":"Unauthorized"}',
      cls: ApiError,
      re: /Scarf rejected the API token \(HTTP 401\)\. Check the api_token setting/,
      failure: 'config_error',
    },
    {
      name: '403 bad token',
      status: 403,
      body: '{"message":"Forbidden"}',
      cls: ApiError,
      re: /Scarf rejected the API token \(HTTP 403\)\. Check the api_token setting/,
      failure: 'config_error',
    },
    {
      name: '403 not-a-pro-member',
      status: 403,
      body: '{"message":"not a pro member","code":"not-a-pro-member"}',
      cls: ApiError,
      re: /owner 'acme' is not eligible for data export/,
      failure: 'config_error',
    },
    {
      name: '403 not eligible wording',
      status: 403,
      body: '{"message":"Your plan is not eligible for export"}',
      cls: ApiError,
      re: /not eligible for data export/,
      failure: 'config_error',
    },
    {
      name: '404',
      status: 404,
      body: '{"message":"Not found","code":"not-found"}',
      cls: ApiError,
      re: /owner 'acme' or package not found: check the owner setting \(Scarf user or organization name\)/,
      failure: 'config_error',
    },
    {
      name: '400 range-too-long',
      status: 400,
      body: '{"message":"Range too long","code":"range-too-long"}',
      cls: RangeTooLongError,
      re: /400 range-too-long/,
      failure: 'system_error',
    },
    {
      name: '400 invalid-package-query',
      status: 400,
      body: '{"message":"bad query","code":"invalid-package-query"}',
      cls: ApiError,
      re: /package_query setting/,
      failure: 'config_error',
    },
    {
      name: '418 non-JSON',
      status: 418,
      body: '<html>teapot</html>',
      cls: ApiError,
      re: /HTTP 418\. Scarf said: "<html>teapot<\/html>"/,
      failure: 'system_error',
    },
    {
      name: '422 with code',
      status: 422,
      body: '{"message":"Bad dates","code":"weird"}',
      cls: ApiError,
      re: /HTTP 422 weird\. Scarf said: "Bad dates"/,
      failure: 'system_error',
    },
  ];
  for (const c of errorCases) {
    it(`${c.name} → ${c.cls.name} with a message saying what to fix, no retry`, async () => {
      const { client } = await setup((_req, res) => {
        res.writeHead(c.status, { 'content-type': 'application/json' });
        res.end(c.body);
      });
      const err = await rejects(csvRows(client, 'events d'));
      expect(err).to.be.instanceOf(c.cls);
      expect(err.message).to.match(c.re);
      expect(err.message).to.match(/^events d: /);
      expect((err as ApiError).status).to.equal(c.status);
      expect((err as ApiError).endpoint).to.equal('events');
      expect((err as ApiError).failureType).to.equal(c.failure);
      expect(client.requestCount).to.equal(1);
      const m = logs.filter((l) => l.message.startsWith('METRIC: ')).map((l) => JSON.parse(l.message.slice(8)).tags);
      expect(m).to.deep.equal([{ endpoint: 'events', http_status_code: c.status, status: 'failed' }]);
    });
  }

  it('404 on company events names the domain and the company_domains setting', async () => {
    const { s, client } = await setup((_req, res) => {
      res.writeHead(404);
      res.end('{"code":"not-found","message":"no"}');
    });
    const err = await rejects(
      client.fetch(
        {
          endpoint: 'company-events',
          format: 'csv',
          path: companyEventsPath('acme', 'foo.com'),
          label: 'company_events foo.com',
          domain: 'foo.com',
        },
        async () => 0,
      ),
    );
    expect(err.message).to.match(/company domain 'foo.com' not found: check the owner setting .* company_domains setting/);
    expect(s.requests[0]!.url).to.equal('/v2/companies/acme/foo.com/events');
  });

  it('a DataError from consume is not retried', async () => {
    const { client } = await setup((_req, res) => {
      res.end('id,type\ne1\n');
    });
    const err = await rejects(csvRows(client));
    expect(err).to.be.instanceOf(DataError);
    expect(client.requestCount).to.equal(1);
  });

  it('never puts the token in an error message or log line, even when Scarf echoes it', async () => {
    const { client } = await setup((req, res, n) => {
      if (n === 1) {
        res.writeHead(500);
        res.end(`upstream said ${req.headers.authorization}`);
      } else {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `bad header ${req.headers.authorization}`, code: 'oops' }));
      }
    });
    const err = await rejects(csvRows(client));
    expect(err).to.be.instanceOf(ApiError);
    expect(err.message).to.contain('***');
    expect(err.message).to.not.contain(TOKEN);
    expect(String(err.stack)).to.not.contain(TOKEN);
  });

  it('keeps at most maxConcurrent requests in flight and counts them all', async () => {
    let inFlight = 0;
    let peak = 0;
    const { client } = await setup(
      (_req, res) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        setTimeout(() => {
          inFlight--;
          res.end(CSV);
        }, 30);
      },
      { maxConcurrent: 2 },
    );
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => csvRows(client, `events ${i}`)));
    expect(results.every((r) => r.length === 2)).to.equal(true);
    expect(peak).to.equal(2);
    expect(client.requestCount).to.equal(5);
    expect(client.requestsByEndpoint.events).to.equal(5);
  });

  it('keeps a base_url path prefix', async () => {
    const { s } = await setup((_req, res) => res.end(CSV));
    const client = new ScarfClient({
      baseUrl: s.url + '/scarf/',
      token: TOKEN,
      userAgent: 'ua',
      timeoutMs: 1000,
      maxRetries: 0,
      maxRetryWaitMs: 0,
      maxConcurrent: 1,
      retryBaseMs: 5,
    });
    clients.push(client);
    await client.fetch(
      { endpoint: 'company-rollup', format: 'csv', path: companyRollupPath('acme'), label: 'company_rollup' },
      async (b) => {
        await readCsv(b, { onHeader() {}, onRow() {} });
      },
    );
    expect(s.requests[0]!.url).to.equal('/scarf/v2/packages/acme/company-rollup');
    expect(client.buildUrl('/x', { a: 'b c' })).to.equal(s.url + '/scarf/x?a=b%20c');
  });
});

describe('scarf/endpoints and checkBaseUrl', () => {
  it('encodes path segments and query values', () => {
    expect(eventsPath('my org/x')).to.equal('/v2/packages/my%20org%2Fx/events');
    expect(companyEventsPath('acme', 'a.b/c?d')).to.equal('/v2/companies/acme/a.b%2Fc%3Fd/events');
    expect(
      buildUrl('https://api.scarf.sh/', eventsPath('acme'), {
        start_date: '2026-11-01',
        query: 'a&b=c',
        x: undefined,
        breakdown: ['a', 'b'],
      }),
    ).to.equal('https://api.scarf.sh/v2/packages/acme/events?start_date=2026-11-01&query=a%26b%3Dc&breakdown=a&breakdown=b');
    expect(buildUrl('https://api.scarf.sh', '/p', {})).to.equal('https://api.scarf.sh/p');
  });

  it('allows https anywhere and http only on loopback', () => {
    for (const ok of [
      'https://api.scarf.sh',
      'https://example.com:8443/prefix',
      'http://127.0.0.1:8080',
      'http://127.5.6.7',
      'http://localhost:3000',
      'http://[::1]:9999/',
    ]) {
      expect(() => checkBaseUrl(ok), ok).to.not.throw();
    }
    for (const bad of [
      'http://api.scarf.sh',
      'http://10.0.0.1',
      'http://127.0.0.1.evil.com',
      'ftp://api.scarf.sh',
      'not a url',
      'https://u:p@api.scarf.sh',
      'https://api.scarf.sh/?x=1',
    ]) {
      expect(() => checkBaseUrl(bad), bad).to.throw(ConfigError, /base_url/);
    }
    expect(() => checkBaseUrl('http://api.scarf.sh')).to.throw(
      /unencrypted.*loopback address \(127\.0\.0\.1, localhost, \[::1\]\)/,
    );
    expect(
      () =>
        new ScarfClient({
          baseUrl: 'http://api.scarf.sh',
          token: TOKEN,
          userAgent: 'ua',
          timeoutMs: 1,
          maxRetries: 0,
          maxRetryWaitMs: 0,
          maxConcurrent: 1,
          retryBaseMs: 5,
        }),
    ).to.throw(ConfigError);
  });
});

void sleep;
