// What a failed request means, whatever failed, as data: an HTTP answer (the rows of
// answers.ts, matched on the status and Scarf's error code), the transport (DNS, TCP, TLS,
// timeouts, matched on the code Node or undici raised) or a 2xx body while it was read. For
// each: retry the request, fail with which error, or pass the error on as it is. The first
// row that matches wins. The client only sends requests and asks `classify*` what to do.
import { isLoopback } from '../config/base-url.js';
import { AbortedError, type FailureType, IncompleteBodyError, TapError } from '../errors.js';
import { redact } from '../log.js';
import { ANSWER_RULES } from './answers.js';
import { describeError } from './body.js';

export type FailureKind = 'status' | 'transport' | 'body';

export type FailureAction =
  /** The failure may pass: the client retries the request (TransientError when retries run out). */
  | 'retry'
  /** The window is too long for one request (status only): RangeTooLongError, which the caller answers by splitting. */
  | 'split'
  /** No retry can change it: the client throws the row's error. */
  | 'fail'
  /** Not the request's failure (a data error of the reader, a bug): thrown on as it is. */
  | 'pass'
  /** The sync was asked to stop while the body was read: thrown on; the answer was good so far (the request succeeded). */
  | 'stop';

/** A failure of the request itself (`pool.request` threw) or of a 2xx body while `consume` read it. */
export interface TransportFailure {
  err: unknown;
  /** The first `code` found on the error or its causes. */
  code: string | undefined;
  /** The error's own message, unredacted (only ever printed redacted). */
  raw: string;
  /** The request deadline (request_deadline_seconds) had passed: whatever broke, it was the deadline. */
  deadlineExpired: boolean;
  /** request_deadline_seconds, to say it. */
  deadlineSeconds: number;
  /** base_url, to name it in the words. */
  baseUrl: URL;
}

interface FailureRow<F> {
  kind: FailureKind;
  /** Which failures the row is for, in words (for readers of the table and for tests). */
  when: string;
  matches(f: F): boolean;
  action: Exclude<FailureAction, 'split'>;
  /** The failure type once the tap gives up on it ('retry': when retries run out; 'pass': the error's own). */
  failureType?: FailureType;
  /** The retry reason ('retry') or the user's message after the request's label ('fail'). */
  words?(f: F): string;
  /** Said after "last failure: …" when the retries ran out. */
  hint?: string;
}

/** Network error codes worth another try. */
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'EAI_AGAIN',
  'EPROTO',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
/** undici codes that mean a programming error or a closed client, not a passing failure. */
const FINAL_UNDICI_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_DESTROYED',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
]);
/** OpenSSL's words for a peer that answered the handshake with something that is not TLS (plain HTTP). */
const NOT_TLS = /wrong version number|packet length too long|http request|unknown protocol/i;
/** Node's codes for a server certificate that failed verification. */
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN']);

export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors;
    e = Array.isArray(inner) && inner.length > 0 ? inner[0] : (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isRetryableNetworkError(f: TransportFailure): boolean {
  const { code } = f;
  if (code !== undefined) {
    if (RETRYABLE_CODES.has(code)) return true;
    if (code.startsWith('UND_ERR_')) return !FINAL_UNDICI_CODES.has(code);
  }
  return /socket hang up|other side closed|terminated/i.test(f.raw);
}

/** One line: OpenSSL's texts end in a newline and some name source files after a colon. */
function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().replace(/:+$/, '');
}

function reasonOf(f: TransportFailure): string {
  const msg = oneLine(describeError(f.err));
  return f.code && !msg.includes(f.code) ? `${f.code}: ${msg}` : msg;
}

function hostPort(u: URL): string {
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

function setting(u: URL): string {
  return `the base_url setting (${u.origin}${u.pathname === '/' ? '' : u.pathname})`;
}

function isTlsError(f: TransportFailure): boolean {
  return f.code !== undefined && (f.code.startsWith('ERR_SSL_') || (f.code === 'EPROTO' && /SSL routines/i.test(f.raw)));
}

/** OpenSSL's "…:error:0A00042E:SSL routines:func:reason:file.c:123:" → its reason words only. */
function tlsReason(f: TransportFailure): string {
  const said = (f.err as { reason?: unknown }).reason;
  if (typeof said === 'string') return said;
  return /error:[0-9A-F]+:[^:]*:[^:]*:([^:\n]+)/i.exec(f.raw)?.[1] ?? oneLine(redact(f.raw));
}

const DEADLINE_HINT = '; raise request_deadline_seconds if one window of this export is just very large or the connection slow';

/**
 * Failures to reach the server at all (DNS, TCP, TLS), worded as one line that names
 * base_url instead of the raw socket or OpenSSL text; then the other transport failures.
 */
export const TRANSPORT_RULES: readonly FailureRow<TransportFailure>[] = [
  {
    kind: 'transport',
    when: 'the request deadline passed',
    matches: (f) => f.deadlineExpired,
    action: 'retry',
    failureType: 'transient_error',
    words: (f) => `no complete answer within request_deadline_seconds (${f.deadlineSeconds} s)`,
    hint: DEADLINE_HINT,
  },
  {
    kind: 'transport',
    when: 'a TLS certificate Node does not accept',
    matches: (f) => f.code !== undefined && CERT_CODES.has(f.code),
    action: 'fail',
    failureType: 'config_error',
    words: (f) =>
      `the TLS certificate of ${hostPort(f.baseUrl)} was not accepted (${f.code}: ${oneLine(redact(f.raw))}). Check ${setting(f.baseUrl)}; ` +
      'behind a proxy that inspects TLS, give Node its CA certificate with the NODE_EXTRA_CA_CERTS environment variable.',
  },
  {
    kind: 'transport',
    when: 'a TLS handshake answered with something that is not TLS (plain http)',
    matches: (f) => isTlsError(f) && NOT_TLS.test(f.raw),
    action: 'fail',
    failureType: 'config_error',
    words: (f) =>
      `TLS handshake with ${hostPort(f.baseUrl)} failed: the server does not speak https. Check ${setting(f.baseUrl)}: ` +
      (isLoopback(f.baseUrl.hostname)
        ? `use http://${f.baseUrl.host} for a plain-http server on this machine such as the bundled simulator.`
        : "it must name an https server; Scarf's API is https://api.scarf.sh."),
  },
  {
    kind: 'transport',
    when: 'any other TLS failure',
    matches: (f) => isTlsError(f) || (f.code !== undefined && f.code.startsWith('ERR_TLS_')),
    action: 'fail',
    failureType: 'config_error',
    words: (f) => `TLS handshake with ${hostPort(f.baseUrl)} failed (${f.code}: ${tlsReason(f)}). Check ${setting(f.baseUrl)}.`,
  },
  {
    kind: 'transport',
    when: 'ENOTFOUND: the host does not resolve',
    matches: (f) => f.code === 'ENOTFOUND',
    action: 'fail',
    failureType: 'config_error',
    words: (f) => `the host ${f.baseUrl.hostname} of ${setting(f.baseUrl)} does not resolve (ENOTFOUND); check base_url.`,
  },
  {
    kind: 'transport',
    when: 'EAI_AGAIN: DNS unavailable for now',
    matches: (f) => f.code === 'EAI_AGAIN',
    action: 'retry',
    failureType: 'transient_error',
    words: (f) =>
      `looking up the host ${f.baseUrl.hostname} of ${setting(f.baseUrl)} failed for now (EAI_AGAIN: DNS unavailable)`,
  },
  {
    // On this machine a refusal is an answer, not a passing failure: nothing listens on that
    // port, and retrying it for minutes (as for a remote host that may be restarting) only
    // hides the cause. `check` gives up as quickly (issue 18).
    kind: 'transport',
    when: 'ECONNREFUSED from this machine',
    matches: (f) => f.code === 'ECONNREFUSED' && isLoopback(f.baseUrl.hostname),
    action: 'fail',
    failureType: 'config_error',
    words: (f) =>
      `${hostPort(f.baseUrl)} refused the connection (ECONNREFUSED: nothing listens on that port of this machine); start the server there (such as tap-scarf-sim) or check ${setting(f.baseUrl)}`,
  },
  {
    kind: 'transport',
    when: 'ECONNREFUSED from another host',
    matches: (f) => f.code === 'ECONNREFUSED',
    action: 'retry',
    failureType: 'transient_error',
    words: (f) =>
      `${hostPort(f.baseUrl)} refused the connection (ECONNREFUSED: nothing listens there); check ${setting(f.baseUrl)}`,
  },
  {
    kind: 'transport',
    when: 'UND_ERR_CONNECT_TIMEOUT',
    matches: (f) => f.code === 'UND_ERR_CONNECT_TIMEOUT',
    action: 'retry',
    failureType: 'transient_error',
    words: (f) =>
      `no connection to ${hostPort(f.baseUrl)} within request_timeout_seconds (UND_ERR_CONNECT_TIMEOUT); check ${setting(f.baseUrl)} and the network`,
  },
  {
    kind: 'transport',
    when: 'host or network unreachable',
    matches: (f) => f.code !== undefined && UNREACHABLE_CODES.has(f.code),
    action: 'retry',
    failureType: 'transient_error',
    words: (f) => `${hostPort(f.baseUrl)} is unreachable (${f.code}); check ${setting(f.baseUrl)} and the network`,
  },
  {
    kind: 'transport',
    when: 'a reset, timeout or other passing network failure',
    matches: isRetryableNetworkError,
    action: 'retry',
    failureType: 'transient_error',
    words: reasonOf,
  },
  {
    kind: 'transport',
    when: 'anything else (a programming error, a closed client)',
    matches: () => true,
    action: 'fail',
    failureType: 'system_error',
    words: (f) => `the request to Scarf failed: ${reasonOf(f)}`,
  },
];

/** How many of TRANSPORT_RULES word a failure to reach the server (they name base_url). */
const CONNECTION_ROWS = TRANSPORT_RULES.slice(1, 10);

/** What `consume` threw while reading a 2xx body. */
export const BODY_RULES: readonly FailureRow<TransportFailure>[] = [
  {
    kind: 'body',
    when: 'the sync was asked to stop (a signal, --test): the answer was good so far',
    matches: (f) => f.err instanceof AbortedError,
    action: 'stop',
  },
  {
    kind: 'body',
    // Whatever the reader made of the aborted body (a cut, a raw abort error), it was the deadline.
    when: 'the request deadline passed (and the reader did not fail on its own)',
    matches: (f) => f.deadlineExpired && !(f.err instanceof TapError),
    action: 'retry',
    failureType: 'transient_error',
    words: TRANSPORT_RULES[0]!.words,
    hint: DEADLINE_HINT,
  },
  {
    kind: 'body',
    when: 'a cut body, or a 2xx answer that is not an export',
    matches: (f) => f.err instanceof IncompleteBodyError,
    action: 'retry',
    failureType: 'transient_error',
    words: (f) => `incomplete body: ${redact(f.raw)}`,
  },
  {
    kind: 'body',
    when: "the reader's own failure (a row it cannot type)",
    matches: (f) => f.err instanceof TapError,
    action: 'pass',
  },
  {
    kind: 'body',
    when: 'a reset or timeout the reader did not word',
    matches: isRetryableNetworkError,
    action: 'retry',
    failureType: 'transient_error',
    words: (f) => `body failed: ${reasonOf(f)}`,
  },
  { kind: 'body', when: 'anything else', matches: () => true, action: 'pass' },
];

/** Every row, in the order each kind is matched: the HTTP answers, the transport, the body. */
export const FAILURE_TABLE: readonly { kind: FailureKind; when: string; action: FailureAction; failureType?: FailureType }[] = [
  ...ANSWER_RULES.map((r) => ({ kind: 'status' as const, when: r.when, action: r.action, failureType: r.failureType })),
  ...TRANSPORT_RULES,
  ...BODY_RULES,
];

/** What the client does with a failed attempt. */
export type Verdict =
  | { action: 'retry'; reason: string; hint?: string }
  | { action: 'fail'; failureType: FailureType; message: string }
  | { action: 'pass' | 'stop' };

export function transportFailure(
  err: unknown,
  baseUrl: string,
  deadline: { expired: boolean; seconds: number } = { expired: false, seconds: 0 },
): TransportFailure {
  return {
    err,
    code: errorCode(err),
    raw: err instanceof Error ? err.message : '',
    deadlineExpired: deadline.expired,
    deadlineSeconds: deadline.seconds,
    baseUrl: new URL(baseUrl),
  };
}

function verdict(rows: readonly FailureRow<TransportFailure>[], f: TransportFailure): Verdict {
  // The last row of each kind matches everything.
  const row = rows.find((r) => r.matches(f))!;
  if (row.action === 'pass' || row.action === 'stop') return { action: row.action };
  const words = redact(row.words!(f));
  if (row.action === 'fail') return { action: 'fail', failureType: row.failureType!, message: words };
  return { action: 'retry', reason: words, ...(row.hint !== undefined ? { hint: row.hint } : {}) };
}

/** The request failed before an answer arrived. */
export function classifyTransport(f: TransportFailure): Verdict {
  return verdict(TRANSPORT_RULES, f);
}

/** `consume` threw while reading a 2xx body. */
export function classifyBody(f: TransportFailure): Verdict {
  return verdict(BODY_RULES, f);
}

/**
 * A failure to reach the server at all (DNS, TCP, TLS), worded as one line that names
 * base_url, instead of the raw socket or OpenSSL text. `final`: no retry can change it.
 * Undefined for anything else.
 */
export function connectionProblem(err: unknown, baseUrl: string): { message: string; final: boolean } | undefined {
  const f = transportFailure(err, baseUrl);
  const row = CONNECTION_ROWS.find((r) => r.matches(f));
  return row ? { final: row.action === 'fail', message: row.words!(f) } : undefined;
}
