// The simulator is a package of its own (sim/package.json): the tap's tests, bench and scripts
// reach it only through its public index, the tap's sources not at all, the simulator imports
// nothing of the tap, and its modules import each other without a cycle.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'chai';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const simDir = path.join(repo, 'sim');

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function tsFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every import specifier of a file, relative ones resolved to absolute .ts paths. */
function importsOf(file: string): { spec: string; target?: string }[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const spec = (m[1] ?? m[2])!;
    return spec.startsWith('.') ? { spec, target: path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts') } : { spec };
  });
}

const inSim = (p: string) => p.startsWith(simDir + path.sep);
const rel = (p: string) => path.relative(repo, p);

describe('simulator: package boundary', () => {
  it('outside sim/, only sim/index.ts is imported, and src/ imports nothing of sim/', () => {
    const problems: string[] = [];
    for (const top of ['src', 'test', 'bench', 'scripts']) {
      for (const file of tsFiles(path.join(repo, top))) {
        for (const { target } of importsOf(file)) {
          if (!target || !inSim(target)) continue;
          if (top === 'src') problems.push(`${rel(file)} imports ${rel(target)} (the tap must not depend on the simulator)`);
          else if (target !== path.join(simDir, 'index.ts')) problems.push(`${rel(file)} imports ${rel(target)}`);
        }
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it("sim/ imports only its own modules, Node's and its declared dependencies", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(simDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const problems: string[] = [];
    for (const file of tsFiles(simDir)) {
      const isTest = file.startsWith(path.join(simDir, 'test') + path.sep);
      const allowed = new Set(Object.keys({ ...pkg.dependencies, ...(isTest ? pkg.devDependencies : {}) }));
      for (const { spec, target } of importsOf(file)) {
        if (target) {
          if (!inSim(target)) problems.push(`${rel(file)} imports ${rel(target)}`);
        } else if (!spec.startsWith('node:')) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!allowed.has(name)) problems.push(`${rel(file)} imports ${spec}, not in sim/package.json`);
        }
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('has no import cycle among its modules (type imports included)', () => {
    const graph = new Map<string, string[]>();
    for (const file of tsFiles(simDir))
      graph.set(
        file,
        importsOf(file).flatMap((i) => (i.target ? [i.target] : [])),
      );
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, trail: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).to.deep.equal([]);
  });
});
