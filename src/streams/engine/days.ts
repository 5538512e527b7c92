// Scarf exports whole UTC days, so every window is a pair of inclusive `YYYY-MM-DD` days.
// Keeping days as strings (not Dates) makes comparisons and state values exact.

export type Day = string;
export type Rollup = 'daily' | 'weekly' | 'monthly' | 'yearly';

const MS_PER_DAY = 86_400_000;

function toUtcMs(day: Day): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)));
}

function fromUtcMs(ms: number): Day {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayOf(value: Date | string): Day {
  if (typeof value === 'string') return value.slice(0, 10);
  return value.toISOString().slice(0, 10);
}

export function addDays(day: Day, n: number): Day {
  return fromUtcMs(toUtcMs(day) + n * MS_PER_DAY);
}

/** Inclusive number of days from a to b (1 when a === b). */
export function daySpan(a: Day, b: Day): number {
  return Math.round((toUtcMs(b) - toUtcMs(a)) / MS_PER_DAY) + 1;
}

/** A JS Date as a canonical timestamp (JS time has milliseconds; the rest is zero). */
export function canonicalTs(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

export function maxDay(a: Day, b: Day): Day {
  return a > b ? a : b;
}

export function minDay(a: Day, b: Day): Day {
  return a < b ? a : b;
}

export interface Window {
  start: Day;
  end: Day;
}

/** Every day of `w`, in order. */
export function everyDay(w: Window): Day[] {
  const out: Day[] = [];
  for (let d = w.start; d <= w.end; d = addDays(d, 1)) out.push(d);
  return out;
}

/** Consecutive windows of `size` days covering start..end inclusive. */
export function dayWindows(start: Day, end: Day, size: number): Window[] {
  const out: Window[] = [];
  for (let s = start; s <= end; s = addDays(s, size)) {
    out.push({ start: s, end: minDay(addDays(s, size - 1), end) });
  }
  return out;
}

export function periodStart(day: Day, rollup: Rollup): Day {
  switch (rollup) {
    case 'daily':
      return day;
    case 'weekly': {
      const dow = new Date(toUtcMs(day)).getUTCDay(); // 0 = Sunday; ISO weeks start Monday
      return addDays(day, -((dow + 6) % 7));
    }
    case 'monthly':
      return `${day.slice(0, 7)}-01`;
    case 'yearly':
      return `${day.slice(0, 4)}-01-01`;
  }
}

export function periodEnd(day: Day, rollup: Rollup): Day {
  const start = periodStart(day, rollup);
  switch (rollup) {
    case 'daily':
      return start;
    case 'weekly':
      return addDays(start, 6);
    case 'monthly': {
      const d = new Date(toUtcMs(start));
      return fromUtcMs(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - MS_PER_DAY);
    }
    case 'yearly':
      return `${start.slice(0, 4)}-12-31`;
  }
}

/**
 * Windows of about `size` days whose edges fall on period boundaries, so no aggregate
 * period is split between two requests (a split period would be counted twice, partially).
 */
export function periodWindows(start: Day, end: Day, size: number, rollup: Rollup): Window[] {
  const out: Window[] = [];
  let s = periodStart(start, rollup);
  while (s <= end) {
    let e = periodEnd(s, rollup);
    while (daySpan(s, periodEnd(addDays(e, 1), rollup)) <= size && addDays(e, 1) <= end) e = periodEnd(addDays(e, 1), rollup);
    out.push({ start: s, end: minDay(e, end) });
    s = addDays(e, 1);
  }
  return out;
}

/**
 * The one conversion between the tap's inclusive windows and an API whose `end_date` is
 * exclusive (Scarf's v3: docs/scarf-api.md "Scarf's API as it is now (2026)"): the inclusive last
 * day `end` is the exclusive end `end + 1`.
 */
export function exclusiveEnd(inclusiveEnd: Day): Day {
  return addDays(inclusiveEnd, 1);
}

/** The inverse of exclusiveEnd: the last day an exclusive end covers. */
export function inclusiveEnd(exclusiveEndDay: Day): Day {
  return addDays(exclusiveEndDay, -1);
}
