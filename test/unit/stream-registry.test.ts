// A stream is one module (src/streams/registry.ts lists them): nothing else in src/ may switch
// on a stream's name, or adding a stream would again mean finding those switches
// (docs/DESIGN.md "Adding a stream").
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';

import { STREAM_NAMES } from '../../src/schemas.js';
import { STREAM_MODULES } from '../../src/streams/registry.js';
import { repoRoot } from '../helpers/tap.js';

const srcRoot = path.join(repoRoot, 'src');

/** Where a stream's name may be spelled, relative to src/ (a trailing / is a folder). */
const ALLOWED: Record<string, string> = {
  // The stream modules: each declares its own name (and company_events the stream it depends on).
  'streams/events.ts': 'stream module',
  'streams/aggregates.ts': 'stream module',
  'streams/aggregations.ts': 'stream module',
  'streams/company-rollup.ts': 'stream module',
  'streams/company-events.ts': 'stream module',
  'streams/pixel-events.ts': 'stream module',
  'streams/company-artifact-rollups.ts': 'stream module',
  // The literal union the types need, checked against the registry below.
  'schemas.ts': 'STREAM_NAMES',
  'generated/': 'types generated from schemas/',
  // Scarf's endpoint names (the Endpoint union, the path functions), some spelled as the streams reading them.
  'scarf/endpoints.ts': 'endpoint names',
  // The load command's features about one stream's table (the Scarf exporter's import of
  // events, verify against the events and company_events tables) name the table they are about.
  'load/': 'stream-specific load commands',
  'destination/postgres/': 'stream-specific load commands',
};

function allowed(rel: string): boolean {
  return Object.keys(ALLOWED).some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p));
}

/** `'events'`, `"events"` or `` `events` ``: a whole string literal that is a stream's name (comments aside). */
function literalNames(source: string, names: readonly string[]): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  for (const m of code.matchAll(/(['"`])([a-z_]+)\1/g)) if (names.includes(m[2]!)) found.push(m[0]);
  return found;
}

function srcFiles(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) srcFiles(full, out);
    else if (entry.name.endsWith('.ts')) out.push(path.relative(srcRoot, full).split(path.sep).join('/'));
  }
  return out;
}

describe('stream registry', () => {
  it('STREAM_NAMES is the registry’s streams, in its order', () => {
    expect(STREAM_MODULES.map((m) => m.declaration.name)).to.deep.equal([...STREAM_NAMES]);
  });

  it('no module of src/ but the stream modules spells a stream’s name as a string', () => {
    const names = STREAM_MODULES.map((m) => m.declaration.name);
    const found = srcFiles(srcRoot)
      .filter((rel) => !allowed(rel))
      .flatMap((rel) => literalNames(fs.readFileSync(path.join(srcRoot, rel), 'utf8'), names).map((l) => `${rel}: ${l}`));
    expect(found).to.deep.equal([]);
  });

  it('the check finds a name in any quotes, and only a whole string', () => {
    const names = ['events', 'company_events'];
    expect(
      literalNames(
        "// as in 'events'\nif (s === 'events') x(\"company_events\", `events`);\n/** 'events' */ log(`events: ${n}`, 'events_window_days', 'pixel_events');",
        names,
      ),
    ).to.deep.equal(["'events'", '"company_events"', '`events`']);
  });
});
