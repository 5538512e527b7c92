// One logger for the whole tap. The protocol decides where lines go (stderr for Singer,
// LOG messages on stdout for Airbyte); everything passes through redact() first so the
// API token can never reach any output, whatever code path formatted the message.

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

const secrets = new Set<string>();

/** Registers a value that must never be printed (the API token). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
  }
  return out;
}

export type LogSink = (level: Level, message: string) => void;

let sink: LogSink = (level, message) => {
  process.stderr.write(`${level} ${message}\n`);
};
let debugEnabled = !!process.env.TAP_SCARF_DEBUG;

/** The protocol layer installs its sink once at start-up. */
export function setLogSink(s: LogSink): void {
  sink = s;
}

/** The sink in use, so a wrapper (the progress line) can delegate to it. */
export function getLogSink(): LogSink {
  return sink;
}

function emit(level: Level, message: string): void {
  sink(level, redact(message));
}

export const log = {
  debug(message: string): void {
    if (debugEnabled) emit('DEBUG', message);
  },
  info(message: string): void {
    emit('INFO', message);
  },
  warn(message: string): void {
    emit('WARNING', message);
  },
  error(message: string): void {
    emit('ERROR', message);
  },
  /** Singer METRIC line: `METRIC: {json}` at INFO, as the Singer SDK prints them. */
  metric(payload: Record<string, unknown>): void {
    emit('INFO', `METRIC: ${JSON.stringify(payload)}`);
  },
  setDebug(on: boolean): void {
    debugEnabled = on;
  },
};
