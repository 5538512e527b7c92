// PyAirbyte (the `airbyte` package from the package index) reads source-scarf as a local
// executable — the `source-scarf` command of the Python package in python/, pip-installed
// into PyAirbyte's environment — into its default cache (DuckDB), a full read and then an
// incremental one from the state PyAirbyte kept. The cache must equal the ground truth, one
// row per key. AIRBYTE_OFFLINE_MODE: no registry lookup and no telemetry (loopback only).
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { expectSameRecords } from '../helpers/reliability.js';
import { repoRoot, tmpDir, writeJson } from '../helpers/tap.js';
import { PYENVS, pythonEnv, runProgram, tail } from './helpers/python.js';
import { asTapValue } from './helpers/values.js';

const TOKEN = 'pyairbyte-token-51c0e2';
const START = '2026-10-01';
const STREAMS = ['events', 'aggregates', 'company_rollup', 'company_events'] as const;
const KEYS: Record<string, string> = {
  events: 'id',
  aggregates: 'row_key',
  company_rollup: 'company_domain',
  company_events: 'id',
};

type Row = Record<string, any>;

describe('PyAirbyte reads source-scarf (pip-installed) into its default cache', function () {
  this.timeout(600_000);
  let sim: ScarfSimulator;
  let bin: string;
  let dir: string;

  before(async function () {
    bin = pythonEnv(this, 'airbyte');
    // The package of this checkout, into PyAirbyte's environment: its console script is the executable.
    const install = await runProgram(
      path.join(PYENVS, 'uv', 'bin', 'uv'),
      [
        'pip',
        'install',
        '--quiet',
        '--python',
        path.join(bin, 'python'),
        '--reinstall-package',
        'tap-scarf',
        path.join(repoRoot, 'python'),
      ],
      {},
    );
    if (install.code !== 0) throw new Error(`installing python/ into .pyenvs/airbyte failed:\n${tail(install)}`);
    sim = new ScarfSimulator({
      token: TOKEN,
      seed: 29,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 40,
      companies: 5,
    });
    await sim.start();
    dir = tmpDir('tap-scarf-pyairbyte-');
  });

  after(async () => sim?.stop());

  async function read(end: string): Promise<{ streams: Record<string, Row[]>; processed: number }> {
    const config = writeJson(dir, `config-${end}.json`, {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: START,
      end_date: end,
      max_concurrent_requests: 1,
    });
    const out = path.join(dir, `out-${end}.json`);
    const run = await runProgram(
      path.join(bin, 'python'),
      [path.join(repoRoot, 'test', 'ecosystem', 'python', 'pyairbyte_read.py'), config, path.join(bin, 'source-scarf'), out],
      { cwd: dir, env: { AIRBYTE_OFFLINE_MODE: '1', DO_NOT_TRACK: '1', NO_COLOR: '1', PATH: bin } },
    );
    expect(run.code, tail(run)).to.equal(0);
    expect(run.stdout + run.stderr).to.not.include(TOKEN);
    return JSON.parse(fs.readFileSync(out, 'utf8')) as { streams: Record<string, Row[]>; processed: number };
  }

  function truth(end: string, stream: string): Row[] {
    switch (stream) {
      case 'events':
        return sim.truth.events({ start: START, end });
      case 'aggregates':
        return sim.truth.aggregates({ start: START, end, rollup: 'daily', breakdowns: ['by-total'] });
      case 'company_rollup':
        return sim.truth.companyRollup();
      default:
        return sim.companyDomains().flatMap((d) => sim.truth.companyEvents(d, { start: START, end }));
    }
  }

  function expectCache(got: Record<string, Row[]>, end: string, what: string): void {
    for (const stream of STREAMS) {
      const want = truth(end, stream);
      const key = KEYS[stream]!;
      const rows = got[stream]!.map((r) => {
        const w = want.find((t) => t[key] === r[key]);
        return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, asTapValue(v, w?.[k])]));
      });
      expect(new Set(rows.map((r) => `${r.owner}|${r[key]}`)).size, `${what}: ${stream} one row per key`).to.equal(rows.length);
      expectSameRecords(rows, want, key, `${what}: ${stream}`);
    }
  }

  it('a full read, then an incremental one from the state in the cache: the cache equals the ground truth', async () => {
    const first = await read('2026-10-04');
    expectCache(first.streams, '2026-10-04', 'full read');
    sim.resetRequests();
    const second = await read('2026-10-06');
    const eventDays = sim.requests.filter((r) => r.endpoint === 'events').map((r) => r.query.start_date?.[0]);
    expect(eventDays, 'incremental: from the bookmark (10-05) minus lookback_days').to.deep.equal([
      '2026-10-04',
      '2026-10-05',
      '2026-10-06',
    ]);
    expect(second.processed, 'the incremental read processed fewer records').to.be.lessThan(first.processed);
    expectCache(second.streams, '2026-10-06', 'after the incremental read');
  });
});
