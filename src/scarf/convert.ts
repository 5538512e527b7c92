// Scalar converters: one text (or JSON) value → the canonical typed value of docs/DESIGN.md.
// Records and bookmarks use the same ones, so a bookmark compares equal to the record it
// came from. The per-row path is hot (≥150k rows/s): timestamps are parsed by char codes,
// never through JS Date or a regex. They throw a plain Error saying what was expected;
// the row typer (row-typer.ts) turns it into a DataError naming the column.

import { clip } from '../log.js';

export const TS_EXPECTED =
  'expected a timestamp such as 2026-11-02 13:04:05.123456+00 or 2026-11-02T13:04:05Z ' +
  '(offset Z, ±HH, ±HHMM or ±HH:MM; 0–9 fraction digits) or a date 2026-11-02';
export const DATE_EXPECTED = 'expected a date YYYY-MM-DD (or a timestamp, whose UTC date is kept)';
export const BOOL_EXPECTED = 'expected a boolean: t, true, f or false';
export const NUM_EXPECTED = 'expected a finite decimal number such as -1.5 or 2.5e3';
export const INT_EXPECTED = 'expected an integer such as 42';

/**
 * Quotes a bad value for an error message, truncated to 80 characters — after redaction, so
 * a value holding the token cannot leave its first characters at the cut.
 */
export function quoteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, 80));
  // a JSON value (NDJSON) is shown as JSON text, unquoted
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return clip(s, 80);
}

/** The plain Error a converter throws; the row typer words it as a DataError naming the column. */
export function invalid(kind: string, text: unknown, expected: string): Error {
  return new Error(`invalid ${kind} ${quoteValue(text)}: ${expected}`);
}

/** Two ASCII digits at i as a number, or -1. */
function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9)) return -1;
  return a * 10 + b;
}

function d4(s: string, i: number): number {
  const hi = d2(s, i);
  const lo = d2(s, i + 2);
  if (hi < 0 || lo < 0) return -1;
  return hi * 100 + lo;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Validates `YYYY-MM-DD` at the start of s; returns [y, m, d] packed or -1. */
function parseDatePart(s: string): number {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return -1;
  const y = d4(s, 0);
  const m = d2(s, 5);
  const d = d2(s, 8);
  if (y < 0 || m < 1 || m > 12 || d < 1) return -1;
  const max = m === 2 && isLeap(y) ? 29 : MONTH_DAYS[m]!; // 1 ≤ m ≤ 12
  if (d > max) return -1;
  return y * 10000 + m * 100 + d;
}

// Howard Hinnant's civil-from-days algorithms: exact for every proleptic Gregorian day,
// unlike Date.UTC, which maps years 0–99 to 1900–1999 (also the load's binary COPY dates,
// src/destination/postgres/copy-binary.ts).
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function pad4(n: number): string {
  return n < 10 ? '000' + n : n < 100 ? '00' + n : n < 1000 ? '0' + n : String(n);
}

const FRACTION_PAD = ['000000', '00000', '0000', '000', '00', '0'];

/**
 * Any accepted timestamp text → `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, at least 6 fraction
 * digits; more are kept when the source has them). A missing offset means UTC; a bare
 * date means midnight UTC.
 */
// eslint-disable-next-line complexity -- once per timestamp value on the papaparse path (docs/performance.md, npm run bench): a hand-rolled scanner, not split into calls
export function toTimestamp(text: string): string {
  const n = text.length;
  // Already canonical (what the tap itself emits): return the same string, no allocation.
  if (
    n === 27 &&
    text.charCodeAt(10) === 84 /* T */ &&
    text.charCodeAt(26) === 90 /* Z */ &&
    text.charCodeAt(19) === 46 /* . */ &&
    text.charCodeAt(13) === 58 &&
    text.charCodeAt(16) === 58 &&
    parseDatePart(text) >= 0 &&
    d2(text, 11) >= 0 &&
    d2(text, 11) <= 23 &&
    d2(text, 14) >= 0 &&
    d2(text, 14) <= 59 &&
    d2(text, 17) >= 0 &&
    d2(text, 17) <= 59 &&
    d2(text, 20) >= 0 &&
    d2(text, 22) >= 0 &&
    d2(text, 24) >= 0
  ) {
    return text;
  }
  if (n < 10) throw invalid('timestamp', text, TS_EXPECTED);
  const ymd = parseDatePart(text);
  if (ymd < 0) throw invalid('timestamp', text, TS_EXPECTED);
  if (n === 10) return text + 'T00:00:00.000000Z';

  const sep = text.charCodeAt(10);
  if (!(sep === 84 || sep === 116 || sep === 32) || n < 16 || text.charCodeAt(13) !== 58) {
    throw invalid('timestamp', text, TS_EXPECTED);
  }
  const hh = d2(text, 11);
  const mi = d2(text, 14);
  if (hh < 0 || hh > 23 || mi < 0 || mi > 59) throw invalid('timestamp', text, TS_EXPECTED);
  let i = 16;
  let ss = 0;
  if (i < n && text.charCodeAt(i) === 58) {
    ss = d2(text, i + 1);
    if (ss < 0 || ss > 59) throw invalid('timestamp', text, TS_EXPECTED);
    i += 3;
  }
  const hasSeconds = i === 19;
  let frac = '000000';
  let fracEnd = -1;
  if (i < n && text.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      i++;
    }
    const len = i - start;
    if (len < 1 || len > 9) throw invalid('timestamp', text, TS_EXPECTED);
    if (len >= 6) fracEnd = i;
    frac = text.slice(start, i);
    if (len < 6) frac += FRACTION_PAD[len];
  }
  let offsetMin = 0;
  if (i < n) {
    const c = text.charCodeAt(i);
    if (c === 90 || c === 122) {
      i++;
    } else if (c === 43 || c === 45) {
      const oh = d2(text, i + 1);
      let om = 0;
      i += 3;
      if (i < n) {
        if (text.charCodeAt(i) === 58) i++;
        om = d2(text, i);
        i += 2;
      }
      if (oh < 0 || oh > 23 || om < 0 || om > 59) throw invalid('timestamp', text, TS_EXPECTED);
      offsetMin = (c === 45 ? -1 : 1) * (oh * 60 + om);
    } else {
      throw invalid('timestamp', text, TS_EXPECTED);
    }
    if (i !== n) throw invalid('timestamp', text, TS_EXPECTED);
  }
  if (offsetMin === 0 && hasSeconds && fracEnd > 0) {
    // The usual Postgres text `2026-11-02 13:04:05.123456+00`: only the separator and the offset change.
    return text.slice(0, 10) + 'T' + text.slice(11, fracEnd) + 'Z';
  }
  const secFrac = ':' + pad2(ss) + '.' + frac + 'Z';
  if (offsetMin === 0) {
    return text.slice(0, 10) + 'T' + pad2(hh) + ':' + pad2(mi) + secFrac;
  }
  // Shift by the offset in whole minutes; seconds and the fraction digits are untouched.
  const y = Math.floor(ymd / 10000);
  const m = Math.floor(ymd / 100) % 100;
  const d = ymd % 100;
  const total = daysFromCivil(y, m, d) * 1440 + hh * 60 + mi - offsetMin;
  const day = Math.floor(total / 1440);
  const minOfDay = total - day * 1440;
  const [ny, nm, nd] = civilFromDays(day);
  if (ny < 0 || ny > 9999) throw invalid('timestamp', text, 'the UTC year must be between 0000 and 9999');
  return pad4(ny) + '-' + pad2(nm) + '-' + pad2(nd) + 'T' + pad2(Math.floor(minOfDay / 60)) + ':' + pad2(minOfDay % 60) + secFrac;
}

/** `YYYY-MM-DD` → itself (validated); any accepted timestamp → its UTC date. */
export function toDate(text: string): string {
  if (text.length === 10) {
    if (parseDatePart(text) < 0) throw invalid('date', text, DATE_EXPECTED);
    return text;
  }
  let ts: string;
  try {
    ts = toTimestamp(text);
  } catch {
    throw invalid('date', text, DATE_EXPECTED);
  }
  return ts.slice(0, 10);
}

/** t / true / f / false, case-insensitive. */
export function toBoolean(text: string): boolean {
  switch (text) {
    case 't':
    case 'true':
      return true;
    case 'f':
    case 'false':
      return false;
  }
  if (text.length <= 5) {
    const l = text.toLowerCase();
    if (l === 't' || l === 'true') return true;
    if (l === 'f' || l === 'false') return false;
  }
  throw invalid('boolean', text, BOOL_EXPECTED);
}

/** The index after the run of ASCII digits that starts at `i` (`i` itself when there is none). */
function digitsEnd(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

/** A plain decimal with an optional sign, fraction and exponent: `-1.5e3`, `.5`, `42`. */
function isPlainNumber(s: string): boolean {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 45 || c === 43) i++;
  let end = digitsEnd(s, i);
  let digits = end - i;
  i = end;
  if (i < n && s.charCodeAt(i) === 46) {
    end = digitsEnd(s, i + 1);
    digits += end - i - 1;
    i = end;
  }
  if (digits === 0) return false;
  if (i < n) {
    c = s.charCodeAt(i);
    if (c !== 101 && c !== 69) return false;
    i++;
    if (i < n) {
      c = s.charCodeAt(i);
      if (c === 45 || c === 43) i++;
    }
    end = digitsEnd(s, i);
    if (end === i) return false;
    i = end;
  }
  return i === n;
}

export function toNumber(text: string): number {
  if (isPlainNumber(text)) {
    const v = Number(text);
    if (Number.isFinite(v)) return v;
  }
  throw invalid('number', text, NUM_EXPECTED);
}

export function toInteger(text: string): number {
  if (isPlainNumber(text)) {
    const v = Number(text);
    if (Number.isInteger(v)) return v;
  }
  throw invalid('integer', text, INT_EXPECTED);
}
