// The Scarf export API over real HTTP (node:http on 127.0.0.1), following
// docs/scarf-api.md: auth, owner, plan, date checks, then a streamed body.

import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import { aggregationQuery, V3ParamError } from './aggregations.js';
import {
  aggregatesBody,
  aggregationsBody,
  type Body,
  companyArtifactRollupBody,
  companyEventsBody,
  emptyAggregatesBody,
  eventsBody,
  pixelEventsBody,
  rollupBody,
} from './bodies.js';
import { handleControl } from './control.js';
import { dayOfMs, dayText, parseDay, type Rollup, ROLLUPS } from './dates.js';
import { type Endpoint, FaultBook, type FaultSpec } from './faults.js';
import { EventGenerator } from './generator.js';
import { sendJson, sleep } from './http-util.js';
import { genConfig, type ResolvedSimOptions, resolveOptions, type SimOptions } from './options.js';
import { createTruth, type GroundTruth } from './truth.js';
import { activeRevisions, type Breakdown, BREAKDOWNS, type View } from './views.js';
import {
  ANSWER_FAULTS,
  renderBody,
  sendBuffer,
  sendWrongAnswer,
  streamBody,
  streamFaulty,
  tokenEchoHeader,
  tokenEchoPage,
} from './writer.js';

export interface RequestLogEntry {
  method: string;
  path: string;
  endpoint: Endpoint | 'other';
  owner?: string;
  domain?: string;
  query: Record<string, string[]>;
  /** HTTP status sent; 0 when the connection was reset before any headers. */
  status: number;
  fault?: string;
  /** Wall-clock time the request arrived (ms epoch). */
  at: number;
  /** The sim clock when the request arrived (ISO). */
  simNow: string;
  authorized: boolean;
}

interface Route {
  endpoint: Endpoint;
  api: 'v2' | 'v3';
  owner: string;
  domain?: string;
}

function matchRoute(path: string): Route | undefined {
  const seg = path.split('/').slice(1);
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const v2 = (endpoint: Endpoint, owner: string, domain?: string): Route => ({
    endpoint,
    api: 'v2',
    owner: dec(owner),
    ...(domain !== undefined ? { domain: dec(domain) } : {}),
  });
  if (seg.length === 4 && seg[0] === 'v2' && seg[2]) {
    const [, kind, owner, ep] = seg as [string, string, string, string];
    if (kind === 'packages' && (ep === 'events' || ep === 'aggregates' || ep === 'company-rollup')) return v2(ep, owner);
    if (kind === 'tracking-pixels' && ep === 'events') return v2('pixel-events', owner);
    if (kind === 'companies' && ep === 'package-rollup') return v2('company-package-rollup', owner);
    if (kind === 'companies' && ep === 'pixel-rollup') return v2('company-pixel-rollup', owner);
  }
  if (seg.length === 5 && seg[0] === 'v2' && seg[1] === 'companies' && seg[2] && seg[3] && seg[4] === 'events') {
    return v2('company-events', seg[2], seg[3]);
  }
  if (seg.length === 5 && seg[0] === 'v3' && seg[1] === 'insights' && seg[2] && seg[3] === 'aggregations' && seg[4] === 'export')
    return { endpoint: 'aggregations', api: 'v3', owner: dec(seg[2]) };
  return undefined;
}

function queryRecord(url: URL): Record<string, string[]> {
  const q: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) (q[k] ??= []).push(v);
  return q;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** v3's FastAPI `detail` when it is not the message (pydantic's list for a malformed parameter). */
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

/** An error body in the shape of the API that answers: v2 `{message, code}`, v3 (FastAPI) `{detail}`. */
function errorBody(api: 'v2' | 'v3', err: { message: string; code: string; detail?: unknown }): unknown {
  return api === 'v3' ? { detail: err.detail ?? err.message } : { message: err.message, code: err.code };
}

const V2_CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  410: 'gone',
  422: 'unprocessable-entity',
  429: 'rate-limited',
  500: 'internal-error',
  502: 'bad-gateway',
  503: 'service-unavailable',
  504: 'gateway-timeout',
};

const MAX_CACHED_BODIES = 32;

export class ScarfSimulator {
  private raw: SimOptions;
  private resolved: ResolvedSimOptions;
  private readonly anchorMs: number;
  private gen: EventGenerator;
  private readonly faults: FaultBook;
  private readonly log: RequestLogEntry[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly cache = new Map<string, Buffer>();
  private baseUrl = '';
  readonly truth: GroundTruth;

  constructor(opts: SimOptions = {}) {
    this.raw = { ...opts };
    this.anchorMs = opts.now ? opts.now.getTime() : Date.now();
    this.resolved = resolveOptions(this.raw, this.anchorMs);
    this.gen = new EventGenerator(genConfig(this.resolved, this.anchorMs));
    activeRevisions(this.gen, this.resolved, -Infinity); // a revision naming an unknown company fails here, not per request
    this.faults = new FaultBook(this.resolved.seed);
    this.truth = createTruth(() => this.view());
  }

  get url(): string {
    return this.baseUrl;
  }

  get options(): Readonly<ResolvedSimOptions> {
    return this.resolved;
  }

  get requests(): RequestLogEntry[] {
    return this.log;
  }

  resetRequests(): void {
    this.log.length = 0;
  }

  setNow(d: Date | undefined | null): void {
    this.setOptions({ now: d ?? undefined });
  }

  setOptions(partial: Partial<SimOptions>): void {
    const next = { ...this.raw, ...partial };
    // An explicit undefined means "back to the default" (e.g. setNow(undefined) → real clock).
    for (const k of Object.keys(partial) as (keyof SimOptions)[]) if (partial[k] === undefined) delete next[k];
    const resolved = resolveOptions(next, this.anchorMs);
    const gen = new EventGenerator(genConfig(resolved, this.anchorMs));
    activeRevisions(gen, resolved, -Infinity);
    this.resolved = resolved;
    this.raw = next;
    this.gen = gen;
    this.cache.clear();
  }

  setFaults(faults: FaultSpec[]): void {
    this.faults.set(faults);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  get activeFaults(): FaultSpec[] {
    return this.faults.list();
  }

  companyDomains(): string[] {
    return this.gen.companies.map((c) => c.domain);
  }

  nowMs(): number {
    return this.resolved.now ? this.resolved.now.getTime() : Date.now();
  }

  /** A consistent snapshot of generator, options and clock for one request. */
  view(): View {
    const nowUs = this.nowMs() * 1000;
    return { gen: this.gen, opts: this.resolved, nowUs, revisions: activeRevisions(this.gen, this.resolved, nowUs) };
  }

  async start(port = 0): Promise<string> {
    if (this.server) return this.baseUrl;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { message: `simulator error: ${String(err)}`, code: 'internal-error' });
        else res.destroy();
      });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address();
    this.baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    if (url.pathname.startsWith('/_sim/')) return handleControl(this, req, res, url);

    const v = this.view();
    const opts = v.opts;
    const route = matchRoute(url.pathname);
    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const entry: RequestLogEntry = {
      method: req.method ?? 'GET',
      path: url.pathname,
      endpoint: route?.endpoint ?? 'other',
      ...(route ? { owner: route.owner } : {}),
      ...(route?.domain !== undefined ? { domain: route.domain } : {}),
      query: queryRecord(url),
      status: 0,
      at: Date.now(),
      simNow: new Date(v.nowUs / 1000).toISOString(),
      authorized: !!auth && auth[1]!.trim() === opts.token,
    };
    this.log.push(entry);

    let prepared: { body: Body; days?: [number, number] };
    try {
      prepared = this.prepare(req, route, entry, v);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      if (!(await sleep(opts.latencyMs, res))) return;
      entry.status = err.status;
      const headers: Record<string, string> = err.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
      if (err.status === 405) headers.Allow = 'GET';
      return sendJson(res, err.status, errorBody(route?.api ?? (entry.path.startsWith('/v3/') ? 'v3' : 'v2'), err), headers);
    }
    const body = prepared.body;

    const fault = this.faults.take({
      endpoint: route!.endpoint,
      ...(route!.domain !== undefined ? { domain: route!.domain } : {}),
      ...(prepared.days ? { days: prepared.days } : {}),
      query: entry.query,
    });
    if (fault) entry.fault = fault.kind;
    const delay = opts.latencyMs + (fault?.kind === 'latency' ? (fault.latencyMs ?? 1000) : 0);
    if (!(await sleep(delay, res))) return;

    const fail = (status: number, message: string, headers: Record<string, string> = {}) => {
      entry.status = status;
      return sendJson(res, status, errorBody(body.api, { message, code: V2_CODES[status] ?? 'error' }), headers);
    };
    switch (fault?.kind) {
      case 'reset-before-headers':
        req.socket.resetAndDestroy();
        return;
      case '429':
      case '500':
      case '503': {
        const headers: Record<string, string> = {};
        if (fault.retryAfter !== undefined && fault.kind !== '500') headers['Retry-After'] = String(fault.retryAfter);
        const message = { '429': 'Too many requests', '500': 'Internal server error', '503': 'Service temporarily unavailable' }[
          fault.kind
        ];
        return fail(Number(fault.kind), message, headers);
      }
      case 'http-error': {
        entry.status = fault.status!;
        const message = fault.message ?? STATUS_CODES[fault.status!] ?? 'Error';
        const code = fault.code ?? V2_CODES[fault.status!] ?? 'error';
        const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {};
        return sendJson(res, entry.status, errorBody(body.api, { message, code }), headers);
      }
      case 'redirect': {
        entry.status = fault.status ?? 301;
        const location = fault.location ?? `https://login.example.invalid/sso?return=${encodeURIComponent(entry.path)}`;
        const page = `<html><body>Moved: <a href="${location}">${location}</a></body></html>\n`;
        res.writeHead(entry.status, {
          Location: location,
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': Buffer.byteLength(page),
        });
        res.end(page);
        return;
      }
      case 'token-echo-header': {
        const header = { [fault.header ?? 'Content-Encoding']: tokenEchoHeader(req.headers.authorization ?? '', fault) };
        if ((fault.status ?? 200) !== 200)
          return fail(fault.status!, fault.message ?? STATUS_CODES[fault.status!] ?? 'Error', header);
        entry.status = 200;
        return streamBody(res, body, header);
      }
      case 'token-echo-html': {
        entry.status = fault.status ?? 403;
        const page = tokenEchoPage(req.headers.authorization ?? '', fault);
        res.writeHead(entry.status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page) });
        res.end(page);
        return;
      }
    }

    if (fault && ANSWER_FAULTS.includes(fault.kind)) {
      entry.status = fault.kind === '204' ? 204 : 200;
      await sendWrongAnswer(res, body, fault);
      return;
    }

    entry.status = 200;
    if (fault?.kind === 'token-echo-value')
      // The token this request was authorised with, inside an otherwise well-formed row.
      return streamFaulty(res, body, { ...fault, value: 'x'.repeat(fault.offset ?? 70) + opts.token });
    if (fault && fault.kind !== 'latency') return streamFaulty(res, body, fault);
    if (opts.cacheBodies) return sendBuffer(res, body, this.cachedBody(entry, v, body));
    return streamBody(res, body);
  }

  private cachedBody(entry: RequestLogEntry, v: View, body: Body): Buffer {
    const key = JSON.stringify([entry.endpoint, entry.owner?.toLowerCase(), entry.domain?.toLowerCase(), entry.query, v.nowUs]);
    let data = this.cache.get(key);
    if (!data) {
      data = renderBody(body);
      if (this.cache.size >= MAX_CACHED_BODIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, data);
    }
    return data;
  }

  /**
   * Every check the API makes before answering 200, in the order a client would hit them; the
   * body to answer and the days it covers (for the faults' coversDay).
   */
  private prepare(
    req: IncomingMessage,
    route: Route | undefined,
    entry: RequestLogEntry,
    v: View,
  ): { body: Body; days?: [number, number] } {
    const opts = v.opts;
    if (!route) {
      if (entry.path.startsWith('/v3/')) throw new HttpError(404, 'not-found', 'Not Found');
      throw new HttpError(404, 'not-found', `Not found: ${entry.path}`);
    }
    if (route.endpoint === 'aggregates' && opts.v2Aggregates === '404')
      throw new HttpError(404, 'not-found', `Not found: ${entry.path}`);
    if (route.endpoint === 'aggregates' && opts.v2Aggregates === '410')
      throw new HttpError(410, 'gone', 'The v2 aggregates export has been removed: use /v3/insights/{owner}/aggregations/export');
    if (req.method !== 'GET')
      throw new HttpError(
        405,
        'method-not-allowed',
        route.api === 'v3' ? 'Method Not Allowed' : `Method ${req.method} not allowed`,
      );
    if (!entry.authorized) {
      throw new HttpError(
        opts.badTokenStatus,
        opts.badTokenStatus === 401 ? 'unauthorized' : 'forbidden',
        'Invalid or missing API token',
      );
    }
    if (route.api === 'v3') return this.prepareV3(route, entry, v);
    if (route.owner.toLowerCase() !== opts.owner.toLowerCase())
      throw new HttpError(404, 'not-found', `Entity not found: ${route.owner}`);
    if (opts.plan !== 'pro') {
      throw new HttpError(
        403,
        'not-a-pro-member',
        'Your plan is not eligible for export. Upgrade to a paid plan to export data.',
      );
    }
    if (route.endpoint === 'company-rollup') return { body: rollupBody(v) };

    const q = entry.query;
    const start = parseDay(q.start_date?.[0]);
    const end = parseDay(q.end_date?.[0]);
    if (start === undefined || end === undefined) {
      throw new HttpError(400, 'bad-request', 'start_date and end_date are required, formatted YYYY-MM-DD');
    }
    if (start > end) throw new HttpError(400, 'bad-request', 'start_date must not be after end_date');
    const length = end - start + 1;
    if (length > opts.maxRangeDays) {
      throw new HttpError(
        400,
        'range-too-long',
        `Date range too long: ${length} days requested, at most ${opts.maxRangeDays} days allowed`,
      );
    }
    const days: [number, number] = [start, end];
    if (route.endpoint === 'company-events') return { body: companyEventsBody(v, route.domain!, start, end), days };
    if (route.endpoint === 'pixel-events') return { body: pixelEventsBody(v, start, end), days };
    if (route.endpoint === 'company-package-rollup') return { body: companyArtifactRollupBody(v, 'package', start, end), days };
    if (route.endpoint === 'company-pixel-rollup') return { body: companyArtifactRollupBody(v, 'pixel', start, end), days };

    let query: string | undefined;
    if (q.query) {
      query = q.query[0]!;
      if (query.trim() === '') throw new HttpError(400, 'invalid-package-query', 'The package query is empty');
      if (!v.gen.isPackage(query)) throw new HttpError(404, 'not-found', `Package not found: ${query}`);
    }
    if (route.endpoint === 'events') return { body: eventsBody(v, start, end, query), days };

    const rollups = [...new Set(q.rollup ?? ['daily'])];
    for (const r of rollups) if (!ROLLUPS.includes(r as Rollup)) throw new HttpError(400, 'bad-request', `Invalid rollup: ${r}`);
    const breakdowns = [...new Set(q.breakdown ?? ['by-total'])];
    for (const b of breakdowns)
      if (!BREAKDOWNS.includes(b as Breakdown)) throw new HttpError(400, 'bad-request', `Invalid breakdown: ${b}`);
    if (opts.v2Aggregates === 'empty') return { body: emptyAggregatesBody(v), days };
    return {
      body: aggregatesBody(v, { start, end, rollups: rollups as Rollup[], breakdowns: breakdowns as Breakdown[], query }),
      days,
    };
  }

  /** v3: the owner exactly as configured, the plan, then the parameters (422 with FastAPI's detail). */
  private prepareV3(route: Route, entry: RequestLogEntry, v: View): { body: Body; days: [number, number] } {
    const opts = v.opts;
    if (route.owner !== opts.owner) throw new HttpError(404, 'not-found', 'Organization not found');
    if (opts.plan !== 'pro' || !opts.planIncludesAggregations)
      throw new HttpError(403, 'forbidden', "The organization's plan does not include aggregation exports");
    try {
      const q = aggregationQuery(v, entry.query);
      return { body: aggregationsBody(v, q), days: [q.start, q.endExcl - 1] };
    } catch (err) {
      if (err instanceof V3ParamError) throw new HttpError(422, 'unprocessable-entity', err.message, err.detail);
      throw err;
    }
  }

  /** UTC day of the sim clock, YYYY-MM-DD (for callers building date ranges). */
  today(): string {
    return dayText(dayOfMs(this.nowMs()));
  }
}
