import fs from 'node:fs';

import { ConfigError } from '../errors.js';
import { log } from '../log.js';

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
    const code = (e as NodeJS.ErrnoException).code;
    const why = code ?? (e as Error).message;
    // Each cause its own fix: "pass an existing file" helps neither a folder nor a file this user may not read.
    if (code === 'EISDIR')
      throw new ConfigError(
        `Cannot read ${opts.kind} file ${file}: it is a directory (EISDIR). Pass the path of a ${opts.kind} file, not of its folder.`,
      );
    if (code === 'EACCES' || code === 'EPERM')
      throw new ConfigError(
        `Cannot read ${opts.kind} file ${file}: permission denied (${code}). The file exists but this user may not read it: check its permissions and owner (ls -l), or run as the user that wrote it.`,
      );
    throw new ConfigError(
      `Cannot read ${opts.kind} file ${file}: ${why}.${opts.unreadableHint ? ` ${opts.unreadableHint}` : ''}`,
    );
  }
  const kind = opts.kind.charAt(0).toUpperCase() + opts.kind.slice(1);
  if (opts.blankIsEmpty && text.trim() === '') {
    // Not an error (an orchestrator's first state is often an empty file), but never silent:
    // no state means reading everything from start_date again, and every request is billed.
    log.warn(
      `${kind} file ${file} is empty (${Buffer.byteLength(text)} bytes): starting without ${opts.kind}, so every stream is read from start_date. If it held a ${opts.kind} before, restore it before the next sync.`,
    );
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${kind} file ${file} is not valid JSON (${(e as Error).message}). ${opts.invalidHint}`);
  }
  const depth = nestingDepth(value, MAX_DEPTH);
  if (depth > MAX_DEPTH) {
    throw new ConfigError(
      `${kind} file ${file} nests objects or arrays more than ${MAX_DEPTH} levels deep; no tap-scarf ${opts.kind} is nearly that deep, so it is not one. ${opts.invalidHint}`,
    );
  }
  return value;
}

/** Deeper than any config, state or catalog of the tap: past it, code that walks the value recursively would overflow the stack. */
export const MAX_DEPTH = 100;

/** The nesting depth of a parsed JSON value, counted without recursion and stopping past `limit`. */
export function nestingDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) {
      max = d + 1;
      if (max > limit) return max;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) stack.push([child, d + 1]);
  }
  return max;
}
