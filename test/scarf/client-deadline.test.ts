// ScarfClient's per-request deadline (deadlineMs, from request_deadline_seconds): what its
// clock counts and what it does not, against a real HTTP server on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { expect } from 'chai';

import { TransientError } from '../../src/errors.js';
import { Level, setLogSink } from '../../src/log.js';
import { ScarfClient, type ScarfClientOptions } from '../../src/scarf/client.js';
import { readCsv } from '../../src/scarf/csv-rows.js';
import { eventsPath } from '../../src/scarf/endpoints.js';
import { rejects } from '../helpers/assert.js';
import { TOKEN } from '../helpers/token.js';

const LABEL = 'events 2026-11-01..2026-11-01';
const CSV = 'id,type\ne1,a\ne2,b\n';

describe('scarf/client: per-request deadline', function () {
  this.timeout(20_000);
  const logs: { level: Level; message: string }[] = [];
  let server: http.Server | undefined;
  let client: ScarfClient | undefined;
  let requests = 0;

  before(() => {
    setLogSink((level, message) => logs.push({ level, message }));
  });
  after(() => {
    setLogSink((level, message) => void process.stderr.write(`${level} ${message}\n`));
  });
  afterEach(async () => {
    await client?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server!.close(() => r()));
    }
    server = client = undefined;
    requests = 0;
    for (const l of logs) expect(l.message).to.not.contain(TOKEN);
    logs.length = 0;
  });

  async function setup(
    handler: (res: http.ServerResponse, n: number) => void,
    opts: Partial<ScarfClientOptions>,
  ): Promise<ScarfClient> {
    server = http.createServer((_req, res) => handler(res, ++requests));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    client = new ScarfClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: TOKEN,
      userAgent: 'tap-scarf/test',
      timeoutMs: 5000,
      maxRetries: 1,
      maxRetryWaitMs: 60_000,
      maxConcurrent: 1,
      retryBaseMs: 5,
      ...opts,
    });
    return client;
  }

  const fetchRows = (c: ScarfClient, beforeReading = 0) =>
    c.fetch({ endpoint: 'events', format: 'csv', path: eventsPath('acme'), label: LABEL }, async (body) => {
      if (beforeReading) await sleep(beforeReading); // as a window waiting for its turn to write
      const rows: string[][] = [];
      await readCsv(body, { onHeader() {}, onRow: (f) => void rows.push(f) }, { label: LABEL });
      return rows;
    });

  /** A body that sends a byte every 20 ms: never idle for the 5 s timeout, never done. */
  const trickle = (res: http.ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.write('id,type\n');
    const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('x')), 20);
    res.on('close', () => clearInterval(t));
  };

  it('a trickled body ends at the deadline: a failed attempt, retried, then TransientError naming request_deadline_seconds', async () => {
    const c = await setup(trickle, { deadlineMs: 1000 });
    const err = await rejects(fetchRows(c));
    expect(err).to.be.instanceOf(TransientError);
    expect(err.message).to.equal(
      `${LABEL}: giving up after 2 attempts (max_retries 1, 0 s waited of max_retry_wait_seconds 60); last failure: ` +
        'no complete answer within request_deadline_seconds (1 s); raise request_deadline_seconds if one window of this export is just very large or the connection slow',
    );
    expect(requests).to.equal(2);
    expect(logs.filter((l) => l.level === 'WARNING').map((l) => l.message.replace(/in \d+\.\d{3} s$/, 'in … s'))).to.deep.equal([
      `${LABEL}: attempt 1 failed (no complete answer within request_deadline_seconds (1 s)); retry 1 of 1 in … s`,
    ]);
  });

  it('a consumer iterating the body itself (no body reader) also gets the deadline failure, not the raw abort', async () => {
    const c = await setup(trickle, { deadlineMs: 1000, maxRetries: 0 });
    const err = await rejects(
      c.fetch({ endpoint: 'events', format: 'csv', path: eventsPath('acme'), label: LABEL }, async (body) => {
        let n = 0;
        for await (const chunk of body as AsyncIterable<Buffer>) n += chunk.length;
        return n;
      }),
    );
    expect(err).to.be.instanceOf(TransientError);
    expect(err.message).to.match(
      /giving up after 1 attempt .*last failure: no complete answer within request_deadline_seconds \(1 s\); raise/,
    );
  });

  it('headers that never come within the deadline count too (the deadline is shorter than the headers timeout)', async () => {
    const c = await setup(() => undefined, { deadlineMs: 1000, maxRetries: 0 });
    const err = await rejects(fetchRows(c));
    expect(err.message).to.match(
      /giving up after 1 attempt .*last failure: no complete answer within request_deadline_seconds \(1 s\)/,
    );
  });

  it('time a 2xx body waits unread before consume reads it does not count', async () => {
    const c = await setup(
      (res) => {
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end(CSV);
      },
      { deadlineMs: 1000, maxRetries: 0 },
    );
    expect(await fetchRows(c, 1500)).to.deep.equal([
      ['e1', 'a'],
      ['e2', 'b'],
    ]);
    expect(requests).to.equal(1);
  });

  it('no deadline when deadlineMs is unset: a slow but finishing body is read to its end', async () => {
    const c = await setup((res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      const parts = CSV.split('');
      const t = setInterval(() => (parts.length ? res.write(parts.shift()!) : (clearInterval(t), res.end())), 60);
    }, {});
    expect(await fetchRows(c)).to.deep.equal([
      ['e1', 'a'],
      ['e2', 'b'],
    ]);
  });
});
