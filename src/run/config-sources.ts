// Both CLIs take settings the same way: each --config value is a JSON file, or ENV for the
// TAP_SCARF_* environment variables, merged in the order given.
import type { ConfigSource } from '../config/load.js';

export function configSources(paths: string[]): ConfigSource[] {
  return paths.map((p) => (p === 'ENV' ? { kind: 'env' as const } : { kind: 'file' as const, path: p }));
}
