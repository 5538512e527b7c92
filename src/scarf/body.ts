// Shared plumbing of the body readers: pulling chunks so that a failing source (reset,
// abort, timeout, premature close) becomes an IncompleteBodyError, while errors thrown by
// the caller's handlers pass through untouched.

import { StringDecoder } from 'node:string_decoder';

import { RUNTIME_DEFAULTS, runtimeOptions } from '../config/runtime-options.js';
import { DataError, IncompleteBodyError, NotAnExportError } from '../errors.js';
import { clip, redact } from '../log.js';
import { type ErrorBody, parseErrorBody } from './answers.js';

export type BodyChunk = Buffer | Uint8Array | string;
/** A response body: an undici/Node Readable or any async iterable of chunks. */
export type BodySource = AsyncIterable<BodyChunk> | NodeJS.ReadableStream;

/** `CODE: message` of anything thrown, token-free. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || err.name;
    return redact(typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg);
  }
  return redact(String(err));
}

export class BodyPuller {
  private readonly it: AsyncIterator<BodyChunk>;
  private ended = false;
  bytes = 0;

  constructor(
    body: BodySource,
    private readonly label: string,
  ) {
    this.it = (body as AsyncIterable<BodyChunk>)[Symbol.asyncIterator]();
  }

  /** Next chunk, or undefined at a normal end of the body. */
  async next(): Promise<BodyChunk | undefined> {
    let r: IteratorResult<BodyChunk>;
    try {
      r = await this.it.next();
    } catch (err) {
      this.ended = true;
      if (err instanceof IncompleteBodyError) throw err; // already worded by an inner puller (openExport)
      throw new IncompleteBodyError(`${this.label}the response body failed before its end (${describeError(err)})`);
    }
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    const v = r.value;
    this.bytes += typeof v === 'string' ? Buffer.byteLength(v) : v.length;
    return v;
  }

  /** Stops reading early (a handler failed): destroys the source so its socket is released. */
  release(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      const p = this.it.return?.();
      if (p) p.then(undefined, () => undefined);
    } catch {
      // the source is already gone
    }
  }
}

/** Longest row the reader holds in memory while waiting for its end, in characters. */
export const DEFAULT_MAX_ROW_CHARS = RUNTIME_DEFAULTS.maxRowChars;

/** The row size limit of this process (TAP_SCARF_MAX_ROW_BYTES, else 8 MiB), for a reader not given one. */
export function maxRowChars(): number {
  return runtimeOptions().maxRowChars;
}

function sizeText(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

/** A row that has not ended after `max` characters: the body is not an export a tap can hold row by row. */
export function rowTooLong(label: string, what: string, max: number): DataError {
  return new DataError(
    `${label}${what} is longer than the row size limit of ${sizeText(max)} and has not ended: the body is not a readable export ` +
      '(a Scarf row is a few KB). Reading stopped so memory stays bounded; if rows this long are real, raise the limit with the environment variable TAP_SCARF_MAX_ROW_BYTES',
  );
}

export function labelPrefix(label: string | undefined): string {
  return label ? `${label}: ` : '';
}

// ---------------------------------------------------------------------------------------
// Is this answer an export at all? A 2xx status proves nothing: a proxy's sign-in page, a
// JSON error sent with 200, an empty body or a 204 all arrive as "success". Each is judged
// from the status, the headers and the first bytes, before a row is read, so none of them
// can pass for an empty window and move a bookmark (docs/reliability.md "What the tap does when a
// response is wrong").

export type ExportFormat = 'csv' | 'ndjson';

export interface AnswerInfo {
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

/** Content types a valid empty NDJSON answer may carry (an NDJSON body has no header row to prove itself). */
const NDJSON_TYPES = /^application\/(x-ndjson|ndjson|x-jsonlines|jsonl|jsonlines|json|[\w.+-]+\+json)$/;
const JSON_TYPES = /^application\/(json|[\w.+-]+\+json|problem\+json)$/;
/** How much of a non-export answer is read to quote it. */
const SNIFF_LIMIT = 64 * 1024;

function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function mediaType(info: AnswerInfo): string | undefined {
  const v = headerText(info.headers['content-type']);
  return v === undefined ? undefined : v.split(';')[0]!.trim().toLowerCase();
}

/** Redacted first, clipped after (clip): a clip must never leave a piece of the token behind. */
export function quoteSaid(text: string, n = 300): string {
  return JSON.stringify(clip(text.replace(/\s+/g, ' ').trim(), n));
}

function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) return i;
  }
  return -1;
}

function htmlTitle(text: string): string | undefined {
  const m = /<title[^>]*>([^<]*)<\/title>/i.exec(text);
  return m && m[1]!.trim() ? m[1]!.trim() : undefined;
}

/** `message` (or `error`) and `code` of a JSON error body, if it is one. */
function jsonError(text: string): ErrorBody | undefined {
  const body = parseErrorBody(text);
  return body?.message !== undefined || body?.code !== undefined ? body : undefined;
}

/**
 * Checks that a 2xx answer is the export asked for and returns the body to read (the bytes
 * looked at are handed on). Throws NotAnExportError (retried) for a 204 or other non-200
 * success, an empty body (CSV always; NDJSON unless it declares an NDJSON/JSON content
 * type), a JSON error body, or an NDJSON body whose first line is not JSON; and DataError
 * (not retried: a retry gets the same) for an HTML page or a Content-Encoding the tap did
 * not ask for.
 */
export async function openExport(body: BodySource, info: AnswerInfo, format: ExportFormat, label: string): Promise<BodySource> {
  const typeText = headerText(info.headers['content-type']);
  const answer: Sniffed = {
    format,
    label,
    type: mediaType(info),
    want: format === 'csv' ? 'a CSV export' : 'an NDJSON export',
    said: typeText === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(clip(typeText, 100))}`,
    text: '',
    ended: false,
  };
  checkHeaders(info, answer);
  const src = new BodyPuller(body, label);
  const seen = await sniff(src, answer);
  try {
    judge(answer, src.bytes);
    return replay(seen, src, answer.ended);
  } catch (err) {
    src.release();
    throw err;
  }
}

/** What is known of a 2xx answer before its rows: its headers' words, and its first text. */
interface Sniffed {
  format: ExportFormat;
  label: string;
  /** The media type, lower case, without parameters. */
  type: string | undefined;
  /** "a CSV export". */
  want: string;
  /** Its Content-Type, as quoted in a message. */
  said: string;
  /** The text read so far. */
  text: string;
  /** The body ended within it. */
  ended: boolean;
}

/** A status other than 200, or a Content-Encoding the tap did not ask for, before a byte is read. */
function checkHeaders(info: AnswerInfo, a: Sniffed): void {
  if (info.status !== 200) {
    throw new NotAnExportError(
      `${a.label}Scarf answered HTTP ${info.status}${info.status === 204 ? ' No Content' : ''} instead of 200 with ${a.want}: the answer holds no data, so it does not prove the window empty`,
    );
  }
  // Redacted as sent, before any normalisation: a token echoed here must be masked in the
  // letter case it came in, and no folded copy of it may exist to be printed (issue 18, defect 8).
  const encoding = redact(headerText(info.headers['content-encoding']) ?? '').trim();
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new DataError(
      `${a.label}the answer came with Content-Encoding ${JSON.stringify(clip(encoding, 50))}, which tap-scarf did not ask for and does not decode. ` +
        'A proxy or gateway between tap-scarf and Scarf (see base_url, HTTPS_PROXY) is probably compressing responses: make it pass them through unchanged',
    );
  }
}

/** Whether the text read so far is enough to judge: the first non-blank character (and, for a suspect answer, up to SNIFF_LIMIT). */
function judged(a: Sniffed): boolean {
  const start = firstNonSpace(a.text);
  if (start < 0) return false;
  const suspect = a.type === 'text/html' || (a.format === 'csv' && a.type !== undefined && JSON_TYPES.test(a.type));
  const c = a.text[start];
  const plain =
    !suspect &&
    c !== '<' &&
    !(a.format === 'csv' && c === '{') &&
    !(a.format === 'ndjson' && c === '{' && !a.text.includes('\n', start));
  return plain || a.text.length >= SNIFF_LIMIT;
}

/** Reads until the answer can be judged (into a.text, a.ended); returns the chunks read, to hand on. */
async function sniff(src: BodyPuller, a: Sniffed): Promise<BodyChunk[]> {
  const decoder = new StringDecoder('utf8');
  const seen: BodyChunk[] = [];
  while (!judged(a)) {
    const chunk = await src.next();
    if (chunk === undefined) {
      a.ended = true;
      a.text += decoder.end();
      break;
    }
    seen.push(chunk);
    a.text += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
  }
  return seen;
}

/** Throws when the first text shows the answer is not the export asked for. */
function judge(a: Sniffed, bytes: number): void {
  const { label, said, want, text, type } = a;
  const start = firstNonSpace(text);
  if (start < 0) {
    // A day without downloads: NDJSON has no header, so an empty body that says it is NDJSON is an empty answer.
    if (a.format === 'ndjson' && type !== undefined && NDJSON_TYPES.test(type)) return;
    throw new NotAnExportError(
      a.format === 'csv'
        ? `${label}Scarf answered 200 with an empty body (${bytes} bytes, ${said}): a CSV export always starts with its header row, so this is a failed answer, not an empty window`
        : `${label}Scarf answered 200 with an empty body and ${said}: an empty NDJSON answer must say it is NDJSON (application/x-ndjson), so this is a failed answer, not an empty window`,
    );
  }
  const c = text[start];
  if (type === 'text/html' || c === '<') {
    const title = htmlTitle(text);
    // Not retried: a sign-in page stays until someone signs in, and every retry may be billed.
    throw new DataError(
      `${label}the server answered an HTML page${title ? ` (title ${quoteSaid(title, 100)})` : ''} with ${said} instead of ${want}. ` +
        "A proxy, captive portal or sign-in page is probably between tap-scarf and Scarf: check the base_url setting and this machine's proxy settings (HTTPS_PROXY)",
    );
  }
  if (a.format === 'csv' && ((type !== undefined && JSON_TYPES.test(type)) || c === '{' || c === '[')) {
    const err = jsonError(text.slice(start));
    const quote = err?.message ?? err?.code ?? text.slice(start);
    throw new NotAnExportError(
      `${label}the server answered JSON (${said}) instead of ${want}${err?.code ? ` (code ${quoteSaid(err.code, 60)})` : ''}: Scarf said: ${quoteSaid(quote)}`,
    );
  }
  if (a.format === 'ndjson') judgeNdjson(a, start);
}

/** An NDJSON answer whose first line is a JSON error, or not JSON at all. */
function judgeNdjson(a: Sniffed, start: number): void {
  const { label, said, want, text } = a;
  const nl = text.indexOf('\n', start);
  const first = text.slice(start, nl < 0 ? undefined : nl);
  const err = jsonError(first);
  if (err && (nl < 0 ? a.ended : true) && !/"(date|artifact)"\s*:/.test(first)) {
    throw new NotAnExportError(
      `${label}the server answered a JSON error (${said}) instead of ${want}${err.code ? ` (code ${quoteSaid(err.code, 60)})` : ''}: Scarf said: ${quoteSaid(err.message ?? err.code ?? first)}`,
    );
  }
  if (nl < 0 && !a.ended) return;
  try {
    JSON.parse(first);
  } catch {
    // (A first line that is JSON but no object is a data error the reader words.)
    throw new NotAnExportError(`${label}the answer (${said}) is not NDJSON: its first line is not JSON: ${quoteSaid(first, 80)}`);
  }
}

/** The chunks already read, then the rest of the same body. */
async function* replay(seen: BodyChunk[], src: BodyPuller, ended: boolean): AsyncGenerator<BodyChunk> {
  let done = false;
  try {
    for (const c of seen) yield c;
    if (ended) {
      done = true;
      return;
    }
    for (;;) {
      const c = await src.next();
      if (c === undefined) {
        done = true;
        return;
      }
      yield c;
    }
  } finally {
    if (!done) src.release();
  }
}

// ---------------------------------------------------------------------------------------
// Invalid UTF-8: the decoder replaces each invalid sequence with U+FFFD and goes on, so a
// value arrives changed without a word. The replacements are counted so the stream can say
// so: U+FFFD characters decoded, less those the body itself spelled (EF BF BD).

const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);

export class InvalidUtf8Counter {
  private decodedFffd = 0;
  private sentFffd = 0;
  /** The last two bytes of the previous chunk: an EF BF BD may straddle two chunks. */
  private tail: Buffer = Buffer.alloc(0);

  /** A chunk of the body, before decoding. */
  bytes(chunk: Buffer): void {
    const b = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    for (let at = b.indexOf(REPLACEMENT); at >= 0; at = b.indexOf(REPLACEMENT, at + 3)) this.sentFffd++;
    this.tail = Buffer.from(b.subarray(Math.max(0, b.length - 2)));
  }

  /** Text the decoder made of the chunks. */
  text(text: string): void {
    for (let at = text.indexOf('\uFFFD'); at >= 0; at = text.indexOf('\uFFFD', at + 1)) this.decodedFffd++;
  }

  /** Invalid UTF-8 sequences replaced so far. */
  get invalid(): number {
    return Math.max(0, this.decodedFffd - this.sentFffd);
  }
}

/**
 * A body's chunks as text, for the readers that decode it (csv-rows.ts, ndjson-rows.ts): a
 * string chunk as it is, bytes decoded as UTF-8 across chunk boundaries with their invalid
 * sequences counted.
 */
export class BodyDecoder {
  private readonly decoder = new StringDecoder('utf8');
  private readonly utf8 = new InvalidUtf8Counter();

  /** The chunk's text (a character cut at the chunk's end comes with the next one). */
  text(chunk: BodyChunk): string {
    if (typeof chunk === 'string') return chunk;
    const text = this.decoder.write(chunk as Buffer);
    this.utf8.bytes(chunk as Buffer);
    this.utf8.text(text);
    return text;
  }

  /** What the decoder still holds at the body's end (a cut character becomes U+FFFD). */
  end(): string {
    const rest = this.decoder.end();
    this.utf8.text(rest);
    return rest;
  }

  /** Invalid UTF-8 sequences replaced so far. */
  get invalid(): number {
    return this.utf8.invalid;
  }
}
