// Fault injection: which request gets which failure. Every spec counts the requests it
// matches on its own, so specs combine predictably; the first spec (in list order) that
// fires on a request wins.

import { parseDay } from './dates.js';
import { Rng } from './prng.js';

/** Every API endpoint the simulator serves, as the request log and fault specs name them. */
export const ENDPOINTS = [
  'events',
  'aggregates',
  'company-rollup',
  'company-events',
  'pixel-events',
  'company-package-rollup',
  'company-pixel-rollup',
  'aggregations',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** Endpoints whose rows belong to a day (drop-day, coversDay). */
const DATED: readonly Endpoint[] = ENDPOINTS.filter((e) => e !== 'company-rollup');

export const FAULT_KINDS = [
  '429',
  '500',
  '503',
  'reset-before-headers',
  'reset-mid-body',
  'cut-after-line',
  'cut-mid-row',
  'unterminated-quote',
  'drop-day',
  'latency',
  'stall-mid-body',
  'bad-json-line',
  'malformed-row',
  'bad-value',
  'token-echo-html',
  'token-echo-value',
  'log-forge-header',
  'empty-200',
  '204',
  'json-on-csv',
  'html-page',
  'content-encoding',
  'endless-row',
  'empty-column-name',
  'trickle',
  'endless-rows',
  'http-error',
  'redirect',
  'body-cap',
  'cut-in-last-field',
  'rename-column',
  'set-value',
  'respell-domain',
  'invalid-utf8',
  'token-echo-header',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** Matchers: the spec considers only requests to this endpoint… */
  endpoint?: Endpoint;
  /** …for this company domain (the path's domain, case-insensitive; company-events only)… */
  domain?: string;
  /** …whose date range holds this day (YYYY-MM-DD; v3's end is exclusive; never an endpoint without dates)… */
  coversDay?: string;
  /** …and whose query has each of these values (among the repeated values, each also split at commas). */
  params?: Record<string, string>;
  /** Fire on the nth matching request (1-based)… */
  nth?: number;
  /** …and on this many matching requests from then on (default 1; use a large number for "always"). */
  times?: number;
  /** Instead of nth/times: fire at random with this probability (seeded), unlimited times. */
  probability?: number;
  /** 429/503: Retry-After header, seconds or an HTTP-date; omitted → no header. */
  retryAfter?: number | string;
  /** 'latency': delay before headers (default 1000). 'stall-mid-body': pause halfway (default 30000). */
  latencyMs?: number;
  /**
   * Body faults: data rows written before the fault strikes (default: half of the response's
   * rows). 'random': a seeded draw for each response it fires on, anywhere from none to all
   * but the last row, so two faulty reads of one body rarely end at the same row.
   */
  afterRows?: number | 'random';
  /** Set by the simulator on a fired 'random' spec: the share of the rows written before the fault. */
  cutFraction?: number;
  /**
   * Body cuts/resets: declare a Content-Length instead of chunked encoding. `true` / 'full': the
   * full body's length, then fewer bytes. 'short' (cut-after-line, cut-mid-row, unterminated-quote):
   * exactly the length of the short body, so the HTTP message is complete and only the content is short.
   */
  contentLength?: boolean | 'full' | 'short';
  /** cut-after-line / cut-mid-row / unterminated-quote: end the response properly (chunked terminator) instead of closing the socket. */
  endCleanly?: boolean;
  /** 'drop-day': the UTC day (YYYY-MM-DD) whose rows are left out; default the day of the halfway row. */
  date?: string;
  /**
   * 'bad-value' / 'set-value': the column (CSV header name) or key (JSON) to spoil; default `time`
   * (CSV) / `total` (JSON). 'rename-column': the column renamed. 'invalid-utf8': the column whose
   * text gets the bytes (default `user_agent`, `company_name`, `company` or `artifact_name`, the first present).
   */
  column?: string;
  /**
   * 'bad-value': the text written instead (JSON: as a string); default `not-a-value`. 'set-value':
   * the same, null = NULL (an empty CSV field, JSON null). 'log-forge-header': the extra column's
   * name. 'rename-column': the new name. 'respell-domain': the spelling (default: first letter upper case).
   */
  value?: string | null;
  /** 'set-value' / 'respell-domain': only rows whose company_domain or origin_domain is this domain (case-insensitive). */
  rowDomain?: string;
  /**
   * 'token-echo-html': status of the error page (default 403). 'http-error': the status (required).
   * 'redirect': 301 (default), 302, 303, 307 or 308. 'token-echo-header': default 200 with the real body.
   */
  status?: number;
  /** 'http-error': the error code in a v2 body (default from the status); v3 bodies have only `detail`. */
  code?: string;
  /** 'redirect': the Location (default another host: https://login.example.invalid/sso?return=<path>). */
  location?: string;
  /** 'token-echo-header': the response header that carries the token (default Content-Encoding). */
  header?: string;
  /**
   * 'token-echo-html': how the page echoes the Authorization header (default `plain`).
   * 'token-echo-header': how the header echoes the token (default `upper`: another letter case).
   */
  echo?: 'plain' | 'base64' | 'base64-token' | 'truncated' | 'upper' | 'lower';
  /** 'body-cap': cut at exactly maxBytes (`byte`, default) or after the last complete row that fits (`line`). */
  cut?: 'byte' | 'line';
  /** 'token-echo-html' / 'token-echo-value': filler characters before the echoed token (html default 0, value default 70). */
  offset?: number;
  /** 'json-on-csv': the `message` of the JSON error body; default `Export failed, please try again later`. */
  message?: string;
  /** 'content-encoding': the encoding the body is compressed with; default `gzip`. */
  encoding?: 'gzip' | 'br' | 'deflate';
  /**
   * 'endless-row' (default 64 MiB) / 'endless-rows' (default 256 MiB): body bytes sent before the
   * simulator gives up and closes the socket. 'body-cap': the cap (required).
   */
  /** 'trickle': pause between two writes, in ms (default 100). */
  intervalMs?: number;
  /** 'trickle': bytes per write (default 1). */
  chunkBytes?: number;
  /** 'trickle' / 'endless-rows': the simulator gives up after this many ms and closes the socket (default 30000). */
  maxMs?: number;
  maxBytes?: number;
}

/** What a fault spec can match a request on. */
export interface FaultRequest {
  endpoint: Endpoint;
  domain?: string;
  /** The days the request covers, first and last (inclusive); none for the rollup. */
  days?: [number, number];
  query: Record<string, string[]>;
}

interface Armed {
  spec: FaultSpec;
  seen: number;
  fired: number;
  rng: Rng;
}

export function validateFaults(specs: unknown): FaultSpec[] {
  if (!Array.isArray(specs)) throw new Error('faults must be a JSON array of FaultSpec');
  return specs.map((s, i) => {
    if (typeof s !== 'object' || s === null) throw new Error(`fault ${i}: not an object`);
    const f = s as FaultSpec;
    if (!FAULT_KINDS.includes(f.kind)) throw new Error(`fault ${i}: unknown kind ${String(f.kind)}`);
    if (f.endpoint !== undefined && !ENDPOINTS.includes(f.endpoint)) {
      throw new Error(`fault ${i}: unknown endpoint ${String(f.endpoint)}; one of ${ENDPOINTS.join(', ')}`);
    }
    checkMatchers(f, i);
    if (f.probability !== undefined && !(f.probability >= 0 && f.probability <= 1))
      throw new Error(`fault ${i}: probability must be within 0..1`);
    if (f.nth !== undefined && !(Number.isInteger(f.nth) && f.nth >= 1))
      throw new Error(`fault ${i}: nth must be an integer ≥ 1`);
    if (f.column !== undefined && typeof f.column !== 'string') throw new Error(`fault ${i}: column must be a string`);
    if (f.value !== undefined && typeof f.value !== 'string' && !(f.value === null && f.kind === 'set-value'))
      throw new Error(`fault ${i}: value must be a string${f.kind === 'set-value' ? ' or null' : ''}`);
    checkStatus(f, i);
    if (f.echo !== undefined && !['plain', 'base64', 'base64-token', 'truncated', 'upper', 'lower'].includes(f.echo))
      throw new Error(`fault ${i}: echo must be plain, base64, base64-token, truncated, upper or lower`);
    if (f.offset !== undefined && !(Number.isInteger(f.offset) && f.offset >= 0))
      throw new Error(`fault ${i}: offset must be an integer ≥ 0`);
    if (f.message !== undefined && typeof f.message !== 'string') throw new Error(`fault ${i}: message must be a string`);
    if (f.encoding !== undefined && !['gzip', 'br', 'deflate'].includes(f.encoding))
      throw new Error(`fault ${i}: encoding must be gzip, br or deflate`);
    for (const k of ['intervalMs', 'chunkBytes', 'maxMs', 'maxBytes'] as const) {
      const v = f[k];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0))
        throw new Error(`fault ${i}: ${k} must be a number > 0`);
    }
    if (f.afterRows !== undefined && f.afterRows !== 'random' && !(Number.isInteger(f.afterRows) && f.afterRows >= 0))
      throw new Error(`fault ${i}: afterRows must be an integer ≥ 0 or 'random'`);
    checkCleanEnd(f, i);
    checkDropDay(f, i);
    checkRequired(f, i);
    return { ...f };
  });
}

function checkMatchers(f: FaultSpec, i: number): void {
  if (f.domain !== undefined && !(typeof f.domain === 'string' && f.domain !== ''))
    throw new Error(`fault ${i}: domain must be a non-empty string`);
  if (f.coversDay !== undefined && !(typeof f.coversDay === 'string' && parseDay(f.coversDay) !== undefined))
    throw new Error(`fault ${i}: coversDay must be a day, YYYY-MM-DD`);
  if (
    f.params !== undefined &&
    (typeof f.params !== 'object' ||
      f.params === null ||
      Array.isArray(f.params) ||
      !Object.values(f.params).every((v) => typeof v === 'string'))
  )
    throw new Error(`fault ${i}: params must be an object of strings`);
  if (f.rowDomain !== undefined && !(typeof f.rowDomain === 'string' && f.rowDomain !== ''))
    throw new Error(`fault ${i}: rowDomain must be a non-empty string`);
}

const REDIRECTS = [301, 302, 303, 307, 308];

function checkStatus(f: FaultSpec, i: number): void {
  if (f.status === undefined) return;
  const ok =
    f.kind === 'redirect'
      ? REDIRECTS.includes(f.status)
      : Number.isInteger(f.status) && f.status >= (f.kind === 'token-echo-header' ? 200 : 400) && f.status <= 599;
  if (!ok)
    throw new Error(
      `fault ${i}: status must be ${f.kind === 'redirect' ? REDIRECTS.join(', ') : `an integer within ${f.kind === 'token-echo-header' ? 200 : 400}..599`}`,
    );
}

/** Fields a kind cannot do without. */
function checkRequired(f: FaultSpec, i: number): void {
  const need = (field: keyof FaultSpec, why: string) => {
    if (f[field] === undefined) throw new Error(`fault ${i}: ${f.kind} needs ${field} (${why})`);
  };
  if (f.kind === 'http-error') need('status', 'the status to answer');
  if (f.kind === 'body-cap') need('maxBytes', 'the cap, in bytes');
  if (f.kind === 'rename-column') {
    need('column', 'the column to rename');
    need('value', 'its new name');
  }
  if (f.kind === 'set-value') {
    need('column', 'the column to set');
    if (!('value' in f)) throw new Error(`fault ${i}: set-value needs value (a string, or null for NULL)`);
  }
  if (f.kind === 'respell-domain') need('rowDomain', 'the domain to spell differently');
  if (f.cut !== undefined && !(f.kind === 'body-cap' && ['byte', 'line'].includes(f.cut)))
    throw new Error(`fault ${i}: cut is 'byte' or 'line', for body-cap only`);
  if (f.location !== undefined && typeof f.location !== 'string') throw new Error(`fault ${i}: location must be a string`);
  if (f.header !== undefined && !(typeof f.header === 'string' && /^[A-Za-z0-9-]+$/.test(f.header)))
    throw new Error(`fault ${i}: header must be a header name`);
  if (f.code !== undefined && typeof f.code !== 'string') throw new Error(`fault ${i}: code must be a string`);
}

const CLEAN_CUT_KINDS: readonly FaultKind[] = [
  'cut-after-line',
  'cut-mid-row',
  'unterminated-quote',
  'body-cap',
  'cut-in-last-field',
];

/** A response can end cleanly only if what it declares matches what it sends. */
function checkCleanEnd(f: FaultSpec, i: number): void {
  if (f.contentLength !== undefined && ![true, false, 'full', 'short'].includes(f.contentLength))
    throw new Error(`fault ${i}: contentLength must be true, false, 'full' or 'short'`);
  if (f.endCleanly !== undefined && typeof f.endCleanly !== 'boolean')
    throw new Error(`fault ${i}: endCleanly must be a boolean`);
  if (f.contentLength === 'short' && !CLEAN_CUT_KINDS.includes(f.kind))
    throw new Error(`fault ${i}: contentLength 'short' applies to ${CLEAN_CUT_KINDS.join(', ')} only`);
  if ((f.kind === 'body-cap' || f.kind === 'cut-in-last-field') && (f.contentLength === true || f.contentLength === 'full'))
    throw new Error(`fault ${i}: ${f.kind} always ends cleanly: contentLength 'short' or none`);
  if (f.endCleanly && (f.contentLength === true || f.contentLength === 'full'))
    throw new Error(`fault ${i}: a response announcing the full Content-Length cannot end cleanly; use contentLength: 'short'`);
}

/** 'drop-day' needs rows that belong to a day; the company rollup has none. */
function checkDropDay(f: FaultSpec, i: number): void {
  if (f.date !== undefined && !(typeof f.date === 'string' && parseDay(f.date) !== undefined))
    throw new Error(`fault ${i}: date must be a day, YYYY-MM-DD`);
  if (f.kind === 'drop-day' && !(f.endpoint !== undefined && DATED.includes(f.endpoint)))
    throw new Error(`fault ${i}: drop-day needs an endpoint with days: ${DATED.join(', ')}`);
}

/** Whether a spec's matchers accept a request. */
function matches(spec: FaultSpec, req: FaultRequest): boolean {
  if (spec.endpoint && spec.endpoint !== req.endpoint) return false;
  if (spec.domain !== undefined && req.domain?.toLowerCase() !== spec.domain.toLowerCase()) return false;
  if (spec.coversDay !== undefined) {
    const day = parseDay(spec.coversDay)!;
    if (!req.days || day < req.days[0] || day > req.days[1]) return false;
  }
  for (const [k, want] of Object.entries(spec.params ?? {})) {
    const values = (req.query[k] ?? []).flatMap((v) => [v, ...v.split(',').map((x) => x.trim())]);
    if (!values.includes(want)) return false;
  }
  return true;
}

export class FaultBook {
  private armed: Armed[] = [];

  constructor(private readonly seed: number) {}

  set(specs: FaultSpec[]): void {
    this.armed = validateFaults(specs).map((spec, i) => ({
      spec,
      seen: 0,
      fired: 0,
      rng: Rng.of(this.seed, 'fault', i, spec.kind),
    }));
  }

  clear(): void {
    this.armed = [];
  }

  list(): FaultSpec[] {
    return this.armed.map((a) => a.spec);
  }

  /** Called once per API request that would otherwise be answered 200; returns the fault to apply. */
  take(req: FaultRequest): FaultSpec | undefined {
    let chosen: FaultSpec | undefined;
    for (const a of this.armed) {
      if (!matches(a.spec, req)) continue;
      a.seen++;
      let fire: boolean;
      if (a.spec.probability !== undefined) {
        fire = a.rng.next() < a.spec.probability; // drawn even when another spec wins: keeps sequences stable
      } else {
        const nth = a.spec.nth ?? 1;
        const times = a.spec.times ?? 1;
        fire = a.seen >= nth && a.seen < nth + times;
      }
      if (fire && !chosen) {
        a.fired++;
        chosen = a.spec.afterRows === 'random' ? { ...a.spec, afterRows: undefined, cutFraction: a.rng.next() } : a.spec;
      }
    }
    return chosen;
  }
}

/** Rows written intact before the fault: afterRows, else the drawn share (cutFraction), else half. */
export function afterRowsOf(fault: FaultSpec, rows: number): number {
  if (typeof fault.afterRows === 'number') return fault.afterRows;
  return Math.floor(rows * (fault.cutFraction ?? 0.5));
}
