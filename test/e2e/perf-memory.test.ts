// Memory regression guard: the tap's peak RSS must not grow with the number of events it
// streams (only with the size of one window's key set), and a slow target must slow the tap
// down rather than make it buffer. Ratios only — no absolute speed or size is asserted, so
// the guard holds on any machine; `npm run bench` measures the absolute figures.
//
// The tap runs as its own process against the simulator (also its own process, serving
// pre-rendered bodies); peak RSS is the kernel's high-water mark (Linux /proc).
import fs from 'node:fs';

import { expect } from 'chai';

import {
  catalogSelecting,
  parseSummaries,
  runNode,
  type RunResult,
  SimProcess,
  tapBin,
  tmpDir,
  writeJson,
} from '../../bench/proc.js';
import { TOKEN } from '../helpers/token.js';

const EVENTS_PER_DAY = 40_000;
const LONG_DAYS = 10;
const OWNER = 'acme-oss';

function addDays(day: string, n: number): string {
  return new Date(Date.parse(day + 'T00:00:00Z') + n * 86_400_000).toISOString().slice(0, 10);
}

describe('perf: memory stays flat', function () {
  this.timeout(240_000);
  let sim: SimProcess | undefined;
  let work: string;
  let first: string;
  let catalog: string;

  const config = (name: string, days: number) =>
    writeJson(work, name, {
      api_token: TOKEN,
      owner: OWNER,
      base_url: sim!.url,
      start_date: first,
      end_date: addDays(first, days - 1),
    });

  const records = (run: RunResult) => parseSummaries(run.stderr).find((s) => s.stream === 'events');

  before(async function () {
    if (!fs.existsSync('/proc/self/status')) this.skip();
    work = tmpDir('tap-scarf-perf-');
    catalog = writeJson(work, 'catalog.json', catalogSelecting(['events']));
    const now = new Date().toISOString();
    const today = now.slice(0, 10);
    first = addDays(today, -(LONG_DAYS + 2));
    sim = await SimProcess.start([
      '--now',
      now,
      '--data-start',
      addDays(first, -2),
      '--events-per-day',
      String(EVENTS_PER_DAY),
      '--cache-bodies',
      '--token',
      TOKEN,
    ]);
    // Render every body once up front, so the tap's runs are not paced by the generator.
    for (let d = first; d < addDays(first, LONG_DAYS); d = addDays(d, 1)) {
      const got = await sim.get(`/v2/packages/${OWNER}/events?start_date=${d}&end_date=${d}`, {
        authorization: `Bearer ${TOKEN}`,
      });
      expect(got.status).to.equal(200);
    }
  });

  after(async () => {
    await sim?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it(`peak RSS after ${LONG_DAYS} days of events stays within 1.5× of one day's (no growth with the event count)`, async () => {
    const one = await runNode(tapBin, ['--config', config('one.json', 1), '--catalog', catalog]);
    expect(one.code, one.stderr.slice(-2000)).to.equal(0);
    const long = await runNode(tapBin, ['--config', config('long.json', LONG_DAYS), '--catalog', catalog]);
    expect(long.code, long.stderr.slice(-2000)).to.equal(0);
    const s1 = records(one)!;
    const sN = records(long)!;
    // The runs did what they should: ~10× the records, the same per-window key set.
    expect(sN.records).to.be.greaterThan(s1.records * LONG_DAYS * 0.7);
    expect(sN.largestKeySet).to.be.lessThan(s1.largestKeySet * 1.3);
    const ratio = long.peakRssMB / one.peakRssMB;
    // Reported for whoever reads the test log.
    console.log(
      `      peak RSS: 1 day (${s1.records} records) ${one.peakRssMB.toFixed(0)} MB; ${LONG_DAYS} days (${sN.records}) ${long.peakRssMB.toFixed(0)} MB; ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio, `peak RSS grew from ${one.peakRssMB.toFixed(0)} MB to ${long.peakRssMB.toFixed(0)} MB`).to.be.lessThan(1.5);
  });

  it('a slow reader slows the tap down; its memory stays as when writing to /dev/null', async () => {
    const cfg = config('bp.json', 2);
    // Reference: stdout on /dev/null, where every write completes at once (nothing can pile up).
    const ref = await runNode(tapBin, ['--config', cfg, '--catalog', catalog]);
    expect(ref.code, ref.stderr.slice(-2000)).to.equal(0);
    const rate = 8e6; // bytes/s: a target several times slower than the tap
    const slow = await runNode(tapBin, ['--config', cfg, '--catalog', catalog], { stdout: { slowBytesPerSec: rate } });
    expect(slow.code, slow.stderr.slice(-2000)).to.equal(0);
    const paced = slow.stdoutBytes / rate;
    console.log(
      `      ${(slow.stdoutBytes / 1e6).toFixed(0)} MB of output: to /dev/null ${ref.wallSec.toFixed(1)} s, ${ref.peakRssMB.toFixed(0)} MB; ` +
        `through a pipe read at ${rate / 1e6} MB/s ${slow.wallSec.toFixed(1)} s, ${slow.peakRssMB.toFixed(0)} MB`,
    );
    expect(paced).to.be.greaterThan(
      ref.wallSec * 1.5,
      'the slow reader must be clearly slower than the tap for this test to mean anything',
    );
    // The tap waited for the reader (it could not have finished before the reader did)…
    expect(slow.wallSec).to.be.greaterThan(paced * 0.9);
    // …and did not buffer the output it could not write yet (ignoring 'drain' measured ~+90 MB here).
    expect(
      slow.peakRssMB,
      `peak RSS ${ref.peakRssMB.toFixed(0)} MB to /dev/null, ${slow.peakRssMB.toFixed(0)} MB with a slow reader`,
    ).to.be.lessThan(ref.peakRssMB * 1.25);
  });
});
