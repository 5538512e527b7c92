// One logger for the whole tap. The protocol decides where lines go (stderr for Singer,
// LOG messages on stdout for Airbyte); everything passes through redact() first so the
// API token can never reach any output, whatever code path formatted the message, and
// through escapeControls() so no text from a response can forge a line of its own.

export type Level = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

/** Every form of a secret that is replaced whole: as is, JSON-escaped, URL-encoded, base64 (case-folded, see fold). */
const secretForms = new Set<string>();
/** The secrets themselves (case-folded), for masking pieces of them. */
const secretValues = new Set<string>();
/** A piece of the token this long or longer is masked wherever it appears. */
const FRAGMENT = 8;
/** A clipped message may end with a shorter piece of the token, cut at the clip; masked too. */
const MIN_CUT_PIECE = 4;

/**
 * Lower case, character by character, keeping the length (a character whose lower case is
 * longer stays as it is), so a position in the folded text is the same position in the
 * original: secrets are found in any letter case (a password upper-cased by a server's
 * message, a token in a case-insensitive dump), and masked where they are.
 */
function fold(text: string): string {
  const lower = text.toLowerCase();
  if (lower.length === text.length) return lower;
  let out = '';
  for (const ch of text) {
    const l = ch.toLowerCase();
    out += l.length === ch.length ? l : ch;
  }
  return out;
}

/**
 * The base64 text of `value` as it appears inside base64 of a longer text, for each of the
 * three byte alignments it can have there (only the characters no neighbouring byte shares),
 * so "Basic …" or a proxy's base64 dump of the whole header still reveals nothing.
 */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value);
  const cores: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const enc = Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64');
    const whole = Math.floor((pad + bytes.length) / 3) * 4;
    const core = enc.slice(pad ? 4 : 0, whole);
    if (core.length >= FRAGMENT) cores.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return cores;
}

/** Registers a value that must never be printed, in any letter case (the API token, a database password). */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_CUT_PIECE) return;
  secretValues.add(fold(value));
  const forms = [
    value,
    JSON.stringify(value).slice(1, -1),
    encodeURIComponent(value),
    Buffer.from(value).toString('base64'),
    Buffer.from(`Bearer ${value}`).toString('base64'),
    ...base64Cores(value),
  ];
  for (const f of forms) if (f.length >= MIN_CUT_PIECE) secretForms.add(fold(f));
}

/** Forgets every registered secret, as a new process starts without any (test/helpers/in-process.ts runs many taps in one). */
export function forgetSecrets(): void {
  secretForms.clear();
  secretValues.clear();
}

/** [start, end) ranges of `folded` that are pieces of `secret` at least FRAGMENT long. */
function fragmentRanges(folded: string, secret: string, ranges: [number, number][]): void {
  if (secret.length < FRAGMENT) return;
  for (let i = 0; i + FRAGMENT <= secret.length; i++) {
    const gram = secret.slice(i, i + FRAGMENT);
    for (let at = folded.indexOf(gram); at >= 0; at = folded.indexOf(gram, at + 1)) ranges.push([at, at + FRAGMENT]);
  }
}

/**
 * Masks the token in every form it is registered in, and any piece of it of FRAGMENT
 * characters or more (a server that echoes only part of the header, a message cut by
 * someone else's clip), and a shorter start of it right before a clip mark '…'; all in any
 * letter case.
 */
export function redact(text: string): string {
  if (secretValues.size === 0) return text;
  const folded = fold(text);
  const ranges: [number, number][] = [];
  for (const f of secretForms)
    for (let at = folded.indexOf(f); at >= 0; at = folded.indexOf(f, at + 1)) ranges.push([at, at + f.length]);
  for (const s of secretValues) fragmentRanges(folded, s, ranges);
  let out = text;
  if (ranges.length) {
    ranges.sort((a, b) => a[0] - b[0]);
    let masked = '';
    let from = 0;
    for (const [start, end] of ranges) {
      if (end <= from) continue;
      if (start >= from) masked += text.slice(from, start) + '***';
      from = end;
    }
    out = masked + text.slice(from);
  }
  if (out.includes('…')) for (const s of secretValues) out = maskCutPieces(out, s);
  return out;
}

/** The longest start of `secret` (folded; ≥ MIN_CUT_PIECE characters) that ends `text`, or 0. */
function cutPieceLength(text: string, secret: string): number {
  const folded = fold(text.slice(-secret.length));
  for (let n = Math.min(secret.length - 1, folded.length); n >= MIN_CUT_PIECE; n--)
    if (folded.endsWith(secret.slice(0, n))) return n;
  return 0;
}

function maskCutPieces(text: string, secret: string): string {
  const parts = text.split('…');
  for (let i = 0; i < parts.length - 1; i++) {
    const n = cutPieceLength(parts[i]!, secret);
    if (n) parts[i] = parts[i]!.slice(0, -n) + '***';
  }
  return parts.join('…');
}

/**
 * Shortens text for a message: redacts first (a token cut in half by the clip would no
 * longer be recognised), then clips at `n` characters, masking a start of the token the
 * cut may have left at the end.
 */
export function clip(text: string, n: number): string {
  const safe = redact(text);
  if (safe.length <= n) return safe;
  let head = safe.slice(0, n);
  for (const s of secretValues) {
    const cut = cutPieceLength(head, s);
    if (cut) head = head.slice(0, -cut) + '***';
  }
  return head + '…';
}

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Control characters, ANSI escapes and bidi overrides shown as visible escapes (\n, \u001b),
 * so a column name or value from the response cannot start a forged log line or recolour
 * the terminal.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => SHORT_ESCAPES[c] ?? '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export type LogSink = (level: Level, message: string) => void;

let sink: LogSink = (level, message) => {
  process.stderr.write(`${level} ${message}\n`);
};
/** Set at start from TAP_SCARF_DEBUG (src/config/runtime-options.ts, by src/cli.ts). */
let debugEnabled = false;

/** The protocol layer installs its sink once at start-up. */
export function setLogSink(s: LogSink): void {
  sink = s;
}

/** The sink in use, so a wrapper (the progress line) can delegate to it. */
export function getLogSink(): LogSink {
  return sink;
}

function emit(level: Level, message: string): void {
  sink(level, escapeControls(redact(message)));
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
