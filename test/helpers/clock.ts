// Tests that compare the tap's output with "today" on the real clock (the tap's signpost is
// the real clock, so is the simulator's `now` there) go wrong when UTC midnight falls between
// the dates they compute and the runs they check. Such a suite waits for midnight to pass
// first when it is near, then computes its dates: a wait, never a skip.
import { setTimeout as sleep } from 'node:timers/promises';

const DAY_MS = 86_400_000;

/** Waits until UTC midnight has passed if it is less than `minutes` away; returns how long it waited (ms). */
export async function clearOfMidnightUtc(minutes: number, now = Date.now): Promise<number> {
  const t = now();
  const next = Math.ceil((t + 1) / DAY_MS) * DAY_MS;
  if (next - t >= minutes * 60_000) return 0;
  const wait = next - t + 1_000;
  await sleep(wait);
  return wait;
}

/** The UTC day `offset` days from now, as YYYY-MM-DD. */
export const utcDay = (offset: number): string => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
