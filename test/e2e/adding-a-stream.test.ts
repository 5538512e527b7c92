// docs/DESIGN.md "Adding a stream", proven: a toy stream given by its schema and its one
// module (test/fixtures/toy-stream/) and no other change is synced end to end, in process,
// under both protocols: its SCHEMA or CATALOG keys, its records equal to the simulator's
// ground truth, its bookmark in the STATE, and the plan counting the requests it makes.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

import { expect } from 'chai';

import type { StreamSelection } from '../../src/catalog.js';
import { validateSettings } from '../../src/config/load.js';
import { getLogSink, setLogSink } from '../../src/log.js';
import { AirbyteWriter } from '../../src/protocol/airbyte.js';
import { LineWriter } from '../../src/protocol/output.js';
import { SingerWriter } from '../../src/protocol/singer.js';
import { makeClient } from '../../src/scarf/from-settings.js';
import type { StreamSchema } from '../../src/schemas.js';
import { StateStore } from '../../src/state.js';
import { planSync } from '../../src/streams/plan/sync-plan.js';
import { addStreams } from '../../src/streams/registry.js';
import { makeContext, runSync } from '../../src/sync.js';
import { TOY, toyViews } from '../fixtures/toy-stream/toy-views.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { repoRoot } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-06';
const SIM_NOW = new Date('2026-10-10T12:00:00Z');

describe('adding a stream: a toy stream from its schema and one module, synced in process', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 7,
      dataStart: '2026-09-20',
      dataEnd: '2026-10-08',
      now: SIM_NOW,
      eventsPerDay: 30,
      companies: 4,
      duplicateRate: 0.05,
    },
    {},
  );
  const schema = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'toy-stream', 'toy_views.json'), 'utf8'),
  ) as StreamSchema;
  let remove: (() => void) | undefined;
  before(() => {
    remove = addStreams([{ module: toyViews, schema }]);
  });
  after(() => remove?.());

  const selection: StreamSelection = {
    stream: TOY,
    fields: Object.keys(schema.properties),
    replicationKey: 'time',
    replicationMethod: 'INCREMENTAL',
  };

  async function sync(protocol: 'singer' | 'airbyte', state: StateStore) {
    const settings = validateSettings({
      api_token: suite.sim.options.token,
      owner: 'acme-oss',
      base_url: suite.sim.url,
      start_date: START,
      end_date: END,
      events_window_days: 2,
      lookback_days: 1,
    });
    const chunks: Buffer[] = [];
    const lines = new LineWriter(
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          chunks.push(Buffer.from(chunk));
          cb();
        },
      }),
    );
    const writer = protocol === 'singer' ? new SingerWriter(lines) : new AirbyteWriter(lines);
    const client = makeClient(settings);
    const logged: string[] = [];
    const before = getLogSink();
    setLogSink((level, message) => logged.push(`${level} ${message}`));
    try {
      const ctx = makeContext(settings, state, client, SIM_NOW);
      const planned = planSync(ctx, [selection], false).plan;
      await runSync(ctx, [selection], writer);
      await lines.end();
      const messages = Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, any>);
      return { messages, logged, planned: planned.total, requests: client.requestCount };
    } finally {
      setLogSink(before);
      await client.close();
    }
  }

  const truthIds = () =>
    suite.sim.truth
      .pixelEvents({ start: START, end: END })
      .map((r) => r.id as string)
      .sort();

  it('Singer: SCHEMA with its keys, the ground truth as RECORDs (each id once), its bookmark in the STATE, the planned requests made', async () => {
    const state = new StateStore();
    const run = await sync('singer', state);
    const schemaMsg = run.messages.find((m) => m.type === 'SCHEMA');
    expect(schemaMsg).to.include({ stream: TOY });
    expect(schemaMsg!.key_properties).to.deep.equal(['owner', 'id']);
    const recs = run.messages.filter((m) => m.type === 'RECORD');
    expect(recs.every((m) => m.stream === TOY && m.record.owner === 'acme-oss')).to.equal(true);
    const ids = recs.map((m) => m.record.id as string).sort();
    expect(ids.length).to.be.greaterThan(0);
    expect(ids).to.deep.equal(truthIds());
    const last = run.messages.filter((m) => m.type === 'STATE').at(-1)!;
    expect(last.value.bookmarks[TOY]).to.include({ replication_key: 'time' });
    expect(last.value.bookmarks[TOY].replication_key_value).to.match(/^2026-10-0[67]T/);
    // 3 windows of 2 days: what the plan said, what the simulator was asked.
    expect(run.planned).to.equal(3);
    expect(run.requests).to.equal(3);
    expect(suite.sim.requests.filter((r) => r.endpoint === 'pixel-events')).to.have.length(3);
    expect(run.logged.some((l) => l.startsWith(`INFO ${TOY}: ${ids.length} records`))).to.equal(true);
  });

  it('Airbyte: RECORDs of the stream, its per-stream STATE, COMPLETE; a second sync resumes from that bookmark', async () => {
    const state = new StateStore();
    const run = await sync('airbyte', state);
    const recs = run.messages.filter((m) => m.type === 'RECORD');
    expect(recs.every((m) => m.record.stream === TOY)).to.equal(true);
    expect(recs.map((m) => m.record.data.id as string).sort()).to.deep.equal(truthIds());
    const states = run.messages.filter((m) => m.type === 'STATE');
    expect(states.at(-1)!.state.stream.stream_descriptor).to.deep.equal({ name: TOY });
    expect(states.at(-1)!.state.stream.stream_state.replication_key).to.equal('time');
    const statuses = run.messages
      .filter((m) => m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS')
      .map((m) => m.trace.stream_status.status as string);
    expect(statuses).to.deep.equal(['STARTED', 'RUNNING', 'COMPLETE']);
    // From the bookmark minus lookback_days: only the last window is read again.
    suite.sim.resetRequests();
    const again = await sync('airbyte', state);
    expect(again.planned).to.equal(again.requests);
    expect(suite.sim.requests.filter((r) => r.endpoint === 'pixel-events').length).to.equal(again.requests);
    expect(again.requests).to.be.lessThan(3);
  });
});
