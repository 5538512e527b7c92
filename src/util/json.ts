// Parsed JSON (config, state, catalogs) is `unknown` until checked; this is the one test for
// "a JSON object", so every reader means the same thing by it (arrays and null are not).
export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Editors on Windows save JSON with a byte-order mark, which JSON.parse refuses. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
