// Scarf's longest allowed range is undocumented. A 400 range-too-long halves the window and
// the limit is remembered, so later windows are split before they cost a failed Run.
import { RangeTooLongError } from '../errors.js';
import { log } from '../log.js';
import { daySpan, dayWindows, type Window } from './days.js';

export type Splitter = (w: Window, maxDays: number) => Window[];

export const splitByDays: Splitter = (w, maxDays) => dayWindows(w.start, w.end, maxDays);

/**
 * What has been learned about range limits, per endpoint. The window runner holds one per
 * stream run: each endpoint is read by one stream, and a stream runs once per sync.
 */
export class RangeLimits {
  /** Longest range (days) Scarf accepted after a range-too-long, per endpoint. */
  private readonly learnedMax = new Map<string, number>();
  /** Endpoints whose first multi-day request has been answered, and the pending first ones. */
  private readonly probed = new Set<string>();
  private readonly probes = new Map<string, Promise<void>>();

  /**
   * Runs fn on window, or on its parts when Scarf refuses it (or a learned limit says it would).
   * With concurrent requests, every window in flight would be refused before the first
   * refusal teaches the limit. So the first multi-day request of an endpoint goes alone;
   * the others wait for its answer (refused: they are pre-split; accepted: they go ahead).
   */
  async forEachRange(endpoint: string, window: Window, split: Splitter, fn: (w: Window) => Promise<void>): Promise<void> {
    if (daySpan(window.start, window.end) > 1 && !this.probed.has(endpoint)) {
      const pending = this.probes.get(endpoint);
      if (pending) {
        await pending;
      } else {
        let done!: () => void;
        this.probes.set(endpoint, new Promise<void>((resolve) => (done = resolve)));
        try {
          return await this.splitOnRefusal(endpoint, window, split, fn);
        } finally {
          this.probed.add(endpoint);
          done();
        }
      }
    }
    return this.splitOnRefusal(endpoint, window, split, fn);
  }

  private async splitOnRefusal(
    endpoint: string,
    window: Window,
    split: Splitter,
    fn: (w: Window) => Promise<void>,
  ): Promise<void> {
    const max = this.learnedMax.get(endpoint);
    const span = daySpan(window.start, window.end);
    if (max !== undefined && span > max) {
      const parts = split(window, max);
      if (parts.length > 1) {
        for (const part of parts) await this.splitOnRefusal(endpoint, part, split, fn);
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
      this.learnedMax.set(endpoint, Math.min(max ?? Infinity, half));
      log.info(
        `${endpoint}: Scarf refused ${span} days (${window.start}..${window.end}) as range-too-long; retrying as ${parts.length} windows of at most ${half} days and keeping that limit for this sync.`,
      );
      for (const part of parts) await this.splitOnRefusal(endpoint, part, split, fn);
    }
  }
}
