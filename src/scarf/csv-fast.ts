// The fast CSV path: a response's bytes → each record's JSON object text (the bytes
// JSON.stringify would give for the record the row typer makes), without decoding the body,
// building an object or serialising it. Compiled per header from the schema. Used for the
// event streams; the reference path (csv-rows.ts + row-typer.ts) stays the definition of
// what a record is, and this path hands work back to it whenever a row is anything but
// plain (docs/DESIGN.md "Two CSV paths"):
//
// - per row: a value the byte-level code does not convert itself (a number not in its
//   shortest form, a boolean in capitals, any timestamp error, an empty key, …) sends the
//   row's fields (decoded text) through the reference typer, which makes the record or
//   throws the reference error;
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

import { isUtf8 } from 'node:buffer';

import { viewOf, wordsOf } from '../util/words.js';
import { type BodyChunk, BodyPuller, type BodySource, labelPrefix, maxRowChars } from './body.js';
import { toBoolean, toDate, toInteger, toNumber, toTimestamp } from './convert.js';
import { readCsv } from './csv-rows.js';
import type { JsonSchemaObject } from './row-typer.js';

/** Buffer methods Node has always had but its typings leave out (no encoding lookup per call). */
interface RawBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number): number;
  utf8Write(s: string, offset: number): number;
}

/** One record the fast path made. Valid only until the handler returns (the buffers are reused). */
export interface FastRecord {
  /** The record's JSON object text, UTF-8, in json[0, end). */
  json: Buffer;
  end: number;
  /** The key field's value: its bytes src[keyStart, keyEnd) when keyText is undefined (ASCII, no escapes). */
  src: Buffer;
  keyStart: number;
  keyEnd: number;
  keyText: string | undefined;
  /** The `time` value's text in json[timeStart, timeEnd): -1 when it is null, -2 when the schema has no `time`. */
  timeStart: number;
  timeEnd: number;
}

export interface FastCsvHandlers {
  /** Called once with the header (decoded); may throw (the reference typer's header errors). */
  onHeader(header: string[]): void;
  /** A row the fast path made into JSON text. A returned Promise pauses reading. */
  onRecord(rec: FastRecord, rowNumber: number): void | Promise<void>;
  /** A row for the reference typer, as papaparse would give its fields. */
  onRow(fields: string[], rowNumber: number): void | Promise<void>;
}

export interface FastCsvOptions {
  stream: string;
  schema: JsonSchemaObject;
  /** Values every record carries (owner, company_domain), JSON-serialised once. */
  constants: Record<string, unknown>;
  keyField: string;
  label?: string;
  maxRowChars?: number;
}

/**
 * Rows by how they were read, over the process's life: for the differential test and the
 * bench, which must show that the fast path did the work they compare.
 */
export const fastPathCounts = { fastRows: 0, typerRows: 0, handedOverBodies: 0, bodies: 0 };

export interface FastCsvResult {
  rows: number;
  /** Rows made by the fast path (the rest went through the reference typer or readCsv). */
  fastRows: number;
  /** Set when part of the body was handed to readCsv, with the reason. */
  handedOver?: string;
}

// ---------------------------------------------------------------------------------------
// Byte classes of the scanner: 0 plain, 1 comma, 2 LF, 3 CR, 4 quote, 5 needs a JSON escape
// (backslash, other control characters), 6 non-ASCII (validated as UTF-8 per field).
const CLS = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) CLS[b] = 5;
CLS[0x5c] = 5;
CLS[0x2c] = 1;
CLS[0x0a] = 2;
CLS[0x0d] = 3;
CLS[0x22] = 4;
for (let b = 0x80; b < 0x100; b++) CLS[b] = 6;

/** JSON.stringify's escape of each byte below 0x20, '"' and '\\' (empty: copied as is). */
const ESC: Buffer[] = [];
for (let b = 0; b < 256; b++) {
  const s = b < 0x20 || b === 0x22 || b === 0x5c ? JSON.stringify(String.fromCharCode(b)).slice(1, -1) : '';
  ESC.push(Buffer.from(s, 'latin1'));
}
/** The same escaped twice (extra_fields: JSON text inside a JSON string). */
const ESC2: Buffer[] = ESC.map((e) =>
  e.length === 0 ? e : Buffer.from(JSON.stringify(e.toString('latin1')).slice(1, -1), 'latin1'),
);

/** Field flags. */
const F_ESCAPE = 1;
const F_DOUBLED = 2;
const F_HIGH = 4;

const INCOMPLETE = -1;
const UNUSUAL = -2;
/** The one-pass reading gave up on this row: read it again the two-pass way, which decides. */
const RETRY = -3;
/** Longest row the one-pass reading takes (its output buffer is sized for it). */
const ONE_PASS_MAX = 16 * 1024;

const enum Op {
  Bytes = 0,
  String = 1,
  Number = 2,
  Integer = 3,
  Boolean = 4,
  DateTime = 5,
  Date = 6,
  Extra = 7,
}

/** Emit results. */
const OK = 0;
/** Type this row with the reference typer. */
const SLOW_ROW = 1;
/** Hand the rest of the body to readCsv. */
const HAND_OVER = 2;

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The decimal number of `len` ASCII digits at i, or -1. */
function num(b: Buffer, i: number, len: number): number {
  let v = 0;
  for (let j = i; j < i + len; j++) {
    const c = b[j]!;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + c - 0x30;
  }
  return v;
}

// Word-at-a-time scanning (SWAR): a field's bytes are read four at a time as one 32-bit
// word, and a word that holds no byte the field's reading must look at is copied whole. In
// V8 a DataView word load or store costs about what one byte of a Buffer loop does, so plain
// text is scanned and copied about twice as fast, and fixed text copied four times as fast
// (measured per byte: 1.3–1.8 ns byte by byte, 0.6–0.9 ns by words; the fast path as a
// whole went from 1.95 to 1.28 µs a row in process). Each test is exact, not a heuristic:
// `(x - 0x01010101) & ~x & 0x80808080` is non-zero iff some byte of x is 0 (the lowest such
// byte gets no borrow and always flags; a borrow only starts at a byte that is 0), so
// `x = w ^ 0x22222222` finds a quote, and `(w - 0x20202020) & ~w` any byte below 0x20.

/** True when no byte of w is a quote, a backslash, below 0x20 or above 0x7f (inside quotes). */
function plainQuoted(w: number): boolean {
  const q = w ^ 0x22222222;
  const bs = w ^ 0x5c5c5c5c;
  return ((w | ((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs)) & 0x80808080) === 0;
}

/** plainQuoted, and no comma either (an unquoted field). */
function plainUnquoted(w: number): boolean {
  const q = w ^ 0x22222222;
  const bs = w ^ 0x5c5c5c5c;
  const cm = w ^ 0x2c2c2c2c;
  return (
    ((w | ((w - 0x20202020) & ~w) | ((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs) | ((cm - 0x01010101) & ~cm)) &
      0x80808080) ===
    0
  );
}

function kindOp(prop: { type?: unknown; format?: unknown }): Op {
  const types = Array.isArray(prop.type) ? (prop.type as string[]) : prop.type === undefined ? ['string'] : [prop.type as string];
  const t = types.find((x) => x !== 'null') ?? 'string';
  if (t === 'integer') return Op.Integer;
  if (t === 'number') return Op.Number;
  if (t === 'boolean') return Op.Boolean;
  if (prop.format === 'date-time') return Op.DateTime;
  if (prop.format === 'date') return Op.Date;
  return Op.String;
}

/** One step of a record's JSON text: fixed bytes, or a column's value after its key. */
interface Step {
  op: Op;
  /** Op.Bytes: the bytes; otherwise the member's `"key":` (with its leading comma). */
  bytes: Buffer;
  col: number;
  nonNull: boolean;
}

interface Plan {
  steps: Step[];
  keyCol: number;
  timeCol: number;
  hasTime: boolean;
  /** Unknown header columns in header order, with their `{"name":` / `,"name":` prefix escaped for inside a string. */
  unknownCols: number[];
  unknownPrefix: Buffer[];
}

/**
 * The plan of one header, mirroring compileRowTyper: schema order, constants and
 * extra_fields never from the input, a known column absent from the header is null.
 * Undefined when the fast path does not apply (the key is not a plain string column).
 */
function compilePlan(opts: FastCsvOptions, header: string[]): Plan | undefined {
  const props = (opts.schema.properties ?? {}) as Record<string, { type?: unknown; format?: unknown }>;
  const keys = Object.keys(props);
  const constants = opts.constants;
  const fixed = new Set<string>([...Object.keys(constants), 'extra_fields']);
  const colOf = new Map<string, number>();
  const unknownCols: number[] = [];
  header.forEach((name, c) => {
    if (!fixed.has(name) && Object.prototype.hasOwnProperty.call(props, name)) colOf.set(name, c);
    else unknownCols.push(c);
  });
  const steps: Step[] = [];
  let pending = '{';
  const flush = () => {
    if (pending) steps.push({ op: Op.Bytes, bytes: Buffer.from(pending, 'utf8'), col: -1, nonNull: false });
    pending = '';
  };
  keys.forEach((k, i) => {
    const member = (i === 0 ? '' : ',') + JSON.stringify(k) + ':';
    const prop = props[k]!;
    if (k in constants) {
      pending += member + (constants[k] === undefined ? 'null' : JSON.stringify(constants[k]));
      return;
    }
    if (k === 'extra_fields') {
      if (unknownCols.length === 0) pending += member + 'null';
      else {
        flush();
        steps.push({ op: Op.Extra, bytes: Buffer.from(member, 'utf8'), col: -1, nonNull: false });
      }
      return;
    }
    const c = colOf.get(k);
    if (c === undefined) {
      pending += member + 'null';
      return;
    }
    flush();
    // As compileRowTyper: a property whose type does not admit null must not come out null.
    const nullable = prop.type === undefined || (Array.isArray(prop.type) && (prop.type as string[]).includes('null'));
    steps.push({ op: kindOp(prop), bytes: Buffer.from(member, 'utf8'), col: c, nonNull: !nullable });
  });
  pending += '}';
  flush();
  const keyCol = colOf.get(opts.keyField);
  if (keyCol === undefined || kindOp(props[opts.keyField]!) !== Op.String) return undefined;
  const hasTime = Object.prototype.hasOwnProperty.call(props, 'time');
  const unknownPrefix = unknownCols.map((c, j) => {
    const inner = (j === 0 ? '{' : ',') + JSON.stringify(header[c]) + ':';
    return Buffer.from(JSON.stringify(inner).slice(1, -1), 'utf8');
  });
  return { steps, keyCol, timeCol: colOf.get('time') ?? -1, hasTime, unknownCols, unknownPrefix };
}

/**
 * `-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?` with at most 15 significant digits and, below 1, at
 * most 5 zeros after the point: exactly the texts that String(Number(text)) gives back
 * unchanged (15 digits round-trip through a double; JavaScript prints 1e-7 and below, and
 * 1e21 and above, in exponent form). -0 is excluded (it prints as 0).
 */
function isShortestNumber(b: Buffer, s: number, e: number, integer: boolean): boolean {
  let i = s;
  if (b[i] === 0x2d) i++;
  if (i >= e) return false;
  let digits = 0;
  const first = b[i]!;
  let zeroInt = false;
  if (first === 0x30) {
    zeroInt = true;
    i++;
  } else {
    while (i < e) {
      const c = b[i]!;
      if (c < 0x30 || c > 0x39) break;
      digits++;
      i++;
    }
    if (digits === 0) return false;
  }
  if (i === e) return digits <= 15 && !(zeroInt && b[s] === 0x2d);
  if (integer || b[i] !== 0x2e) return false;
  i++;
  const fracStart = i;
  let leadingZeros = zeroInt ? 0 : -1;
  while (i < e) {
    const c = b[i]!;
    if (c < 0x30 || c > 0x39) return false;
    if (leadingZeros >= 0 && c === 0x30 && digits === 0) leadingZeros++;
    else digits++;
    i++;
  }
  if (i === fracStart || b[e - 1] === 0x30) return false;
  if (zeroInt && leadingZeros > 5) return false;
  return digits <= 15;
}

/** The rows of one body: scanning, the record's JSON text, and the hand-over to readCsv. */
class Transcoder {
  private readonly ncols: number;
  private readonly last: number;
  private readonly fStart: Int32Array;
  private readonly fEnd: Int32Array;
  private readonly fFlags: Uint8Array;
  private out: RawBuffer = Buffer.allocUnsafe(64 * 1024) as RawBuffer;
  /** this.out as a DataView (word stores), and the input chunk last read with its view. */
  private odv = viewOf(this.out);
  private inBuf: Buffer | undefined;
  private idv = viewOf(this.out);
  private o = 0;
  /** Where the `time` value is in this.out (-1: null). */
  private timeS = -1;
  private timeE = -1;
  private readonly slack: number;
  readonly inOrder: boolean;
  private readonly colOp: Int8Array;
  private readonly colNonNull: Uint8Array;
  private readonly colPreW: Int32Array[];
  private readonly colPreT: Uint8Array[];
  private readonly tail: Step[];
  readonly rec: FastRecord;

  constructor(
    private readonly plan: Plan,
    ncols: number,
    /** true: the body's line break is CRLF; false: LF. */
    private readonly crlf: boolean,
  ) {
    this.ncols = ncols;
    this.last = ncols - 1;
    this.fStart = new Int32Array(ncols);
    this.fEnd = new Int32Array(ncols);
    this.fFlags = new Uint8Array(ncols);
    this.slack = plan.steps.reduce((n, st) => n + st.bytes.length, 0) + ncols * 40 + 64;
    // The one-pass layout: when the schema takes the header's columns in header order (as
    // Scarf sends them), each column's value is written while it is scanned, after the
    // fixed text that precedes it.
    this.colOp = new Int8Array(ncols).fill(-1);
    this.colNonNull = new Uint8Array(ncols);
    // Each column's fixed text before its value, kept only as words (row1 copies it so).
    const colPre: Buffer[] = [];
    for (let c = 0; c < ncols; c++) colPre.push(Buffer.alloc(0));
    let lastCol = -1;
    let pre: Buffer[] = [];
    let inOrder = true;
    this.tail = [];
    let lastColStep = -1;
    plan.steps.forEach((st, j) => {
      if (st.op !== Op.Bytes && st.op !== Op.Extra) lastColStep = j;
    });
    plan.steps.forEach((st, j) => {
      if (j > lastColStep) this.tail.push(st);
      else if (st.op === Op.Bytes) pre.push(st.bytes);
      else if (st.op === Op.Extra) inOrder = false;
      else {
        if (st.col <= lastCol) inOrder = false;
        colPre[st.col] = Buffer.concat([...pre, st.bytes]);
        this.colOp[st.col] = st.op;
        this.colNonNull[st.col] = st.nonNull ? 1 : 0;
        pre = [];
        lastCol = st.col;
      }
    });
    this.inOrder = inOrder;
    const words = colPre.map(wordsOf);
    this.colPreW = words.map((w) => w.words);
    this.colPreT = words.map((w) => w.tail);
    this.rec = { json: this.out, end: 0, src: this.out, keyStart: 0, keyEnd: 0, keyText: undefined, timeStart: -2, timeEnd: -1 };
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

  /** Finds the fields of the row at p: the position after its line break, INCOMPLETE or UNUSUAL. */
  scan(b: Buffer, p: number, n: number): number {
    const last = this.last;
    const crlf = this.crlf;
    const fStart = this.fStart;
    const fEnd = this.fEnd;
    const fFlags = this.fFlags;
    for (let c = 0; ; c++) {
      if (p >= n) return INCOMPLETE;
      let flags = 0;
      if (b[p] === 0x22) {
        let i = p + 1;
        const s = i;
        for (;;) {
          if (i >= n) return INCOMPLETE;
          const k = CLS[b[i]!]!;
          if (k <= 1) {
            i++;
            continue;
          }
          if (k === 4) {
            if (i + 1 >= n) return INCOMPLETE;
            if (b[i + 1] === 0x22) {
              flags |= F_ESCAPE | F_DOUBLED;
              i += 2;
              continue;
            }
            break;
          }
          flags |= k === 6 ? F_HIGH : F_ESCAPE;
          i++;
        }
        fStart[c] = s;
        fEnd[c] = i;
        fFlags[c] = flags;
        p = i + 1;
        if (p >= n) return INCOMPLETE;
        const d = b[p];
        if (c < last) {
          if (d !== 0x2c) return UNUSUAL;
          p++;
          continue;
        }
        if (!crlf) return d === 0x0a ? p + 1 : UNUSUAL;
        if (d !== 0x0d) return UNUSUAL;
        if (p + 1 >= n) return INCOMPLETE;
        return b[p + 1] === 0x0a ? p + 2 : UNUSUAL;
      }
      let i = p;
      for (;;) {
        if (i >= n) return INCOMPLETE;
        const k = CLS[b[i]!]!;
        if (k === 0) {
          i++;
          continue;
        }
        if (k === 1) {
          if (c === last) return UNUSUAL;
          fStart[c] = p;
          fEnd[c] = i;
          fFlags[c] = flags;
          p = i + 1;
          break;
        }
        if (k === 2 && !crlf) {
          if (c !== last) return UNUSUAL;
          fStart[c] = p;
          fEnd[c] = i;
          fFlags[c] = flags;
          return i + 1;
        }
        if (k === 3 && crlf) {
          if (i + 1 >= n) return INCOMPLETE;
          if (b[i + 1] === 0x0a) {
            if (c !== last) return UNUSUAL;
            fStart[c] = p;
            fEnd[c] = i;
            fFlags[c] = flags;
            return i + 2;
          }
        }
        flags |= k === 6 ? F_HIGH : F_ESCAPE;
        i++;
      }
    }
  }

  /**
   * The one-pass reading of the row at p: scans each field and writes its value as it goes.
   * Returns the position after the row (its JSON text is then in this.out), INCOMPLETE,
   * UNUSUAL, or RETRY for anything else (the two-pass reading decides).
   */
  row1(b: Buffer, p: number, n: number): number {
    const lim = n - p > ONE_PASS_MAX ? p + ONE_PASS_MAX : n;
    const short = lim < n ? RETRY : INCOMPLETE;
    if (this.out.length < ONE_PASS_MAX * 7 + this.slack) this.ensure(ONE_PASS_MAX * 7 + this.slack);
    const out = this.out;
    const odv = this.odv;
    if (b !== this.inBuf) {
      this.inBuf = b;
      this.idv = viewOf(b);
    }
    const idv = this.idv;
    const last = this.last;
    const crlf = this.crlf;
    const colOp = this.colOp;
    const colPreW = this.colPreW;
    const colPreT = this.colPreT;
    const fStart = this.fStart;
    const fEnd = this.fEnd;
    const fFlags = this.fFlags;
    const timeCol = this.plan.timeCol;
    let o = 0;
    this.timeS = -1;
    for (let c = 0; ; c++) {
      const op = colOp[c]!;
      const pw = colPreW[c]!;
      for (let j = 0; j < pw.length; j++) {
        odv.setInt32(o, pw[j]!, true);
        o += 4;
      }
      const pt = colPreT[c]!;
      for (let j = 0; j < pt.length; j++) out[o++] = pt[j]!;
      if (p >= lim) return short;
      const copy = op === Op.String;
      const vStart = o;
      if (copy) out[o++] = 0x22;
      let flags = 0;
      let s: number;
      let e: number;
      let next: number;
      let i: number;
      if (b[p] === 0x22) {
        i = p + 1;
        s = i;
        for (;;) {
          if (i + 4 <= lim) {
            const w = idv.getInt32(i, true);
            if (plainQuoted(w)) {
              if (copy) {
                odv.setInt32(o, w, true);
                o += 4;
              }
              i += 4;
              continue;
            }
          }
          if (i >= lim) return short;
          const x = b[i]!;
          const k = CLS[x]!;
          if (k <= 1) {
            if (copy) out[o++] = x;
            i++;
            continue;
          }
          if (k === 4) {
            if (i + 1 >= lim) return short;
            if (b[i + 1] === 0x22) {
              flags |= F_ESCAPE | F_DOUBLED;
              if (copy) {
                out[o++] = 0x5c;
                out[o++] = 0x22;
              }
              i += 2;
              continue;
            }
            break;
          }
          if (k === 6) {
            flags |= F_HIGH;
            if (copy) out[o++] = x;
          } else {
            flags |= F_ESCAPE;
            if (copy) {
              const es = ESC[x]!;
              for (let j = 0; j < es.length; j++) out[o++] = es[j]!;
            }
          }
          i++;
        }
        e = i;
        i++;
        if (i >= lim) return short;
        const d = b[i];
        if (c < last) {
          if (d !== 0x2c) return UNUSUAL;
          next = i + 1;
        } else if (!crlf) {
          if (d !== 0x0a) return UNUSUAL;
          next = i + 1;
        } else {
          if (d !== 0x0d) return UNUSUAL;
          if (i + 1 >= lim) return short;
          if (b[i + 1] !== 0x0a) return UNUSUAL;
          next = i + 2;
        }
      } else {
        i = p;
        s = p;
        for (;;) {
          if (i + 4 <= lim) {
            const w = idv.getInt32(i, true);
            if (plainUnquoted(w)) {
              if (copy) {
                odv.setInt32(o, w, true);
                o += 4;
              }
              i += 4;
              continue;
            }
          }
          if (i >= lim) return short;
          const x = b[i]!;
          const k = CLS[x]!;
          if (k === 0) {
            if (copy) out[o++] = x;
            i++;
            continue;
          }
          if (k === 1) {
            if (c === last) return UNUSUAL;
            next = i + 1;
            break;
          }
          if (k === 2 && !crlf) {
            if (c !== last) return UNUSUAL;
            next = i + 1;
            break;
          }
          if (k === 3 && crlf) {
            if (i + 1 >= lim) return short;
            if (b[i + 1] === 0x0a) {
              if (c !== last) return UNUSUAL;
              next = i + 2;
              break;
            }
          }
          if (k === 6) {
            flags |= F_HIGH;
            if (copy) out[o++] = x;
          } else {
            flags |= F_ESCAPE;
            if (copy) {
              const es = ESC[x]!;
              for (let j = 0; j < es.length; j++) out[o++] = es[j]!;
            }
          }
          i++;
        }
        e = i;
      }
      fStart[c] = s;
      fEnd[c] = e;
      fFlags[c] = flags;
      if (op >= 0) {
        if (s === e) {
          if (this.colNonNull[c]) return RETRY;
          o = vStart;
          out[o++] = 0x6e;
          out[o++] = 0x75;
          out[o++] = 0x6c;
          out[o++] = 0x6c;
        } else if (flags & F_HIGH && !isUtf8(b.subarray(s, e))) return RETRY;
        else if (copy) out[o++] = 0x22;
        else {
          this.o = o;
          if (!this.putTyped(op, b, s, e, flags, c === timeCol)) return RETRY;
          o = this.o;
        }
      }
      p = next;
      if (c === last) break;
    }
    this.o = o;
    const tail = this.tail;
    for (let j = 0; j < tail.length; j++) {
      const st = tail[j]!;
      this.put(st.bytes, 0, st.bytes.length);
      if (st.op === Op.Extra && !this.putExtra(b)) return RETRY;
    }
    return this.finish(b) === OK ? p : RETRY;
  }

  /** The row's fields as papaparse gives them (for the reference typer); undefined if one is not valid UTF-8. */
  fields(b: Buffer): string[] | undefined {
    const out: string[] = new Array<string>(this.ncols);
    for (let c = 0; c < this.ncols; c++) {
      if (this.fFlags[c]! & F_HIGH && !isUtf8(b.subarray(this.fStart[c], this.fEnd[c]))) return undefined;
      const s = b.toString('utf8', this.fStart[c], this.fEnd[c]);
      out[c] = this.fFlags[c]! & F_DOUBLED ? s.replaceAll('""', '"') : s;
    }
    return out;
  }

  private ensure(extra: number): void {
    if (this.o + extra <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.o + extra)) as RawBuffer;
    this.out.copy(bigger, 0, 0, this.o);
    this.out = bigger;
    this.odv = viewOf(bigger);
    this.rec.json = bigger;
  }

  private put(src: Buffer, s: number, e: number): void {
    const out = this.out;
    let o = this.o;
    if (e - s > 32) {
      src.copy(out, o, s, e);
      o += e - s;
    } else for (let i = s; i < e; i++) out[o++] = src[i]!;
    this.o = o;
  }

  /** Field bytes as JSON string content; `esc` is ESC or ESC2. Returns false for invalid UTF-8. */
  private putEscaped(b: Buffer, s: number, e: number, flags: number, esc: Buffer[]): boolean {
    if (flags & F_HIGH && !isUtf8(b.subarray(s, e))) return false;
    if (!(flags & F_ESCAPE)) {
      this.put(b, s, e);
      return true;
    }
    const out = this.out;
    let o = this.o;
    const doubled = (flags & F_DOUBLED) !== 0;
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      const x = esc[c]!;
      if (x.length === 0) {
        out[o++] = c;
        continue;
      }
      for (let j = 0; j < x.length; j++) out[o++] = x[j]!;
      if (c === 0x22 && doubled) i++;
    }
    this.o = o;
    return true;
  }

  private putAscii(s: string): void {
    this.o += this.out.latin1Write(s, this.o);
  }

  /** Writes the record's JSON text into this.out; OK, SLOW_ROW or HAND_OVER. */
  emit(b: Buffer, rowBytes: number): number {
    const plan = this.plan;
    const fStart = this.fStart;
    const fEnd = this.fEnd;
    const fFlags = this.fFlags;
    this.o = 0;
    // Worst case: every byte escaped twice (\\u00XX, 7 bytes), plus the fixed text and converted values.
    this.ensure(rowBytes * 7 + this.slack);
    this.timeS = -1;
    const steps = plan.steps;
    for (let j = 0; j < steps.length; j++) {
      const st = steps[j]!;
      const key = st.bytes;
      this.put(key, 0, key.length);
      if (st.op === Op.Bytes) continue;
      if (st.op === Op.Extra) {
        if (!this.putExtra(b)) return HAND_OVER;
        continue;
      }
      const c = st.col;
      const s = fStart[c]!;
      const e = fEnd[c]!;
      if (s === e) {
        if (st.nonNull) return SLOW_ROW;
        this.put(NULL, 0, 4);
        continue;
      }
      const flags = fFlags[c]!;
      if (st.op === Op.String) {
        this.out[this.o++] = 0x22;
        if (!this.putEscaped(b, s, e, flags, ESC)) return HAND_OVER;
        this.out[this.o++] = 0x22;
        continue;
      }
      if (flags & F_HIGH && !isUtf8(b.subarray(s, e))) return HAND_OVER;
      if (!this.putTyped(st.op, b, s, e, flags, c === plan.timeCol)) return SLOW_ROW;
    }
    return this.finish(b);
  }

  /**
   * `2026-11-02 13:04:05.123456+00` (Scarf's form: Postgres drops the fraction's trailing
   * zeros, and the fraction itself when it is zero) or the canonical
   * `2026-11-02T13:04:05.123456Z`, checked as toTimestamp checks them, written as toTimestamp
   * writes them (quoted; the fraction padded to 6 digits), without making strings. False: not
   * one of these forms (toTimestamp decides).
   */
  private putPgTimestamp(b: Buffer, s: number, e: number): boolean {
    const len = e - s;
    let pg: boolean;
    /** Fraction digits. */
    let fd: number;
    if (len === 27 && b[s + 26] === 0x5a) {
      pg = false;
      fd = 6;
    } else if (len === 22 || (len >= 24 && len <= 29)) {
      // 27 bytes ending in +00 is Scarf's form with 4 fraction digits.
      pg = true;
      fd = len === 22 ? 0 : len - 23;
      if (b[e - 3] !== 0x2b || b[e - 2] !== 0x30 || b[e - 1] !== 0x30) return false;
    } else return false;
    const sep = b[s + 10];
    if (pg ? !(sep === 0x20 || sep === 0x54 || sep === 0x74) : sep !== 0x54) return false;
    if (b[s + 4] !== 0x2d || b[s + 7] !== 0x2d || b[s + 13] !== 0x3a || b[s + 16] !== 0x3a) return false;
    if (fd > 0 && b[s + 19] !== 0x2e) return false;
    for (let i = 20; i < 20 + fd; i++) if (!isDigit(b[s + i]!)) return false;
    const y = num(b, s, 4);
    const m = num(b, s + 5, 2);
    const d = num(b, s + 8, 2);
    const hh = num(b, s + 11, 2);
    const mi = num(b, s + 14, 2);
    const ss = num(b, s + 17, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59) return false;
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    if (d > (m === 2 && leap ? 29 : MONTH_DAYS[m]!)) return false;
    const out = this.out;
    let o = this.o;
    out[o++] = 0x22;
    // The date and time (and the point and fraction when there is one), then T for the separator.
    const copied = fd === 0 ? 19 : 20 + fd;
    for (let i = 0; i < copied; i++) out[o++] = b[s + i]!;
    out[o - copied + 10] = 0x54;
    if (fd === 0) out[o++] = 0x2e;
    for (let i = fd; i < 6; i++) out[o++] = 0x30;
    out[o++] = 0x5a;
    out[o++] = 0x22;
    this.o = o;
    return true;
  }

  /** A typed value (number, boolean, timestamp, date) at this.o; false: the reference typer must judge it. */
  private putTyped(op: Op, b: Buffer, s: number, e: number, flags: number, isTime: boolean): boolean {
    if (flags !== 0) return false;
    switch (op) {
      case Op.Number:
      case Op.Integer: {
        if (isShortestNumber(b, s, e, op === Op.Integer)) {
          this.put(b, s, e);
          return true;
        }
        if (op === Op.Number) {
          // 37.7290 or 0.200: the same value without its trailing zeros (and a bare point), which
          // is what String(Number(text)) gives when that shorter text is in shortest form.
          let t = e;
          while (t > s && b[t - 1] === 0x30) t--;
          if (t < e && t > s && b.indexOf(0x2e, s) > 0 && b.indexOf(0x2e, s) < t + 1) {
            if (b[t - 1] === 0x2e) t--;
            if (t > s && isShortestNumber(b, s, t, false)) {
              this.put(b, s, t);
              return true;
            }
          }
        }
        const text = (b as RawBuffer).latin1Slice(s, e);
        let v: number;
        try {
          v = op === Op.Integer ? toInteger(text) : toNumber(text);
        } catch {
          return false;
        }
        this.putAscii(String(v));
        return true;
      }
      case Op.Boolean: {
        const len = e - s;
        const c0 = b[s];
        let v: boolean;
        if (len === 1 && c0 === 0x74) v = true;
        else if (len === 1 && c0 === 0x66) v = false;
        else {
          try {
            v = toBoolean((b as RawBuffer).latin1Slice(s, e));
          } catch {
            return false;
          }
        }
        if (v) this.put(TRUE, 0, 4);
        else this.put(FALSE, 0, 5);
        return true;
      }
      default: {
        if (op === Op.DateTime && this.putPgTimestamp(b, s, e)) {
          if (isTime) {
            this.timeS = this.o - 28;
            this.timeE = this.o - 1;
          }
          return true;
        }
        let v: string;
        try {
          const text = (b as RawBuffer).latin1Slice(s, e);
          v = op === Op.DateTime ? toTimestamp(text) : toDate(text);
        } catch {
          return false;
        }
        this.out[this.o++] = 0x22;
        const vs = this.o;
        this.putAscii(v);
        if (isTime) {
          this.timeS = vs;
          this.timeE = this.o;
        }
        this.out[this.o++] = 0x22;
        return true;
      }
    }
  }

  /** The record's end and its key, once every value is written. */
  private finish(b: Buffer): number {
    const plan = this.plan;
    const fStart = this.fStart;
    const fEnd = this.fEnd;
    const fFlags = this.fFlags;
    const rec = this.rec;
    rec.end = this.o;
    rec.timeStart = plan.hasTime ? this.timeS : -2;
    rec.timeEnd = this.timeE;
    const kc = plan.keyCol;
    const ks = fStart[kc]!;
    const ke = fEnd[kc]!;
    if (ks === ke) return SLOW_ROW;
    rec.src = b;
    rec.keyStart = ks;
    rec.keyEnd = ke;
    const kf = fFlags[kc]!;
    rec.keyText =
      kf === 0 ? undefined : kf & F_DOUBLED ? b.toString('utf8', ks, ke).replaceAll('""', '"') : b.toString('utf8', ks, ke);
    return OK;
  }

  /** extra_fields: `{"col":"raw"|null,…}` as JSON text, itself inside a JSON string. */
  private putExtra(b: Buffer): boolean {
    const plan = this.plan;
    this.out[this.o++] = 0x22;
    for (let j = 0; j < plan.unknownCols.length; j++) {
      const p = plan.unknownPrefix[j]!;
      this.put(p, 0, p.length);
      const c = plan.unknownCols[j]!;
      const s = this.fStart[c]!;
      const e = this.fEnd[c]!;
      if (s === e) this.put(NULL, 0, 4);
      else {
        this.out[this.o++] = 0x5c;
        this.out[this.o++] = 0x22;
        if (!this.putEscaped(b, s, e, this.fFlags[c]! | F_ESCAPE, ESC2)) return false;
        this.out[this.o++] = 0x5c;
        this.out[this.o++] = 0x22;
      }
    }
    this.out[this.o++] = 0x7d;
    this.out[this.o++] = 0x22;
    return true;
  }
}

function asBuffer(chunk: BodyChunk): Buffer | undefined {
  if (typeof chunk === 'string') return undefined;
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The header line's end: index after its line break, the break's kind; undefined: not decidable here. */
function headerEnd(b: Buffer): { end: number; crlf: boolean } | 'lone CR' | undefined {
  const lf = b.indexOf(0x0a);
  if (lf < 0) return undefined;
  const crlf = lf > 0 && b[lf - 1] === 0x0d;
  // Only a CR right before the first LF is a line break the fast path reads (a lone CR: readCsv decides).
  if (b.subarray(0, crlf ? lf - 1 : lf).indexOf(0x0d) >= 0) return 'lone CR';
  return { end: lf + 1, crlf };
}

/**
 * Reads a CSV body like readCsv, handing each row to `onRecord` (as JSON text) or `onRow`
 * (as fields, for the reference typer). Same completeness rules: they are readCsv's, which
 * reads every part of the body the fast path does not (see the top of this file).
 */
export async function transcodeCsv(body: BodySource, opts: FastCsvOptions, handlers: FastCsvHandlers): Promise<FastCsvResult> {
  const label = labelPrefix(opts.label);
  const src = new BodyPuller(body, label);
  const maxRow = opts.maxRowChars ?? maxRowChars();
  fastPathCounts.bodies++;
  /** Chunks of the body not yet read as rows (the header's, then a row that has not ended). */
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** The header's bytes with its line break, as received (BOM included), for a hand-over. */
  let headerBytes: Buffer | undefined;
  let tc: Transcoder | undefined;
  let rows = 0;
  let fastRows = 0;
  let stringChunk: string | undefined;
  /** Bytes held when the held row was last tried: it is tried again once they double, so a long row costs linear time. */
  let triedAt = 0;

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
      { label: opts.label, maxRowChars: maxRow, rowOffset: rows },
    );
    fastPathCounts.handedOverBodies++;
    return { rows: res.rows, fastRows, handedOver: reason };
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
      const plan = compilePlan(opts, header);
      if (plan === undefined) return await handOver('the key is not a text column', [all.subarray(he.end)]);
      tc = new Transcoder(plan, header.length, he.crlf);
      if (he.end < all.length) {
        held.push(all.subarray(he.end));
        heldBytes = all.length - he.end;
      }
      break;
    }

    const t = tc;
    const rec = t.rec;
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
          if (heldBytes === 0) return { rows, fastRows };
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
        const blank = t.blankLine(b, p, n);
        if (blank > 0) {
          p += blank;
          continue;
        }
        let end = blank < 0 ? INCOMPLETE : t.inOrder ? t.row1(b, p, n) : RETRY;
        let r = OK;
        if (end === RETRY) {
          end = t.scan(b, p, n);
          if (end >= 0) r = t.emit(b, end - p);
        }
        if (end === INCOMPLETE) break;
        if (end === UNUSUAL) return await handOver('a row the fast path does not read', [b.subarray(p)]);
        let done: void | Promise<void>;
        if (r === OK) {
          fastRows++;
          fastPathCounts.fastRows++;
          done = handlers.onRecord(rec, ++rows);
        } else {
          const fields = r === SLOW_ROW ? t.fields(b) : undefined;
          if (fields === undefined) return await handOver('a value that is not valid UTF-8', [b.subarray(p)]);
          fastPathCounts.typerRows++;
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
    throw err;
  }
}
