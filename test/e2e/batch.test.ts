// batch_config (the Meltano SDK's BATCH messages) and the other SDK settings a Meltano user
// may give: the files hold exactly the records a RECORD-mode sync emits (the ground truth),
// every STATE comes after the BATCH messages of the records it covers, a stop signal announces
// the open file before the last safe state, and stream_maps is refused before any request.
// The same is run through Meltano into MeltanoLabs target-postgres by the ecosystem suite.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { expect } from 'chai';

import { shebangNodeFlags } from '../../src/node-flags.js';
import { runInProcess } from '../helpers/in-process.js';
import { configuredCatalogFor, expectSameRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { parseLines, records, tapBin, type TapRun, tmpDir, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-05';
const BREAKDOWNS = ['by-total', 'by-country'];

type Msg = Record<string, any>;

function readBatchFile(url: string, gzip: boolean): Msg[] {
  const bytes = fs.readFileSync(fileURLToPath(url));
  const text = (gzip ? zlib.gunzipSync(bytes) : bytes).toString('utf8');
  expect(text.endsWith('\n'), `${url} ends with a line break`).to.equal(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Msg);
}

/** The records of every BATCH message, by stream, in message order. */
function batchRecords(run: TapRun, gzip = true): Map<string, Msg[]> {
  const out = new Map<string, Msg[]>();
  for (const m of run.messages.filter((x) => x.type === 'BATCH')) {
    expect(m.encoding).to.deep.equal({ format: 'jsonl', compression: gzip ? 'gzip' : null });
    expect(m.manifest).to.have.length(1);
    const rows = readBatchFile(m.manifest[0], gzip);
    out.set(m.stream, [...(out.get(m.stream) ?? []), ...rows]);
  }
  return out;
}

describe('batch_config: BATCH messages instead of RECORD messages (Singer)', function () {
  this.timeout(120_000);
  const suite = useSimulator(
    {
      seed: 11,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 50,
      companies: 6,
    },
    { start_date: START, end_date: END, aggregates_breakdowns: BREAKDOWNS },
  );

  it('the files hold exactly what RECORD messages would, each STATE after the BATCH messages it covers, the same state', async () => {
    const root = tmpDir('tap-scarf-batch-');
    const plain = await runInProcess(['--config', suite.config()]);
    expect(plain.code, plain.stderr).to.equal(0);
    const run = await runInProcess([
      '--config',
      suite.config({
        batch_config: { encoding: { format: 'jsonl', compression: 'gzip' }, storage: { root: `file://${root}` }, batch_size: 40 },
      }),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.badLines).to.deep.equal([]);
    expect(
      run.messages.filter((m) => m.type === 'RECORD'),
      'no RECORD message in batch mode',
    ).to.deep.equal([]);
    const batches = batchRecords(run);
    for (const stream of ['events', 'aggregates', 'company_rollup', 'company_events'])
      expect(batches.get(stream), stream).to.deep.equal(
        records(plain, stream).map((r) => r),
        `${stream}: the batch files hold the RECORD-mode records, in order`,
      );
    expectSameRecords(batches.get('events')!, suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    // batch_size 40: more than one file per large stream, none larger.
    const events = run.messages.filter((m) => m.type === 'BATCH' && m.stream === 'events');
    expect(events.length).to.be.greaterThan(1);
    for (const m of events) expect(readBatchFile(m.manifest[0], true).length).to.be.at.most(40);
    // Order: SCHEMA, then BATCH/STATE, and no STATE of a stream while one of its records is unannounced
    // (every checkpoint closes the open file first, so a STATE always directly follows a BATCH or a STATE).
    const kinds = run.messages.map((m) => `${m.type}:${m.stream ?? ''}`);
    for (const [i, m] of run.messages.entries())
      if (m.type === 'STATE')
        expect(['BATCH', 'STATE', 'SCHEMA'], kinds.slice(0, i + 1).join(' ')).to.include(run.messages[i - 1]!.type);
    const lastState = (r: TapRun) => r.messages.filter((m) => m.type === 'STATE').at(-1)!.value.bookmarks;
    expect(lastState(run)).to.deep.equal(lastState(plain));
    // Files are named as the SDK names them and live under storage.root.
    for (const m of run.messages.filter((x) => x.type === 'BATCH'))
      expect(path.basename(fileURLToPath(m.manifest[0]))).to.match(
        new RegExp(`^tap-scarf--${m.stream}-[0-9a-f-]{36}-\\d+\\.json\\.gz$`),
      );
    expect(run.stderr).to.not.match(/Ignoring unknown setting 'batch_config'/);
  });

  it('compression none, a plain path and a prefix: plain JSON Lines files', async () => {
    const root = path.join(tmpDir('tap-scarf-batch-plain-'), 'not', 'yet');
    const run = await runInProcess([
      '--config',
      suite.config({ batch_config: { encoding: { format: 'jsonl', compression: 'none' }, storage: { root, prefix: 'x-' } } }),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const b = batchRecords(run, false);
    expectSameRecords(b.get('events')!, suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    for (const m of run.messages.filter((x) => x.type === 'BATCH'))
      expect(path.basename(fileURLToPath(m.manifest[0]))).to.match(/^x-tap-scarf--.*\.json$/);
  });

  it('SIGTERM mid-sync: the open file is announced, then the last safe state, which covers only announced records', async () => {
    // The default 10 s STATE interval: windows are committed with no STATE yet, their records in
    // the open file, when the signal comes; the last safe state then covers them, so the file
    // must be announced first. Signalled once the fourth events request is in (three windows
    // committed: one request at a time).
    const root = tmpDir('tap-scarf-batch-term-');
    suite.sim.setOptions({ latencyMs: 150 });
    try {
      const cfg = suite.config({
        batch_config: { encoding: { format: 'jsonl' }, storage: { root }, batch_size: 100_000 },
        max_concurrent_requests: 1,
        verify_counts: false,
        end_date: '2026-10-06',
      });
      const child = spawn(process.execPath, [...shebangNodeFlags(tapBin), tapBin, '--config', cfg], {
        env: { ...process.env, TAP_SCARF_STATE_INTERVAL_MS: undefined },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const deadline = Date.now() + 30_000;
      while (suite.sim.requests.filter((r) => r.endpoint === 'events').length < 4 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      const code = await closed;
      expect(code, stderr).to.equal(143);
      const run = { ...parseLines(stdout), stdout, stderr, code, signal: null } as TapRun;
      const last = run.messages.at(-1)!;
      expect(last.type).to.equal('STATE');
      expect(
        run.messages.filter((m) => m.type === 'STATE'),
        'the only STATE is the last safe one',
      ).to.have.length(1);
      const bookmark = last.value.bookmarks.events?.replication_key_value as string | undefined;
      expect(bookmark, 'events windows were committed before the signal').to.be.a('string');
      expect(bookmark! >= '2026-10-04', `three windows committed (${bookmark})`).to.equal(true);
      const announced = batchRecords(run).get('events') ?? [];
      const covered = suite.sim.truth.events({ start: START, end: END }).filter((r) => (r.time as string) < bookmark!);
      expect(covered.length).to.be.greaterThan(0);
      const ids = new Set(announced.map((r) => r.id));
      for (const r of covered)
        expect(ids.has(r.id), `record ${String(r.id)} before the bookmark is in an announced file`).to.equal(true);
      const batchAt = run.messages.findIndex((m) => m.type === 'BATCH');
      expect(batchAt, 'the BATCH comes before the last safe STATE').to.be.lessThan(run.messages.length - 1);
    } finally {
      suite.sim.setOptions({ latencyMs: 0 });
    }
  });

  it('an Airbyte read ignores batch_config with a warning: RECORD messages as always', async () => {
    const catalog = writeJson(suite.dir, 'configured-events.json', configuredCatalogFor(['events']));
    const cfg = suite.config({
      batch_config: { encoding: { format: 'jsonl' }, storage: { root: tmpDir('tap-scarf-batch-ab-') } },
    });
    const run = await runInProcess(['read', '--config', cfg, '--catalog', catalog]);
    expect(run.code, run.stderr).to.equal(0);
    const records = run.messages.filter((m) => m.type === 'RECORD');
    expectSameRecords(
      records.map((m) => m.record.data),
      suite.sim.truth.events({ start: START, end: END }),
      'id',
      'events',
    );
    expect(run.messages.some((m) => m.type === 'BATCH')).to.equal(false);
    expect(run.messages.some((m) => m.type === 'LOG' && /batch_config' is for Singer/.test(m.log.message))).to.equal(true);
  });

  for (const [what, batch, message] of [
    [
      'parquet',
      { encoding: { format: 'parquet' }, storage: { root: '/tmp' } },
      /encoding\.format 'parquet' is not supported; tap-scarf writes jsonl/,
    ],
    [
      'a bucket',
      { encoding: { format: 'jsonl' }, storage: { root: 's3://bucket/x' } },
      /storage\.root 's3:\/\/bucket\/x' is not local/,
    ],
    [
      'bzip2',
      { encoding: { format: 'jsonl', compression: 'bzip2' }, storage: { root: '/tmp' } },
      /compression 'bzip2' is not supported; use gzip or none/,
    ],
    ['no storage', { encoding: { format: 'jsonl' } }, /Setting 'batch_config' is missing 'storage'/],
  ] as const)
    it(`refuses batch_config with ${what} before any request, exit 1`, async () => {
      const run = await runInProcess(['--config', suite.config({ batch_config: batch })]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(message);
      expect(suite.sim.requests).to.have.length(0);
    });
});

describe('the other Meltano SDK settings: stream_maps refused, flattening accepted', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 3,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 20,
      companies: 3,
    },
    { start_date: START, end_date: '2026-10-02' },
  );

  it('stream_maps: exit 1 before any request, no output, the error names meltano-map-transform', async () => {
    const run = await runInProcess([
      '--config',
      suite.config({ stream_maps: { events: { origin_ip: 'md5(origin_ip)' } }, stream_map_config: { salt: 'x' } }),
    ]);
    expect(run.code).to.equal(1);
    expect(run.stdout, 'no record leaves untransformed').to.equal('');
    expect(run.stderr).to.match(/Setting 'stream_maps'.*does not apply stream maps.*meltano-map-transform/);
    expect(suite.sim.requests).to.have.length(0);
  });

  it('stream_maps from TAP_SCARF_STREAM_MAPS (how Meltano passes a custom setting) is refused too; an empty one is not', async () => {
    const env = { TAP_SCARF_API_TOKEN: undefined } as Record<string, string | undefined>;
    const refused = await runInProcess(['--config', suite.config(), '--config', 'ENV'], {
      env: { ...env, TAP_SCARF_STREAM_MAPS: '{"events":{"__filter__":"false"}}' },
    });
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/Setting 'stream_maps' \(from TAP_SCARF_\* environment variables\)/);
    const empty = await runInProcess(['--config', suite.config({ stream_maps: {} })]);
    expect(empty.code, empty.stderr).to.equal(0);
  });

  it('flattening_enabled: the records are the records as they are (every stream is flat)', async () => {
    const plain = await runInProcess(['--config', suite.config()]);
    const flat = await runInProcess(['--config', suite.config({ flattening_enabled: true, flattening_max_depth: 3 })]);
    expect(flat.code, flat.stderr).to.equal(0);
    const strip = (r: TapRun) => r.messages.filter((m) => m.type === 'RECORD').map((m) => m.record);
    expect(strip(flat)).to.deep.equal(strip(plain));
    expect(flat.stderr).to.not.match(/unknown setting/);
  });
});
