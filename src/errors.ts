// Every error and signal the tap throws is declared here, in two families:
//
//   Error
//   ├── TapError                 a failure the user is told about: a message saying what to fix,
//   │   │                        an exit code, and (for Airbyte) a failure_type
//   │   ├── ConfigError          bad config, catalog or state, or a setting Scarf refused
//   │   ├── ApiError             an answer of the Scarf API a retry cannot change (see scarf/answers.ts)
//   │   │   └── RangeTooLongError  the one refusal the tap answers itself, by splitting the window
//   │   ├── TransientError       retries ran out on a failure that could have been passing
//   │   ├── DataError            a complete body holding a row the tap cannot type
//   │   └── SyncFailedError      the end of a sync in which one or more streams failed
//   └── Signal                   control flow inside the tap, never shown to the user as it is
//       ├── IncompleteBodyError  the body ended early: the client re-issues the request
//       │   └── NotAnExportError a 2xx answer that is not an export: retried the same way
//       ├── AbortedError         the process was asked to stop: the sync unwinds
//       │   └── RecordLimitReached a stream reached its record limit (--test): it ends, no failure
//       └── RequestBudgetReached max_requests_per_sync is spent: the sync stops cleanly, exit 0
//
// Which failed request becomes which of these is decided in one table, src/scarf/failures.ts
// (the HTTP answers' rows in src/scarf/answers.ts).

export type FailureType = 'config_error' | 'transient_error' | 'system_error';

/** Where a failure happened, as its message names it first. */
export interface FailurePlace {
  /** The request's label: `events 2026-11-01..2026-11-01`, `company-rollup snapshot`. */
  window: string;
  /** Set when the message names the stream before the window: `Stream events, window events 2026-…`. */
  stream?: string;
}

/** The words a message placed at `place` begins with. */
export function placeText(place: FailurePlace): string {
  return place.stream !== undefined ? `Stream ${place.stream}, window ${place.window}` : place.window;
}

export class TapError extends Error {
  readonly failureType: FailureType;
  /** The stream the message names first (`Stream events, window …`), when it does. */
  stream?: string;
  /** The request label the message names first, when it does (see `at`). */
  window?: string;
  constructor(message: string, failureType: FailureType) {
    super(message);
    this.name = new.target.name;
    this.failureType = failureType;
  }

  /**
   * Records where the failure happened, for a message that begins with it (placeText): the
   * Airbyte trace names the stream itself and says only the window, from these fields.
   */
  at(place: FailurePlace): this {
    if (!this.message.startsWith(placeText(place))) return this;
    this.window = place.window;
    if (place.stream !== undefined) this.stream = place.stream;
    return this;
  }

  /** The message after the place it begins with (all of it when it names none). */
  get afterPlace(): string {
    return this.window === undefined
      ? this.message
      : this.message.slice(placeText({ window: this.window, stream: this.stream }).length);
  }
}

/** Bad config, catalog or state file: the user must change something before a retry helps. */
export class ConfigError extends TapError {
  constructor(message: string) {
    super(message, 'config_error');
  }
}

/**
 * A non-retryable answer from the Scarf API (401/403/404/400 …), parsed from its JSON error
 * body. Its failure type comes from the answer's row in src/scarf/answers.ts.
 */
export class ApiError extends TapError {
  readonly status: number;
  readonly code: string | undefined;
  readonly endpoint: string;
  /** The request it answered, as its message begins (`aggregates counts … (read for verify_counts)`). */
  request?: string;
  constructor(message: string, opts: { status: number; code?: string; endpoint: string; failureType: FailureType }) {
    super(message, opts.failureType);
    this.status = opts.status;
    this.code = opts.code;
    this.endpoint = opts.endpoint;
  }
}

/** Scarf answered 400 range-too-long: the caller splits its window and asks again. */
export class RangeTooLongError extends ApiError {}

/** Retries were exhausted on a failure that could have been passing (429, 5xx, reset, timeout, cut body). */
export class TransientError extends TapError {
  constructor(message: string) {
    super(message, 'transient_error');
  }
}

/** A complete body holding a row we cannot type: stop the stream, never drop or half-type a row. */
export class DataError extends TapError {
  constructor(message: string) {
    super(message, 'system_error');
  }
}

/** What SyncFailedError needs of a stream's outcome. */
export interface FailedStreamOutcome {
  stream: string;
  error?: TapError;
  /** Not read: a failure that fails every stream alike (a bad token) stopped the sync before it. */
  notRun?: true;
}

/**
 * A failure that stopped the sync before the other streams (a bad token, an unknown owner):
 * its cause first, said once, then where it was found and what did not run. The request it
 * answered is not the cause (a wrong token fails any first request alike), so it comes last.
 */
export function stoppedText(outcomes: FailedStreamOutcome[], detail: (o: FailedStreamOutcome) => string): string | undefined {
  const failed = outcomes.filter((o) => o.error);
  const skipped = outcomes.filter((o) => o.notRun).map((o) => o.stream);
  if (failed.length !== 1 || skipped.length === 0) return undefined;
  const stop = failed[0]!;
  const err = stop.error!;
  const head = err instanceof ApiError && err.request ? `${err.request}: ` : '';
  const text = detail(stop);
  const cause = head && text.startsWith(head) ? text.slice(head.length) : text;
  const where = head ? ` (request: ${head.slice(0, -2)})` : '';
  return `${cause.replace(/\s+$/, '')} No selected stream could sync: ${stop.stream} met this first${where}, and ${skipped.length} other selected stream(s) did not run (${skipped.join(', ')}): the same cause would fail them.`;
}

/** "; 3 other selected stream(s) did not run (…)": said once, after the cause. */
export function notRunText(outcomes: FailedStreamOutcome[]): string {
  const skipped = outcomes.filter((o) => o.notRun).map((o) => o.stream);
  return skipped.length
    ? `; ${skipped.length} other selected stream(s) did not run (${skipped.join(', ')}): the same cause would fail them`
    : '';
}

/**
 * Thrown by the sync once every selected stream had its turn and at least one failed. Its
 * failure type is the worst of theirs: a config error (the user must act) over a system
 * error over a transient one.
 */
export class SyncFailedError<O extends FailedStreamOutcome = FailedStreamOutcome> extends TapError {
  readonly outcomes: O[];
  constructor(outcomes: O[]) {
    const failed = outcomes.filter((o) => o.error);
    const worst =
      failed.find((o) => o.error!.failureType === 'config_error') ??
      failed.find((o) => o.error!.failureType === 'system_error') ??
      failed[0]!;
    super(
      stoppedText(outcomes, (o) => o.error!.message) ??
        `${failed.length} of ${outcomes.length - outcomes.filter((o) => o.notRun).length} stream(s) failed: ${failed.map((o) => `${o.stream}: ${o.error!.message}`).join(' | ')}${notRunText(outcomes)}`,
      worst.error!.failureType,
    );
    this.outcomes = outcomes;
  }
}

/** Control flow, not a failure: whoever catches one acts on it; one that escapes is reported as a system error. */
export class Signal extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A response body that ended before it was complete (connection reset, cut mid-row,
 * unterminated quote, chunked body without its terminator). Retrying the whole request
 * is the only safe answer.
 */
export class IncompleteBodyError extends Signal {}

/**
 * A 2xx answer that is not an export, found before any row was read. The attempt failed:
 * the client retries it like a cut body (the next answer may be the export), and when the
 * retries run out the window fails with this message and its bookmark stays.
 */
export class NotAnExportError extends IncompleteBodyError {}

/** Thrown inside a stream when the process was asked to stop; never shown as a failure. */
export class AbortedError extends Signal {
  constructor() {
    super('sync interrupted');
  }
}

/** Ends a stream at its record limit: unwinds the reader like a stop, and is no failure. */
export class RecordLimitReached extends AbortedError {}

/** Wraps anything unexpected so callers can always read a message and a failure type. */
export function asTapError(err: unknown): TapError {
  if (err instanceof TapError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TapError(message, 'system_error');
}

/**
 * The next request would pass max_requests_per_sync: it is not sent. The stream it was for
 * stops with the bookmark of its last complete window, no later stream starts, and the sync
 * ends with exit 0 and a warning (src/sync.ts); the next sync continues from the state.
 * Unless the stream already knew of a failure when the budget stopped it (`failure`, e.g. a
 * company of company_events that failed): that one still fails the stream and the exit code.
 */
export class RequestBudgetReached extends Signal {
  /** A failure of the stream found before the budget stopped it: it must not vanish in a clean stop. */
  failure?: TapError;

  constructor(
    readonly budget: number,
    label: string,
  ) {
    super(`max_requests_per_sync (${budget}) is spent: ${label} was not requested`);
  }
}
