// Retry waits: exponential backoff (base 1 s, factor 2, cap 60 s) with full jitter, and
// Scarf's Retry-After (delta-seconds or HTTP-date) winning over the backoff.
//
// Testing knob: the base delay (ScarfClientOptions.retryBaseMs, from TAP_SCARF_RETRY_BASE_MS
// through src/config/runtime-options.ts; default 1000 ms). Every wait — backoff, its 60-base
// cap, and Retry-After — is scaled by base / 1000, so tests can set it to e.g. 5 and still
// exercise Retry-After handling without sleeping for seconds. Not meant for production use.

export const DEFAULT_BASE_MS = 1000;
const FACTOR = 2;
/** The backoff cap, in base units (60 × 1 s). */
const CAP_BASES = 60;

/**
 * Retry-After in milliseconds (already scaled by the testing knob), or undefined when the
 * header is absent, unreadable, or an HTTP-date that is not in the future: a date already
 * past (a skewed server clock, a cached answer) says nothing about when to ask again, and
 * taking it as "no wait" would retry at once, so the backoff applies instead.
 */
export function parseRetryAfterMs(
  header: string | undefined,
  now: number = Date.now(),
  baseMs: number = DEFAULT_BASE_MS,
): number | undefined {
  if (header === undefined) return undefined;
  const h = header.trim();
  if (h === '') return undefined;
  const scale = baseMs / DEFAULT_BASE_MS;
  if (/^\d+(\.\d+)?$/.test(h)) return Math.round(Number(h) * 1000 * scale);
  // An HTTP-date names its day and month ("Wed, 21 Oct 2026 07:28:00 GMT"); Date.parse alone would take "-1" as a year.
  if (!/[a-z]/i.test(h)) return undefined;
  const at = Date.parse(h);
  if (Number.isNaN(at) || at <= now) return undefined;
  return Math.round((at - now) * scale);
}

/**
 * Wait before retry number `attempt` (1 = first retry): Retry-After when readable, else a
 * uniformly random wait in [0, min(cap, base × 2^(attempt−1))].
 */
export function computeDelayMs(
  attempt: number,
  retryAfterHeader?: string,
  now: number = Date.now(),
  baseMs: number = DEFAULT_BASE_MS,
): number {
  const ra = parseRetryAfterMs(retryAfterHeader, now, baseMs);
  if (ra !== undefined) return ra;
  const exp = Math.min(CAP_BASES * baseMs, baseMs * Math.pow(FACTOR, Math.max(0, attempt - 1)));
  return Math.floor(Math.random() * exp);
}

/** One request's retry allowance: a number of retries and a total wait, shared by every failure kind. */
export class RetryBudget {
  private retries = 0;
  private waitedMs = 0;
  /** The last next() ended the retries because its Retry-After was longer than the wait left. */
  refusedRetryAfter = false;

  constructor(
    readonly maxRetries: number,
    readonly maxTotalWaitMs: number,
    private readonly baseMs: number = DEFAULT_BASE_MS,
  ) {}

  /** Retries granted so far. */
  get used(): number {
    return this.retries;
  }

  get totalWaitMs(): number {
    return this.waitedMs;
  }

  /**
   * The wait before the next retry, or undefined when the retries or the total wait are
   * used up. A Retry-After longer than the wait left ends the retries at once: asking
   * before Scarf said to would most likely be refused again, and every request is billed.
   */
  next(retryAfterHeader?: string, now: number = Date.now()): number | undefined {
    this.refusedRetryAfter = false;
    if (this.retries >= this.maxRetries) return undefined;
    const left = this.maxTotalWaitMs - this.waitedMs;
    if (left <= 0) return undefined;
    const delay = computeDelayMs(this.retries + 1, retryAfterHeader, now, this.baseMs);
    if (delay > left && parseRetryAfterMs(retryAfterHeader, now, this.baseMs) !== undefined) {
      this.refusedRetryAfter = true;
      return undefined;
    }
    const wait = Math.min(left, delay);
    this.retries++;
    this.waitedMs += wait;
    return wait;
  }
}
