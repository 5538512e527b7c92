// The failure table (src/scarf/failures.ts): what a failed transport or a failed 2xx body
// makes the client do, and the words it says. End to end the words are asserted in
// scarf/client*.test.ts and reliability/*.test.ts; here each row, from errors shaped as Node
// and undici raise them.
import { expect } from 'chai';

import {
  AbortedError,
  DataError,
  IncompleteBodyError,
  NotAnExportError,
  RecordLimitReached,
  TapError,
} from '../../src/errors.js';
import { registerSecret } from '../../src/log.js';
import { classifyBody, classifyTransport, FAILURE_TABLE, transportFailure, type Verdict } from '../../src/scarf/failures.js';

function err(code: string | undefined, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code }, extra);
}

const REMOTE = 'https://api.scarf.sh';
const LOCAL = 'http://127.0.0.1:8080';

function transport(e: unknown, base = REMOTE, expired = false): Verdict {
  return classifyTransport(transportFailure(e, base, { expired, seconds: 30 }));
}

function body(e: unknown, expired = false): Verdict {
  return classifyBody(transportFailure(e, REMOTE, { expired, seconds: 30 }));
}

const DEADLINE: Verdict = {
  action: 'retry',
  reason: 'no complete answer within request_deadline_seconds (30 s)',
  hint: '; raise request_deadline_seconds if one window of this export is just very large or the connection slow',
};

describe('scarf/failures: one table from a transport or body failure to retry, fail or pass', () => {
  describe('transport (the request failed before an answer)', () => {
    const cases: [string, unknown, string, Verdict][] = [
      ['a passed deadline, whatever the error', err('ECONNRESET', 'aborted'), REMOTE, DEADLINE],
      [
        'a self-signed certificate',
        err('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate\n'),
        'https://scarf.example.com:8443',
        {
          action: 'fail',
          failureType: 'config_error',
          message:
            'the TLS certificate of scarf.example.com:8443 was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate). ' +
            'Check the base_url setting (https://scarf.example.com:8443); behind a proxy that inspects TLS, give Node its CA certificate with the NODE_EXTRA_CA_CERTS environment variable.',
        },
      ],
      [
        'https to a plain-http port on this machine',
        err(
          'ERR_SSL_WRONG_VERSION_NUMBER',
          '4000B8F9:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record.c:355:\n',
        ),
        'https://127.0.0.1:8080',
        {
          action: 'fail',
          failureType: 'config_error',
          message:
            'TLS handshake with 127.0.0.1:8080 failed: the server does not speak https. Check the base_url setting (https://127.0.0.1:8080): ' +
            'use http://127.0.0.1:8080 for a plain-http server on this machine such as the bundled simulator.',
        },
      ],
      [
        'https to a plain-http port of another host',
        err('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'),
        'https://scarf.example.com',
        {
          action: 'fail',
          failureType: 'config_error',
          message:
            "TLS handshake with scarf.example.com:443 failed: the server does not speak https. Check the base_url setting (https://scarf.example.com): it must name an https server; Scarf's API is https://api.scarf.sh.",
        },
      ],
      [
        'another TLS failure: OpenSSL reason words only',
        err(
          'EPROTO',
          '4000B8F9:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../ssl/record/rec_layer_s3.c:1586:',
        ),
        REMOTE,
        {
          action: 'fail',
          failureType: 'config_error',
          message:
            'TLS handshake with api.scarf.sh:443 failed (EPROTO: sslv3 alert handshake failure). Check the base_url setting (https://api.scarf.sh).',
        },
      ],
      [
        'ENOTFOUND',
        err('ENOTFOUND', 'getaddrinfo ENOTFOUND api.scraf.sh'),
        'https://api.scraf.sh',
        {
          action: 'fail',
          failureType: 'config_error',
          message:
            'the host api.scraf.sh of the base_url setting (https://api.scraf.sh) does not resolve (ENOTFOUND); check base_url.',
        },
      ],
      [
        'EAI_AGAIN',
        err('EAI_AGAIN', 'getaddrinfo EAI_AGAIN api.scarf.sh'),
        REMOTE,
        {
          action: 'retry',
          reason:
            'looking up the host api.scarf.sh of the base_url setting (https://api.scarf.sh) failed for now (EAI_AGAIN: DNS unavailable)',
        },
      ],
      [
        'ECONNREFUSED on this machine',
        err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8080'),
        LOCAL,
        {
          action: 'fail',
          failureType: 'config_error',
          message:
            '127.0.0.1:8080 refused the connection (ECONNREFUSED: nothing listens on that port of this machine); start the server there (such as tap-scarf-sim) or check the base_url setting (http://127.0.0.1:8080)',
        },
      ],
      [
        'ECONNREFUSED from another host, inside an AggregateError',
        Object.assign(new AggregateError([err('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:443')], ''), {}),
        'https://10.0.0.7',
        {
          action: 'retry',
          reason:
            '10.0.0.7:443 refused the connection (ECONNREFUSED: nothing listens there); check the base_url setting (https://10.0.0.7)',
        },
      ],
      [
        'UND_ERR_CONNECT_TIMEOUT',
        err('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'),
        REMOTE,
        {
          action: 'retry',
          reason:
            'no connection to api.scarf.sh:443 within request_timeout_seconds (UND_ERR_CONNECT_TIMEOUT); check the base_url setting (https://api.scarf.sh) and the network',
        },
      ],
      [
        'ENETUNREACH',
        err('ENETUNREACH', 'connect ENETUNREACH 10.0.0.1:443'),
        'https://10.0.0.1',
        {
          action: 'retry',
          reason: '10.0.0.1:443 is unreachable (ENETUNREACH); check the base_url setting (https://10.0.0.1) and the network',
        },
      ],
      ['ECONNRESET', err('ECONNRESET', 'read ECONNRESET'), REMOTE, { action: 'retry', reason: 'read ECONNRESET' }],
      [
        'a code in the cause',
        err(undefined, 'fetch failed', { cause: err('ETIMEDOUT', 'timed out') }),
        REMOTE,
        { action: 'retry', reason: 'ETIMEDOUT: fetch failed' },
      ],
      [
        'EPROTO without OpenSSL words',
        err('EPROTO', 'protocol error'),
        REMOTE,
        { action: 'retry', reason: 'EPROTO: protocol error' },
      ],
      [
        'an undici timeout',
        err('UND_ERR_HEADERS_TIMEOUT', 'Headers Timeout Error'),
        REMOTE,
        { action: 'retry', reason: 'UND_ERR_HEADERS_TIMEOUT: Headers Timeout Error' },
      ],
      ['a hang-up without a code', err(undefined, 'socket hang up'), REMOTE, { action: 'retry', reason: 'socket hang up' }],
      [
        'a destroyed client',
        err('UND_ERR_DESTROYED', 'The client is destroyed'),
        REMOTE,
        {
          action: 'fail',
          failureType: 'system_error',
          message: 'the request to Scarf failed: UND_ERR_DESTROYED: The client is destroyed',
        },
      ],
      [
        'anything else',
        new Error('boom'),
        REMOTE,
        { action: 'fail', failureType: 'system_error', message: 'the request to Scarf failed: boom' },
      ],
    ];
    for (const [name, e, base, want] of cases) {
      it(`${name} → ${want.action}`, () => {
        expect(transport(e, base, name.startsWith('a passed deadline'))).to.deep.equal(want);
      });
    }

    it('the words never carry the token, even where OpenSSL or a cause quoted it', () => {
      const token = 'tok_failures_0123456789abcdef';
      registerSecret(token);
      const v = transport(err('CERT_HAS_EXPIRED', `certificate has expired for ${token}`));
      expect(v.action).to.equal('fail');
      expect(JSON.stringify(v)).not.to.include(token.slice(0, 12));
      const r = transport(err('ECONNRESET', `reset by ${token}`));
      expect(r.action).to.equal('retry');
      expect(JSON.stringify(r)).not.to.include(token.slice(0, 12));
    });
  });

  describe('body (a 2xx body failed while it was read)', () => {
    const cases: [string, unknown, boolean, Verdict][] = [
      ['a stop', new AbortedError(), false, { action: 'stop' }],
      ['a record limit (--test), even past the deadline', new RecordLimitReached(), true, { action: 'stop' }],
      ['a raw abort past the deadline', err('UND_ERR_ABORTED', 'aborted'), true, DEADLINE],
      ['a cut body past the deadline', new IncompleteBodyError('cut'), true, DEADLINE],
      ["the reader's data error, even past the deadline", new DataError('row 3: bad'), true, { action: 'pass' }],
      [
        'a cut body',
        new IncompleteBodyError('events 2026-10-01..2026-10-01: the body ended mid-row'),
        false,
        {
          action: 'retry',
          reason: 'incomplete body: events 2026-10-01..2026-10-01: the body ended mid-row',
        },
      ],
      [
        'an answer that is not an export',
        new NotAnExportError('Scarf answered HTTP 204'),
        false,
        {
          action: 'retry',
          reason: 'incomplete body: Scarf answered HTTP 204',
        },
      ],
      ['a data error', new DataError('row 3: bad'), false, { action: 'pass' }],
      ['any failure the tap worded', new TapError('x', 'config_error'), false, { action: 'pass' }],
      [
        'a reset the reader did not word',
        err('ECONNRESET', 'read ECONNRESET'),
        false,
        { action: 'retry', reason: 'body failed: read ECONNRESET' },
      ],
      [
        'a premature close',
        err('ERR_STREAM_PREMATURE_CLOSE', 'Premature close'),
        false,
        {
          action: 'retry',
          reason: 'body failed: ERR_STREAM_PREMATURE_CLOSE: Premature close',
        },
      ],
      ['anything else (a bug in consume)', new TypeError('x is undefined'), false, { action: 'pass' }],
    ];
    for (const [name, e, expired, want] of cases) {
      it(`${name} → ${want.action}`, () => {
        expect(body(e, expired)).to.deep.equal(want);
      });
    }
  });

  it('the table holds the three kinds, and each kind ends with a row for anything else', () => {
    const kinds = ['status', 'transport', 'body'] as const;
    for (const kind of kinds) {
      const rows = FAILURE_TABLE.filter((r) => r.kind === kind);
      expect(rows.length, kind).to.be.greaterThan(1);
      expect(rows[rows.length - 1]!.when, kind).to.match(/^any(thing)? (other|else)/);
    }
    expect(FAILURE_TABLE.map((r) => r.kind)).to.deep.equal(
      [...FAILURE_TABLE.map((r) => r.kind)].sort((a, b) => kinds.indexOf(a) - kinds.indexOf(b)),
    );
  });
});
