// Parsed JSON (config, state, catalogs) is `unknown` until checked; this is the one test for
// "a JSON object", so every reader means the same thing by it (arrays and null are not).
export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
