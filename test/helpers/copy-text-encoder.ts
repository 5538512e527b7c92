// The reference the load's binary encoder (src/destination/postgres/copy-binary.ts) is checked
// against (test/postgres/copy-binary.test.ts loads the same records both ways), and what the
// load wrote before it: COPY text.
// Records → PostgreSQL COPY text format (one line per row, fields separated by a tab, \N for
// null, backslash escapes), appended to a reusable chunk buffer. Two inputs, one output:
// - a record object (the reference path, aggregates, the rollup, a catalog's projection);
// - a record as its JSON object text (the fast CSV path), rewritten byte by byte without
//   parsing it into an object: COPY text and JSON escape strings almost alike (\\, \n, \r,
//   \t, \b, \f mean the same in both), so a JSON string becomes a COPY field by dropping its
//   quotes, unescaping \" and \/, and turning \uXXXX into its UTF-8 bytes.
// PostgreSQL text cannot hold U+0000, so a NUL in a value is refused with the column named,
// never dropped silently.
import { CopyChunk, nulError, quoteOrBackslash } from '../../src/destination/postgres/copy-chunk.js';
import { viewOf, wordsOf } from '../../src/util/words.js';

export { CopyChunk };

const TAB = 0x09;
const NL = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x22;

/** A JS string as a COPY text field. */
function escapeText(s: string): string {
  // eslint-disable-next-line no-control-regex -- the characters COPY text must escape
  return /[\\\t\n\r\u0000]/.test(s)
    ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : s;
}

/** Encodes record objects for a fixed column list. */
export class ObjectEncoder {
  constructor(
    private readonly stream: string,
    private readonly columns: readonly string[],
  ) {}

  encode(rec: Record<string, unknown>, out: CopyChunk): void {
    let line = '';
    for (let i = 0; i < this.columns.length; i++) {
      const col = this.columns[i]!;
      const v = rec[col];
      let field: string;
      if (v === null || v === undefined) field = '\\N';
      else if (typeof v === 'string') {
        if (v.includes('\u0000')) throw nulError(this.stream, col);
        field = escapeText(v);
      } else if (typeof v === 'boolean') field = v ? 't' : 'f';
      else if (typeof v === 'number') field = String(v);
      else field = escapeText(JSON.stringify(v));
      line += i === 0 ? field : '\t' + field;
    }
    line += '\n';
    const max = line.length * 3;
    out.ensure(max);
    out.len += out.buf.write(line, out.len, 'utf8');
  }
}

const HEX = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/** The code point of the \uXXXX escape whose hex digits start at json[i]; a surrogate pair's two escapes make one. */
function escapedCodePoint(json: Buffer, i: number): number {
  const cp = (HEX(json[i]!) << 12) | (HEX(json[i + 1]!) << 8) | (HEX(json[i + 2]!) << 4) | HEX(json[i + 3]!);
  if (cp >= 0xd800 && cp <= 0xdbff && json[i + 4] === BACKSLASH && json[i + 5] === 0x75) {
    const lo = (HEX(json[i + 6]!) << 12) | (HEX(json[i + 7]!) << 8) | (HEX(json[i + 8]!) << 4) | HEX(json[i + 9]!);
    if (lo >= 0xdc00 && lo <= 0xdfff) return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
  }
  return cp;
}

/** Writes code point cp (not 0) as COPY text at buf[o]: the position after it, or -1 for a lone surrogate. */
function putCodePoint(buf: Buffer, o: number, cp: number): number {
  if (cp < 0x20 || cp === 0x7f) {
    // A control character: COPY's \xHH (a raw one other than tab/newline would do too, but this is unambiguous).
    buf[o++] = BACKSLASH;
    buf[o++] = 0x78;
    buf[o++] = (cp >> 4) + 0x30;
    const lo = cp & 15;
    buf[o++] = lo < 10 ? lo + 0x30 : lo + 0x57;
  } else if (cp < 0x80) {
    if (cp === BACKSLASH) {
      buf[o++] = BACKSLASH;
      buf[o++] = BACKSLASH;
    } else buf[o++] = cp;
  } else if (cp < 0x800) {
    buf[o++] = 0xc0 | (cp >> 6);
    buf[o++] = 0x80 | (cp & 63);
  } else if (cp < 0x10000) {
    // A lone surrogate has no UTF-8 form: PostgreSQL would refuse the row.
    if (cp >= 0xd800 && cp <= 0xdfff) return -1;
    buf[o++] = 0xe0 | (cp >> 12);
    buf[o++] = 0x80 | ((cp >> 6) & 63);
    buf[o++] = 0x80 | (cp & 63);
  } else {
    buf[o++] = 0xf0 | (cp >> 18);
    buf[o++] = 0x80 | ((cp >> 12) & 63);
    buf[o++] = 0x80 | ((cp >> 6) & 63);
    buf[o++] = 0x80 | (cp & 63);
  }
  return o;
}

/**
 * Encodes a record's JSON object text when its keys come in the expected order (the column
 * list, which is schema order: what the fast CSV path writes); `encode` returns false for any
 * other shape, and the caller parses the JSON and uses an ObjectEncoder.
 *
 * A string's bytes are read four at a time as one 32-bit word, and a word with no quote and
 * no backslash is copied whole, and one with either is copied up to the first of them (the
 * fast CSV path's technique, src/scarf/csv-fast/record.ts); the `"name":` texts are compared
 * a word at a time too. A number is copied byte by byte as it is scanned (a native
 * Buffer.copy per short field costs more than it saves, docs/postgres.md). The
 * straightforward byte-by-byte rewrite is the reference it is checked against, byte for byte
 * (test/helpers/plain-json-encoder.ts, test/unit/copy-text.test.ts).
 */
export class JsonEncoder {
  private readonly keyWords: Int32Array[];
  private readonly keyTails: Uint8Array[];
  private readonly keyLens: number[];
  /** The last input and output buffers, with their DataViews (both are reused across records). */
  private inBuf: Buffer | undefined;
  private idv: DataView = viewOf(Buffer.alloc(0));
  private outBuf: Buffer | undefined;
  private odv: DataView = viewOf(Buffer.alloc(0));

  constructor(
    private readonly stream: string,
    private readonly columns: readonly string[],
  ) {
    const keys = columns.map((c) => Buffer.from(`"${c}":`, 'utf8'));
    const words = keys.map((k) => wordsOf(k));
    this.keyWords = words.map((w) => w.words);
    this.keyTails = words.map((w) => w.tail);
    this.keyLens = keys.map((k) => k.length);
  }

  encode(json: Buffer, end: number, out: CopyChunk): boolean {
    // A field never grows: escapes shrink or keep their length, \uXXXX (6 bytes) becomes ≤ 4 or \xHH; plus \N for null (shorter than null).
    const ncols = this.keyLens.length;
    out.ensure(end + ncols + 1);
    const buf = out.buf;
    // The buffers' DataViews are cached as RecordWriter.row1 caches its own (csv-fast/record.ts):
    // alike by design, each a hot loop's locals (docs/DESIGN.md "Repeated shapes").
    if (buf !== this.outBuf) {
      this.outBuf = buf;
      this.odv = viewOf(buf);
    }
    if (json !== this.inBuf) {
      this.inBuf = json;
      this.idv = viewOf(json);
    }
    const idv = this.idv;
    const odv = this.odv;
    const keyWords = this.keyWords;
    const keyTails = this.keyTails;
    const keyLens = this.keyLens;
    const start = out.len;
    let o = start;
    let i = 1; // after '{'
    if (json[0] !== 0x7b) return false;
    for (let c = 0; c < ncols; c++) {
      if (c > 0) {
        if (json[i] !== 0x2c) return false;
        i++;
        buf[o++] = TAB;
      }
      const kl = keyLens[c]!;
      if (i + kl > end) return false;
      const kw = keyWords[c]!;
      for (let k = 0; k < kw.length; k++) if (idv.getInt32(i + 4 * k, true) !== kw[k]) return false;
      const kt = keyTails[c]!;
      const tailAt = i + 4 * kw.length;
      for (let k = 0; k < kt.length; k++) if (json[tailAt + k] !== kt[k]) return false;
      i += kl;
      const first = json[i];
      if (first === QUOTE) {
        i++;
        for (;;) {
          if (i + 4 <= end) {
            // The word is stored whole either way: the bytes from the first quote or backslash
            // on are overwritten next (the chunk has room: a field never grows).
            const w = idv.getInt32(i, true);
            odv.setInt32(o, w, true);
            const m = quoteOrBackslash(w);
            if (m === 0) {
              o += 4;
              i += 4;
              continue;
            }
            const k = (31 - Math.clz32(m & -m)) >> 3;
            o += k;
            i += k;
          } else if (i >= end) return false;
          const b = json[i]!;
          if (b === QUOTE) {
            i++;
            break;
          }
          if (b !== BACKSLASH) {
            buf[o++] = b;
            i++;
            continue;
          }
          const e = json[i + 1]!;
          i += 2;
          if (e === QUOTE || e === 0x2f) buf[o++] = e;
          else if (e === 0x75) {
            // A control character or a lone surrogate: rare in Scarf's data.
            const cp = escapedCodePoint(json, i);
            i += cp > 0xffff ? 10 : 4;
            if (cp === 0) throw nulError(this.stream, this.columns[c]!);
            o = putCodePoint(buf, o, cp);
            if (o < 0) return false;
          } else {
            // \\ \n \r \t \b \f: the same two bytes in COPY text.
            buf[o++] = BACKSLASH;
            buf[o++] = e;
          }
        }
      } else if (first === 0x6e) {
        // null
        if (json[i + 1] !== 0x75 || json[i + 2] !== 0x6c || json[i + 3] !== 0x6c) return false;
        i += 4;
        buf[o++] = BACKSLASH;
        buf[o++] = 0x4e;
      } else {
        // A number, true or false: PostgreSQL reads the JSON text as it is.
        const from = i;
        while (i < end) {
          const b = json[i]!;
          if (b === 0x2c || b === 0x7d) break;
          buf[o++] = b;
          i++;
        }
        if (i === from) return false;
      }
    }
    if (json[i] !== 0x7d || i + 1 !== end) return false;
    buf[o++] = NL;
    out.len = o;
    return true;
  }
}
