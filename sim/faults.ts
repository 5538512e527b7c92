// Fault injection: which request gets which failure. Every spec counts the requests it
// matches on its own, so specs combine predictably; the first spec (in list order) that
// fires on a request wins.

import { parseDay } from './dates.js';
import { Rng } from './prng.js';

export type Endpoint = 'events' | 'aggregates' | 'company-rollup' | 'company-events';

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
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  endpoint?: Endpoint;
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
  /** 'bad-value': the column (CSV header name) or key (NDJSON) to spoil; default `time` (CSV) / `total` (NDJSON). */
  column?: string;
  /** 'bad-value': the text written instead (NDJSON: as a JSON string); default `not-a-value`. 'log-forge-header': the extra column's name. */
  value?: string;
  /** 'token-echo-html': status of the error page (default 403). */
  status?: number;
  /** 'token-echo-html': how the page echoes the Authorization header (default `plain`). */
  echo?: 'plain' | 'base64' | 'base64-token' | 'truncated';
  /** 'token-echo-html' / 'token-echo-value': filler characters before the echoed token (html default 0, value default 70). */
  offset?: number;
  /** 'json-on-csv': the `message` of the JSON error body; default `Export failed, please try again later`. */
  message?: string;
  /** 'content-encoding': the encoding the body is compressed with; default `gzip`. */
  encoding?: 'gzip' | 'br' | 'deflate';
  /** 'endless-row': bytes sent before the simulator gives up and closes the socket; default 64 MiB. */
  /** 'endless-row' (default 64 MiB) / 'endless-rows' (default 256 MiB): body bytes sent before the simulator gives up and closes the socket. */
  /** 'trickle': pause between two writes, in ms (default 100). */
  intervalMs?: number;
  /** 'trickle': bytes per write (default 1). */
  chunkBytes?: number;
  /** 'trickle' / 'endless-rows': the simulator gives up after this many ms and closes the socket (default 30000). */
  maxMs?: number;
  maxBytes?: number;
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
    if (f.endpoint !== undefined && !['events', 'aggregates', 'company-rollup', 'company-events'].includes(f.endpoint)) {
      throw new Error(`fault ${i}: unknown endpoint ${String(f.endpoint)}`);
    }
    if (f.probability !== undefined && !(f.probability >= 0 && f.probability <= 1))
      throw new Error(`fault ${i}: probability must be within 0..1`);
    if (f.nth !== undefined && !(Number.isInteger(f.nth) && f.nth >= 1))
      throw new Error(`fault ${i}: nth must be an integer ≥ 1`);
    if (f.column !== undefined && typeof f.column !== 'string') throw new Error(`fault ${i}: column must be a string`);
    if (f.value !== undefined && typeof f.value !== 'string') throw new Error(`fault ${i}: value must be a string`);
    if (f.status !== undefined && !(Number.isInteger(f.status) && f.status >= 400 && f.status <= 599))
      throw new Error(`fault ${i}: status must be an integer within 400..599`);
    if (f.echo !== undefined && !['plain', 'base64', 'base64-token', 'truncated'].includes(f.echo))
      throw new Error(`fault ${i}: echo must be plain, base64, base64-token or truncated`);
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
    return { ...f };
  });
}

const CLEAN_CUT_KINDS: readonly FaultKind[] = ['cut-after-line', 'cut-mid-row', 'unterminated-quote'];

/** A response can end cleanly only if what it declares matches what it sends. */
function checkCleanEnd(f: FaultSpec, i: number): void {
  if (f.contentLength !== undefined && ![true, false, 'full', 'short'].includes(f.contentLength))
    throw new Error(`fault ${i}: contentLength must be true, false, 'full' or 'short'`);
  if (f.endCleanly !== undefined && typeof f.endCleanly !== 'boolean')
    throw new Error(`fault ${i}: endCleanly must be a boolean`);
  if (f.contentLength === 'short' && !CLEAN_CUT_KINDS.includes(f.kind))
    throw new Error(`fault ${i}: contentLength 'short' applies to ${CLEAN_CUT_KINDS.join(', ')} only`);
  if (f.endCleanly && (f.contentLength === true || f.contentLength === 'full'))
    throw new Error(`fault ${i}: a response announcing the full Content-Length cannot end cleanly; use contentLength: 'short'`);
}

/** 'drop-day' needs rows that belong to a day; the company rollup has none. */
function checkDropDay(f: FaultSpec, i: number): void {
  if (f.date !== undefined && !(typeof f.date === 'string' && parseDay(f.date) !== undefined))
    throw new Error(`fault ${i}: date must be a day, YYYY-MM-DD`);
  if (f.kind === 'drop-day' && !['events', 'company-events', 'aggregates'].includes(f.endpoint ?? ''))
    throw new Error(`fault ${i}: drop-day needs endpoint events, company-events or aggregates`);
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
  take(endpoint: Endpoint): FaultSpec | undefined {
    let chosen: FaultSpec | undefined;
    for (const a of this.armed) {
      if (a.spec.endpoint && a.spec.endpoint !== endpoint) continue;
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
