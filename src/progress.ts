// A live progress line per stream on stderr, only when stderr is a terminal: someone is
// watching a long backfill and wants to know it moves. In pipelines and CI (not a TTY)
// nothing is added — the per-stream log lines already say what happened, and control
// characters would only litter the logs.
import { runtimeOptions } from './config/runtime-options.js';
import { getLogSink, setLogSink } from './log.js';

export interface ProgressSnapshot {
  stream: string;
  windows: number;
  /** Windows planned, when the stream knows it up front (splits can push `windows` past it). */
  windowsTotal?: number;
  records: number;
  requests: number;
  elapsedMs: number;
  done?: boolean;
  failed?: boolean;
}

/** Stats the progress line samples; the stream updates them as it goes (StreamStats fits). */
export interface ProgressSource {
  records: number;
  windows: number;
  windowsPlanned?: number;
}

const group = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** One line, no control characters: `events  windows 12/31  records 48,210  1,532 rec/s  requests 13  0:31`. */
export function formatProgress(p: ProgressSnapshot, width = Infinity): string {
  const total = p.windowsTotal !== undefined ? `/${group(Math.max(p.windowsTotal, p.windows))}` : '';
  const secs = p.elapsedMs / 1000;
  const rate = secs >= 0.5 ? `${group(p.records / secs)} rec/s` : '– rec/s';
  const state = p.failed ? '  FAILED' : p.done ? '  done' : '';
  const line = `${p.stream.padEnd(15)} windows ${group(p.windows)}${total}  records ${group(p.records)}  ${rate}  requests ${group(p.requests)}  ${duration(p.elapsedMs)}${state}`;
  if (line.length <= width) return line;
  return width > 1 ? line.slice(0, width - 1) + '…' : '';
}

export interface ProgressTracker {
  done(failed?: boolean): void;
}

const NOOP: ProgressTracker = { done() {} };
const CLEAR = '\r\x1b[2K';

export class Progress {
  private readonly out: NodeJS.WriteStream;
  readonly enabled: boolean;
  private readonly intervalMs: number;

  constructor(out: NodeJS.WriteStream = process.stderr, opts: { enabled?: boolean; intervalMs?: number } = {}) {
    this.out = out;
    // TAP_SCARF_PROGRESS=0 turns it off for a terminal that mangles control characters.
    this.enabled = opts.enabled ?? (out.isTTY === true && runtimeOptions().progress);
    this.intervalMs = opts.intervalMs ?? 250;
  }

  /** Starts the line of one stream; `requests` reads the stream's request count so far. */
  track(stream: string, source: ProgressSource, requests: () => number): ProgressTracker {
    if (!this.enabled) return NOOP;
    const started = Date.now();
    const snapshot = (done: boolean, failed = false): ProgressSnapshot => ({
      stream,
      windows: source.windows,
      windowsTotal: source.windowsPlanned,
      records: source.records,
      requests: requests(),
      elapsedMs: Date.now() - started,
      done,
      failed,
    });
    const draw = () => this.out.write(CLEAR + formatProgress(snapshot(false), (this.out.columns || 120) - 1));
    // A log line must not be glued to the end of the progress line: clear it and log; the
    // next tick redraws it, so a burst of log lines never redraws more than ~4×/s.
    const previous = getLogSink();
    setLogSink((level, message) => {
      this.out.write(CLEAR);
      previous(level, message);
    });
    draw();
    const timer = setInterval(draw, this.intervalMs);
    timer.unref();
    let finished = false;
    return {
      done: (failed = false) => {
        if (finished) return;
        finished = true;
        clearInterval(timer);
        setLogSink(previous);
        // The finished stream's line stays on screen; the next stream gets a fresh one.
        this.out.write(CLEAR + formatProgress(snapshot(true, failed), (this.out.columns || 120) - 1) + '\n');
      },
    };
  }
}

let shared: Progress | undefined;

/** The process-wide progress display (created on first use, so tests can run without a TTY). */
export function progress(): Progress {
  shared ??= new Progress();
  return shared;
}
