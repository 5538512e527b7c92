// Records → PostgreSQL's binary COPY format, the same two inputs as the text encoders
// (test/helpers/copy-text-encoder.ts, kept as the reference): a record object, or a record
// as its JSON object text (the fast CSV path), rewritten without parsing it into an object.
// Each row is an int16 field count, then per field an int32 length (-1: null) and the value in
// its type's binary form (text: UTF-8; timestamptz: int64 µs since 2000-01-01 UTC; date: int32
// days since then; boolean: one byte; bigint: int64; numeric: base-10,000 digits; jsonb:
// version 1 and the text). The server then skips the text parsing and the typed input
// functions, most of its per-row cost once the rows come in key order (docs/postgres.md "Rows
// in key order within bounded runs"). A value the tap would not emit for its column type (a
// timestamp without an offset, say) is refused with the column named.
import { DataError } from '../../errors.js';
import { daysFromCivil } from '../../scarf/convert.js';
import { viewOf, wordsOf } from '../../util/words.js';
import { CopyChunk, nulError, quoteOrBackslash } from './copy-chunk.js';
import type { PgType } from './tables.js';

/** The header of a binary COPY: signature, flags, header extension length. */
export const BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
/** The trailer: a field count of -1. */
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
/** Days from 1970-01-01 to 2000-01-01. */
const PG_EPOCH_DAYS = 10957;

function badValue(stream: string, column: string, type: PgType, text: string): DataError {
  return new DataError(
    `Stream ${stream}: column '${column}' (${type}) cannot take the value ${JSON.stringify(text.slice(0, 80))}; the window is not loaded.`,
  );
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Digits b[i..i+n) as a number, or -1 if one is not a digit. */
function digits(b: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = b[i + k]! - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Days since 2000-01-01 of YYYY-MM-DD at b[i], or NaN. */
function dateAt(b: Uint8Array, i: number): number {
  const y = digits(b, i, 4);
  const m = digits(b, i + 5, 2);
  const d = digits(b, i + 8, 2);
  if (y < 1 || b[i + 4] !== 0x2d || b[i + 7] !== 0x2d || m < 1 || m > 12 || d < 1 || d > DAYS_IN_MONTH[m - 1]!) return NaN;
  if (m === 2 && d === 29 && (y % 4 !== 0 || (y % 100 === 0 && y % 400 !== 0))) return NaN;
  return daysFromCivil(y, m, d) - PG_EPOCH_DAYS;
}

/** 10^(6 - n): n fraction digits as microseconds. */
const SCALE = [1000000, 100000, 10000, 1000, 100, 10, 1];

/** The last date read (its 10 bytes as three numbers) and its days: a window's rows share a few dates. */
let lastDateA = -1;
let lastDateB = -1;
let lastDateC = -1;
let lastDays = NaN;

/** dateAt, remembering the last date. */
function cachedDateAt(b: Uint8Array, i: number): number {
  const x = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
  const y = b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24);
  const z = b[i + 8]! | (b[i + 9]! << 8);
  if (x === lastDateA && y === lastDateB && z === lastDateC) return lastDays;
  lastDays = dateAt(b, i);
  lastDateA = x;
  lastDateB = y;
  lastDateC = z;
  return lastDays;
}

/** PostgreSQL's rint(): to nearest, ties to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Writes b[from..to) (`YYYY-MM-DD[T ]HH:MM:SS[.f…]` and `Z` or an offset ±HH, ±HHMM, ±HH:MM:
 * docs/DESIGN.md "Canonical typed values (the tap emits these; the simulator's ground truth
 * uses the same)") as int64 µs since 2000-01-01 UTC at out[o]; false if it is not one. More
 * than 6 fraction digits round as PostgreSQL's input does (rint of the fraction times 10^6).
 */
// eslint-disable-next-line complexity -- once per timestamp of every row: a hand-rolled scanner, not split into calls
function putTimestamp(b: Uint8Array, from: number, to: number, out: DataView, o: number): boolean {
  if (to - from < 20) return false;
  const days = cachedDateAt(b, from);
  const sep = b[from + 10];
  const hh = digits(b, from + 11, 2);
  const mi = digits(b, from + 14, 2);
  const ss = digits(b, from + 17, 2);
  if (days !== days || (sep !== 0x54 && sep !== 0x20) || b[from + 13] !== 0x3a || b[from + 16] !== 0x3a) return false;
  if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) return false;
  let i = from + 19;
  let frac = 0;
  if (b[i] === 0x2e) {
    const f0 = ++i;
    while (i < to && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    const n = i - f0;
    if (n === 0) return false;
    if (n <= 6) frac = digits(b, f0, n) * SCALE[n]!;
    else frac = rint(Number('0.' + Buffer.from(b.buffer, b.byteOffset + f0, n).toString('latin1')) * 1e6);
  }
  let offset = 0;
  const z = b[i];
  if (z === 0x5a && i + 1 === to) offset = 0;
  else if (z === 0x2b || z === 0x2d) {
    const oh = digits(b, i + 1, 2);
    let om = 0;
    const rest = to - (i + 3);
    if (rest === 2) om = digits(b, i + 3, 2);
    else if (rest === 3 && b[i + 3] === 0x3a) om = digits(b, i + 4, 2);
    else if (rest !== 0) return false;
    if (oh < 0 || om < 0 || oh > 15 || om > 59) return false;
    offset = (z === 0x2d ? -1 : 1) * (oh * 3600 + om * 60);
  } else return false;
  const sec = days * 86400 + hh * 3600 + mi * 60 + ss - offset;
  if (Math.abs(sec) < 9e9) {
    // Exact in a double: |µs| < 2^53.
    const us = sec * 1e6 + frac;
    const hi = Math.floor(us / 4294967296);
    out.setInt32(o, hi);
    out.setUint32(o + 4, us - hi * 4294967296);
  } else out.setBigInt64(o, BigInt(sec) * 1000000n + BigInt(frac));
  return true;
}

/**
 * Writes the decimal number b[from..to) (JSON's grammar: sign, digits, fraction, exponent) as
 * PostgreSQL's numeric binary form at out[o]: ndigits, weight, sign, dscale (the fraction's
 * digits, as numeric_in keeps them), then base-10,000 digits. Returns the length written, or
 * -1 if it is not a number. `out` has room for (to - from) * 2 + 16 bytes.
 */
// eslint-disable-next-line complexity -- once per number of every row: one scan of its text
function putNumeric(b: Uint8Array, from: number, to: number, out: DataView, o: number): number {
  let i = from;
  let neg = false;
  if (b[i] === 0x2d) {
    neg = true;
    i++;
  } else if (b[i] === 0x2b) i++;
  // The digits without the point, and how many stand before it.
  const ds = DIGITS;
  let nd = 0;
  let intDigits = 0;
  let fracDigits = 0;
  let seenPoint = false;
  let any = false;
  for (; i < to; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x39) {
      any = true;
      if (nd === 0 && c === 0x30) {
        // A leading zero: only its place counts.
        if (seenPoint) fracDigits++;
        continue;
      }
      if (nd === ds.length) return -1;
      ds[nd++] = c - 0x30;
      if (seenPoint) fracDigits++;
      else intDigits++;
    } else if (c === 0x2e && !seenPoint) seenPoint = true;
    else break;
  }
  if (!any) return -1;
  let exp = 0;
  if (i < to && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    let eneg = false;
    if (b[i] === 0x2d || b[i] === 0x2b) eneg = b[i++] === 0x2d;
    const e0 = i;
    while (i < to && b[i]! >= 0x30 && b[i]! <= 0x39) exp = exp * 10 + (b[i++]! - 0x30);
    if (i === e0 || exp > 100000) return -1;
    if (eneg) exp = -exp;
  }
  if (i !== to) return -1;
  const dscale = Math.max(0, fracDigits - exp);
  // The decimal point sits after `point` digits of ds (leading zeros of the fraction make it negative).
  const leadingFracZeros = nd ? fracDigits - (nd - intDigits) : 0;
  const point = intDigits - leadingFracZeros + exp;
  // Align to groups of four at the point.
  const pad = (((4 - (point % 4)) % 4) + 4) % 4;
  const p = point + pad;
  const total = pad + nd;
  const ngroups = Math.ceil(total / 4);
  let weight = p / 4 - 1;
  const groups = GROUPS;
  for (let g = 0; g < ngroups; g++) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const at = g * 4 + k - pad;
      v = v * 10 + (at >= 0 && at < nd ? ds[at]! : 0);
    }
    groups[g] = v;
  }
  let first = 0;
  while (first < ngroups && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = ngroups;
  while (last > first && groups[last - 1] === 0) last--;
  const n = last - first;
  if (n === 0) weight = 0;
  out.setInt16(o, n);
  out.setInt16(o + 2, weight);
  out.setUint16(o + 4, n && neg ? 0x4000 : 0);
  out.setInt16(o + 6, dscale);
  for (let g = 0; g < n; g++) out.setInt16(o + 8 + 2 * g, groups[first + g]!);
  return 8 + 2 * n;
}

/** Scratch of putNumeric: a number's digits and its base-10,000 groups (numbers longer than 1,000 digits are refused). */
const DIGITS = new Uint8Array(1000);
const GROUPS = new Int32Array(252);

/** Writes an integer's text b[from..to) as int64 at out[o]; false if it is not a plain integer. */
function putBigint(b: Uint8Array, from: number, to: number, out: DataView, o: number): boolean {
  // The sign as putNumeric reads it: alike in shape on purpose (a shared helper is a call per number; docs/DESIGN.md "Repeated shapes").
  let i = from;
  let neg = false;
  if (b[i] === 0x2d) {
    neg = true;
    i++;
  }
  if (i === to || to - i > 19) return false;
  if (to - i <= 15) {
    const v = digits(b, i, to - i);
    if (v < 0) return false;
    const s = neg ? -v : v;
    const hi = Math.floor(s / 4294967296);
    out.setInt32(o, hi);
    out.setUint32(o + 4, s - hi * 4294967296);
    return true;
  }
  for (let k = i; k < to; k++) if (b[k]! < 0x30 || b[k]! > 0x39) return false;
  const v = BigInt(Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1'));
  if (v > 9223372036854775807n || v < -9223372036854775808n) return false;
  out.setBigInt64(o, v);
  return true;
}

let lastBuf: Buffer | undefined;
let lastView: DataView = viewOf(Buffer.alloc(0));
/** A DataView of the chunk's buffer (the same one row after row). */
function viewFor(buf: Buffer): DataView {
  if (buf !== lastBuf) {
    lastBuf = buf;
    lastView = viewOf(buf);
  }
  return lastView;
}

/** The byte length of a field holding ASCII text of length n at most, by type (room to reserve). */
function typedRoom(n: number): number {
  return n * 2 + 24;
}

/**
 * Writes a typed (non-text) value from its text b[from..to) as a whole field (length and
 * bytes) at out.buf[out.len]; false if the text is not a value of the type.
 */
// eslint-disable-next-line complexity -- one switch on the column type, called once per typed value of every row
function putTyped(type: PgType, b: Uint8Array, from: number, to: number, out: CopyChunk): boolean {
  out.ensure(typedRoom(to - from));
  const buf = viewFor(out.buf);
  const o = out.len;
  switch (type) {
    case 'timestamptz':
      if (!putTimestamp(b, from, to, buf, o + 4)) return false;
      buf.setInt32(o, 8);
      out.len = o + 12;
      return true;
    case 'date': {
      const d = to - from === 10 ? dateAt(b, from) : NaN;
      if (d !== d) return false;
      buf.setInt32(o, 4);
      buf.setInt32(o + 4, d);
      out.len = o + 8;
      return true;
    }
    case 'bigint':
      if (!putBigint(b, from, to, buf, o + 4)) return false;
      buf.setInt32(o, 8);
      out.len = o + 12;
      return true;
    case 'numeric': {
      const n = putNumeric(b, from, to, buf, o + 4);
      if (n < 0) return false;
      buf.setInt32(o, n);
      out.len = o + 4 + n;
      return true;
    }
    case 'boolean': {
      const n = to - from;
      const c = b[from]! | 0x20;
      let v: number;
      // PostgreSQL's boolin, for the forms the tap's values take (true/false, t/f, any case).
      const l = (k: number) => b[from + k]! | 0x20;
      if (n === 4 && c === 0x74 && l(1) === 0x72 && l(2) === 0x75 && l(3) === 0x65) v = 1;
      else if (n === 5 && c === 0x66 && l(1) === 0x61 && l(2) === 0x6c && l(3) === 0x73 && l(4) === 0x65) v = 0;
      else if (n === 1 && (c === 0x74 || c === 0x66)) v = c === 0x74 ? 1 : 0;
      else return false;
      buf.setInt32(o, 1);
      buf.setUint8(o + 4, v);
      out.len = o + 5;
      return true;
    }
    default:
      return false;
  }
}

const HEX = (c: number): number => (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);

/**
 * Encodes records for a fixed column list and their types: `encode` a record object,
 * `encodeJson` a record's JSON object text with its keys in column order (false for any other
 * shape: the caller parses the JSON and calls `encode`).
 */
export class BinaryEncoder {
  private readonly keys: Buffer[];
  private readonly keyLens: number[];
  private readonly keyWords: Int32Array[];
  private readonly keyTails: Uint8Array[];
  private readonly types: PgType[];
  /** The last input and output buffers, with their DataViews (both are reused across records). */
  private inBuf: Buffer | undefined;
  private idv: DataView = viewOf(Buffer.alloc(0));
  private outBuf: Buffer | undefined;
  private odv: DataView = viewOf(Buffer.alloc(0));

  constructor(
    private readonly stream: string,
    private readonly columns: readonly string[],
    types: readonly PgType[],
  ) {
    this.keys = columns.map((c) => Buffer.from(`"${c}":`, 'utf8'));
    this.keyLens = this.keys.map((k) => k.length);
    const words = this.keys.map((k) => wordsOf(k));
    this.keyWords = words.map((w) => w.words);
    this.keyTails = words.map((w) => w.tail);
    this.types = [...types];
  }

  encode(rec: Record<string, unknown>, out: CopyChunk): void {
    const n = this.columns.length;
    out.ensure(2);
    out.buf.writeInt16BE(n, out.len);
    out.len += 2;
    for (let c = 0; c < n; c++) {
      const col = this.columns[c]!;
      const type = this.types[c]!;
      const v = rec[col];
      if (v === null || v === undefined) {
        out.ensure(4);
        out.buf.writeInt32BE(-1, out.len);
        out.len += 4;
        continue;
      }
      // The text the text encoder would send for it (test/helpers/copy-text-encoder.ts ObjectEncoder).
      const text =
        typeof v === 'string'
          ? v
          : typeof v === 'boolean'
            ? v
              ? 't'
              : 'f'
            : typeof v === 'number'
              ? String(v)
              : JSON.stringify(v);
      if (text.includes('\u0000')) throw nulError(this.stream, col);
      if (type === 'text' || type === 'jsonb') {
        const extra = type === 'jsonb' ? 1 : 0;
        out.ensure(text.length * 3 + 5);
        const o = out.len;
        if (extra) out.buf[o + 4] = 1;
        const len = out.buf.write(text, o + 4 + extra, 'utf8') + extra;
        out.buf.writeInt32BE(len, o);
        out.len = o + 4 + len;
        continue;
      }
      const bytes = Buffer.from(text, 'utf8');
      if (!putTyped(type, bytes, 0, bytes.length, out)) throw badValue(this.stream, col, type, text);
    }
  }

  // eslint-disable-next-line complexity -- the fast path's row loop, once per row: its checks stay inline
  encodeJson(json: Buffer, end: number, out: CopyChunk): boolean {
    const ncols = this.keys.length;
    const start = out.len;
    // Text fields never grow (escapes shrink, \uXXXX's 6 bytes become ≤ 4), typed ones are
    // reserved for as they come; plus a length and a jsonb version byte each.
    out.ensure(end + ncols * 5 + 2);
    let buf = out.buf;
    if (json[0] !== 0x7b) return false;
    if (json !== this.inBuf) {
      this.inBuf = json;
      this.idv = viewOf(json);
    }
    const idv = this.idv;
    let odv = this.odv;
    if (buf !== this.outBuf) {
      this.outBuf = buf;
      this.odv = odv = viewOf(buf);
    }
    odv.setInt16(start, ncols);
    let o = start + 2;
    let i = 1;
    const keyLens = this.keyLens;
    const keyWords = this.keyWords;
    const keyTails = this.keyTails;
    const types = this.types;
    for (let c = 0; c < ncols; c++) {
      if (c > 0) {
        if (json[i] !== 0x2c) return this.undo(out, start);
        i++;
      }
      const kl = keyLens[c]!;
      if (i + kl > end) return this.undo(out, start);
      const kw = keyWords[c]!;
      for (let k = 0; k < kw.length; k++) if (idv.getInt32(i + 4 * k, true) !== kw[k]) return this.undo(out, start);
      const kt = keyTails[c]!;
      const tailAt = i + 4 * kw.length;
      for (let k = 0; k < kt.length; k++) if (json[tailAt + k] !== kt[k]) return this.undo(out, start);
      i += kl;
      const type = types[c]!;
      const first = json[i];
      if (first === 0x6e) {
        if (json[i + 1] !== 0x75 || json[i + 2] !== 0x6c || json[i + 3] !== 0x6c) return this.undo(out, start);
        i += 4;
        odv.setInt32(o, -1);
        o += 4;
        continue;
      }
      if (type === 'text' || type === 'jsonb') {
        if (first !== QUOTE) return this.undo(out, start);
        i++;
        const lenAt = o;
        o += 4;
        if (type === 'jsonb') buf[o++] = 1;
        // Bytes up to the closing quote, JSON escapes decoded.
        for (;;) {
          // Plain bytes in bulk: up to the next quote or backslash.
          // Four bytes at a time while no quote or backslash is among them (the fast CSV path's
          // technique, src/scarf/csv-fast/record.ts "Word-at-a-time scanning"); a native
          // Buffer#copy per short field costs more than it saves.
          while (i + 4 <= end) {
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
            break;
          }
          while (i < end) {
            const b = json[i]!;
            if (b === QUOTE || b === BACKSLASH) break;
            buf[o++] = b;
            i++;
          }
          if (i >= end) return this.undo(out, start);
          if (json[i] === QUOTE) {
            i++;
            break;
          }
          const e = json[i + 1]!;
          i += 2;
          if (e === 0x75) {
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
            // A lone surrogate: the object path writes it as the text encoder does.
            if (cp >= 0xd800 && cp <= 0xdfff) return this.undo(out, start);
            if (cp < 0x80) buf[o++] = cp;
            else if (cp < 0x800) {
              buf[o++] = 0xc0 | (cp >> 6);
              buf[o++] = 0x80 | (cp & 63);
            } else if (cp < 0x10000) {
              buf[o++] = 0xe0 | (cp >> 12);
              buf[o++] = 0x80 | ((cp >> 6) & 63);
              buf[o++] = 0x80 | (cp & 63);
            } else {
              buf[o++] = 0xf0 | (cp >> 18);
              buf[o++] = 0x80 | ((cp >> 12) & 63);
              buf[o++] = 0x80 | ((cp >> 6) & 63);
              buf[o++] = 0x80 | (cp & 63);
            }
          } else if (e === 0x6e) buf[o++] = 0x0a;
          else if (e === 0x74) buf[o++] = 0x09;
          else if (e === 0x72) buf[o++] = 0x0d;
          else if (e === 0x62) buf[o++] = 0x08;
          else if (e === 0x66) buf[o++] = 0x0c;
          else if (e === QUOTE || e === BACKSLASH || e === 0x2f) buf[o++] = e;
          else return this.undo(out, start);
        }
        odv.setInt32(lenAt, o - lenAt - 4);
        continue;
      }
      // A typed value: a string's content (with no escape) or a bare number, true or false.
      let from = i;
      let to: number;
      if (first === QUOTE) {
        from = ++i;
        while (i < end && json[i] !== QUOTE && json[i] !== BACKSLASH) i++;
        if (json[i] !== QUOTE) return this.undo(out, start);
        to = i++;
      } else {
        while (i < end && json[i] !== 0x2c && json[i] !== 0x7d) i++;
        to = i;
        if (to === from) return this.undo(out, start);
      }
      out.len = o;
      if (!putTyped(type, json, from, to, out)) {
        // Not a value of the type: the object path says so with the column named.
        return this.undo(out, start);
      }
      // putTyped may have grown the chunk; the rest of the row still fits (reserved above, plus its room).
      o = out.len;
      out.ensure(end - i + ncols * 5 + 2);
      if (out.buf !== buf) {
        buf = out.buf;
        this.outBuf = buf;
        this.odv = odv = viewOf(buf);
      }
    }
    if (json[i] !== 0x7d || i + 1 !== end) return this.undo(out, start);
    out.len = o;
    return true;
  }

  private undo(out: CopyChunk, start: number): false {
    out.len = start;
    return false;
  }
}
