// Days are integers (days since 1970-01-01 UTC) everywhere inside the simulator; text
// forms exist only at the edges (query strings, CSV cells).

export const DAY_MS = 86_400_000;
export const DAY_US = 86_400_000_000;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses a strict YYYY-MM-DD calendar date; undefined when malformed or impossible. */
export function parseDay(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const day = ms / DAY_MS;
  return dayText(day) === text ? day : undefined;
}

export function dayText(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function dayOfMs(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** 1 = Monday … 7 = Sunday (ISO). */
export function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

export type Rollup = 'daily' | 'weekly' | 'monthly' | 'yearly';
export const ROLLUPS: readonly Rollup[] = ['daily', 'weekly', 'monthly', 'yearly'];

export function periodStart(day: number, rollup: Rollup): number {
  if (rollup === 'daily') return day;
  if (rollup === 'weekly') return day - (isoWeekday(day) - 1);
  const d = new Date(day * DAY_MS);
  const month = rollup === 'monthly' ? d.getUTCMonth() : 0;
  return Date.UTC(d.getUTCFullYear(), month, 1) / DAY_MS;
}

/** First day after the period that starts on `start`. */
export function periodEndExclusive(start: number, rollup: Rollup): number {
  if (rollup === 'daily') return start + 1;
  if (rollup === 'weekly') return start + 7;
  const d = new Date(start * DAY_MS);
  if (rollup === 'monthly') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / DAY_MS;
  return Date.UTC(d.getUTCFullYear() + 1, 0, 1) / DAY_MS;
}

/** Periods whose start day lies in [start, end], each clipped to end. */
export function periodsIn(start: number, end: number, rollup: Rollup): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  let p = periodStart(start, rollup);
  if (p < start) p = periodEndExclusive(p, rollup);
  while (p <= end) {
    const next = periodEndExclusive(p, rollup);
    out.push({ from: p, to: Math.min(next - 1, end) });
    p = next;
  }
  return out;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** Splits a microsecond epoch into date-time parts (UTC). */
function parts(us: number): { ymd: string; hms: string; frac: number } {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const ymd = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hms = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const frac = us - Math.floor(us / 1_000_000) * 1_000_000;
  return { ymd, hms, frac };
}

/** Postgres `timestamptz` text: trailing fraction zeros trimmed, no fraction when zero. */
export function pgTimestamp(us: number): string {
  const { ymd, hms, frac } = parts(us);
  const f = frac === 0 ? '' : '.' + pad(frac, 6).replace(/0+$/, '');
  return `${ymd} ${hms}${f}+00`;
}

/** JavaScript-style ISO text: always exactly three fraction digits (microseconds dropped). */
export function isoTimestamp(us: number): string {
  const { ymd, hms, frac } = parts(us);
  return `${ymd}T${hms}.${pad(Math.floor(frac / 1000), 3)}Z`;
}

const TS_RE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Canonical form the tap emits (DESIGN.md): `YYYY-MM-DDTHH:MM:SS.ffffffZ`. Only the text
 * forms the simulator itself serves need to be handled here, but offsets are honoured so the
 * helper stays truthful if a style with offsets is ever added.
 */
export function canonicalTimestamp(text: string): string {
  const m = TS_RE.exec(text);
  if (!m) throw new Error(`simulator produced an unparseable timestamp: ${text}`);
  const [, ymd, hh = '00', mi = '00', ss = '00', fracText = '', zone = 'Z'] = m;
  let offsetMin = 0;
  if (zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
  }
  const base = Date.parse(`${ymd}T${hh}:${mi}:${ss}Z`) - offsetMin * 60_000;
  const frac = fracText.length <= 6 ? fracText.padEnd(6, '0') : fracText;
  return new Date(base).toISOString().slice(0, 19) + '.' + frac + 'Z';
}
