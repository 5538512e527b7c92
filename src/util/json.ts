import fs from 'node:fs';

import { ConfigError } from '../errors.js';

// Parsed JSON (config, state, catalogs) is `unknown` until checked; this is the one test for
// "a JSON object", so every reader means the same thing by it (arrays and null are not).
export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Editors on Windows save JSON with a byte-order mark, which JSON.parse refuses. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export interface JsonFileOptions {
  /** What the user calls the file: `config`, `state`, `catalog`. */
  kind: string;
  /** The fix for a file that cannot be read, after "Cannot read <kind> file F: ENOENT." */
  unreadableHint?: string;
  /** The fix for a file that is not JSON, after "<Kind> file F is not valid JSON (…)." */
  invalidHint: string;
  /** A blank file means "nothing yet" (an orchestrator's first state): undefined, not an error. */
  blankIsEmpty?: boolean;
}

/**
 * A JSON file the user points the tap at (config, state, catalog). Every way it can be unusable
 * is a ConfigError naming the file and the fix, so the three inputs fail alike.
 */
export function readJsonFile(file: string, opts: JsonFileOptions): unknown {
  let text: string;
  try {
    text = stripBom(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(
      `Cannot read ${opts.kind} file ${file}: ${why}.${opts.unreadableHint ? ` ${opts.unreadableHint}` : ''}`,
    );
  }
  if (opts.blankIsEmpty && text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const kind = opts.kind.charAt(0).toUpperCase() + opts.kind.slice(1);
    throw new ConfigError(`${kind} file ${file} is not valid JSON (${(e as Error).message}). ${opts.invalidHint}`);
  }
}
