// The Python package (python/) carries the tap bundled into one file, committed so that a
// `pip install git+…#subdirectory=python` needs no Node.js and no npm (docs/meltano.md). This
// guards that the committed bundle is exactly what `npm run bundle` makes from this checkout,
// and that it runs: a change to src/, a dependency, spec.json, a schema or the version without
// a re-bundle fails here with the command to run. (The ecosystem suite runs the pip-installed
// package itself against the npm tap, byte for byte.)
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { BUNDLE_COMMAND, BUNDLE_DIR, BUNDLE_FILE, bundleFiles, staleFiles } from '../../scripts/bundle.js';
import { shebangNodeFlags } from '../../src/node-flags.js';
import { repoRoot } from '../helpers/tap.js';

const execFileP = promisify(execFile);

describe('the bundled tap of the Python package', function () {
  this.timeout(60_000);

  it(`is what \`${BUNDLE_COMMAND}\` makes from this checkout`, async () => {
    const stale = await staleFiles();
    expect(stale, `stale files: run \`${BUNDLE_COMMAND}\` and commit ${BUNDLE_DIR}/ and python/LICENSE`).to.deep.equal([]);
  });

  it('holds the runtime JSON beside one JavaScript file, and the licenses of what it bundles', async () => {
    const files = [...(await bundleFiles()).keys()].map((f) => path.relative(BUNDLE_DIR, f)).sort();
    expect(files).to.deep.equal(
      [
        '../../../LICENSE',
        'THIRD_PARTY_LICENSES.txt',
        BUNDLE_FILE,
        'package.json',
        // Every record schema of the repository, one per stream.
        ...fs.readdirSync(path.join(repoRoot, 'schemas')).map((f) => `schemas/${f}`),
        'spec.json',
      ].sort(),
    );
    const licenses = fs.readFileSync(path.join(repoRoot, BUNDLE_DIR, 'THIRD_PARTY_LICENSES.txt'), 'utf8');
    for (const dep of Object.keys((JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as any).dependencies))
      expect(licenses, `${dep}: a runtime dependency is in the bundle`).to.include(`\n${dep} `);
  });

  it('runs with the node flags of the bins, and names itself by the command it was started as', async () => {
    const bundle = path.join(repoRoot, BUNDLE_DIR, BUNDLE_FILE);
    expect(shebangNodeFlags(bundle)).to.deep.equal(shebangNodeFlags(path.join(repoRoot, 'bin', 'tap-scarf.js')));
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const version = await execFileP(process.execPath, [bundle, '--version'], { encoding: 'utf8' });
    expect(version.stdout).to.equal(`tap-scarf ${pkg.version}\n`);
    // argv0 is what the Python launcher sets (python/src/tap_scarf/__init__.py).
    const help = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [bundle, '--help'], { argv0: 'source-scarf', stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    expect(help).to.match(/^Usage: source-scarf /);
  });
});
