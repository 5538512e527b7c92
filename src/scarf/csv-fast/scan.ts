// Finding a row's fields in the body's bytes: the strict reading of RFC 4180 the fast path
// covers (see transcode.ts), and how a row's reading can end.
import { isUtf8 } from 'node:buffer';

/**
 * How reading a row ended. The readers (`Fields.scan`, `RecordWriter.row1`) return the
 * position after the row's line break (> 0) or one of the negative outcomes;
 * `RecordWriter.emit` returns `Made` or one of them.
 */
export const enum Row {
  /** The record's JSON text is made. */
  Made = 0,
  /** The row has not ended in the bytes at hand: read on when more arrive. */
  Incomplete = -1,
  /** Not a row the strict reading covers (a stray quote, a wrong field count, another line break): readCsv reads the rest of the body. */
  Unusual = -2,
  /** The one-pass reading gave up on this row: the two-pass reading decides. */
  TwoPass = -3,
  /** A value the byte code does not convert, or an empty key or required value: the row's fields go to the row typer. */
  ToTyper = -4,
  /** A value that is not valid UTF-8: readCsv reads the rest of the body. */
  NotUtf8 = -5,
}

// Byte classes of the scanner: 0 plain, 1 comma, 2 LF, 3 CR, 4 quote, 5 needs a JSON escape
// (backslash, other control characters), 6 non-ASCII (validated as UTF-8 per field).
export const CLS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) CLS[b] = 5;
CLS[0x5c] = 5;
CLS[0x2c] = 1;
CLS[0x0a] = 2;
CLS[0x0d] = 3;
CLS[0x22] = 4;
for (let b = 0x80; b < 0x100; b++) CLS[b] = 6;

/** What a field holds (bit flags): a byte that needs a JSON escape, a doubled quote (""), a byte that is not ASCII. */
export const enum Flag {
  Escape = 1,
  Doubled = 2,
  High = 4,
}

/** Where each field of the row last read is in its buffer, and what it holds (Flag bits). */
export class Fields {
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly flags: Uint8Array;
  /** Index of the last column. */
  readonly last: number;

  constructor(
    readonly ncols: number,
    /** true: the body's line break is CRLF; false: LF. */
    readonly crlf: boolean,
  ) {
    this.start = new Int32Array(ncols);
    this.end = new Int32Array(ncols);
    this.flags = new Uint8Array(ncols);
    this.last = ncols - 1;
  }

  /** Length of a blank line at p (0: none, -1: not known yet). */
  blankLine(b: Buffer, p: number, n: number): number {
    const c = b[p];
    if (c === 0x0a && !this.crlf) return 1;
    if (c === 0x0d && this.crlf) {
      if (p + 1 >= n) return -1;
      return b[p + 1] === 0x0a ? 2 : 0;
    }
    return 0;
  }

  /** Finds the fields of the row at p (the two-pass reading's first pass): the position after its line break, Row.Incomplete or Row.Unusual. */
  scan(b: Buffer, p: number, n: number): number {
    const last = this.last;
    const crlf = this.crlf;
    const fStart = this.start;
    const fEnd = this.end;
    const fFlags = this.flags;
    for (let c = 0; ; c++) {
      if (p >= n) return Row.Incomplete;
      let flags = 0;
      if (b[p] === 0x22) {
        let i = p + 1;
        const s = i;
        for (;;) {
          if (i >= n) return Row.Incomplete;
          const k = CLS[b[i]!]!;
          if (k <= 1) {
            i++;
            continue;
          }
          if (k === 4) {
            if (i + 1 >= n) return Row.Incomplete;
            if (b[i + 1] === 0x22) {
              flags |= Flag.Escape | Flag.Doubled;
              i += 2;
              continue;
            }
            break;
          }
          flags |= k === 6 ? Flag.High : Flag.Escape;
          i++;
        }
        fStart[c] = s;
        fEnd[c] = i;
        fFlags[c] = flags;
        p = i + 1;
        if (p >= n) return Row.Incomplete;
        const d = b[p];
        if (c < last) {
          if (d !== 0x2c) return Row.Unusual;
          p++;
          continue;
        }
        if (!crlf) return d === 0x0a ? p + 1 : Row.Unusual;
        if (d !== 0x0d) return Row.Unusual;
        if (p + 1 >= n) return Row.Incomplete;
        return b[p + 1] === 0x0a ? p + 2 : Row.Unusual;
      }
      let i = p;
      for (;;) {
        if (i >= n) return Row.Incomplete;
        const k = CLS[b[i]!]!;
        if (k === 0) {
          i++;
          continue;
        }
        if (k === 1) {
          if (c === last) return Row.Unusual;
          fStart[c] = p;
          fEnd[c] = i;
          fFlags[c] = flags;
          p = i + 1;
          break;
        }
        if (k === 2 && !crlf) {
          if (c !== last) return Row.Unusual;
          fStart[c] = p;
          fEnd[c] = i;
          fFlags[c] = flags;
          return i + 1;
        }
        if (k === 3 && crlf) {
          if (i + 1 >= n) return Row.Incomplete;
          if (b[i + 1] === 0x0a) {
            if (c !== last) return Row.Unusual;
            fStart[c] = p;
            fEnd[c] = i;
            fFlags[c] = flags;
            return i + 2;
          }
        }
        flags |= k === 6 ? Flag.High : Flag.Escape;
        i++;
      }
    }
  }

  /** The row's fields as papaparse gives them (for the row typer); undefined if one is not valid UTF-8. */
  texts(b: Buffer): string[] | undefined {
    const out: string[] = new Array<string>(this.ncols);
    for (let c = 0; c < this.ncols; c++) {
      if (this.flags[c]! & Flag.High && !isUtf8(b.subarray(this.start[c], this.end[c]))) return undefined;
      const s = b.toString('utf8', this.start[c], this.end[c]);
      out[c] = this.flags[c]! & Flag.Doubled ? s.replaceAll('""', '"') : s;
    }
    return out;
  }
}

/** The header line's end: index after its line break, the break's kind; undefined: not decidable here. */
export function headerEnd(b: Buffer): { end: number; crlf: boolean } | 'lone CR' | undefined {
  const lf = b.indexOf(0x0a);
  if (lf < 0) return undefined;
  const crlf = lf > 0 && b[lf - 1] === 0x0d;
  // Only a CR right before the first LF is a line break the fast path reads (a lone CR: readCsv decides).
  if (b.subarray(0, crlf ? lf - 1 : lf).indexOf(0x0d) >= 0) return 'lone CR';
  return { end: lf + 1, crlf };
}
