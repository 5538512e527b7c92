// Shared plumbing of the body readers: pulling chunks so that a failing source (reset,
// abort, timeout, premature close) becomes an IncompleteBodyError, while errors thrown by
// the caller's handlers pass through untouched.

import { IncompleteBodyError } from '../errors.js';
import { redact } from '../log.js';

export type BodyChunk = Buffer | Uint8Array | string;
/** A response body: an undici/Node Readable or any async iterable of chunks. */
export type BodySource = AsyncIterable<BodyChunk> | NodeJS.ReadableStream;

/** `CODE: message` of anything thrown, token-free. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || err.name;
    return redact(typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg);
  }
  return redact(String(err));
}

export class BodyPuller {
  private readonly it: AsyncIterator<BodyChunk>;
  private ended = false;
  bytes = 0;

  constructor(
    body: BodySource,
    private readonly label: string,
  ) {
    this.it = (body as AsyncIterable<BodyChunk>)[Symbol.asyncIterator]();
  }

  /** Next chunk, or undefined at a normal end of the body. */
  async next(): Promise<BodyChunk | undefined> {
    let r: IteratorResult<BodyChunk>;
    try {
      r = await this.it.next();
    } catch (err) {
      this.ended = true;
      throw new IncompleteBodyError(`${this.label}the response body failed before its end (${describeError(err)})`);
    }
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    const v = r.value;
    this.bytes += typeof v === 'string' ? Buffer.byteLength(v) : v.length;
    return v;
  }

  /** Stops reading early (a handler failed): destroys the source so its socket is released. */
  release(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      const p = this.it.return?.();
      if (p) p.then(undefined, () => undefined);
    } catch {
      // the source is already gone
    }
  }
}

export function labelPrefix(label: string | undefined): string {
  return label ? `${label}: ` : '';
}
