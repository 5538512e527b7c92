// Scarf's longest allowed range is undocumented. A 400 range-too-long halves the window and
// the sync remembers the limit, so later windows are split before they cost a failed Run.
import { RangeTooLongError } from '../errors.js';
import { log } from '../log.js';
import { daySpan, dayWindows, type Window } from './days.js';
import type { SyncContext } from './types.js';

export type Splitter = (w: Window, maxDays: number) => Window[];

export const splitByDays: Splitter = (w, maxDays) => dayWindows(w.start, w.end, maxDays);

/**
 * With concurrent requests, every window in flight would be refused before the first
 * refusal teaches the limit. So the first multi-day request of an endpoint goes alone;
 * the others wait for its answer (refused: they are pre-split; accepted: they go ahead).
 */
export async function forEachRange(
  ctx: SyncContext,
  endpoint: string,
  window: Window,
  split: Splitter,
  fn: (w: Window) => Promise<void>,
): Promise<void> {
  if (daySpan(window.start, window.end) > 1 && !ctx.rangeProbed.has(endpoint)) {
    const pending = ctx.rangeProbes.get(endpoint);
    if (pending) {
      await pending;
    } else {
      let done!: () => void;
      ctx.rangeProbes.set(endpoint, new Promise<void>((resolve) => (done = resolve)));
      try {
        return await splitOnRefusal(ctx, endpoint, window, split, fn);
      } finally {
        ctx.rangeProbed.add(endpoint);
        done();
      }
    }
  }
  return splitOnRefusal(ctx, endpoint, window, split, fn);
}

async function splitOnRefusal(
  ctx: SyncContext,
  endpoint: string,
  window: Window,
  split: Splitter,
  fn: (w: Window) => Promise<void>,
): Promise<void> {
  const max = ctx.learnedMaxRange.get(endpoint);
  const span = daySpan(window.start, window.end);
  if (max !== undefined && span > max) {
    const parts = split(window, max);
    if (parts.length > 1) {
      for (const part of parts) await splitOnRefusal(ctx, endpoint, part, split, fn);
      return;
    }
  }
  try {
    await fn(window);
  } catch (err) {
    if (!(err instanceof RangeTooLongError) || span <= 1) throw err;
    const half = Math.ceil(span / 2);
    const parts = split(window, half);
    if (parts.length < 2) throw err;
    ctx.learnedMaxRange.set(endpoint, Math.min(max ?? Infinity, half));
    log.info(
      `${endpoint}: Scarf refused ${span} days (${window.start}..${window.end}) as range-too-long; retrying as ${parts.length} windows of at most ${half} days and keeping that limit for this sync.`,
    );
    for (const part of parts) await splitOnRefusal(ctx, endpoint, part, split, fn);
  }
}
