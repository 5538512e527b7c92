// Imports in src/ point only down the layers below (a module may also import modules of its
// own group). The layer list is the declaration of the architecture: a new module gets a row
// here, and an import that points up, or across to a sibling group (Singer ↔ Airbyte), fails.
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';

import { repoRoot } from '../helpers/tap.js';

const srcRoot = path.join(repoRoot, 'src');

/** Bottom first. Each group lists path prefixes relative to src/ (a trailing / is a folder). */
const LAYERS: { layer: string; groups: Record<string, string[]> }[] = [
  {
    layer: 'base',
    groups: {
      // scarf/convert.ts: text → typed scalar, knowing nothing of HTTP or Scarf's answers; config
      // validates its date settings with the same converter the records go through.
      // config/runtime-options.ts: the environment knobs, read once; any layer takes its option there.
      base: [
        'errors.ts',
        'log.ts',
        'util/',
        'paths.ts',
        'node-flags.ts',
        'ajv.ts',
        'generated/',
        'schemas.ts',
        'progress.ts',
        'metrics.ts',
        'scarf/convert.ts',
        'config/runtime-options.ts',
      ],
    },
  },
  { layer: 'config', groups: { config: ['config/'] } },
  { layer: 'scarf client', groups: { scarf: ['scarf/'] } },
  // The engine every stream runs on (windows, fetch, key set, days, resume, its state handle)
  // knows no stream and no count: verification plugs into it as hooks (SyncContext.verification).
  { layer: 'stream engine', groups: { engine: ['streams/engine/', 'state.ts'] } },
  // One module per stream, and the registry listing them (docs/DESIGN.md "Adding a stream").
  { layer: 'stream modules', groups: { streams: ['streams/', 'catalog.ts'] } },
  // verify_counts: Scarf's counts and the reconciliation against them.
  { layer: 'verification', groups: { verify: ['streams/verify/'] } },
  // What brings a state in line with the settings and the owner before a sync reads it.
  { layer: 'state before a sync', groups: { state: ['streams/state/'] } },
  // The sync's plan: every stream's planned requests added up, the budget.
  { layer: 'plan', groups: { plan: ['streams/plan/'] } },
  { layer: 'sync', groups: { sync: ['sync.ts'] } },
  { layer: 'protocol output', groups: { output: ['protocol/output.ts'] } },
  {
    layer: 'protocol writers',
    groups: {
      singer: ['protocol/singer.ts', 'protocol/singer-batch.ts'],
      airbyte: ['protocol/airbyte.ts', 'protocol/airbyte-types.ts'],
    },
  },
  // A destination writes a sync's records somewhere other than stdout, behind the same ProtocolWriter.
  { layer: 'destinations', groups: { postgres: ['destination/postgres/'] } },
  { layer: 'run (protocol-neutral CLI pieces)', groups: { run: ['run/', 'about.ts'] } },
  { layer: 'protocol entry points', groups: { singer: ['singer/'], airbyte: ['airbyte/'], load: ['load/'] } },
  { layer: 'CLI', groups: { cli: ['cli.ts', 'help.ts'] } },
];

interface Place {
  layer: number;
  group: string;
}

function placeOf(rel: string): Place | undefined {
  let best: { place: Place; length: number } | undefined;
  LAYERS.forEach(({ groups }, layer) => {
    for (const [group, prefixes] of Object.entries(groups))
      for (const p of prefixes)
        if ((p.endsWith('/') ? rel.startsWith(p) : rel === p) && (!best || p.length > best.length))
          best = { place: { layer, group }, length: p.length };
  });
  return best?.place;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** The relative imports of a module, as paths relative to src/ with .ts. */
function importsOf(rel: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec === undefined || !spec.startsWith('.')) continue;
    out.push(path.posix.join(path.posix.dirname(rel), spec).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Every import that breaks the rule, and every module with no declared layer. */
function layerViolations(modules: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [rel, source] of modules) {
    const from = placeOf(rel);
    if (!from) {
      problems.push(`${rel} has no layer: add it to LAYERS in test/unit/layering.test.ts`);
      continue;
    }
    for (const target of importsOf(rel, source)) {
      const to = placeOf(target);
      if (!to) continue; // reported as a module of its own
      const fromName = `${rel} (${LAYERS[from.layer]!.layer})`;
      const toName = `${target} (${LAYERS[to.layer]!.layer})`;
      if (to.layer > from.layer) problems.push(`${fromName} imports ${toName}, a layer above it`);
      else if (to.layer === from.layer && to.group !== from.group)
        problems.push(`${fromName} imports ${toName}, a sibling group (${from.group} → ${to.group})`);
    }
  }
  return problems;
}

function srcModules(): Map<string, string> {
  const modules = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts'))
        modules.set(path.relative(srcRoot, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8'));
    }
  };
  walk(srcRoot);
  return modules;
}

/** Every cycle of imports among the modules, as a list of module paths (type-only imports count too). */
function importCycles(modules: Map<string, string>): string[][] {
  const edges = new Map([...modules].map(([rel, source]) => [rel, importsOf(rel, source).filter((t) => modules.has(t))]));
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (rel: string, path: string[]): void => {
    const at = path.indexOf(rel);
    if (at >= 0) {
      cycles.push(path.slice(at));
      return;
    }
    if (done.has(rel)) return;
    for (const next of edges.get(rel) ?? []) visit(next, [...path, rel]);
    done.add(rel);
  };
  for (const rel of [...edges.keys()].sort()) visit(rel, []);
  return cycles;
}

describe('layering of src/', () => {
  it('every import in src/ points down the declared layers, never up or across to a sibling group', () => {
    const modules = srcModules();
    expect(modules.size).to.be.greaterThan(30);
    expect(layerViolations(modules)).to.deep.equal([]);
  });

  it('no module imports itself through others (a type-only import counts too)', () => {
    expect(importCycles(srcModules())).to.deep.equal([]);
  });

  it('the cycle check finds a cycle of type-only imports', () => {
    const modules = new Map([
      ['streams/engine/types.ts', "import type { A } from './fetch.js';\n"],
      ['streams/engine/fetch.ts', "import type { B } from './verification.js';\n"],
      ['streams/engine/verification.ts', "import type { C } from './types.js';\n"],
    ]);
    expect(importCycles(modules)).to.deep.equal([
      ['streams/engine/fetch.ts', 'streams/engine/verification.ts', 'streams/engine/types.ts'],
    ]);
  });

  it('the check finds an upward import, an import across sibling groups and a module with no layer', () => {
    const modules = new Map([
      ['config/load.ts', "import { checkBaseUrl } from '../scarf/client.js';\n"],
      ['airbyte/main.ts', "import type { X } from '../singer/main.js';\nimport { y } from '../run/stop.js';\n"],
      ['singer/main.ts', "  const { z } = await import('./test-mode.js');\nexport { w } from '../cli.js';\n"],
      ['newthing.ts', "import { log } from './log.js';\n"],
    ]);
    expect(layerViolations(modules)).to.deep.equal([
      'config/load.ts (config) imports scarf/client.ts (scarf client), a layer above it',
      'airbyte/main.ts (protocol entry points) imports singer/main.ts (protocol entry points), a sibling group (airbyte → singer)',
      'singer/main.ts (protocol entry points) imports cli.ts (CLI), a layer above it',
      'newthing.ts has no layer: add it to LAYERS in test/unit/layering.test.ts',
    ]);
  });
});
