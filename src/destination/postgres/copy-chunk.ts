// The buffer a window's COPY rows are written into (src/destination/postgres/copy-binary.ts
// encodes them), and the pieces the encoders share: the refusal of U+0000, which PostgreSQL
// text cannot hold (never dropped silently), and the word-at-a-time quote/backslash test.
// The COPY text encoders, the reference the binary one is checked against, live in
// test/helpers/copy-text-encoder.ts.
import { DataError } from '../../errors.js';

export class CopyChunk {
  buf: Buffer;
  len = 0;
  constructor(size = 1 << 18) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Room for n more bytes (grows for a row larger than the chunk). */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** The bytes so far, handed off (the caller gets its own copy) and the chunk emptied. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }
}

/** The failure of a value holding U+0000 (the reference encoders in test/helpers/ refuse alike). */
export function nulError(stream: string, column: string): DataError {
  return new DataError(
    `Stream ${stream}: a value of column '${column}' holds the character U+0000 (NUL), which PostgreSQL cannot store in text; the window is not loaded.`,
  );
}

/**
 * Non-zero when some byte of w is a quote or a backslash; its lowest set bit is then the high
 * bit of the first such byte (exact: src/scarf/csv-fast/record.ts "Word-at-a-time scanning").
 */
export function quoteOrBackslash(w: number): number {
  const q = w ^ 0x22222222;
  const bs = w ^ 0x5c5c5c5c;
  return (((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs)) & 0x80808080;
}
