// One row's record as JSON text: the row's bytes are read (scan.ts) and its values written
// (values.ts) into one reused output buffer, along the header's layout (compile.ts).
import { isUtf8 } from 'node:buffer';

import { viewOf } from '../../util/words.js';
import { Kind } from '../schema-kind.js';
import { compileOnePass, Fixed, type Layout, type OnePass } from './compile.js';
import { CLS, Fields, Flag, Row } from './scan.js';
import { ESC, ESC2, JsonText, NULL, type RawBuffer } from './values.js';

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
  /** The tallied field's value text in json[tallyStart, tallyEnd): -1 when it is null, -2 when the schema has no such field (or none is tallied). */
  tallyStart: number;
  tallyEnd: number;
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
// The tests live here, beside the one loop that calls them, and the loop copies the byte
// table into a local: an imported binding is loaded from its module's cell at every use,
// which cost the fast path ~3 % (measured when the path became a folder).

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

/**
 * The byte classes of the one-pass reading (scan.ts's CLS, see there), one table per kind of
 * field so that one loop reads both: inside quotes a comma is plain and a line break needs
 * an escape; outside them a quote needs one, and so does the line-break byte that is not
 * the body's (LF in a CRLF body is a value's byte, CR alone in an LF body too).
 */
const QUOTED = CLS.map((k) => (k === 1 ? 0 : k === 2 || k === 3 ? 5 : k));
const UNQUOTED_LF = CLS.map((k) => (k === 3 || k === 4 ? 5 : k));
const UNQUOTED_CRLF = CLS.map((k) => (k === 2 || k === 4 ? 5 : k));

/** Longest row the one-pass reading takes (its output buffer is sized for it). */
const ONE_PASS_MAX = 16 * 1024;

/** The records of one body's rows, each written over the previous one. */
export class RecordWriter extends JsonText {
  readonly fields: Fields;
  /** this.out as a DataView (word stores), and the input chunk last read with its view. */
  private odv = viewOf(this.out);
  private inBuf: Buffer | undefined;
  private idv = viewOf(this.out);
  /** Where the tallied value is in this.out (-1: null). */
  private tallyS = -1;
  private tallyE = -1;
  private readonly slack: number;
  private readonly one: OnePass;
  /** The byte classes outside quotes, for this body's line break. */
  private readonly unquoted: Uint8Array;
  /** The one-pass reading applies (see OnePass.inOrder); otherwise every row is read in two passes. */
  readonly inOrder: boolean;
  readonly rec: FastRecord;

  constructor(
    private readonly layout: Layout,
    ncols: number,
    /** true: the body's line break is CRLF; false: LF. */
    crlf: boolean,
  ) {
    super();
    this.fields = new Fields(ncols, crlf);
    this.unquoted = crlf ? UNQUOTED_CRLF : UNQUOTED_LF;
    this.slack = layout.steps.reduce((n, st) => n + st.bytes.length, 0) + ncols * 40 + 64;
    this.one = compileOnePass(layout, ncols);
    this.inOrder = this.one.inOrder;
    this.rec = {
      json: this.out,
      end: 0,
      src: this.out,
      keyStart: 0,
      keyEnd: 0,
      keyText: undefined,
      tallyStart: -2,
      tallyEnd: -1,
    };
  }

  /**
   * The one-pass reading of the row at p: scans each field and writes its value as it goes.
   * Returns the position after the row (its JSON text is then in this.out), Row.Incomplete,
   * Row.Unusual, or Row.TwoPass for anything else (the two-pass reading decides).
   */
  row1(b: Buffer, p: number, n: number): number {
    const lim = n - p > ONE_PASS_MAX ? p + ONE_PASS_MAX : n;
    const short = lim < n ? Row.TwoPass : Row.Incomplete;
    if (this.out.length < ONE_PASS_MAX * 7 + this.slack) this.ensure(ONE_PASS_MAX * 7 + this.slack);
    const out = this.out;
    const odv = this.odv;
    // Fields copied into locals, as the COPY encoder does (destination/postgres/copy-binary.ts):
    // alike by design, a hot loop reads locals (docs/DESIGN.md "Repeated shapes").
    if (b !== this.inBuf) {
      this.inBuf = b;
      this.idv = viewOf(b);
    }
    const idv = this.idv;
    const f = this.fields;
    const last = f.last;
    const crlf = f.crlf;
    const fStart = f.start;
    const fEnd = f.end;
    const fFlags = f.flags;
    const one = this.one;
    const colOp = one.colOp;
    const colPreW = one.colPreW;
    const colPreT = one.colPreT;
    const colNonNull = one.colNonNull;
    const tallyCol = this.layout.tallyCol;
    const quoted = QUOTED;
    const unquoted = this.unquoted;
    const esc = ESC;
    let o = 0;
    this.tallyS = -1;
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
      const copyText = op === Kind.String;
      const vStart = o;
      if (copyText) out[o++] = 0x22;
      let flags = 0;
      // One loop reads a quoted field and an unquoted one: what differs is in kt and the word test.
      const inQuotes = b[p] === 0x22;
      let i = inQuotes ? p + 1 : p;
      const kt = inQuotes ? quoted : unquoted;
      const s = i;
      let next: number;
      for (;;) {
        // The words with nothing to look at, in a loop of their own for each kind of field:
        // alike on purpose, one test per word instead of a choice per word (2-3 % of the fast
        // path, docs/DESIGN.md "Repeated shapes").
        if (inQuotes) {
          while (i + 4 <= lim) {
            const w = idv.getInt32(i, true);
            if (!plainQuoted(w)) break;
            if (copyText) {
              odv.setInt32(o, w, true);
              o += 4;
            }
            i += 4;
          }
        } else {
          while (i + 4 <= lim) {
            const w = idv.getInt32(i, true);
            if (!plainUnquoted(w)) break;
            if (copyText) {
              odv.setInt32(o, w, true);
              o += 4;
            }
            i += 4;
          }
        }
        if (i >= lim) return short;
        const x = b[i]!;
        const k = kt[x]!;
        if (k === 0) {
          if (copyText) out[o++] = x;
          i++;
          continue;
        }
        if (k === 1) {
          if (c === last) return Row.Unusual;
          next = i + 1;
          break;
        }
        if (k === 2) {
          if (c !== last) return Row.Unusual;
          next = i + 1;
          break;
        }
        if (k === 3) {
          if (i + 1 >= lim) return short;
          if (b[i + 1] === 0x0a) {
            if (c !== last) return Row.Unusual;
            next = i + 2;
            break;
          }
        } else if (k === 4) {
          if (i + 1 >= lim) return short;
          const d = b[i + 1];
          if (d === 0x22) {
            flags |= Flag.Escape | Flag.Doubled;
            if (copyText) {
              out[o++] = 0x5c;
              out[o++] = 0x22;
            }
            i += 2;
            continue;
          }
          // The closing quote: the field's separator must follow it.
          if (c < last) {
            if (d !== 0x2c) return Row.Unusual;
            next = i + 2;
          } else if (!crlf) {
            if (d !== 0x0a) return Row.Unusual;
            next = i + 2;
          } else {
            if (d !== 0x0d) return Row.Unusual;
            if (i + 2 >= lim) return short;
            if (b[i + 2] !== 0x0a) return Row.Unusual;
            next = i + 3;
          }
          break;
        }
        if (k === 6) {
          flags |= Flag.High;
          if (copyText) out[o++] = x;
        } else {
          flags |= Flag.Escape;
          if (copyText) {
            const es = esc[x]!;
            for (let j = 0; j < es.length; j++) out[o++] = es[j]!;
          }
        }
        i++;
      }
      const e = i;
      fStart[c] = s;
      fEnd[c] = e;
      fFlags[c] = flags;
      if (op >= 0) {
        if (s === e) {
          if (colNonNull[c]) return Row.TwoPass;
          o = vStart;
          out[o++] = 0x6e;
          out[o++] = 0x75;
          out[o++] = 0x6c;
          out[o++] = 0x6c;
        } else if (flags & Flag.High && !isUtf8(b.subarray(s, e))) return Row.TwoPass;
        else if (copyText) out[o++] = 0x22;
        else {
          this.o = o;
          if (!this.putTyped(op as Kind, b, s, e, flags)) return Row.TwoPass;
          if (c === tallyCol) {
            this.tallyS = o + 1;
            this.tallyE = this.o - 1;
          }
          o = this.o;
        }
      }
      p = next;
      if (c === last) break;
    }
    this.o = o;
    const tail = one.tail;
    for (let j = 0; j < tail.length; j++) {
      const st = tail[j]!;
      this.put(st.bytes, 0, st.bytes.length);
      if (st.op === Fixed.Extra && !this.putExtra(b)) return Row.TwoPass;
    }
    return this.finish(b) === Row.Made ? p : Row.TwoPass;
  }

  /** The two-pass reading's second pass, after Fields.scan: writes the record's JSON text into this.out; Row.Made, Row.ToTyper or Row.NotUtf8. */
  emit(b: Buffer, rowBytes: number): Row {
    const layout = this.layout;
    const f = this.fields;
    const fStart = f.start;
    const fEnd = f.end;
    const fFlags = f.flags;
    this.o = 0;
    // Worst case: every byte escaped twice (\\u00XX, 7 bytes), plus the fixed text and converted values.
    this.ensure(rowBytes * 7 + this.slack);
    this.tallyS = -1;
    const steps = layout.steps;
    for (let j = 0; j < steps.length; j++) {
      const st = steps[j]!;
      const key = st.bytes;
      this.put(key, 0, key.length);
      if (st.op === Fixed.Bytes) continue;
      if (st.op === Fixed.Extra) {
        if (!this.putExtra(b)) return Row.NotUtf8;
        continue;
      }
      const c = st.col;
      const s = fStart[c]!;
      const e = fEnd[c]!;
      if (s === e) {
        if (st.nonNull) return Row.ToTyper;
        this.put(NULL, 0, 4);
        continue;
      }
      const flags = fFlags[c]!;
      if (st.op === Kind.String) {
        this.out[this.o++] = 0x22;
        if (!this.putEscaped(b, s, e, flags, ESC)) return Row.NotUtf8;
        this.out[this.o++] = 0x22;
        continue;
      }
      if (flags & Flag.High && !isUtf8(b.subarray(s, e))) return Row.NotUtf8;
      const at = this.o;
      if (!this.putTyped(st.op, b, s, e, flags)) return Row.ToTyper;
      if (c === layout.tallyCol) {
        this.tallyS = at + 1;
        this.tallyE = this.o - 1;
      }
    }
    return this.finish(b);
  }

  private ensure(extra: number): void {
    if (this.o + extra <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.o + extra)) as RawBuffer;
    this.out.copy(bigger, 0, 0, this.o);
    this.out = bigger;
    this.odv = viewOf(bigger);
    this.rec.json = bigger;
  }

  /** The record's end and its key, once every value is written: Row.Made, or Row.ToTyper for an empty key. */
  private finish(b: Buffer): Row {
    const layout = this.layout;
    const f = this.fields;
    const rec = this.rec;
    rec.end = this.o;
    rec.tallyStart = layout.hasTally ? this.tallyS : -2;
    rec.tallyEnd = this.tallyE;
    const kc = layout.keyCol;
    const ks = f.start[kc]!;
    const ke = f.end[kc]!;
    if (ks === ke) return Row.ToTyper;
    rec.src = b;
    rec.keyStart = ks;
    rec.keyEnd = ke;
    const kf = f.flags[kc]!;
    rec.keyText =
      kf === 0 ? undefined : kf & Flag.Doubled ? b.toString('utf8', ks, ke).replaceAll('""', '"') : b.toString('utf8', ks, ke);
    return Row.Made;
  }

  /** extra_fields: `{"col":"raw"|null,…}` as JSON text, itself inside a JSON string. False: a value is not valid UTF-8. */
  private putExtra(b: Buffer): boolean {
    const layout = this.layout;
    const f = this.fields;
    this.out[this.o++] = 0x22;
    for (let j = 0; j < layout.unknownCols.length; j++) {
      const p = layout.unknownPrefix[j]!;
      this.put(p, 0, p.length);
      const c = layout.unknownCols[j]!;
      const s = f.start[c]!;
      const e = f.end[c]!;
      if (s === e) this.put(NULL, 0, 4);
      else {
        this.out[this.o++] = 0x5c;
        this.out[this.o++] = 0x22;
        if (!this.putEscaped(b, s, e, f.flags[c]! | Flag.Escape, ESC2)) return false;
        this.out[this.o++] = 0x5c;
        this.out[this.o++] = 0x22;
      }
    }
    this.out[this.o++] = 0x7d;
    this.out[this.o++] = 0x22;
    return true;
  }
}
