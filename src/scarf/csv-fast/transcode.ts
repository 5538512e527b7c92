// The fast CSV path: a response's bytes → each record's JSON object text (the bytes
// JSON.stringify would give for the record the row typer makes), without decoding the body,
// building an object or serialising it. It exists for speed alone: the papaparse path
// (csv-rows.ts + row-typer.ts) stays the definition of what a record is, and this path hands
// work back to it whenever a row is anything but plain (docs/DESIGN.md "Two CSV paths"):
//
// - per row: a value the byte-level code does not convert itself (a number not in its
//   shortest form, a boolean in capitals, any timestamp error, an empty key, …) sends the
//   row's fields (decoded text) through the row typer, which makes the record or throws the
//   error the papaparse path would;
// - for the rest of the body: anything the strict reading below does not cover (a malformed
//   quote, a row with too many or too few fields, invalid UTF-8, a row longer than the limit,
//   a body that does not end with a line break) replays the header and the bytes from the
//   start of that row into readCsv, whose rules (completeness, cut bodies, row errors and
//   their numbering) then apply unchanged.
//
// The strict reading is RFC 4180 as papaparse reads it: a field is quoted only if its first
// byte is a quote; inside, "" is a quote and a quote followed by a comma or the body's line
// break closes it; an unquoted field runs to the next comma or line break. On such rows
// papaparse yields the same fields, so the two paths see the same values.
//
// The parts: compile.ts (a header → its records' layout), scan.ts (a row's fields),
// values.ts (a value's JSON text), record.ts (a row's record), this file (the body).
import { isUtf8 } from 'node:buffer';

import { type BodyChunk, BodyPuller, type BodySource, labelPrefix, maxRowChars } from '../body.js';
import { readCsv } from '../csv-rows.js';
import { compileLayout, type RecordSpec } from './compile.js';
import { type FastRecord, RecordWriter } from './record.js';
import { headerEnd, Row } from './scan.js';

export interface FastCsvHandlers {
  /** Called once with the header (decoded); may throw (the row typer's header errors). */
  onHeader(header: string[]): void;
  /** A row the fast path made into JSON text. A returned Promise pauses reading. */
  onRecord(rec: FastRecord, rowNumber: number): void | Promise<void>;
  /** A row for the row typer, as papaparse would give its fields. */
  onRow(fields: string[], rowNumber: number): void | Promise<void>;
}

export interface FastCsvOptions extends RecordSpec {
  stream: string;
  label?: string;
  maxRowChars?: number;
  /** Called once the body's reading stops, at its end or at an error, with what the fast path did. */
  onRead?: (read: FastCsvResult) => void;
  /** readCsv's: the fast path hands every row that is not valid UTF-8 to readCsv, which counts them. */
  onInvalidUtf8?: (count: number) => void;
}

/** How a body's rows were read: what the differential test and the bench check the fast path did. */
export interface FastCsvResult {
  /** Data rows delivered, by any path (after an error: the rows before it). */
  rows: number;
  /** Rows the fast path made into JSON text. */
  fastRows: number;
  /** Rows the fast path handed to the row typer (onRow) itself. */
  typerRows: number;
  /** Set when readCsv read the rest of the body, with the reason. */
  handedOver?: string;
}

function asBuffer(chunk: BodyChunk): Buffer | undefined {
  if (typeof chunk === 'string') return undefined;
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Reads a CSV body like readCsv, handing each row to `onRecord` (as JSON text) or `onRow`
 * (as fields, for the row typer). Same completeness rules: they are readCsv's, which reads
 * every part of the body the fast path does not (see the top of this file).
 */
export async function transcodeCsv(body: BodySource, opts: FastCsvOptions, handlers: FastCsvHandlers): Promise<FastCsvResult> {
  const read: FastCsvResult = { rows: 0, fastRows: 0, typerRows: 0 };
  try {
    return await readBody(body, opts, handlers, read);
  } finally {
    opts.onRead?.(read);
  }
}

/** transcodeCsv's reading; its counts are written to `read` when it stops. */
async function readBody(
  body: BodySource,
  opts: FastCsvOptions,
  handlers: FastCsvHandlers,
  read: FastCsvResult,
): Promise<FastCsvResult> {
  const label = labelPrefix(opts.label);
  const src = new BodyPuller(body, label);
  const maxRow = opts.maxRowChars ?? maxRowChars();
  /** Chunks of the body not yet read as rows (the header's, then a row that has not ended). */
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** The header's bytes with its line break, as received (BOM included), for a hand-over. */
  let headerBytes: Buffer | undefined;
  let writer: RecordWriter | undefined;
  let rows = 0;
  let fastRows = 0;
  let typerRows = 0;
  let stringChunk: string | undefined;
  /** Bytes held when the held row was last tried: it is tried again once they double, so a long row costs linear time. */
  let triedAt = 0;

  const counted = (): FastCsvResult => {
    read.rows = rows;
    read.fastRows = fastRows;
    read.typerRows = typerRows;
    return read;
  };

  const handOver = async (reason: string, rest: Buffer[]): Promise<FastCsvResult> => {
    const replay = async function* (): AsyncGenerator<BodyChunk> {
      if (headerBytes) yield headerBytes;
      for (const c of rest) yield c;
      if (stringChunk !== undefined) yield stringChunk;
      for (;;) {
        const c = await src.next();
        if (c === undefined) return;
        yield c;
      }
    };
    read.handedOver = reason;
    let headerSeen = headerBytes !== undefined;
    const res = await readCsv(
      replay(),
      {
        onHeader(h) {
          // Already compiled when the fast path read it first.
          if (!headerSeen) handlers.onHeader(h);
          headerSeen = true;
        },
        onRow: handlers.onRow,
      },
      { label: opts.label, maxRowChars: maxRow, rowOffset: rows, onInvalidUtf8: opts.onInvalidUtf8 },
    );
    rows = res.rows;
    return counted();
  };

  try {
    // The header: its line, decided on bytes, or the whole body goes to readCsv.
    for (;;) {
      const chunk = await src.next();
      if (chunk === undefined) return await handOver('the body has no complete header line', held);
      const buf = asBuffer(chunk);
      if (buf === undefined) {
        stringChunk = chunk as string;
        return await handOver('the body came as text', held);
      }
      if (buf.length === 0) continue;
      held.push(buf);
      heldBytes += buf.length;
      const all = held.length === 1 ? buf : Buffer.concat(held);
      const bom = all.length >= 3 && all[0] === 0xef && all[1] === 0xbb && all[2] === 0xbf ? 3 : 0;
      const he = headerEnd(all);
      if (he === 'lone CR') return await handOver('the header line does not end with LF or CRLF', held);
      if (he === undefined) {
        const cr = all.indexOf(0x0d);
        if (cr >= 0 && cr < all.length - 1) return await handOver('the header line does not end with LF or CRLF', held);
        if (heldBytes > maxRow) return await handOver('the header line is too long', held);
        continue;
      }
      const line = all.subarray(bom, he.end - (he.crlf ? 2 : 1));
      if (line.indexOf(0x22) >= 0 || !isUtf8(line)) return await handOver('the header has quotes or is not UTF-8', held);
      const header = line.toString('utf8').split(',');
      handlers.onHeader(header);
      headerBytes = all.subarray(0, he.end);
      held = [];
      heldBytes = 0;
      if (header.length < 2) return await handOver('the header has one column', [all.subarray(he.end)]);
      const layout = compileLayout(opts, header);
      if (typeof layout === 'string') return await handOver(layout, [all.subarray(he.end)]);
      writer = new RecordWriter(layout, header.length, he.crlf);
      if (he.end < all.length) {
        held.push(all.subarray(he.end));
        heldBytes = all.length - he.end;
      }
      break;
    }

    const w = writer;
    const f = w.fields;
    const rec = w.rec;
    // A row cut by a chunk boundary is read from one buffer made of its start and the next
    // chunk. That buffer is reused (its start may be the held row itself: copyWithin), so the
    // body costs no allocation per chunk: a fresh 64 KB buffer each time is memory outside the
    // heap, returned only when the collector runs (measured: peak RSS over 5M events 147 MB).
    let work = Buffer.allocUnsafe(0);
    const join = (): Buffer => {
      let target = work;
      if (target.length < heldBytes) target = Buffer.allocUnsafe(Math.max(heldBytes, work.length * 2, 256 * 1024));
      let o = 0;
      for (const piece of held) {
        if (target === work && piece.buffer === work.buffer && piece.byteOffset >= work.byteOffset) {
          const from = piece.byteOffset - work.byteOffset;
          if (from !== o) work.copyWithin(o, from, from + piece.length);
        } else piece.copy(target, o);
        o += piece.length;
      }
      work = target;
      return target.subarray(0, o);
    };
    // The rows that came in the header's chunk are read at once, not with the next chunk.
    let first: Buffer | undefined = heldBytes > 0 ? Buffer.concat(held, heldBytes) : undefined;
    held = [];
    heldBytes = 0;
    for (;;) {
      let b: Buffer;
      if (first !== undefined) {
        b = first;
        first = undefined;
      } else {
        const chunk = await src.next();
        if (chunk === undefined) {
          if (heldBytes === 0) return counted();
          // A last row without a line break: readCsv judges whether it is complete or cut.
          return await handOver('the body does not end with a line break', held);
        }
        const buf = asBuffer(chunk);
        if (buf === undefined) {
          stringChunk = chunk as string;
          return await handOver('the body came as text', held);
        }
        b = buf;
        if (heldBytes > 0) {
          held.push(buf);
          heldBytes += buf.length;
          if (heldBytes < triedAt * 2) {
            if (heldBytes > maxRow) return await handOver('a row is longer than the row size limit', held);
            continue;
          }
          b = join();
          held = [];
          heldBytes = 0;
        }
      }
      const n = b.length;
      let p = 0;
      while (p < n) {
        const blank = f.blankLine(b, p, n);
        if (blank > 0) {
          p += blank;
          continue;
        }
        let end = blank < 0 ? Row.Incomplete : w.inOrder ? w.row1(b, p, n) : Row.TwoPass;
        let made = Row.Made;
        if (end === Row.TwoPass) {
          end = f.scan(b, p, n);
          if (end >= 0) made = w.emit(b, end - p);
        }
        if (end === Row.Incomplete) break;
        if (end === Row.Unusual) return await handOver('a row the fast path does not read', [b.subarray(p)]);
        let done: void | Promise<void>;
        if (made === Row.Made) {
          fastRows++;
          done = handlers.onRecord(rec, ++rows);
        } else {
          const fields = made === Row.ToTyper ? f.texts(b) : undefined;
          if (fields === undefined) return await handOver('a value that is not valid UTF-8', [b.subarray(p)]);
          typerRows++;
          done = handlers.onRow(fields, ++rows);
        }
        if (done !== undefined) await done;
        p = end;
      }
      if (p < n) {
        const rest = b.subarray(p);
        held = [rest];
        heldBytes = rest.length;
        triedAt = heldBytes;
        if (heldBytes > maxRow) return await handOver('a row is longer than the row size limit', held);
      } else triedAt = 0;
    }
  } catch (err) {
    src.release();
    counted();
    throw err;
  }
}
