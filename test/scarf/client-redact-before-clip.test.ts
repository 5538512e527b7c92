// An error answer is read only up to 64 KiB. Redaction masks whole tokens only, so a token
// cut at that limit would slip through as a fragment: the cut end must go before any wording.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';

import { ApiError } from '../../src/errors.js';
import { ScarfClient } from '../../src/scarf/client.js';
import { eventsPath } from '../../src/scarf/endpoints.js';
import { rejects } from '../helpers/assert.js';

const TOKEN = 'tok-SECRET-0123456789abcdef-cut-here-do-not-print';
const LABEL = 'events 2026-11-01..2026-11-01';

describe('scarf/client: an error body cut at its read limit never quotes a fragment of the token', () => {
  let server: http.Server;
  let client: ScarfClient;
  afterEach(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function answer(first: string, rest: string): Promise<Error> {
    server = http.createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain' });
      // The first 64 KiB end inside the token; the rest follows later, so the read limit falls exactly there.
      res.write(first, () => setTimeout(() => res.end(rest), 200));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = new ScarfClient({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      token: TOKEN,
      userAgent: 'tap-scarf/test',
      timeoutMs: 5000,
      maxRetries: 0,
      maxRetryWaitMs: 0,
      maxConcurrent: 1,
      owner: 'acme',
    });
    return rejects(
      client.fetch({ endpoint: 'events', format: 'csv', path: eventsPath('acme'), label: LABEL }, async () => undefined),
    );
  }

  it('padding, then the token split by the 64 KiB limit: the fragment is not quoted', async () => {
    const piece = TOKEN.slice(0, TOKEN.length - 3);
    const err = await answer(' '.repeat(64 * 1024 - piece.length) + piece, TOKEN.slice(-3) + ' is not valid');
    expect(err).to.be.instanceOf(ApiError);
    expect(err.message).not.to.include('SECRET');
    expect(err.message).to.equal(
      `${LABEL}: Scarf rejected the API token (HTTP 403). Check the api_token setting: it must be a current Scarf API token ` +
        "(app.scarf.sh → account settings → API tokens) of a user who can access owner 'acme'.",
    );
  });

  it('text before the cut is still quoted', async () => {
    const piece = TOKEN.slice(0, 10);
    const err = await answer('Forbidden for this token:' + ' '.repeat(64 * 1024 - 25 - piece.length) + piece, TOKEN.slice(10));
    expect(err.message).not.to.include('SECRET');
    expect(err.message).to.match(/Scarf said: "Forbidden for this token:"\.$/);
  });
});
