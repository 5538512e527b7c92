// Helpers for the simulator tests. The typing here is written independently of sim/truth.ts
// (from schemas/*.json and docs/DESIGN.md) so that the tests check the simulator, not echo it.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

import Papa from 'papaparse';

import { DEFAULT_TOKEN } from '../index.js';

/** The repository's root, found from this file (dist/sim/test/helpers.js), so the tests run from any folder. */
const REPO_ROOT = new URL('../../../', import.meta.url);
/** The compiled command line of the simulator. */
export const SIM_CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

export const NOW = new Date('2026-03-15T12:00:00Z');
/** The simulator's own default: the sim tests start it without a token option. */
export const TOKEN = DEFAULT_TOKEN;

export interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body's bytes as received. */
  raw: Buffer;
  /** The whole HTTP message arrived (Content-Length satisfied, or chunked terminator seen). */
  complete: boolean;
  /** Error on the request or the response stream (reset, premature close). */
  error?: Error;
  /** Milliseconds between the request and the headers. */
  headersAfterMs: number;
  /** Longest pause between two body chunks (ms). */
  maxGapMs: number;
}

/** GET over a fresh connection (no keep-alive pool, so a cut socket cannot leak into the next test). */
export function get(url: string, opts: { token?: string | null; headers?: Record<string, string> } = {}): Promise<Got> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const t0 = Date.now();
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const headersAfterMs = Date.now() - t0;
      const chunks: Buffer[] = [];
      let last = Date.now();
      let maxGapMs = 0;
      let error: Error | undefined;
      res.on('data', (c: Buffer) => {
        const now = Date.now();
        maxGapMs = Math.max(maxGapMs, now - last);
        last = now;
        chunks.push(c);
      });
      res.on('error', (e) => (error ??= e));
      res.on('aborted', () => (error ??= new Error('aborted')));
      res.on('close', () => {
        const raw = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: raw.toString('utf8'),
          raw,
          complete: res.complete,
          ...(error ? { error } : {}),
          headersAfterMs,
          maxGapMs,
        });
      });
    });
    req.on('error', (error) =>
      resolve({
        status: 0,
        headers: {},
        body: '',
        raw: Buffer.alloc(0),
        complete: false,
        error,
        headersAfterMs: Date.now() - t0,
        maxGapMs: 0,
      }),
    );
  });
}

export function send(url: string, method: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      url,
      { method, agent: false, headers: data ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

export function parseCsv(text: string): { header: string[]; rows: string[][]; errors: Papa.ParseError[] } {
  const r = Papa.parse<string[]>(text, { header: false, newline: '\n', skipEmptyLines: true });
  const [header = [], ...rows] = r.data;
  return { header, rows, errors: r.errors };
}

// ---- typing by schema (independent of sim/) ---------------------------------------------

interface Prop {
  type: string | string[];
  format?: string;
}

const schemaCache = new Map<string, Record<string, Prop>>();

export function schemaProps(stream: string): Record<string, Prop> {
  let p = schemaCache.get(stream);
  if (!p) {
    const schema = JSON.parse(readFileSync(new URL(`schemas/${stream}.json`, REPO_ROOT), 'utf8')) as {
      properties: Record<string, Prop>;
    };
    p = schema.properties;
    schemaCache.set(stream, p);
  }
  return p;
}

const TS = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function canonicalTs(text: string): string {
  const m = TS.exec(text);
  if (!m) throw new Error(`not a timestamp: ${text}`);
  const [, date, time = '00:00:00', frac = '', zone = 'Z'] = m;
  if (zone !== 'Z' && !/^\+00(:?00)?$/.test(zone)) throw new Error(`test helper only handles UTC: ${text}`);
  return `${date}T${time}.${frac.padEnd(6, '0')}Z`;
}

function typeValue(text: string, prop: Prop): unknown {
  if (text === '') return null;
  const types = Array.isArray(prop.type) ? prop.type : [prop.type];
  if (types.includes('integer') || types.includes('number')) {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new Error(`not a number: ${text}`);
    return n;
  }
  if (types.includes('boolean')) {
    const t = text.toLowerCase();
    if (t === 't' || t === 'true') return true;
    if (t === 'f' || t === 'false') return false;
    throw new Error(`not a boolean: ${text}`);
  }
  if (prop.format === 'date-time') return canonicalTs(text);
  if (prop.format === 'date') return text.slice(0, 10);
  return text;
}

/** The simulator's default owner, which a correct tap writes (lower-case) into every record. */
export const SIM_OWNER = 'acme-oss';

/** A CSV row → the tap's record: schema key order, absent columns null, unknown ones in extra_fields. */
export function typeCsvRow(
  stream: string,
  header: string[],
  row: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const props = schemaProps(stream);
  const rec: Record<string, unknown> = {};
  for (const k of Object.keys(props)) rec[k] = null;
  const unknown: Record<string, string | null> = {};
  header.forEach((h, i) => {
    const text = row[i] ?? '';
    if (h in props && h !== 'extra_fields' && h !== 'owner') rec[h] = typeValue(text, props[h]!);
    else unknown[h] = text === '' ? null : text;
  });
  rec.owner = SIM_OWNER;
  Object.assign(rec, extra);
  rec.extra_fields = Object.keys(unknown).length ? JSON.stringify(unknown) : null;
  return rec;
}

const AGG_KEY_DIMS = [
  'company_domain',
  'cloud_provider_domain',
  'country',
  'platform',
  'version',
  'client',
  'variable',
  'value',
  'domain',
];

/** An aggregates NDJSON object → the tap's record (with row_key per DESIGN.md). */
export function typeAggregate(line: Record<string, unknown>): Record<string, unknown> {
  const props = schemaProps('aggregates');
  const rec: Record<string, unknown> = {};
  const unknown: Record<string, unknown> = {};
  for (const k of Object.keys(props)) rec[k] = null;
  for (const [k, v] of Object.entries(line)) {
    if (k in props && k !== 'owner') rec[k] = v;
    else unknown[k] = v;
  }
  const val = (k: string) => (line[k] === undefined ? null : line[k]);
  rec.owner = SIM_OWNER;
  rec.row_key = JSON.stringify([SIM_OWNER, line.date, line.rollup, line.breakdown, line.artifact, ...AGG_KEY_DIMS.map(val)]);
  rec.extra_fields = Object.keys(unknown).length ? JSON.stringify(unknown) : null;
  return rec;
}

/** De-duplicates typed records by key, keeping the first occurrence (what the tap does within a window). */
export function dedupe<T extends Record<string, unknown>>(rows: T[], key = 'id'): T[] {
  const seen = new Set<unknown>();
  return rows.filter((r) => (seen.has(r[key]) ? false : (seen.add(r[key]), true)));
}

export function apiUrl(base: string, path: string, q: Record<string, string | string[]> = {}): string {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(q)) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x);
  return u.toString();
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
