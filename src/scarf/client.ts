// The only place that does HTTP. Sends authenticated GETs to Scarf, retries what can pass
// (429, 5xx, connection failures, timeouts, cut bodies — re-issuing the whole request),
// turns Scarf's error answers into errors that tell the user what to fix, counts every
// request (each one costs the user Scarf "Runs") and never lets the token reach a message.

import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { Pool } from 'undici';

import { checkBaseUrl } from '../config/base-url.js';
import { type ApiError, ConfigError, RequestBudgetReached, TapError, TransientError } from '../errors.js';
import { clip, log, redact, registerSecret } from '../log.js';
import { type AnswerContext, answerError, answerRule, detailText, parseErrorBody } from './answers.js';
import { buildUrl, Endpoint, Query } from './endpoints.js';
import { classifyBody, classifyTransport, transportFailure, type Verdict } from './failures.js';
import { DEFAULT_BASE_MS, RetryBudget } from './retry.js';

/** Worded by the failure table (src/scarf/failures.ts); still importable from the client. */
export { connectionProblem } from './failures.js';

export interface ScarfClientOptions {
  /** `base_url` setting (checked by checkBaseUrl). */
  baseUrl: string;
  token: string;
  userAgent: string;
  /** Longest wait for response headers, and longest silence while a body streams. */
  timeoutMs: number;
  /**
   * Longest time one request may take, from sending it to the end of its body, not counting
   * the time a 2xx body waits before consume starts reading it (0 or unset: no deadline).
   */
  deadlineMs?: number;
  /** Retries per fetch() call (0 = none). */
  maxRetries: number;
  /** Total wait between the retries of one fetch() call (0 = no retries). */
  maxRetryWaitMs: number;
  /** Requests in flight at once. */
  maxConcurrent: number;
  /** `owner` setting, only to word error messages. */
  owner?: string;
  /** `max_requests_per_sync`: past it every request throws RequestBudgetReached instead of being sent. */
  maxRequests?: number;
  /** The retry backoff's base (TAP_SCARF_RETRY_BASE_MS, a testing knob; default 1000 ms). */
  retryBaseMs?: number;
}

export interface FetchRequest {
  endpoint: Endpoint;
  /** The body format asked for (the stream's declaration says which): sets Accept. */
  format: 'csv' | 'ndjson';
  /** From src/scarf/endpoints.ts (eventsPath(owner), …). */
  path: string;
  query?: Query;
  /** Names the request in logs and errors, e.g. "events 2026-11-01..2026-11-01". */
  label: string;
  /** Company domain of a company-events request, only to word a 404 message. */
  domain?: string;
  /** The stream the request is for: a tag of its http_request_duration metric. */
  stream?: string;
}

export interface ResponseInfo {
  status: number;
  headers: IncomingHttpHeaders;
  /** 1 for the first request of this fetch() call, +1 per retry. */
  attempt: number;
}

/**
 * Reads one 2xx body to its end. Throw IncompleteBodyError (what readCsv/readNdjson throw
 * for a cut body) to have the whole request re-issued and consume called again.
 */
export type Consume<T> = (body: Readable, info: ResponseInfo) => Promise<T>;

/**
 * Where a redirect points, as its host only (a Location may carry a query, even the token
 * a gateway put there): "another host", "the same host", or undefined without a usable Location.
 */
function redirectHost(location: string | undefined, base: string): string | undefined {
  if (location === undefined || location.trim() === '') return undefined;
  try {
    const to = new URL(location, base);
    return to.host === new URL(base).host ? `the same host (${to.protocol}//${to.host})` : `${to.protocol}//${to.host}`;
  } catch {
    return undefined;
  }
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The start of an error answer. Redaction can only mask a whole secret, so where the text
 * was cut (at `limit`, or by a failed read) the last `secret.length` characters go too:
 * they may be the first part of the token, which nothing downstream could recognise.
 */
async function readSmall(body: Readable, secret: string, limit = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  let cut = false;
  try {
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(b);
      n += b.length;
      if (n >= limit) {
        cut = true;
        break;
      }
    }
  } catch {
    // an error answer we could only partly read: word the error with what we have
    cut = true;
  }
  const text = Buffer.concat(parts).toString('utf8');
  return cut ? text.slice(0, Math.max(0, text.length - secret.length)) : text;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string; retryAfter?: string; hint?: string };

/** What one attempt got, for its metric and for releasing its body. */
interface Seen {
  status: number | null;
  succeeded: boolean;
  body?: Readable;
}

/**
 * The overall clock of one request: a trickled or endless body never trips the idle timeout,
 * so this is what ends it. It stops while a 2xx body waits for consume to start reading (a
 * window queued behind earlier windows' output must not use up its time unread).
 */
class RequestDeadline {
  readonly controller = new AbortController();
  expired = false;
  private left: number;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {
    this.left = ms;
  }

  get enabled(): boolean {
    return this.ms > 0;
  }

  run(): void {
    if (!this.enabled || this.timer || this.expired) return;
    this.since = performance.now();
    this.timer = setTimeout(
      () => {
        this.expired = true;
        this.controller.abort(new Error(`request deadline of ${this.ms} ms passed`));
      },
      Math.max(0, this.left),
    );
  }

  pause(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.left -= performance.now() - this.since;
  }

  /** Runs the clock again once the body's first reader attaches (async iteration, pipe or 'data'). */
  resumeOnRead(body: Readable): void {
    const onListener = (event: string | symbol) => {
      if (event !== 'readable' && event !== 'data') return;
      body.off('newListener', onListener);
      this.run();
    };
    body.on('newListener', onListener);
  }

  stop(): void {
    this.pause();
  }
}

export class ScarfClient {
  /** Every HTTP request sent, retries and failures included (each costs Scarf Runs). */
  requestCount = 0;
  requestsByEndpoint: Record<string, number> = {};

  private readonly pool: Pool;
  private readonly base: string;
  private readonly headersBase: Record<string, string>;
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly opts: ScarfClientOptions) {
    checkBaseUrl(opts.baseUrl);
    registerSecret(opts.token);
    const u = new URL(opts.baseUrl);
    this.base = u.origin + u.pathname.replace(/\/+$/, '');
    this.pool = new Pool(u.origin, {
      connections: Math.max(1, opts.maxConcurrent),
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: opts.timeoutMs },
    });
    this.headersBase = { authorization: `Bearer ${opts.token}`, 'user-agent': opts.userAgent };
  }

  buildUrl(path: string, query?: Query): string {
    return buildUrl(this.base, path, query);
  }

  /**
   * GETs req and hands a 2xx body to consume. One retry budget covers the whole call,
   * whatever failed (status, connection, timeout, cut body). Throws TransientError when
   * retries run out, ApiError/RangeTooLongError/ConfigError for answers a retry cannot
   * change, and DataError (or any other error) from consume as it is.
   */
  async fetch<T>(req: FetchRequest, consume: Consume<T>): Promise<T> {
    const budget = new RetryBudget(this.opts.maxRetries, this.opts.maxRetryWaitMs, this.opts.retryBaseMs ?? DEFAULT_BASE_MS);
    const url = new URL(this.buildUrl(req.path, req.query));
    const path = url.pathname + url.search;
    const headers = {
      ...this.headersBase,
      accept: req.format === 'ndjson' ? 'application/x-ndjson' : 'text/csv',
    };
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new TapError(`${req.label}: the Scarf client was closed`, 'system_error').at({ window: req.label });
      await this.acquire();
      let outcome: Outcome<T>;
      try {
        outcome = await this.attempt(req, path, headers, attempt, consume);
      } finally {
        this.release();
      }
      if (outcome.ok) return outcome.value;
      const wait = budget.next(outcome.retryAfter);
      if (wait === undefined) {
        throw new TransientError(
          redact(
            `${req.label}: giving up after ${attempt} attempt${attempt === 1 ? '' : 's'} ` +
              `(max_retries ${this.opts.maxRetries}, ${Math.round(budget.totalWaitMs / 1000)} s waited of max_retry_wait_seconds ${Math.round(this.opts.maxRetryWaitMs / 1000)}); ` +
              `last failure: ${outcome.reason}` +
              (outcome.hint ?? '') +
              (budget.refusedRetryAfter
                ? ` with Retry-After ${outcome.retryAfter}, longer than the wait left (raise max_retry_wait_seconds to wait it out)`
                : ''),
          ),
        ).at({ window: req.label });
      }
      log.warn(
        `${req.label}: attempt ${attempt} failed (${outcome.reason}); retry ${budget.used} of ${this.opts.maxRetries} in ${(wait / 1000).toFixed(3)} s`,
      );
      await sleep(wait);
    }
  }

  private async attempt<T>(
    req: FetchRequest,
    path: string,
    headers: Record<string, string>,
    attempt: number,
    consume: Consume<T>,
  ): Promise<Outcome<T>> {
    const t0 = performance.now();
    const deadline = new RequestDeadline(this.opts.deadlineMs ?? 0);
    this.count(req);
    const seen: Seen = { status: null, succeeded: false };
    try {
      let res;
      try {
        deadline.run();
        res = await this.pool.request({
          path,
          method: 'GET',
          headers,
          headersTimeout: this.opts.timeoutMs,
          bodyTimeout: this.opts.timeoutMs,
          ...(deadline.enabled ? { signal: deadline.controller.signal } : {}),
        });
      } catch (err) {
        return this.outcome(req, classifyTransport(this.failure(err, deadline)), err);
      }
      seen.status = res.statusCode;
      seen.body = res.body;
      if (seen.status >= 200 && seen.status < 300) {
        deadline.pause();
        deadline.resumeOnRead(res.body);
        try {
          const value = await consume(res.body, { status: seen.status, headers: res.headers, attempt });
          seen.succeeded = true;
          return { ok: true, value };
        } catch (err) {
          const verdict = classifyBody(this.failure(err, deadline));
          if (verdict.action === 'stop') seen.succeeded = true;
          return this.outcome(req, verdict, err);
        }
      }
      return await this.answered(req, seen.status, res.headers, res.body);
    } finally {
      deadline.stop();
      this.finish(req, seen, t0);
    }
  }

  /** Counts the request, refusing it past max_requests_per_sync (checked where it is counted, so concurrent windows and retries cannot pass it). */
  private count(req: FetchRequest): void {
    if (this.opts.maxRequests !== undefined && this.requestCount >= this.opts.maxRequests)
      throw new RequestBudgetReached(this.opts.maxRequests, req.label);
    this.requestCount++;
    this.requestsByEndpoint[req.endpoint] = (this.requestsByEndpoint[req.endpoint] ?? 0) + 1;
  }

  private failure(err: unknown, deadline: RequestDeadline) {
    return transportFailure(err, this.base, {
      expired: deadline.expired,
      seconds: Math.round((this.opts.deadlineMs ?? 0) / 1000),
    });
  }

  /** A verdict of the failure table as the attempt's outcome: a retry, or the error thrown. */
  private outcome<T>(req: FetchRequest, verdict: Verdict, err: unknown): Outcome<T> {
    if (verdict.action === 'retry')
      return { ok: false, reason: verdict.reason, ...(verdict.hint !== undefined ? { hint: verdict.hint } : {}) };
    if (verdict.action !== 'fail') throw err;
    const message = redact(`${req.label}: ${verdict.message}`);
    throw (verdict.failureType === 'config_error' ? new ConfigError(message) : new TapError(message, verdict.failureType)).at({
      window: req.label,
    });
  }

  /** A non-2xx answer, by its row of the answers table. */
  private async answered<T>(
    req: FetchRequest,
    status: number,
    headers: IncomingHttpHeaders,
    body: Readable & { dump(): Promise<void> },
  ): Promise<Outcome<T>> {
    const rule = answerRule({ status });
    if (rule.action === 'retry') {
      const retryAfter = firstHeader(headers['retry-after']);
      try {
        await body.dump();
      } catch {
        // the connection is dropped instead of reused
      }
      return { ok: false, reason: rule.hint({ status }, this.answerContext(req)), retryAfter };
    }
    throw this.apiError(req, status, await readSmall(body, this.opts.token), firstHeader(headers.location));
  }

  private finish(req: FetchRequest, seen: Seen, t0: number): void {
    const body = seen.body;
    if (body && !body.readableEnded && !body.destroyed) {
      // Destroying an unread body emits 'error' (RequestAbortedError); without a listener
      // that crashes the process, e.g. when a later window is dropped because an earlier one failed.
      body.on('error', () => undefined);
      body.destroy();
    }
    log.metric({
      type: 'timer',
      metric: 'http_request_duration',
      value: Math.round(performance.now() - t0) / 1000,
      tags: {
        ...(req.stream !== undefined ? { stream: req.stream } : {}),
        endpoint: req.endpoint,
        http_status_code: seen.status,
        status: seen.succeeded ? 'succeeded' : 'failed',
      },
    });
  }

  private apiError(req: FetchRequest, status: number, text: string, location?: string): ApiError {
    // Not JSON: the text itself is quoted.
    const body = parseErrorBody(text);
    const code = body?.code;
    const message = body?.message ?? detailText(body?.detail);
    const detail = body?.detail !== undefined;
    const said = message ?? text.trim();
    const scarfSays = said ? ` Scarf said: ${JSON.stringify(clip(said, 300))}.` : '';
    const head = `${req.label}: `;
    const redirect = status >= 300 && status < 400 ? { location: redirectHost(location, this.base) } : {};
    // A redirect's page says nothing the hint does not (and may echo the request): left out.
    const quoted = status >= 300 && status < 400 ? '' : scarfSays;
    const err = answerError({ status, code, message, detail, ...redirect }, this.answerContext(req), (hint) =>
      redact(head + hint + quoted),
    );
    err.request = redact(req.label);
    return err.at({ window: req.label });
  }

  private answerContext(req: FetchRequest): AnswerContext {
    return {
      endpoint: req.endpoint,
      owner: this.opts.owner !== undefined ? `'${this.opts.owner}'` : '(the owner setting)',
      domain: req.domain,
      packageQuery: req.query?.query !== undefined,
    };
  }

  private async acquire(): Promise<void> {
    if (this.active < Math.max(1, this.opts.maxConcurrent)) {
      this.active++;
      return;
    }
    // release() hands its slot straight to the first waiter
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  /** Destroys the connection pool (in-flight requests fail). */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}
