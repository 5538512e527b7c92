// The node flags the tap runs with are written once, in the `#!/usr/bin/env -S node …`
// line of bin/tap-scarf.js; whatever starts the tap with an explicit `node` (the bench, the
// tests) reads them here so it runs the tap the way a user's shell does.
import fs from 'node:fs';

export function shebangNodeFlags(script: string): string[] {
  const first = fs.readFileSync(script, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env -S node((?:\s+--\S+)*)\s*$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}
