// Streams a Body to the client — normally, from a cached Buffer, or with a body fault.

import type { ServerResponse } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

import type { Body, BodyRow } from './bodies.js';
import { parseDay } from './dates.js';
import { afterRowsOf, type FaultSpec } from './faults.js';
import { type Cell, csvField, csvLine } from './format.js';
import { flushThen, sleep, write } from './http-util.js';

const CHUNK = 64 * 1024;

export function bodyHeaders(body: Body): Record<string, string> {
  const h: Record<string, string> = { 'Content-Type': body.contentType };
  if (body.contentDisposition) h['Content-Disposition'] = body.contentDisposition;
  return { ...h, ...body.headers };
}

/** Puts the body's separator (JSON: a comma) before every row but the first it is given. */
class Joiner {
  private n = 0;
  constructor(private readonly body: Body) {}
  text(line: string): string {
    return this.n++ === 0 || !this.body.sep ? line : this.body.sep + line;
  }
  /** The separator the next row would get (for a row written only in part). */
  get pending(): string {
    return this.n === 0 ? '' : (this.body.sep ?? '');
  }
}

interface Transform {
  header?: string;
  /** A row's text instead of its line (not yet joined), or null to leave the row out. */
  row?: (row: BodyRow, index: number) => string | null;
}

/**
 * The complete text of a body: the header (possibly ''), each row joined, and the trailer on
 * the last piece, whose final line break is left out when the body says so. One piece per row
 * after the header, so callers can count rows in pieces.
 */
function* pieces(body: Body, t: Transform = {}): Generator<string> {
  const join = new Joiner(body);
  let held = t.header ?? body.header;
  let i = 0;
  for (const row of body.rows()) {
    const text = t.row ? t.row(row, i) : row.line;
    i++;
    if (text === null) continue;
    yield held;
    held = join.text(text);
  }
  held += body.trailer ?? '';
  if (!body.finalNewline && held.endsWith('\n')) held = held.slice(0, -1);
  yield held;
}

/** Writes pieces in ~64 KiB writes with backpressure; `encode` turns text into the bytes sent. */
async function streamPieces(
  res: ServerResponse,
  body: Body,
  parts: Iterable<string>,
  extraHeaders: Record<string, string> = {},
  encode?: (text: string) => Buffer,
): Promise<void> {
  res.writeHead(200, { ...bodyHeaders(body), ...extraHeaders });
  let buf = '';
  const send = (text: string) => write(res, encode ? encode(text) : text);
  for (const p of parts) {
    buf += p;
    if (buf.length >= CHUNK) {
      if (!(await send(buf))) return;
      buf = '';
    }
  }
  if (buf && !(await send(buf))) return;
  res.end();
}

/** Normal path: the whole body, honouring backpressure. */
export function streamBody(res: ServerResponse, body: Body, extraHeaders: Record<string, string> = {}): Promise<void> {
  return streamPieces(res, body, pieces(body), extraHeaders);
}

export function renderBody(body: Body): Buffer {
  const parts: Buffer[] = [];
  let buf = '';
  for (const p of pieces(body)) {
    buf += p;
    if (buf.length >= CHUNK) {
      parts.push(Buffer.from(buf));
      buf = '';
    }
  }
  parts.push(Buffer.from(buf));
  return Buffer.concat(parts);
}

export async function sendBuffer(res: ServerResponse, body: Body, data: Buffer): Promise<void> {
  res.writeHead(200, bodyHeaders(body));
  for (let i = 0; i < data.length; i += CHUNK) {
    if (!(await write(res, data.subarray(i, i + CHUNK)))) return;
  }
  res.end();
}

function measure(body: Body): { rows: number; bytes: number } {
  let n = -1;
  let bytes = 0;
  for (const p of pieces(body)) {
    n++;
    bytes += Buffer.byteLength(p);
  }
  return { rows: n, bytes };
}

/** A CSV row cut inside an unquoted field (or, failing that, halfway through its text). */
function partialRow(body: Body, row: BodyRow | undefined): string {
  const cells = row?.cells ?? (body.format === 'csv' ? body.headerCells : undefined);
  if (body.format === 'csv' && cells) {
    const j = cells.findIndex((c) => c !== null && c.length >= 2 && csvField(c) === c);
    if (j >= 0) {
      const c = cells[j]!;
      const head = cells.slice(0, j).map(csvField).join(',');
      return (j > 0 ? head + ',' : '') + c.slice(0, Math.ceil(c.length / 2));
    }
  }
  const line = row?.line ?? (body.header || '{"date":"1970-01-01","artifact":"x"}\n');
  return line.slice(0, Math.max(1, Math.floor((line.length - 1) / 2)));
}

const needsQuotes = (c: string | null): boolean => c !== null && c !== '' && csvField(c) !== c;

/** A row whose quoted field is opened, filled, and never closed. */
function unterminatedRow(body: Body, row: BodyRow | undefined): string {
  if (body.format !== 'csv') {
    const line = row?.line ?? '{"date":"1970-01-01","artifact":"x"}\n';
    const i = line.indexOf('":"');
    return i >= 0 ? line.slice(0, i + 3) + line.slice(i + 3, line.indexOf('"', i + 3)) : '{"date":"1970-01';
  }
  const cells = row?.cells ?? body.headerCells;
  let j = cells.findIndex(needsQuotes);
  if (j < 0) j = cells.findIndex((c) => c !== null && c !== '');
  if (j < 0) return '"';
  const head = cells.slice(0, j).map(csvField).join(',');
  return (j > 0 ? head + ',' : '') + '"' + cells[j]!.replace(/"/g, '""');
}

const SAMPLE_JSON_ROW = '{"date":"1970-01-01","artifact":"x","breakdown":"by-total","rollup":"daily","total":1}';

/** The row with a wrong number of fields (CSV) or a line that is not JSON. */
function malformedLine(body: Body, row: BodyRow | undefined): string {
  if (body.format !== 'csv') {
    const line = row?.line ?? SAMPLE_JSON_ROW + '\n';
    return line.slice(0, Math.floor(line.length / 2)) + '\n';
  }
  const cells = row?.cells ?? body.headerCells.map(() => 'x');
  return csvLine(cells.slice(0, Math.max(1, cells.length - 2)));
}

/** A JSON row's line with one key set (in place, so the key order stays), keeping its line break. */
function setJsonKey(line: string, key: string, value: unknown): string {
  const obj = JSON.parse(line) as Record<string, unknown>;
  obj[key] = value;
  return JSON.stringify(obj) + (line.endsWith('\n') ? '\n' : '');
}

/** The row with one value spoiled ('bad-value'): a complete row whose `column` cannot be typed. */
function badValueLine(body: Body, row: BodyRow | undefined, fault: FaultSpec): string {
  const value = fault.value ?? 'not-a-value';
  if (body.format !== 'csv') return setJsonKey(row?.line ?? SAMPLE_JSON_ROW + '\n', fault.column ?? 'total', value);
  const cells = [...(row?.cells ?? body.headerCells.map(() => 'x'))];
  const j = body.headerCells.indexOf(fault.column ?? 'time');
  if (j >= 0) cells[j] = value;
  return csvLine(cells);
}

/** What 'log-forge-header' calls its extra column by default: a log line of its own and an ANSI colour. */
export const FORGED_COLUMN = 'x\n[tap-scarf] INFO forged\x1b[31m';

/**
 * 'token-echo-html': the error page of a careless proxy or gateway, echoing the request's
 * Authorization header (as it came, base64-encoded, only the token base64-encoded, or cut
 * after 24 characters) after `offset` filler characters.
 */
export function tokenEchoPage(authorization: string, fault: FaultSpec): string {
  const token = authorization.replace(/^Bearer\s+/i, '');
  const echoed =
    fault.echo === 'base64'
      ? Buffer.from(authorization).toString('base64')
      : fault.echo === 'base64-token'
        ? Buffer.from(token).toString('base64')
        : fault.echo === 'truncated'
          ? authorization.slice(0, 24) + '...'
          : fault.echo === 'upper'
            ? authorization.toUpperCase()
            : fault.echo === 'lower'
              ? authorization.toLowerCase()
              : authorization;
  const status = fault.status ?? 403;
  return (
    `<!DOCTYPE html><html><head><title>${status} Request blocked</title></head><body>` +
    `<p>${'.'.repeat(fault.offset ?? 0)}</p><pre>Authorization: ${echoed}</pre>` +
    `<p>The request was blocked by the gateway.</p></body></html>\n`
  );
}

/** 'token-echo-header': the header value, the token in another letter case (default upper) or encoded. */
export function tokenEchoHeader(authorization: string, fault: FaultSpec): string {
  const token = authorization.replace(/^Bearer\s+/i, '');
  switch (fault.echo ?? 'upper') {
    case 'lower':
      return token.toLowerCase();
    case 'plain':
      return token;
    case 'base64':
      return Buffer.from(authorization).toString('base64');
    case 'base64-token':
      return Buffer.from(token).toString('base64');
    case 'truncated':
      return token.slice(0, 24) + '...';
    default:
      return token.toUpperCase();
  }
}

/** The proxy sign-in page an 'html-page' fault answers with. */
export const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign in - Corporate Web Gateway</title></head>\n' +
  '<body><form method="post" action="/login"><p>Your session has expired. Please sign in to continue.</p>' +
  '<input name="user"><input name="password" type="password"><button>Sign in</button></form></body></html>\n';

/** Kinds that replace the whole answer (status, headers and body) rather than spoil a body. */
export const ANSWER_FAULTS = ['empty-200', '204', 'json-on-csv', 'html-page', 'content-encoding', 'endless-row'];

/**
 * Answers with something that is not the export although the status says success: nothing
 * at all, a 204, a JSON error, a proxy's HTML page, a body compressed unasked, or a row
 * that never ends (sent until `maxBytes`, then the socket closes).
 */
export async function sendWrongAnswer(res: ServerResponse, body: Body, fault: FaultSpec): Promise<number> {
  switch (fault.kind) {
    case '204':
      res.writeHead(204);
      res.end();
      return 204;
    case 'empty-200':
      res.writeHead(200, { 'Content-Length': '0' });
      res.end();
      return 200;
    case 'json-on-csv': {
      const text = JSON.stringify({ message: fault.message ?? 'Export failed, please try again later', code: 'export-failed' });
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(text)),
      });
      res.end(text);
      return 200;
    }
    case 'html-page':
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(LOGIN_PAGE)) });
      res.end(LOGIN_PAGE);
      return 200;
    case 'content-encoding': {
      const encoding = fault.encoding ?? 'gzip';
      const raw = renderBody(body);
      const data = encoding === 'gzip' ? gzipSync(raw) : encoding === 'br' ? brotliCompressSync(raw) : deflateSync(raw);
      res.writeHead(200, { ...bodyHeaders(body), 'Content-Encoding': encoding, 'Content-Length': String(data.length) });
      res.end(data);
      return 200;
    }
    case 'endless-row': {
      res.writeHead(200, bodyHeaders(body));
      const start = body.format === 'csv' ? body.header + '"' : body.header + '{"date":"1970-01-01","artifact":"';
      const filler = 'x'.repeat(CHUNK);
      const cap = fault.maxBytes ?? 64 * 1024 * 1024;
      let sent = Buffer.byteLength(start);
      if (!(await write(res, start))) return 200;
      while (sent < cap) {
        const piece = cap - sent >= filler.length ? filler : filler.slice(0, cap - sent);
        if (!(await write(res, piece))) return 200;
        sent += piece.length;
      }
      flushThen(res, '', () => res.socket?.destroy());
      return 200;
    }
    default:
      throw new Error(`sendWrongAnswer: ${fault.kind} is not an answer fault`);
  }
}

/** The header line with one column's name blanked ('empty-column-name'; default the third column). */
function blankedHeader(body: Body, fault: FaultSpec): string {
  if (body.format !== 'csv') return body.header;
  const cells = [...body.headerCells];
  let j = fault.column !== undefined ? cells.indexOf(fault.column) : 2;
  if (j < 0 || j >= cells.length) j = Math.min(2, cells.length - 1);
  cells[j] = '';
  return cells.map((c) => (c === '' ? '' : csvField(c))).join(',') + '\n';
}

/**
 * 'trickle': the header and `afterRows` rows (default half) at full speed, then the rest of
 * the body `chunkBytes` bytes every `intervalMs` — never silent long enough for an idle
 * timeout. After `maxMs` the socket is closed, so a client that never gives up still ends.
 */
async function streamTrickle(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  const until = Date.now() + (fault.maxMs ?? 30_000);
  const step = Math.max(1, Math.floor(fault.chunkBytes ?? 1));
  const after = afterRowsOf(fault, measure(body).rows);
  res.writeHead(200, bodyHeaders(body));
  res.flushHeaders();
  const parts = pieces(body)[Symbol.iterator]();
  let head = '';
  for (let i = 0; i <= after; i++) {
    const r = parts.next();
    if (r.done) break;
    head += r.value;
  }
  if (!(await write(res, head))) return;
  let pending = Buffer.alloc(0);
  for (;;) {
    while (pending.length < step) {
      const r = parts.next();
      if (r.done) break;
      pending = Buffer.concat([pending, Buffer.from(r.value)]);
    }
    if (pending.length === 0) break;
    if (Date.now() >= until) {
      res.socket?.destroy();
      return;
    }
    if (!(await write(res, pending.subarray(0, step)))) return;
    pending = pending.subarray(step);
    if (!(await sleep(fault.intervalMs ?? 100, res))) return;
  }
  res.end();
}

/**
 * 'endless-rows': the header and the body's rows, then the same complete, valid rows again
 * and again (as a server looping over its own pages would), at full speed with backpressure.
 * After `maxBytes` body bytes or `maxMs` the socket is closed without an end of body.
 */
async function streamEndless(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  const until = Date.now() + (fault.maxMs ?? 30_000);
  const maxBytes = fault.maxBytes ?? 256 * 1024 * 1024;
  res.writeHead(200, bodyHeaders(body));
  res.flushHeaders();
  const join = new Joiner(body);
  let buf = body.header;
  let sent = 0;
  const over = () => sent >= maxBytes || Date.now() >= until;
  for (;;) {
    let rows = 0;
    for (const row of body.rows()) {
      rows++;
      buf += join.text(row.line);
      if (buf.length >= CHUNK) {
        if (!(await write(res, buf))) return;
        sent += Buffer.byteLength(buf);
        buf = '';
        if (over()) return void res.socket?.destroy();
      }
    }
    if (rows === 0) {
      // Nothing to repeat: hold the response open until the time bound.
      if (buf && !(await write(res, buf))) return;
      if (await sleep(Math.max(0, until - Date.now()), res)) res.socket?.destroy();
      return;
    }
  }
}

/**
 * The text of a cut response, in chunks: the header, the rows before the cut and, for the
 * mid-row kinds, the broken tail — the very bytes the unclean variants send before the socket dies.
 */
function* cutText(body: Body, fault: FaultSpec, after: number): Generator<string> {
  const join = new Joiner(body);
  let buf = body.header;
  let i = 0;
  const tail = (row: BodyRow | undefined) =>
    fault.kind === 'cut-mid-row'
      ? join.pending + partialRow(body, row)
      : fault.kind === 'unterminated-quote'
        ? join.pending + unterminatedRow(body, row)
        : '';
  for (const row of body.rows()) {
    // unterminated-quote strikes on a row that really has a quoted field (as streamFaulty does)
    const deferred = fault.kind === 'unterminated-quote' && body.format === 'csv' && !row.cells?.some(needsQuotes);
    if (i >= after && !deferred) {
      yield buf + tail(row);
      return;
    }
    buf += join.text(row.line);
    i++;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  yield buf + tail(undefined);
}

/** Sends the chunks of a body that ends early but properly: chunked terminator, or a Content-Length of exactly what is sent. */
async function sendCleanly(res: ServerResponse, body: Body, fault: FaultSpec, chunks: () => Iterable<string>): Promise<void> {
  const headers = bodyHeaders(body);
  if (fault.contentLength === 'short') {
    let bytes = 0;
    for (const chunk of chunks()) bytes += Buffer.byteLength(chunk);
    headers['Content-Length'] = String(bytes);
  }
  res.writeHead(200, headers);
  for (const chunk of chunks()) if (chunk && !(await write(res, chunk))) return;
  res.end();
}

/**
 * A cut that ends cleanly: the chunked terminator right after the short body, or a declared
 * Content-Length equal to the short body ('short'). The HTTP message is complete; only a
 * count of the content can tell it is short.
 */
function streamCleanCut(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  const after = afterRowsOf(fault, measure(body).rows);
  return sendCleanly(res, body, fault, () => cutText(body, fault, after));
}

/**
 * 'body-cap': a gateway that passes at most `maxBytes` bytes of a body and ends the message
 * properly there — exactly at the byte (`cut: 'byte'`, possibly inside a row or a UTF-8
 * character) or after the last complete row that fits (`cut: 'line'`). A body under the cap
 * passes whole; the same body is cut at the same place on every read.
 */
async function streamBodyCap(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  const cap = fault.maxBytes!;
  function* capped(): Generator<Buffer> {
    let sent = 0;
    for (const p of pieces(body)) {
      const bytes = Buffer.from(p);
      if (sent + bytes.length <= cap) {
        sent += bytes.length;
        yield bytes;
        continue;
      }
      if (fault.cut !== 'line') yield bytes.subarray(0, cap - sent);
      return;
    }
  }
  const headers = bodyHeaders(body);
  if (fault.contentLength === 'short') {
    let bytes = 0;
    for (const b of capped()) bytes += b.length;
    headers['Content-Length'] = String(bytes);
  }
  res.writeHead(200, headers);
  for (const b of capped()) if (b.length && !(await write(res, b))) return;
  res.end();
}

/** A row's text cut inside its last field (CSV: the last cell as served; JSON: the last value). */
function cutInLastField(body: Body, row: BodyRow | undefined): string {
  if (body.format === 'csv') {
    const cells = row?.cells ?? body.headerCells;
    const fields = cells.map(csvField);
    const last = fields.pop() ?? '';
    return [...fields, last.slice(0, Math.floor(last.length / 2))].join(',');
  }
  const line = (row?.line ?? SAMPLE_JSON_ROW).replace(/\n$/, '');
  const k = line.lastIndexOf(':');
  const value = line.slice(k + 1, -1);
  return line.slice(0, k + 1) + value.slice(0, Math.floor(value.length / 2));
}

const lastFieldFilled = (body: Body, row: BodyRow): boolean =>
  body.format === 'csv' ? !!row.cells?.at(-1) : !/:null}\n?$/.test(row.line);

/**
 * 'cut-in-last-field': complete rows, then the first row at or after the cut point whose last
 * field has text, ending inside that field without a line break, and the message ends
 * properly. When the field count still matches, only a reader that distrusts a last row
 * without its line break can tell (`t` becomes empty, `eu-west-3` becomes `eu-we`).
 */
function streamCutInLastField(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  const after = afterRowsOf(fault, measure(body).rows);
  function* text(): Generator<string> {
    const join = new Joiner(body);
    let buf = body.header;
    let i = 0;
    let last: BodyRow | undefined; // held back: the row to cut if no later one qualifies
    for (const row of body.rows()) {
      if (last) buf += join.text(last.line);
      last = undefined;
      if (i >= after && lastFieldFilled(body, row)) {
        yield buf + join.pending + cutInLastField(body, row);
        return;
      }
      last = row;
      i++;
      if (buf.length >= CHUNK) {
        yield buf;
        buf = '';
      }
    }
    // No row after the cut point has text in its last field: cut the last row (or the header).
    yield buf + (last ? join.pending + cutInLastField(body, last) : '');
  }
  return sendCleanly(res, body, fault, text);
}

/** A CSV row with some cells changed. */
function csvRowWith(row: BodyRow, change: (cells: Cell[]) => void): string {
  const cells = [...(row.cells ?? [])];
  change(cells);
  return csvLine(cells);
}

const DOMAIN_COLUMNS = ['company_domain', 'origin_domain'];

/** Whether a row is one of `rowDomain`'s (any row when none is given). */
function rowOf(body: Body, row: BodyRow, rowDomain: string | undefined): boolean {
  if (rowDomain === undefined) return true;
  const want = rowDomain.toLowerCase();
  if (body.format === 'csv')
    return DOMAIN_COLUMNS.some((c) => {
      const j = body.headerCells.indexOf(c);
      return j >= 0 && row.cells?.[j]?.toLowerCase() === want;
    });
  const obj = JSON.parse(row.line) as Record<string, unknown>;
  return DOMAIN_COLUMNS.some((c) => typeof obj[c] === 'string' && (obj[c] as string).toLowerCase() === want);
}

/** The first letter of a domain in upper case: `Tokyo-gas.co.jp` for `tokyo-gas.co.jp`. */
const respelled = (domain: string) => domain.charAt(0).toUpperCase() + domain.slice(1);

/** Marks where 'invalid-utf8' puts its bytes; a lone surrogate, which no served text holds. */
const BAD_BYTES_MARK = '\uD800';
/** A truncated two-byte sequence, then a byte UTF-8 never uses. */
const BAD_BYTES = Buffer.from([0xc3, 0x28, 0xff]);

function encodeWithBadBytes(text: string): Buffer {
  const parts = text.split(BAD_BYTES_MARK);
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [Buffer.from(p)] : [BAD_BYTES, Buffer.from(p)])));
}

function invalidUtf8Column(body: Body, fault: FaultSpec, row: BodyRow): string | undefined {
  if (fault.column) return fault.column;
  const keys = body.format === 'csv' ? body.headerCells : Object.keys(JSON.parse(row.line) as object);
  return ['user_agent', 'company_name', 'company', 'artifact_name', 'artifact'].find((c) => keys.includes(c));
}

/** A row with the bad bytes in the middle of one column's text. */
function withBadBytes(body: Body, fault: FaultSpec, row: BodyRow): string {
  const column = invalidUtf8Column(body, fault, row);
  const spoil = (text: string) =>
    text.slice(0, Math.floor(text.length / 2)) + BAD_BYTES_MARK + text.slice(Math.floor(text.length / 2));
  if (body.format === 'csv') {
    const j = column === undefined ? 0 : Math.max(0, body.headerCells.indexOf(column));
    return csvRowWith(row, (cells) => (cells[j] = spoil(cells[j] ?? '')));
  }
  const obj = JSON.parse(row.line) as Record<string, unknown>;
  const key = column ?? 'artifact';
  // JSON.stringify would escape the lone surrogate; put the mark into the text after it.
  obj[key] = `${String(obj[key] ?? '')}\u0000`;
  const text = JSON.stringify(obj) + (row.line.endsWith('\n') ? '\n' : '');
  return text.replace('\\u0000', BAD_BYTES_MARK);
}

/**
 * Faults that answer a complete, correctly framed body, changed: a day left out ('drop-day'),
 * a header or key renamed or blanked, one more column, a value set in every row (of a
 * domain), a domain spelled otherwise, bytes that are not UTF-8 in one row.
 */
function transformOf(body: Body, fault: FaultSpec): { t: Transform; encode?: (text: string) => Buffer } {
  const csv = body.format === 'csv';
  switch (fault.kind) {
    case 'drop-day': {
      let day: number | undefined;
      if (fault.date !== undefined) day = parseDay(fault.date);
      else {
        const at = afterRowsOf(fault, measure(body).rows);
        let i = 0;
        for (const row of body.rows()) {
          if (i++ < at) continue;
          day = row.day;
          break;
        }
      }
      return { t: { row: (row) => (day !== undefined && row.day === day ? null : row.line) } };
    }
    case 'empty-column-name':
      return { t: { header: blankedHeader(body, fault) } };
    case 'log-forge-header': {
      const name = fault.value ?? FORGED_COLUMN;
      const key = JSON.stringify(name);
      return csv
        ? { t: { header: body.header.slice(0, -1) + ',' + csvField(name) + '\n', row: (row) => row.line.slice(0, -1) + ',\n' } }
        : {
            t: {
              row: (row) => row.line.slice(0, row.line.lastIndexOf('}')) + `,${key}:"x"}` + (row.line.endsWith('\n') ? '\n' : ''),
            },
          };
    }
    case 'rename-column': {
      const from = fault.column!,
        to = String(fault.value);
      if (csv) return { t: { header: csvLine(body.headerCells.map((c) => (c === from ? to : c))) } };
      const rename = (line: string) => {
        const obj = JSON.parse(line) as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [k, val] of Object.entries(obj)) out[k === from ? to : k] = val;
        return JSON.stringify(out) + (line.endsWith('\n') ? '\n' : '');
      };
      return { t: { row: (row) => rename(row.line) } };
    }
    case 'set-value': {
      const value = fault.value ?? null;
      const j = body.headerCells.indexOf(fault.column!);
      return {
        t: {
          row: (row) => {
            if (!rowOf(body, row, fault.rowDomain)) return row.line;
            if (!csv) return setJsonKey(row.line, fault.column!, value);
            return j < 0 ? row.line : csvRowWith(row, (cells) => (cells[j] = value));
          },
        },
      };
    }
    case 'respell-domain': {
      const want = fault.rowDomain!.toLowerCase();
      const spelling = fault.value ?? respelled(want);
      const columns = DOMAIN_COLUMNS.map((c) => body.headerCells.indexOf(c)).filter((j) => j >= 0);
      return {
        t: {
          row: (row) => {
            if (csv)
              return csvRowWith(row, (cells) => {
                for (const j of columns) if (cells[j]?.toLowerCase() === want) cells[j] = spelling;
              });
            const obj = JSON.parse(row.line) as Record<string, unknown>;
            for (const c of DOMAIN_COLUMNS)
              if (typeof obj[c] === 'string' && (obj[c] as string).toLowerCase() === want) obj[c] = spelling;
            return JSON.stringify(obj) + (row.line.endsWith('\n') ? '\n' : '');
          },
        },
      };
    }
    case 'invalid-utf8': {
      const at = afterRowsOf(fault, measure(body).rows);
      return { t: { row: (row, i) => (i === at ? withBadBytes(body, fault, row) : row.line) }, encode: encodeWithBadBytes };
    }
    default:
      throw new Error(`transformOf: ${fault.kind} does not transform a body`);
  }
}

const TRANSFORM_KINDS = [
  'drop-day',
  'empty-column-name',
  'log-forge-header',
  'rename-column',
  'set-value',
  'respell-domain',
  'invalid-utf8',
];

/** Streams the body with one fault; `after` rows go out intact before it strikes. */
export async function streamFaulty(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  if (fault.kind === 'trickle') return streamTrickle(res, body, fault);
  if (fault.kind === 'endless-rows') return streamEndless(res, body, fault);
  if (fault.kind === 'body-cap') return streamBodyCap(res, body, fault);
  if (fault.kind === 'cut-in-last-field') return streamCutInLastField(res, body, fault);
  if (TRANSFORM_KINDS.includes(fault.kind)) {
    const { t, encode } = transformOf(body, fault);
    return streamPieces(res, body, pieces(body, t), {}, encode);
  }
  if (fault.contentLength === 'short' || (fault.kind === 'cut-after-line' && fault.endCleanly))
    return streamCleanCut(res, body, fault);
  const cut = ['reset-mid-body', 'cut-after-line', 'cut-mid-row', 'unterminated-quote'].includes(fault.kind);
  const needMeasure = typeof fault.afterRows !== 'number' || (cut && fault.contentLength);
  const stats = needMeasure ? measure(body) : { rows: 0, bytes: 0 };
  const after = afterRowsOf(fault, stats.rows);
  const headers = bodyHeaders(body);
  if (cut && fault.contentLength && !fault.endCleanly) headers['Content-Length'] = String(stats.bytes);
  res.writeHead(200, headers);
  res.flushHeaders();

  const destroy = () => res.socket?.destroy();
  const join = new Joiner(body);
  let buf = body.header;
  let i = 0;
  let struck = false;
  const strike = async (row: BodyRow | undefined): Promise<'stop' | 'continue' | 'skip-row' | 'defer'> => {
    struck = true;
    switch (fault.kind) {
      case 'reset-mid-body':
        flushThen(res, buf, () => res.socket?.resetAndDestroy());
        return 'stop';
      case 'cut-after-line':
        flushThen(res, buf, destroy);
        return 'stop';
      case 'cut-mid-row':
      case 'unterminated-quote': {
        // Strike on a row that really has a quoted field, so the output stays a prefix of the real body.
        if (fault.kind === 'unterminated-quote' && row && body.format === 'csv' && !row.cells?.some(needsQuotes)) {
          struck = false;
          return 'defer';
        }
        const tail = join.pending + (fault.kind === 'cut-mid-row' ? partialRow(body, row) : unterminatedRow(body, row));
        if (fault.endCleanly) res.end(buf + tail);
        else flushThen(res, buf + tail, destroy);
        return 'stop';
      }
      case 'stall-mid-body':
        if (!(await write(res, buf))) return 'stop';
        buf = '';
        return (await sleep(fault.latencyMs ?? 30_000, res)) ? 'continue' : 'stop';
      case 'malformed-row':
      case 'bad-json-line':
        buf += join.text(malformedLine(body, row));
        return 'skip-row';
      case 'bad-value':
      case 'token-echo-value':
        buf += join.text(badValueLine(body, row, fault));
        return 'skip-row';
      default:
        return 'continue';
    }
  };

  // A body without its final line break must not have sent it with an earlier write.
  const keep = body.finalNewline ? 0 : 1;
  for (const row of body.rows()) {
    if (i >= after && !struck) {
      const next = await strike(row);
      if (next === 'stop') return;
      if (next === 'skip-row') {
        i++;
        continue;
      }
    }
    buf += join.text(row.line);
    i++;
    if (buf.length >= CHUNK) {
      if (!(await write(res, buf.slice(0, buf.length - keep)))) return;
      buf = buf.slice(buf.length - keep);
    }
  }
  if (!struck && (await strike(undefined)) === 'stop') return;
  buf += body.trailer ?? '';
  if (!body.finalNewline && buf.endsWith('\n')) buf = buf.slice(0, -1);
  if (buf && !(await write(res, buf))) return;
  res.end();
}
