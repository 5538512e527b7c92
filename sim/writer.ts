// Streams a Body to the client — normally, from a cached Buffer, or with a body fault.

import type { ServerResponse } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

import type { Body, BodyRow } from './bodies.js';
import { parseDay } from './dates.js';
import { afterRowsOf, type FaultSpec } from './faults.js';
import { csvField, csvLine } from './format.js';
import { flushThen, sleep, write } from './http-util.js';

const CHUNK = 64 * 1024;

export function bodyHeaders(body: Body): Record<string, string> {
  const h: Record<string, string> = { 'Content-Type': body.contentType };
  if (body.contentDisposition) h['Content-Disposition'] = body.contentDisposition;
  return h;
}

/** Normal path: header, then rows batched into ~64 KiB writes, honouring backpressure. */
export async function streamBody(res: ServerResponse, body: Body): Promise<void> {
  res.writeHead(200, bodyHeaders(body));
  let buf = body.header;
  for (const row of body.rows()) {
    buf += row.line;
    if (buf.length >= CHUNK) {
      if (!(await write(res, buf))) return;
      buf = '';
    }
  }
  if (buf && !(await write(res, buf))) return;
  res.end();
}

export function renderBody(body: Body): Buffer {
  const parts: Buffer[] = [];
  let buf = body.header;
  for (const row of body.rows()) {
    buf += row.line;
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
  let rows = 0;
  let bytes = Buffer.byteLength(body.header);
  for (const r of body.rows()) {
    rows++;
    bytes += Buffer.byteLength(r.line);
  }
  return { rows, bytes };
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
  if (body.format === 'ndjson') {
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

/** The row with a wrong number of fields (CSV) or a line that is not JSON (NDJSON). */
function malformedLine(body: Body, row: BodyRow | undefined): string {
  if (body.format === 'ndjson') {
    const line = row?.line ?? '{"date":"1970-01-01","artifact":"x","breakdown":"by-total","rollup":"daily","total":1}\n';
    return line.slice(0, Math.floor(line.length / 2)) + '\n';
  }
  const cells = row?.cells ?? body.headerCells.map(() => 'x');
  return csvLine(cells.slice(0, Math.max(1, cells.length - 2)));
}

/** The row with one value spoiled ('bad-value'): a complete row whose `column` cannot be typed. */
function badValueLine(body: Body, row: BodyRow | undefined, fault: FaultSpec): string {
  const value = fault.value ?? 'not-a-value';
  if (body.format === 'ndjson') {
    const obj = JSON.parse(
      row?.line ?? '{"date":"1970-01-01","artifact":"x","breakdown":"by-total","rollup":"daily","total":1}',
    ) as Record<string, unknown>;
    obj[fault.column ?? 'total'] = value;
    return JSON.stringify(obj) + '\n';
  }
  const cells = [...(row?.cells ?? body.headerCells.map(() => 'x'))];
  const j = body.headerCells.indexOf(fault.column ?? 'time');
  if (j >= 0) cells[j] = value;
  return csvLine(cells);
}

/** What 'log-forge-header' calls its extra column by default: a log line of its own and an ANSI colour. */
export const FORGED_COLUMN = 'x\n[tap-scarf] INFO forged\x1b[31m';

/**
 * 'log-forge-header': the whole body with one more column (CSV header cell / NDJSON key) whose
 * name carries a line break and an ANSI escape, as a hostile or broken server could send.
 * CSV rows get an empty cell for it, NDJSON objects the value "x", so only the name is odd.
 */
async function streamForgedHeader(res: ServerResponse, body: Body, name: string): Promise<void> {
  res.writeHead(200, bodyHeaders(body));
  const key = JSON.stringify(name);
  const extend =
    body.format === 'csv'
      ? (line: string) => line.slice(0, -1) + ',\n'
      : (line: string) => line.slice(0, line.lastIndexOf('}')) + `,${key}:"x"}\n`;
  let buf = body.format === 'csv' ? body.header.slice(0, -1) + ',' + csvField(name) + '\n' : '';
  for (const row of body.rows()) {
    buf += extend(row.line);
    if (buf.length >= CHUNK) {
      if (!(await write(res, buf))) return;
      buf = '';
    }
  }
  if (buf && !(await write(res, buf))) return;
  res.end();
}

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
          : authorization;
  const status = fault.status ?? 403;
  return (
    `<!DOCTYPE html><html><head><title>${status} Request blocked</title></head><body>` +
    `<p>${'.'.repeat(fault.offset ?? 0)}</p><pre>Authorization: ${echoed}</pre>` +
    `<p>The request was blocked by the gateway.</p></body></html>\n`
  );
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
      const start = body.format === 'csv' ? body.header + '"' : '{"date":"1970-01-01","artifact":"';
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
  const rows = body.rows()[Symbol.iterator]();
  let head = body.header;
  for (let i = 0; i < after; i++) {
    const r = rows.next();
    if (r.done) break;
    head += r.value.line;
  }
  if (!(await write(res, head))) return;
  let pending = Buffer.alloc(0);
  for (;;) {
    while (pending.length < step) {
      const r = rows.next();
      if (r.done) break;
      pending = Buffer.concat([pending, Buffer.from(r.value.line)]);
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
  let buf = body.header;
  let sent = 0;
  const over = () => sent >= maxBytes || Date.now() >= until;
  for (;;) {
    let rows = 0;
    for (const row of body.rows()) {
      rows++;
      buf += row.line;
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
  let buf = body.header;
  let i = 0;
  for (const row of body.rows()) {
    // unterminated-quote strikes on a row that really has a quoted field (as streamFaulty does)
    const deferred = fault.kind === 'unterminated-quote' && body.format === 'csv' && !row.cells?.some(needsQuotes);
    if (i >= after && !deferred) {
      if (fault.kind === 'cut-mid-row') buf += partialRow(body, row);
      else if (fault.kind === 'unterminated-quote') buf += unterminatedRow(body, row);
      yield buf;
      return;
    }
    buf += row.line;
    i++;
    if (buf.length >= CHUNK) {
      yield buf;
      buf = '';
    }
  }
  if (fault.kind === 'cut-mid-row') buf += partialRow(body, undefined);
  else if (fault.kind === 'unterminated-quote') buf += unterminatedRow(body, undefined);
  yield buf;
}

/**
 * A cut that ends cleanly: the chunked terminator right after the short body, or a declared
 * Content-Length equal to the short body ('short'). The HTTP message is complete; only a
 * count of the content can tell it is short.
 */
async function streamCleanCut(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  const after = afterRowsOf(fault, measure(body).rows);
  const headers = bodyHeaders(body);
  if (fault.contentLength === 'short') {
    let bytes = 0;
    for (const chunk of cutText(body, fault, after)) bytes += Buffer.byteLength(chunk);
    headers['Content-Length'] = String(bytes);
  }
  res.writeHead(200, headers);
  for (const chunk of cutText(body, fault, after)) if (chunk && !(await write(res, chunk))) return;
  res.end();
}

/** 'drop-day': a complete, correctly framed body without any row of one day. */
async function streamDroppedDay(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
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
  res.writeHead(200, bodyHeaders(body));
  let buf = body.header;
  for (const row of body.rows()) {
    if (day !== undefined && row.day === day) continue;
    buf += row.line;
    if (buf.length >= CHUNK) {
      if (!(await write(res, buf))) return;
      buf = '';
    }
  }
  if (buf && !(await write(res, buf))) return;
  res.end();
}

/** Streams the body with one fault; `after` rows go out intact before it strikes. */
export async function streamFaulty(res: ServerResponse, body: Body, fault: FaultSpec): Promise<void> {
  if (fault.kind === 'trickle') return streamTrickle(res, body, fault);
  if (fault.kind === 'endless-rows') return streamEndless(res, body, fault);
  if (fault.kind === 'log-forge-header') return streamForgedHeader(res, body, fault.value ?? FORGED_COLUMN);
  if (fault.contentLength === 'short' || (fault.kind === 'cut-after-line' && fault.endCleanly))
    return streamCleanCut(res, body, fault);
  if (fault.kind === 'drop-day') return streamDroppedDay(res, body, fault);
  const cut = ['reset-mid-body', 'cut-after-line', 'cut-mid-row', 'unterminated-quote'].includes(fault.kind);
  const needMeasure = typeof fault.afterRows !== 'number' || (cut && fault.contentLength);
  const stats = needMeasure ? measure(body) : { rows: 0, bytes: 0 };
  const after = afterRowsOf(fault, stats.rows);
  const headers = bodyHeaders(body);
  if (cut && fault.contentLength && !fault.endCleanly) headers['Content-Length'] = String(stats.bytes);
  res.writeHead(200, headers);
  res.flushHeaders();

  const destroy = () => res.socket?.destroy();
  let buf = fault.kind === 'empty-column-name' ? blankedHeader(body, fault) : body.header;
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
        const tail = fault.kind === 'cut-mid-row' ? partialRow(body, row) : unterminatedRow(body, row);
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
        buf += malformedLine(body, row);
        return 'skip-row';
      case 'bad-value':
      case 'token-echo-value':
        buf += badValueLine(body, row, fault);
        return 'skip-row';
      case 'empty-column-name':
        return 'continue'; // the header was already written blanked
      default:
        return 'continue';
    }
  };

  for (const row of body.rows()) {
    if (i >= after && !struck) {
      const next = await strike(row);
      if (next === 'stop') return;
      if (next === 'skip-row') {
        i++;
        continue;
      }
    }
    buf += row.line;
    i++;
    if (buf.length >= CHUNK) {
      if (!(await write(res, buf))) return;
      buf = '';
    }
  }
  if (!struck && (await strike(undefined)) === 'stop') return;
  if (buf && !(await write(res, buf))) return;
  res.end();
}
