// Streaming NDJSON body → objects, with the completeness rules of docs/DESIGN.md: only a
// line terminated by "\n" (or the last line of a normally ended body that parses) is handed
// over; a body that ended early is an IncompleteBodyError.

import { DataError, IncompleteBodyError } from '../errors.js';
import { BodyDecoder, BodyPuller, BodySource, labelPrefix, maxRowChars, rowTooLong } from './body.js';

export interface NdjsonHandlers {
  /** Called per JSON object, in body order; lineNumber counts every physical line from 1. A returned Promise pauses reading until it settles. */
  onObject(obj: Record<string, unknown>, lineNumber: number): void | Promise<void>;
}

export interface NdjsonResult {
  /** Objects delivered (blank lines excluded). */
  lines: number;
  bytes: number;
}

function excerpt(line: string): string {
  return JSON.stringify(line.length > 80 ? line.slice(0, 80) + '…' : line);
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}

export async function readNdjson(
  body: BodySource,
  handlers: NdjsonHandlers,
  opts: {
    label?: string;
    maxRowChars?: number;
    /** Called once at the body's end when invalid UTF-8 was replaced with U+FFFD, with how many sequences. */
    onInvalidUtf8?: (count: number) => void;
  } = {},
): Promise<NdjsonResult> {
  const maxLine = opts.maxRowChars ?? maxRowChars();
  const label = labelPrefix(opts.label);
  const src = new BodyPuller(body, label);
  const decoder = new BodyDecoder();
  const onObject = handlers.onObject;
  let partial = '';
  let lineNo = 0;
  let objects = 0;
  let first = true;

  function parseLine(line: string, terminated: boolean): Record<string, unknown> | undefined {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      if (!terminated) {
        throw new IncompleteBodyError(
          `${label}the NDJSON body ended in the middle of line ${lineNo} (${excerpt(line)}): it was cut`,
        );
      }
      throw new DataError(`${label}NDJSON line ${lineNo} is not valid JSON (${(err as Error).message}): ${excerpt(line)}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new DataError(`${label}NDJSON line ${lineNo} is not a JSON object: ${excerpt(line)}`);
    }
    return v as Record<string, unknown>;
  }

  try {
    for (;;) {
      const chunk = await src.next();
      if (chunk === undefined) break;
      let text = decoder.text(chunk);
      if (first && text.length > 0) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      let nl = text.indexOf('\n');
      if (nl === -1) {
        partial += text;
        if (partial.length > maxLine) throw rowTooLong(label, `NDJSON line ${lineNo + 1}`, maxLine);
        continue;
      }
      let start = 0;
      let buf = partial.length === 0 ? text : partial + text;
      if (partial.length !== 0) nl += partial.length;
      partial = '';
      while (nl !== -1) {
        lineNo++;
        const line = buf.slice(start, nl);
        start = nl + 1;
        if (!isBlank(line)) {
          const obj = parseLine(line, true)!;
          objects++;
          const r = onObject(obj, lineNo);
          if (r !== undefined) await r;
        }
        nl = buf.indexOf('\n', start);
      }
      partial = start < buf.length ? buf.slice(start) : '';
      buf = '';
    }
    const rest = decoder.end();
    partial += rest;
    if (first && partial.charCodeAt(0) === 0xfeff) partial = partial.slice(1);
    if (partial.length > 0 && !isBlank(partial)) {
      lineNo++;
      const obj = parseLine(partial, false)!;
      objects++;
      const r = onObject(obj, lineNo);
      if (r !== undefined) await r;
    }
    if (decoder.invalid > 0) opts.onInvalidUtf8?.(decoder.invalid);
    return { lines: objects, bytes: src.bytes };
  } catch (err) {
    src.release();
    throw err;
  }
}
