// Scarf's longest allowed range is undocumented (docs/scarf-api.md): it is learned per
// endpoint from Scarf's answers. Every request costs the user a Run, a refused one too, so
// the search is deliberate:
// - a range no longer than the longest one accepted is safe, and is asked for at once;
// - a range at least as long as the shortest one refused is never asked for: it is cut;
// - until some multi-day range is accepted, the part tried is half the shortest refused one
//   (the limit is found in log2 steps);
// - after that, a longer part than the accepted one is tried only where, if accepted, it
//   saves a request on the rest of the window: the shortest part that reads that rest in
//   one request fewer. Refused, it is not tried again, and the rest is read in parts of the
//   accepted length.
// So a long backfill costs what knowing the limit would cost, plus its refused probes (a few:
// docs/requests.md "Learning the range limit" gives the figures), and never pays for a halving it
// cannot grow back from.
import { RangeTooLongError } from '../../errors.js';
import { log } from '../../log.js';
import { addDays, daySpan, dayWindows, type Window } from './days.js';

export type Splitter = (w: Window, maxDays: number) => Window[];

export const splitByDays: Splitter = (w, maxDays) => dayWindows(w.start, w.end, maxDays);

/**
 * Reads one part; calls `answered` once Scarf has accepted its range (a 2xx answer), which
 * may be long before the part's records are all written (they wait for their turn).
 */
export type ReadPart = (part: Window, answered: () => void) => Promise<void>;

interface Known {
  /** Longest range (days) Scarf accepted; 1 until a longer one was (one day is the least a request can ask). */
  accepted: number;
  /** Shortest range Scarf refused (Infinity: none yet), and its refusal, to rethrow when no shorter part exists. */
  refused: number;
  refusal?: RangeTooLongError;
  /** A request of unknown outcome in flight: the others wait for its answer instead of paying for the same lesson. */
  probe?: Promise<void>;
}

/**
 * What has been learned about range limits, per endpoint. The window runner holds one per
 * stream run: each endpoint is read by one stream, and a stream runs once per sync.
 */
export class RangeLimits {
  private readonly known = new Map<string, Known>();

  /** Longest range Scarf accepted so far on this endpoint (1 when none longer). */
  accepted(endpoint: string): number {
    return this.limits(endpoint).accepted;
  }

  /** Shortest range Scarf refused so far on this endpoint (Infinity when none). */
  refused(endpoint: string): number {
    return this.limits(endpoint).refused;
  }

  private limits(endpoint: string): Known {
    let k = this.known.get(endpoint);
    if (!k) this.known.set(endpoint, (k = { accepted: 1, refused: Infinity }));
    return k;
  }

  /**
   * Reads window as consecutive parts, in order, each as long as what has been learned
   * allows (see the top of this file). With concurrent windows, only one request of unknown
   * outcome is in flight per endpoint: the others wait for its answer and then plan with it.
   */
  async forEachRange(endpoint: string, window: Window, split: Splitter, read: ReadPart): Promise<void> {
    const k = this.limits(endpoint);
    let rest: Window | undefined = window;
    while (rest) {
      const part = nextPart(k, rest, split);
      const span = daySpan(part.start, part.end);
      if (span >= k.refused) throw k.refusal!; // no shorter part exists (one rollup period is longer than the limit)
      const unknown = span > k.accepted;
      if (unknown && k.probe) {
        await k.probe;
        continue;
      }
      let answered = (): void => {};
      let done = (): void => {};
      if (unknown) {
        let release!: () => void;
        const probe = new Promise<void>((resolve) => (release = resolve));
        k.probe = probe;
        done = () => {
          if (k.probe === probe) k.probe = undefined;
          release();
        };
        answered = () => {
          if (span > k.accepted) k.accepted = span;
          done();
        };
      }
      try {
        await read(part, answered);
        answered();
      } catch (err) {
        if (!(err instanceof RangeTooLongError) || span <= 1) throw err;
        if (span < k.refused) {
          k.refused = span;
          k.refusal = err;
        }
        log.info(
          `${endpoint}: Scarf refused ${span} days (${part.start}..${part.end}) as range-too-long; reading in parts of fewer days (longest accepted so far: ${k.accepted} day${k.accepted === 1 ? '' : 's'}).`,
        );
        continue;
      } finally {
        // Refused or failed otherwise: the waiting windows plan again with what is known now.
        done();
      }
      rest = part.end < rest.end ? { start: addDays(part.end, 1), end: rest.end } : undefined;
    }
  }
}

/** The next part of `rest` to ask for, from what is known (the rules at the top of this file). */
function nextPart(k: Known, rest: Window, split: Splitter): Window {
  const days = daySpan(rest.start, rest.end);
  let size: number;
  if (days < k.refused) size = days;
  else if (k.accepted <= 1) size = Math.max(1, Math.ceil(k.refused / 2));
  else {
    const requests = Math.ceil(days / k.accepted);
    const oneFewer = Math.ceil(days / (requests - 1));
    size = oneFewer < k.refused ? oneFewer : k.accepted;
  }
  return size >= days ? rest : split(rest, size)[0]!;
}
