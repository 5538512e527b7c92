// Airbyte messages. Everything the platform reads comes through stdout, logs included, so
// one LineWriter carries records, state, traces and logs in the order they happened.
// The sync and the streams are the same as for Singer; this class only translates.
import type { StreamSelection } from '../catalog.js';
import { type FailureType, notRunText, stoppedText, type TapError } from '../errors.js';
import { type Level, type LogSink, redact } from '../log.js';
import type { StreamName } from '../schemas.js';
import type { StateStore, StreamBookmark } from '../state.js';
import type { Rec, StreamStats } from '../streams/engine/types.js';
import type { ProtocolWriter } from '../sync.js';
import {
  type AirbyteErrorTraceMessage,
  type AirbyteLogLevel,
  type AirbyteRecordMessage,
  type AirbyteStateMessage,
  type AirbyteStreamStatus,
  serialize,
} from './airbyte-types.js';
import { LineWriter } from './output.js';

export type StreamStatus = AirbyteStreamStatus;

const LEVELS: Record<Level, AirbyteLogLevel> = { DEBUG: 'DEBUG', INFO: 'INFO', WARNING: 'WARN', ERROR: 'ERROR' };

export function logMessage(level: Level, message: string): string {
  return serialize({ type: 'LOG', log: { level: LEVELS[level], message } });
}

export function traceError(
  message: string,
  failureType: FailureType,
  opts: { stream?: string; internal?: string; stack?: string } = {},
): string {
  const error: AirbyteErrorTraceMessage = { message: redact(message), failure_type: failureType };
  if (opts.internal !== undefined) error.internal_message = redact(opts.internal);
  if (opts.stack !== undefined) error.stack_trace = redact(opts.stack);
  if (opts.stream !== undefined) error.stream_descriptor = { name: opts.stream };
  return serialize({ type: 'TRACE', trace: { type: 'ERROR', emitted_at: Date.now(), error } });
}

export function streamStatus(stream: string, status: StreamStatus): string {
  return serialize({
    type: 'TRACE',
    trace: { type: 'STREAM_STATUS', emitted_at: Date.now(), stream_status: { stream_descriptor: { name: stream }, status } },
  });
}

/**
 * recordCount is a double in the protocol, and the platform's own serialisers write it with
 * a decimal point; JSON.stringify would print `5`. It is the message's last member, so the
 * `.0` goes just before the three closing braces.
 */
export function stateMessage(stream: string, streamState: StreamBookmark, recordCount: number): string {
  const message: AirbyteStateMessage = {
    type: 'STATE',
    state: {
      type: 'STREAM',
      stream: { stream_descriptor: { name: stream }, stream_state: streamState },
      sourceStats: { recordCount },
    },
  };
  const line = serialize(message);
  return `${line.slice(0, -3)}.0}}}`;
}

/**
 * A RECORD line is the hot path: the part before `data` is the same for every record of a
 * stream, so it is made once from a typed message (data and emitted_at are the last two
 * members) and each record only adds its data and emitted_at.
 */
function recordPrefix(stream: string): string {
  const probe: AirbyteRecordMessage = { type: 'RECORD', record: { stream, data: {}, emitted_at: 0 } };
  const line = serialize(probe);
  return line.slice(0, line.length - '{},"emitted_at":0}}'.length);
}

/**
 * "Stream X failed: …" naming the stream and the window once: the stream's errors already
 * start with "Stream X, window X 2026-…" (data errors) or with the window label "X 2026-…"
 * (retries, API refusals), and the label names the stream again. Which, the error says in
 * its fields (TapError.at), so nothing is parsed back out of the text.
 */
export function streamFailure(stream: string, error: TapError): string {
  return `Stream ${stream} failed: ${failureDetail(stream, error)}`;
}

/** A window label without the stream's name before it (`events 2026-…` → `2026-…`), or undefined when it does not start with it. */
function ownWindow(stream: string, label: string): string | undefined {
  for (const name of [stream, stream.replace(/_/g, '-')]) if (label.startsWith(`${name} `)) return label.slice(name.length + 1);
  return undefined;
}

function failureDetail(stream: string, error: TapError): string {
  if (error.window === undefined) return error.message;
  const own = ownWindow(stream, error.window);
  // "Stream X, window …": the stream is said by the trace; of the window, what is not the stream's name.
  if (error.stream !== undefined)
    return error.stream === stream ? `window ${own ?? error.window}${error.afterPlace}` : error.message;
  // A bare label reads as a window when the stream's name is followed by one word (its days,
  // "snapshot"); one that says more (a company domain, a breakdown, "counts") stays whole.
  return own !== undefined && own !== '' && !/\s/.test(own) && error.afterPlace.startsWith(': ')
    ? `window ${own}${error.afterPlace}`
    : error.message;
}

/** The read's closing error: which streams failed and why, each said once. */
export function syncFailure(outcomes: { stream: string; error?: TapError; notRun?: true }[]): string {
  const failed = outcomes.filter((o) => o.error);
  const stopped = stoppedText(outcomes, (o) => failureDetail(o.stream, o.error!));
  if (stopped) return stopped;
  const read = outcomes.length - outcomes.filter((o) => o.notRun).length;
  return `${failed.length} of ${read} stream(s) failed: ${failed.map((o) => `${o.stream}: ${failureDetail(o.stream, o.error!)}`).join(' | ')}${notRunText(outcomes)}`;
}

export class AirbyteWriter implements ProtocolWriter {
  readonly out: LineWriter;
  private readonly prefixes = new Map<StreamName, string>();
  private readonly prefixBytes = new Map<StreamName, Buffer>();
  /** `,"emitted_at":<ms>}}` of the millisecond suffixAt. */
  private suffix = Buffer.alloc(0);
  private suffixAt = -1;
  private readonly running = new Set<StreamName>();
  /** Records written since the stream's previous STATE (sourceStats.recordCount). */
  private readonly sinceState = new Map<StreamName, number>();
  private readonly lastState = new Map<StreamName, string>();
  /** Streams started and not yet ended: INCOMPLETE if the process is stopped. */
  private readonly open = new Set<StreamName>();

  constructor(out = new LineWriter()) {
    this.out = out;
  }

  outputBytes(): number {
    return this.out.bytes;
  }

  /** The log sink that turns every log line into a LOG message on the same stdout. */
  logSink(): LogSink {
    return (level, message) => {
      // Singer METRIC lines are for Singer runners; on Airbyte they are detail, not news.
      void this.out.write(logMessage(level === 'INFO' && message.startsWith('METRIC: ') ? 'DEBUG' : level, message));
    };
  }

  startStream(selection: StreamSelection): void | Promise<void> {
    const stream = selection.stream;
    this.prefixes.set(stream, recordPrefix(stream));
    this.prefixBytes.set(stream, Buffer.from(recordPrefix(stream), 'utf8'));
    this.sinceState.set(stream, 0);
    this.open.add(stream);
    return this.out.write(streamStatus(stream, 'STARTED'));
  }

  record(stream: StreamName, rec: Rec): void | Promise<void> {
    if (!this.running.has(stream)) {
      this.running.add(stream);
      void this.out.write(streamStatus(stream, 'RUNNING'));
    }
    this.sinceState.set(stream, (this.sinceState.get(stream) ?? 0) + 1);
    return this.out.write(`${this.prefixes.get(stream)!}${JSON.stringify(rec)},"emitted_at":${Date.now()}}}`);
  }

  /**
   * The same RECORD line around a record given as JSON text. The fast path's hot loop: the
   * envelope's ends are Buffers remade once per millisecond (emitted_at), not per record.
   */
  recordJson(stream: StreamName, json: Buffer, end: number): void | Promise<void> {
    if (!this.running.has(stream)) {
      this.running.add(stream);
      void this.out.write(streamStatus(stream, 'RUNNING'));
    }
    this.sinceState.set(stream, (this.sinceState.get(stream) ?? 0) + 1);
    const now = Date.now();
    if (now !== this.suffixAt) {
      this.suffixAt = now;
      this.suffix = Buffer.from(`,"emitted_at":${now}}}`, 'latin1');
    }
    return this.out.writeRecord(this.prefixBytes.get(stream)!, json, end, this.suffix);
  }

  async checkpoint(stream: StreamName, state: StateStore, final: boolean): Promise<void> {
    const streamState = state.streamState(stream);
    const key = JSON.stringify(streamState);
    const count = this.sinceState.get(stream) ?? 0;
    // The platform needs one STATE per stream even when nothing changed (empty streams, a
    // far-future bookmark), but a repeat of the same state with no records says nothing.
    if (final && count === 0 && this.lastState.get(stream) === key) return;
    this.lastState.set(stream, key);
    this.sinceState.set(stream, 0);
    await this.out.write(stateMessage(stream, streamState, count));
    // A STATE only counts once it has left our buffer: the platform commits on it.
    await this.out.flush();
  }

  /** A selected stream the sync did not read (a bad token stopped it first): the platform gets a status for every stream. */
  skipStream(selection: StreamSelection): void | Promise<void> {
    return this.out.write(streamStatus(selection.stream, 'INCOMPLETE'));
  }

  endStream(selection: StreamSelection, _stats: StreamStats, error?: TapError): void | Promise<void> {
    const stream = selection.stream;
    this.open.delete(stream);
    if (error) void this.out.write(traceError(streamFailure(stream, error), error.failureType, { stream, internal: error.name }));
    return this.out.write(streamStatus(stream, error ? 'INCOMPLETE' : 'COMPLETE'));
  }

  /**
   * What is written on the way out of an interrupted read: the state of every stream that
   * started (the store only holds bookmarks whose records were already written) and
   * INCOMPLETE for the streams that were still running.
   */
  finalLines(state: StateStore): string {
    const lines: string[] = [];
    for (const stream of this.prefixes.keys()) {
      lines.push(stateMessage(stream, state.streamState(stream), this.sinceState.get(stream) ?? 0));
      this.sinceState.set(stream, 0);
    }
    for (const stream of this.open) lines.push(streamStatus(stream, 'INCOMPLETE'));
    // Said here because nothing logged after this point leaves the buffer before exit.
    lines.push(
      logMessage(
        'WARNING',
        'Stopped by a signal before the end of the read: the STATE messages above are the last safe position; the next sync resumes from them.',
      ),
    );
    return lines.join('\n');
  }
}
