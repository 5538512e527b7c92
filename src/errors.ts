// Every failure the tap reports is one of these, so both protocol writers can map it to
// a user-facing message, an exit code and (for Airbyte) a failure_type without guessing.

export type FailureType = 'config_error' | 'transient_error' | 'system_error';

export class TapError extends Error {
  readonly failureType: FailureType;
  constructor(message: string, failureType: FailureType) {
    super(message);
    this.name = new.target.name;
    this.failureType = failureType;
  }
}

/** Bad config, catalog or state file: the user must change something before a retry helps. */
export class ConfigError extends TapError {
  constructor(message: string) {
    super(message, 'config_error');
  }
}

/** A non-retryable answer from the Scarf API (401/403/404/400 …), parsed from its JSON error body. */
export class ApiError extends TapError {
  readonly status: number;
  readonly code: string | undefined;
  readonly endpoint: string;
  constructor(message: string, opts: { status: number; code?: string; endpoint: string; failureType?: FailureType }) {
    super(
      message,
      opts.failureType ?? (opts.status === 401 || opts.status === 403 || opts.status === 404 ? 'config_error' : 'system_error'),
    );
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

/**
 * A response body that ended before it was complete (connection reset, cut mid-row,
 * unterminated quote, chunked body without its terminator). Retrying the whole request
 * is the only safe answer.
 */
export class IncompleteBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteBodyError';
  }
}

/** A complete body holding a row we cannot type: stop the stream, never drop or half-type a row. */
export class DataError extends TapError {
  constructor(message: string) {
    super(message, 'system_error');
  }
}

/** Wraps anything unexpected so callers can always read a message and a failure type. */
export function asTapError(err: unknown): TapError {
  if (err instanceof TapError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TapError(message, 'system_error');
}
