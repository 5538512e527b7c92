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
import { CopyChunk, nulError } from '../../src/destination/postgres/copy-chunk.js';

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

/**
 * Encodes a record's JSON object text when its keys come in the expected order (the column
 * list, which is schema order: what the fast CSV path writes); `encode` returns false for any
 * other shape, and the caller parses the JSON and uses an ObjectEncoder. Byte by byte, the
 * straightforward way: it is a reference, not a hot path.
 */
export class JsonEncoder {
  /** `"name":` of each column, as bytes. */
  private readonly keys: Buffer[];

  constructor(
    private readonly stream: string,
    private readonly columns: readonly string[],
  ) {
    this.keys = columns.map((c) => Buffer.from(`"${c}":`, 'utf8'));
  }

  encode(json: Buffer, end: number, out: CopyChunk): boolean {
    // A field never grows: escapes shrink or keep their length, \uXXXX (6 bytes) becomes ≤ 4 or \xHH; plus \N for null (shorter than null).
    out.ensure(end + this.columns.length + 1);
    const buf = out.buf;
    const start = out.len;
    let o = start;
    let i = 1; // after '{'
    if (json[0] !== 0x7b) return false;
    for (let c = 0; c < this.columns.length; c++) {
      if (c > 0) {
        if (json[i] !== 0x2c) return this.reset(out, start);
        i++;
        buf[o++] = TAB;
      }
      const key = this.keys[c]!;
      const kl = key.length;
      for (let k = 0; k < kl; k++) if (json[i + k] !== key[k]) return this.reset(out, start);
      i += kl;
      const first = json[i];
      if (first === QUOTE) {
        i++;
        for (;;) {
          // Text cut short inside a string: no record (and no read past its end).
          if (i >= end) return this.reset(out, start);
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
            let cp = (HEX(json[i]!) << 12) | (HEX(json[i + 1]!) << 8) | (HEX(json[i + 2]!) << 4) | HEX(json[i + 3]!);
            i += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && json[i] === BACKSLASH && json[i + 1] === 0x75) {
              const lo = (HEX(json[i + 2]!) << 12) | (HEX(json[i + 3]!) << 8) | (HEX(json[i + 4]!) << 4) | HEX(json[i + 5]!);
              if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 6;
              }
            }
            if (cp === 0) throw nulError(this.stream, this.columns[c]!);
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
              if (cp >= 0xd800 && cp <= 0xdfff) return this.reset(out, start);
              buf[o++] = 0xe0 | (cp >> 12);
              buf[o++] = 0x80 | ((cp >> 6) & 63);
              buf[o++] = 0x80 | (cp & 63);
            } else {
              buf[o++] = 0xf0 | (cp >> 18);
              buf[o++] = 0x80 | ((cp >> 12) & 63);
              buf[o++] = 0x80 | ((cp >> 6) & 63);
              buf[o++] = 0x80 | (cp & 63);
            }
          } else {
            // \\ \n \r \t \b \f: the same two bytes in COPY text.
            buf[o++] = BACKSLASH;
            buf[o++] = e;
          }
        }
      } else if (first === 0x6e) {
        // null
        if (json[i + 1] !== 0x75 || json[i + 2] !== 0x6c || json[i + 3] !== 0x6c) return this.reset(out, start);
        i += 4;
        buf[o++] = BACKSLASH;
        buf[o++] = 0x4e;
      } else {
        // A number, true or false: PostgreSQL reads the JSON text as it is.
        const from = i;
        while (i < end) {
          const b = json[i];
          if (b === 0x2c || b === 0x7d) break;
          i++;
        }
        if (i === from) return this.reset(out, start);
        json.copy(buf, o, from, i);
        o += i - from;
      }
    }
    if (json[i] !== 0x7d || i + 1 !== end) return this.reset(out, start);
    buf[o++] = NL;
    out.len = o;
    return true;
  }

  private reset(out: CopyChunk, start: number): false {
    out.len = start;
    return false;
  }
}
