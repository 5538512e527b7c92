import { addDays, type Day, dayOf, maxDay } from './days.js';
import type { SyncContext } from './types.js';

/**
 * First day to request: the start_date day without a bookmark; otherwise the bookmark's
 * day minus the lookback, never before start_date (re-reading before it would export days
 * the user excluded).
 */
export function resumeDay(ctx: SyncContext, bookmark: string | undefined, lookbackDays: number): Day {
  if (!bookmark) return ctx.startDay;
  return maxDay(ctx.startDay, addDays(dayOf(bookmark), -lookbackDays));
}

/** Coverage bookmark after a window: the next day's midnight, never past the signpost. */
export function coverageMark(ctx: SyncContext, windowEnd: Day, previous: string | undefined): string {
  const next = `${addDays(windowEnd, 1)}T00:00:00.000000Z`;
  const capped = next < ctx.signpostTs ? next : ctx.signpostTs;
  return previous && previous > capped ? previous : capped;
}
