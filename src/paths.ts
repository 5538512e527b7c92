import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled files live in dist/src/…, sources in src/…: walk up to the folder holding
// package.json so schemas/ and spec.json are read from one place in both layouts.
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'spec.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('tap-scarf: cannot find the package root (package.json beside spec.json)');
    dir = up;
  }
}

export const packageRoot = findRoot();
export const schemasDir = path.join(packageRoot, 'schemas');
export const specPath = path.join(packageRoot, 'spec.json');

export function readJsonFile<T = unknown>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export const packageJson = readJsonFile<{ name: string; version: string; description: string; engines?: { node?: string } }>(
  path.join(packageRoot, 'package.json'),
);
