// The environment knobs of the tap (not settings: tuning and testing aids a config file has no
// place for), read and checked once, at start, into one typed object. A value the tap cannot
// use is a configuration error naming the variable, said before the first request, instead
// of being ignored. The modules take their option from this object, never from process.env.
import { ConfigError } from '../errors.js';
import { clip } from '../log.js';

export interface RuntimeOptions {
  /** TAP_SCARF_RETRY_BASE_MS: the retry backoff's base (every wait, Retry-After included, scales with it). For tests. */
  retryBaseMs: number;
  /** TAP_SCARF_MAX_ROW_BYTES: the longest row a body reader holds while waiting for its end, in characters. */
  maxRowChars: number;
  /** TAP_SCARF_CSV_PATH: `fast`, or `reference` (papaparse and the row typer for every row, to compare the two). */
  csvPath: 'fast' | 'reference';
  /** TAP_SCARF_METRIC_INTERVAL_MS: how often a running stream reports its record count. For tests. */
  metricIntervalMs: number;
  /** TAP_SCARF_STATE_INTERVAL_MS: the checkpoint throttle's interval (0: only its byte rule). For tests. */
  stateIntervalMs: number;
  /** TAP_SCARF_DEBUG: any value turns DEBUG logging on. */
  debug: boolean;
  /** TAP_SCARF_PROGRESS: `0` turns the progress line off on a terminal that mangles control characters. */
  progress: boolean;
}

export const RUNTIME_DEFAULTS: Readonly<RuntimeOptions> = {
  retryBaseMs: 1000,
  maxRowChars: 8 * 1024 * 1024,
  csvPath: 'fast',
  metricIntervalMs: 60_000,
  stateIntervalMs: 10_000,
  debug: false,
  progress: true,
};

function said(name: string, raw: string, want: string): ConfigError {
  return new ConfigError(`The environment variable ${name} is ${JSON.stringify(clip(raw, 40))}: ${want}, or unset it.`);
}

/** A number of milliseconds, 0 or more; unset or empty: the default. */
function millis(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0)
    throw said(name, raw, `use a number of milliseconds, 0 or more (the default is ${fallback})`);
  return v;
}

function rowLimit(env: NodeJS.ProcessEnv): number {
  const raw = env.TAP_SCARF_MAX_ROW_BYTES;
  if (raw === undefined || raw === '') return RUNTIME_DEFAULTS.maxRowChars;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(v) || v <= 0)
    throw said(
      'TAP_SCARF_MAX_ROW_BYTES',
      raw,
      `use a whole number of bytes above 0 (the default is ${RUNTIME_DEFAULTS.maxRowChars}, 8 MiB)`,
    );
  return v;
}

function csvPath(env: NodeJS.ProcessEnv): 'fast' | 'reference' {
  const raw = env.TAP_SCARF_CSV_PATH ?? '';
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'fast') return 'fast';
  if (v === 'reference') return 'reference';
  throw said('TAP_SCARF_CSV_PATH', raw, "use 'fast' (the default) or 'reference' (papaparse and the row typer for every row)");
}

/** Reads and checks every knob of `env`; throws ConfigError naming the first variable it cannot use. */
export function readRuntimeOptions(env: NodeJS.ProcessEnv = process.env): RuntimeOptions {
  return {
    retryBaseMs: millis(env, 'TAP_SCARF_RETRY_BASE_MS', RUNTIME_DEFAULTS.retryBaseMs),
    maxRowChars: rowLimit(env),
    csvPath: csvPath(env),
    metricIntervalMs: millis(env, 'TAP_SCARF_METRIC_INTERVAL_MS', RUNTIME_DEFAULTS.metricIntervalMs),
    stateIntervalMs: millis(env, 'TAP_SCARF_STATE_INTERVAL_MS', RUNTIME_DEFAULTS.stateIntervalMs),
    debug: !!env.TAP_SCARF_DEBUG,
    progress: env.TAP_SCARF_PROGRESS !== '0',
  };
}

let current: RuntimeOptions | undefined;

/** This process's options: read from its environment at the first call (the CLI makes that call at start). */
export function runtimeOptions(): RuntimeOptions {
  return (current ??= readRuntimeOptions());
}

/** Forgets the options read, so the next call reads the environment again (an in-process run of the CLI, which a process would start afresh). */
export function forgetRuntimeOptions(): void {
  current = undefined;
}

/**
 * For code run in-process (tests, the bench): replaces some options of this process instead
 * of its environment. Returns the function that puts the previous ones back.
 */
export function setRuntimeOptions(change: Partial<RuntimeOptions>): () => void {
  const before = runtimeOptions();
  current = { ...before, ...change };
  return () => {
    current = before;
  };
}
