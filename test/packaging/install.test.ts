// Install paths: package.json's bins and scripts, the unbuilt-clone message of the bins, and
// the Dockerfile's use of `npm ci` now that `prepare` builds. The install itself (npm pack →
// npm install -g → run the installed commands) is scripts/install-test.sh, which .ci/run runs
// after the tests because it needs the npm cache that `npm ci` filled.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { loadRepoJson } from '../helpers/schemas.js';
import { repoRoot, tmpDir } from '../helpers/tap.js';

const execFileP = promisify(execFile);

async function runNode(script: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [script, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('install paths (package.json bins, unbuilt clone, prepare)', function () {
  this.timeout(30_000);
  const pkg = loadRepoJson('package.json');

  it('declares tap-scarf, source-scarf and tap-scarf-sim, each an executable file with a node #! line, packed by `files`', () => {
    expect(Object.keys(pkg.bin).sort()).to.deep.equal(['source-scarf', 'tap-scarf', 'tap-scarf-sim']);
    for (const [name, rel] of Object.entries<string>(pkg.bin)) {
      const file = path.join(repoRoot, rel);
      expect(fs.readFileSync(file, 'utf8').split('\n', 1)[0], name).to.match(/^#!\/usr\/bin\/env (-S )?node\b/);
      expect(fs.statSync(file).mode & 0o111, `${rel} is executable`).to.not.equal(0);
      expect(
        pkg.files.some((f: string) => rel === f || rel.startsWith(`${f}/`)),
        `${rel} is packed`,
      ).to.equal(true);
    }
    expect(pkg.files, 'the simulator the tap-scarf-sim bin loads').to.include('dist/sim');
  });

  it('an unbuilt clone (no dist/): each bin prints one line saying to run npm run build, exit 1', async () => {
    const dir = tmpDir('tap-scarf-unbuilt-');
    fs.cpSync(path.join(repoRoot, 'bin'), path.join(dir, 'bin'), { recursive: true });
    fs.cpSync(path.join(repoRoot, 'sim', 'bin'), path.join(dir, 'sim', 'bin'), { recursive: true });
    for (const [bin, rel] of [
      ['bin/tap-scarf.js', 'dist/src/cli.js'],
      ['bin/source-scarf.js', 'dist/src/cli.js'],
      ['sim/bin/tap-scarf-sim.js', 'dist/sim/cli.js'],
    ] as const) {
      const run = await runNode(path.join(dir, bin), ['--version']);
      expect(run.code, bin).to.equal(1);
      expect(run.stdout, bin).to.equal('');
      expect(run.stderr, bin).to.equal(
        `tap-scarf is not built (${rel} is missing): run \`npm ci && npm run build\` in ${dir}, then try again.\n`,
      );
    }
  });

  it('a built checkout still runs through the same bins', async () => {
    const run = await runNode(path.join(repoRoot, 'bin', 'tap-scarf.js'), ['--version']);
    expect(run).to.deep.equal({ code: 0, stdout: `tap-scarf ${pkg.version}\n`, stderr: '' });
  });

  it('`prepare` builds (git-URL installs), CI runs the install test, the Dockerfile installs before the sources exist', () => {
    expect(pkg.scripts.prepare).to.equal('npm run build');
    const ci = fs
      .readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8')
      .trim()
      .split('\n');
    const testLine = ci.findIndex((l) => /^npm test\b/.test(l));
    const installLine = ci.findIndex((l) => l.includes('scripts/install-test.sh'));
    expect(testLine, 'npm test in .ci/run').to.be.greaterThan(-1);
    expect(installLine, 'install test after the tests').to.be.greaterThan(testLine);
    // The build stage runs `npm ci` with only package*.json copied: `prepare` would build nothing.
    const docker = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    for (const line of docker.split('\n').filter((l) => /^RUN npm ci\b/.test(l)))
      expect(line, 'every npm ci in the Dockerfile').to.include('--ignore-scripts');
  });
});
