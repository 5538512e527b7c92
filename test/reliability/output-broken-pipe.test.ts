// A stdout that breaks mid-sync — the reader closed the pipe (`| head -c 100000`, a target
// that crashed) or the disk is full (`> /dev/full`) — ends the tap at once, with one clear
// last stderr line, no stack trace, a non-zero exit and no further requests to Scarf.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

import { expect } from 'chai';

import { shebangNodeFlags } from '../../src/node-flags.js';
import { allOutputs, configuredCatalogFor, expectNoToken, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { tapBin, writeJson } from '../helpers/tap.js';

const EPIPE_LINE = 'ERROR output closed by the reader (EPIPE): the target stopped; nothing after the last STATE was committed';
const ENOSPC_LINE = 'ERROR output could not be written (ENOSPC): the disk is full; nothing after the last STATE was committed';
const CONCURRENCY = 2;
/**
 * verify_counts reads Scarf's counts for the 67 pending days (2026-08-01..2026-10-06) before
 * the first window, one request per aggregates_window_days (31): 3, all before any record.
 */
const COUNTS_REQUESTS = 3;

interface BrokenRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Requests the simulator had logged when stdout broke (the pipe was closed). */
  requestsAtBreak: number;
}

describe('output: a broken stdout stops the tap cleanly', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 41,
      token: TOKEN,
      dataStart: '2026-08-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 300,
      companies: 4,
    },
    // Many one-day windows: several MB of output, so the sync is far from done when stdout breaks.
    { start_date: '2026-08-01', end_date: '2026-10-06', events_window_days: 1, max_concurrent_requests: CONCURRENCY },
    'tap-scarf-broken-pipe-',
  );

  /** Runs the tap with stdout a pipe that is closed after `bytes` bytes, or with stdout on `file`. */
  function run(args: string[], stdout: { closeAfter: number } | { file: string }): Promise<BrokenRun> {
    return new Promise((resolve, reject) => {
      const fd = 'file' in stdout ? fs.openSync(stdout.file, 'w') : undefined;
      const child = spawn(process.execPath, [...shebangNodeFlags(tapBin), tapBin, ...args], {
        env: { ...process.env, TAP_SCARF_RETRY_BASE_MS: '5' },
        stdio: ['ignore', fd ?? 'pipe', 'pipe'],
      });
      if (fd !== undefined) fs.closeSync(fd);
      let stderr = '';
      let got = 0;
      let requestsAtBreak = 0;
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => (stderr += d));
      if ('closeAfter' in stdout) {
        child.stdout!.on('data', (d: Buffer) => {
          got += d.length;
          if (got >= stdout.closeAfter && !child.stdout!.destroyed) {
            requestsAtBreak = suite.sim.requests.length;
            child.stdout!.destroy();
          }
        });
      }
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`tap-scarf ${args.join(' ')} did not stop after its stdout broke\n${stderr.slice(-2000)}`));
      }, 50_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        allOutputs.push({ what: `broken-stdout run ${args.join(' ')} (stderr)`, text: stderr });
        expectNoToken(stderr, 'broken-stdout run: stderr');
        resolve({ code, signal, stderr, requestsAtBreak });
      });
    });
  }

  /** One clear last line, no Node stack trace or unhandled-error report anywhere. */
  function expectOneClearLine(r: BrokenRun, line: string, code: number): void {
    expect(r.signal, r.stderr).to.equal(null);
    expect(r.code, r.stderr).to.equal(code);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).to.equal(line);
    expect(r.stderr).not.to.match(/Unhandled 'error' event|^\s+at |node:internal|Error: write/m);
  }

  it('Singer sync | head -c 100000: exit 141, one EPIPE line, no stack trace, no request after the pipe broke', async () => {
    const r = await run(['--config', suite.config()], { closeAfter: 100_000 });
    expectOneClearLine(r, EPIPE_LINE, 141);
    expect(r.requestsAtBreak, 'the pipe broke mid-sync').to.be.greaterThan(0);
    // Requests already under way when the pipe broke may finish; no new window is asked for.
    expect(suite.sim.requests.length, 'requests after the pipe broke').to.be.at.most(r.requestsAtBreak + CONCURRENCY);
    expect(suite.sim.requests.length, 'the sync was stopped long before its end').to.be.lessThan(20);
  });

  it('Singer sync > /dev/full: exit 1, one ENOSPC line ("the disk is full"), no stack trace, stops at the first write', async function () {
    if (!fs.existsSync('/dev/full')) this.skip();
    const r = await run(['--config', suite.config()], { file: '/dev/full' });
    expectOneClearLine(r, ENOSPC_LINE, 1);
    // The first 64 KB of output fills up inside the first window's body.
    expect(suite.sim.requests.length, 'requests before the first write failed').to.be.at.most(COUNTS_REQUESTS + CONCURRENCY);
  });

  it('Airbyte read | head: exit 141, the EPIPE line is all of stderr (LOG messages went to the closed stdout)', async () => {
    const catalog = configuredCatalogFor(['events']);
    const cat = writeJson(suite.dir, 'configured.json', catalog);
    const r = await run(['read', '--config', suite.config(), '--catalog', cat], { closeAfter: 100_000 });
    expectOneClearLine(r, EPIPE_LINE, 141);
    expect(r.stderr).to.equal(EPIPE_LINE + '\n');
    expect(suite.sim.requests.length, 'requests after the pipe broke').to.be.at.most(r.requestsAtBreak + CONCURRENCY);
  });

  it('Airbyte read > /dev/full: exit 1, the ENOSPC line on stderr', async function () {
    if (!fs.existsSync('/dev/full')) this.skip();
    const catalog = configuredCatalogFor(['events'], 'full_refresh');
    const cat = writeJson(suite.dir, 'configured-full.json', catalog);
    const r = await run(['read', '--config', suite.config(), '--catalog', cat], { file: '/dev/full' });
    expectOneClearLine(r, ENOSPC_LINE, 1);
    expect(suite.sim.requests.length).to.be.at.most(COUNTS_REQUESTS + CONCURRENCY);
  });
});
