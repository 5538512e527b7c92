// The Airbyte face, end to end: the CLI (in process, helpers/in-process.ts) against the simulator, every stdout line
// checked against the Airbyte protocol definition, and the checks Airbyte's connector
// acceptance tests run (spec, check, discover, basic read, full refresh, incremental,
// far-future state, resuming from intermediate state), plus Singer ≡ Airbyte records.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { airbyteCatalog, selectionFromConfiguredCatalog } from '../../src/airbyte/catalog.js';
import { airbyteStateToTapState } from '../../src/airbyte/state.js';
import { newAjv } from '../../src/ajv.js';
import { getLogSink, setLogSink } from '../../src/log.js';
import { STREAM_NAMES, type StreamName } from '../../src/schemas.js';
import { runInProcess } from '../helpers/in-process.js';
import { airbyteOutput, keyOf, type Msg, singerOutput, type TapOutput } from '../helpers/output.js';
import { protocolProblems, protocolValidators } from '../helpers/protocol.js';
import { catalogFor } from '../helpers/reliability.js';
import { loadRepoJson } from '../helpers/schemas.js';
import { parseLines, repoRoot, type RunOptions, runTap, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const execFileP = promisify(execFile);

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
// Dates relative to today: the tap never reads past today, whatever clock CI has.
const START = day(-10);
const END = day(-8);

/** Every record of a run as one sortable line: stream, declared key, the whole record. */
function sortedRecords(out: TapOutput): string[] {
  return [...out.recordsByStream()]
    .flatMap(([stream, rows]) => rows.map((r) => `${stream}\u0000${keyOf(stream, r)}\u0000${JSON.stringify(r)}`))
    .sort();
}

describe('Airbyte source (spec, check, discover, read)', function () {
  this.timeout(60_000);
  let sim: ScarfSimulator;
  let dir: string;
  let catalog: { streams: Msg[] };

  const baseConfig = (extra: Record<string, unknown> = {}) => ({
    api_token: TOKEN,
    owner: 'acme-oss',
    base_url: sim.url,
    start_date: START,
    end_date: END,
    aggregates_breakdowns: ['by-total', 'by-country'],
    ...extra,
  });
  const configFile = (extra: Record<string, unknown> = {}) =>
    writeJson(dir, `config-${Math.random().toString(36).slice(2)}.json`, baseConfig(extra));

  /** A ConfiguredAirbyteCatalog as the platform writes it. */
  function configured(
    streams: { name: StreamName; mode?: 'incremental' | 'full_refresh'; cursor?: string[]; fields?: string[] }[],
  ): Msg {
    const value = {
      streams: streams.map((s) => {
        const stream = structuredClone(catalog.streams.find((x) => x.name === s.name)!);
        if (s.fields)
          stream.json_schema.properties = Object.fromEntries(s.fields.map((f) => [f, stream.json_schema.properties[f]]));
        const mode = s.mode ?? 'incremental';
        return {
          stream,
          sync_mode: mode,
          ...(mode === 'incremental' ? { cursor_field: s.cursor ?? stream.default_cursor_field } : {}),
          destination_sync_mode: mode === 'incremental' ? 'append_dedup' : 'overwrite',
          primary_key: stream.source_defined_primary_key,
        };
      }),
    };
    const v = protocolValidators();
    if (v) expect(v.configuredCatalog(value), 'the test builds a valid ConfiguredAirbyteCatalog').to.equal(undefined);
    return value;
  }
  const catalogFile = (value: Msg) => writeJson(dir, `catalog-${Math.random().toString(36).slice(2)}.json`, value);
  const stateFile = (value: unknown) => writeJson(dir, `state-${Math.random().toString(36).slice(2)}.json`, value);

  /** Runs an Airbyte command and insists every stdout line is a valid AirbyteMessage. */
  async function airbyte(args: string[], opts: RunOptions = {}): Promise<TapOutput> {
    // A run stopped by a signal needs a process; the rest run in this one.
    const run = await (opts.killAfterLines ? runTap : runInProcess)(args, opts);
    expect(protocolProblems(run.stdout), `stdout of ${args[0]}`).to.deep.equal([]);
    expect(run.stdout, 'the token never reaches stdout').not.to.include(TOKEN);
    expect(run.stderr, 'the token never reaches stderr').not.to.include(TOKEN);
    return airbyteOutput(run);
  }

  async function read(config: string, cat: Msg, state?: unknown, opts: RunOptions = {}): Promise<TapOutput> {
    const args = ['read', '--config', config, '--catalog', catalogFile(cat)];
    if (state !== undefined) args.push('--state', stateFile(state));
    return airbyte(args, opts);
  }

  const allIncremental = () => configured(STREAM_NAMES.map((name) => ({ name })));

  before(async () => {
    sim = new ScarfSimulator({
      seed: 11,
      token: TOKEN,
      dataStart: day(-40),
      dataEnd: day(-1),
      now: new Date(),
      eventsPerDay: 25,
      companies: 5,
      lateRate: 0,
    });
    await sim.start();
    dir = tmpDir('tap-scarf-airbyte-');
    const run = await airbyte(['discover', '--config', configFile()]);
    catalog = run.ofType('CATALOG')[0]!.catalog;
  });
  after(async () => sim?.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  it('finds the Airbyte protocol definition (or says the validation is skipped)', function () {
    if (!protocolValidators()) this.skip();
    expect(
      protocolProblems('{"type":"RECORD","record":{"stream":"x","data":{}}}\n'),
      'a RECORD without emitted_at is rejected',
    ).to.have.length(1);
  });

  describe('spec', () => {
    it('prints one SPEC: spec.json with documentationUrl, secrets marked airbyte_secret (source-scarf bin)', async () => {
      const r = await execFileP(process.execPath, [path.join(repoRoot, 'bin', 'source-scarf.js'), 'spec'], { encoding: 'utf8' });
      expect(protocolProblems(r.stdout)).to.deep.equal([]);
      const run = airbyteOutput({ code: 0, signal: null, stderr: r.stderr, stdout: r.stdout, ...parseLines(r.stdout) });
      expect(run.code, run.stderr).to.equal(0);
      const specs = run.ofType('SPEC');
      expect(specs).to.have.length(1);
      const spec = specs[0]!.spec;
      const file = loadRepoJson('spec.json');
      expect(spec.connectionSpecification).to.deep.equal(file.connectionSpecification);
      expect(spec.documentationUrl)
        .to.equal(file.documentationUrl)
        .and.match(/^https:\/\//);
      expect(spec.supportsIncremental).to.equal(true);
      const props = spec.connectionSpecification.properties;
      expect(props.api_token.airbyte_secret).to.equal(true);
      for (const [name, p] of Object.entries<any>(props)) {
        if (/token|secret|password|api_key/.test(name)) expect(p.airbyte_secret, `${name} is a secret`).to.equal(true);
      }
      // The connection specification is a usable JSON schema that accepts a real config.
      const ajv = newAjv();
      const validate = ajv.compile(spec.connectionSpecification);
      expect(validate(baseConfig()), ajv.errorsText(validate.errors)).to.equal(true);
      expect(validate({ owner: 'x' })).to.equal(false);
    });
  });

  describe('check', () => {
    async function check(config: Record<string, unknown>): Promise<{ run: TapOutput; status: Msg }> {
      const run = await airbyte([
        'check',
        '--config',
        writeJson(dir, `check-${Math.random().toString(36).slice(2)}.json`, config),
      ]);
      expect(run.code, `check exits 0 whatever the answer\n${run.stdout}`).to.equal(0);
      const statuses = run.ofType('CONNECTION_STATUS');
      expect(statuses).to.have.length(1);
      return { run, status: statuses[0]!.connectionStatus };
    }

    it('SUCCEEDED with a good config, for exactly one small request', async () => {
      const { status } = await check(baseConfig());
      expect(status.status).to.equal('SUCCEEDED');
      expect(sim.requests.map((r) => r.endpoint)).to.deep.equal(['aggregates']);
      expect(sim.requests[0]!.query.breakdown).to.deep.equal(['by-total']);
      expect(sim.requests[0]!.query.start_date).to.deep.equal(sim.requests[0]!.query.end_date);
    });

    it('FAILED with a bad token, saying to fix api_token', async () => {
      const { status } = await check(baseConfig({ api_token: 'wrong-token-xyz' }));
      expect(status.status).to.equal('FAILED');
      expect(status.message).to.match(/api_token/);
    });

    it('FAILED with an unknown owner, saying to fix owner', async () => {
      const { status } = await check(baseConfig({ owner: 'no-such-owner' }));
      expect(status.status).to.equal('FAILED');
      expect(status.message).to.match(/owner/).and.match(/404/);
    });

    it('FAILED when the plan is not eligible for export', async () => {
      sim.setOptions({ plan: 'free' });
      try {
        const { status } = await check(baseConfig());
        expect(status.status).to.equal('FAILED');
        expect(status.message)
          .to.match(/plan/)
          .and.match(/not eligible/);
      } finally {
        sim.setOptions({ plan: 'pro' });
      }
    });

    it('FAILED with an invalid config or an unreachable host (no crash, exit 0)', async () => {
      const missing = await check({ ...baseConfig(), owner: undefined });
      expect(missing.status.status).to.equal('FAILED');
      expect(missing.status.message).to.match(/owner/);
      const unreachable = await check(baseConfig({ base_url: 'http://127.0.0.1:9' }));
      expect(unreachable.status.status).to.equal('FAILED');
      // A loopback address that refuses is final at once (issue 18), in check as in a sync.
      expect(unreachable.status.message).to.match(
        /127\.0\.0\.1:9 refused the connection \(ECONNREFUSED: nothing listens on that port of this machine\).* check the base_url setting/,
      );
    });
  });

  describe('discover', () => {
    it('prints a CATALOG derived from schemas/ and the stream definitions', async () => {
      expect(catalog.streams.map((s) => s.name)).to.deep.equal([...STREAM_NAMES]);
      const ajv = newAjv();
      for (const s of catalog.streams) {
        expect(s.supported_sync_modes).to.deep.equal(['full_refresh', 'incremental']);
        const file = loadRepoJson(`schemas/${s.name}.json`);
        expect(Object.keys(s.json_schema.properties)).to.deep.equal(Object.keys(file.properties));
        expect(() => ajv.compile(s.json_schema)).not.to.throw();
        for (const [k] of s.source_defined_primary_key)
          expect(s.json_schema.required, `${s.name} key ${k} is never null`).to.include(k);
      }
      const byName = Object.fromEntries(catalog.streams.map((s) => [s.name, s]));
      expect(byName.events.source_defined_cursor).to.equal(true);
      expect(byName.events.default_cursor_field).to.deep.equal(['time']);
      expect(byName.events.source_defined_primary_key).to.deep.equal([['owner'], ['id']]);
      expect(byName.aggregates.source_defined_primary_key).to.deep.equal([['owner'], ['row_key']]);
      expect(byName.company_rollup.source_defined_primary_key).to.deep.equal([['owner'], ['company_domain']]);
      expect(byName.company_events.source_defined_primary_key).to.deep.equal([['owner'], ['id']]);
      expect(byName.company_rollup.source_defined_cursor, 'the user picks last_seen or first_seen').to.equal(false);
      expect(byName.company_rollup.default_cursor_field).to.deep.equal(['last_seen']);
      expect(byName.company_events.default_cursor_field).to.deep.equal(['time']);
    });

    it('fails with TRACE ERROR config_error on an invalid config', async () => {
      const run = await airbyte(['discover', '--config', writeJson(dir, 'bad-discover.json', { api_token: TOKEN })]);
      expect(run.code).to.equal(1);
      const error = run.traces('ERROR').at(-1)!.error;
      expect(error.failure_type).to.equal('config_error');
      expect(error.message).to.match(/owner/);
    });
  });

  describe('read', () => {
    let first: TapOutput;
    let config: string;

    before(async () => {
      config = configFile();
      first = await read(config, allIncremental());
    });

    it('basic read: records in every stream, each valid against its json_schema (formats on)', () => {
      expect(first.code, first.stdout.slice(-3000)).to.equal(0);
      expect(first.stderr.trim(), 'Airbyte logs go to stdout as LOG messages').to.equal('');
      expect(first.logs.length).to.be.greaterThan(0);
      const ajv = newAjv({ allErrors: true });
      for (const s of catalog.streams) {
        const validate = ajv.compile(s.json_schema);
        const recs = first.records(s.name);
        expect(recs.length, `records in ${s.name}`).to.be.greaterThan(0);
        for (const r of recs) expect(validate(r), `${s.name}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
      }
    });

    it('per stream: STARTED, RUNNING before the first record, STATE after the records it covers, COMPLETE last', () => {
      for (const stream of STREAM_NAMES) {
        const mine = first.messages.filter(
          (m) =>
            (m.type === 'RECORD' && m.record.stream === stream) ||
            (m.type === 'STATE' && m.state.stream.stream_descriptor.name === stream) ||
            (m.type === 'TRACE' && m.trace.type === 'STREAM_STATUS' && m.trace.stream_status.stream_descriptor.name === stream),
        );
        const kinds = mine.map((m) => (m.type === 'TRACE' ? m.trace.stream_status.status : m.type));
        expect(kinds[0], stream).to.equal('STARTED');
        // RUNNING comes with the first record (an empty first window may checkpoint before it).
        expect(
          kinds.filter((k) => k === 'RUNNING'),
          stream,
        ).to.have.length(1);
        expect(kinds[kinds.indexOf('RECORD') - 1], stream).to.be.oneOf(['RUNNING']);
        expect(
          kinds.slice(1, kinds.indexOf('RUNNING')).every((k) => k === 'STATE'),
          stream,
        ).to.equal(true);
        expect(kinds.at(-1), stream).to.equal('COMPLETE');
        expect(kinds.at(-2), `${stream}: the last STATE comes after the last record`).to.equal('STATE');
        // sourceStats.recordCount counts the records since the previous STATE of the stream.
        let since = 0;
        for (const m of mine) {
          if (m.type === 'RECORD') since++;
          if (m.type === 'STATE') {
            expect(m.state.type).to.equal('STREAM');
            expect(m.state.sourceStats.recordCount, stream).to.equal(since);
            since = 0;
          }
        }
        expect(first.stdout).to.match(/"recordCount":\d+\.0\}/);
      }
    });

    it('the Singer and Airbyte modes emit the same records, record by record, and the same bookmarks', async () => {
      // Every stream, as the Airbyte catalog configures them (the 2026 exports are opt-in without a catalog).
      const every = writeJson(dir, 'singer-every-stream.json', catalogFor([...STREAM_NAMES]));
      const singer = singerOutput(await runInProcess(['--config', config, '--catalog', every]));
      expect(singer.code, singer.stderr).to.equal(0);
      const fromAirbyte = sortedRecords(first);
      expect(fromAirbyte.length).to.be.greaterThan(0);
      expect(fromAirbyte).to.deep.equal(sortedRecords(singer));
      // stream_state is exactly that stream's Singer bookmark object.
      expect(Object.keys(first.lastState!.bookmarks)).to.deep.equal([...STREAM_NAMES]);
      expect(first.lastState!.bookmarks).to.deep.equal(singer.lastState!.bookmarks);
    });

    it('two full-refresh reads give the same records, and ignore state', async () => {
      const cat = configured(STREAM_NAMES.map((name) => ({ name, mode: 'full_refresh' as const })));
      const a = await read(config, cat);
      const b = await read(config, cat, first.storedState);
      expect(a.code).to.equal(0);
      expect(b.code).to.equal(0);
      expect(sortedRecords(a).length).to.be.greaterThan(0);
      expect(sortedRecords(b)).to.deep.equal(sortedRecords(a));
      expect(sortedRecords(a)).to.deep.equal(sortedRecords(first));
    });

    it("two sequential incremental reads: the second, from the first's state, gives fewer records and loses none", async () => {
      const second = await read(config, allIncremental(), first.storedState);
      expect(second.code, second.stdout.slice(-2000)).to.equal(0);
      expect(second.records().length).to.be.lessThan(first.records().length);
      for (const stream of STREAM_NAMES) {
        expect(second.states(stream).length, `STATE for ${stream}`).to.be.greaterThan(0);
        const a = first.keyed(stream);
        for (const [k, r] of second.keyed(stream))
          expect(a.get(k), `${stream} ${k} is a record the first read had too`).to.deep.equal(r);
      }
      // Time passes (a later end_date): the incremental read from the state plus the first
      // read hold every record a fresh read of the whole range returns.
      const later = configFile({ end_date: day(-6) });
      const next = await read(later, allIncremental(), first.storedState);
      const fresh = await read(later, allIncremental());
      expect(next.code).to.equal(0);
      expect(fresh.code).to.equal(0);
      expect(next.records().length).to.be.lessThan(fresh.records().length);
      for (const stream of STREAM_NAMES) {
        const seen = new Set([...first.keyed(stream).keys(), ...next.keyed(stream).keys()]);
        const lost = [...fresh.keyed(stream).keys()].filter((k) => !seen.has(k));
        expect(lost, `${stream}: records lost by reading incrementally`).to.deep.equal([]);
      }
    });

    // A bookmark past the signpost: test/e2e/state-settings.test.ts.

    it('reading from any intermediate STATE loses no record after it (throttle interval lifted)', async () => {
      const cfg = configFile({ aggregates_window_days: 1 });
      const multiWindow = ['events', 'aggregates', 'company_events'] as const;
      // The byte rule alone lets intermediate states through in a read this short.
      const full = await read(cfg, configured(multiWindow.map((name) => ({ name }))), undefined, {
        env: { TAP_SCARF_STATE_INTERVAL_MS: '0' },
      });
      expect(full.code).to.equal(0);
      for (const stream of multiWindow) {
        const mine = full.messages.filter(
          (m) =>
            (m.type === 'RECORD' && m.record.stream === stream) ||
            (m.type === 'STATE' && m.state.stream.stream_descriptor.name === stream),
        );
        const stateAt = mine.map((m, i) => (m.type === 'STATE' ? i : -1)).filter((i) => i >= 0);
        const intermediate = stateAt.slice(0, -1);
        expect(intermediate.length, `${stream} has intermediate states`).to.be.greaterThan(0);
        // The first and the middle one: each resume is a whole process, and both kinds of
        // position (right after the start, mid-way) are covered.
        for (const i of [...new Set([intermediate[0]!, intermediate[Math.floor(intermediate.length / 2)]!])]) {
          const after = mine
            .slice(i + 1)
            .filter((m) => m.type === 'RECORD')
            .map((m) => m.record.data);
          const resumed = await read(cfg, configured([{ name: stream }]), [mine[i]!.state]);
          expect(resumed.code).to.equal(0);
          const got = resumed.keyed(stream);
          const lost = after.map((r) => keyOf(stream, r)).filter((k) => !got.has(k));
          expect(lost, `${stream}: records after STATE #${i} missing when resuming from it`).to.deep.equal([]);
          expect(resumed.records().length, `${stream}: resuming re-reads less than everything`).to.be.lessThan(
            full.records(stream).length + 1,
          );
        }
      }
    });

    it('honours the configured catalog: streams, cursor_field (company_rollup first_seen) and columns', async () => {
      const run = await read(
        config,
        configured([
          { name: 'company_rollup', cursor: ['first_seen'] },
          { name: 'events', fields: ['id', 'time', 'type'] },
        ]),
      );
      expect(run.code).to.equal(0);
      expect(new Set(run.recordsByStream().keys())).to.deep.equal(new Set(['events', 'company_rollup']));
      for (const r of run.records('events')) expect(Object.keys(r)).to.deep.equal(['owner', 'id', 'type', 'time']);
      expect(run.bookmark('company_rollup')!.replication_key).to.equal('first_seen');
    });

    it('SIGTERM mid-read: the last safe STATE, INCOMPLETE, valid output, non-zero exit', async () => {
      sim.setOptions({ latencyMs: 50 });
      try {
        const run = await read(
          configFile({ max_concurrent_requests: 1 }),
          configured([{ name: 'events' }, { name: 'company_events' }]),
          undefined,
          {
            killAfterLines: { lines: 6, signal: 'SIGTERM' },
          },
        );
        expect(run.code).to.equal(143);
        const statuses = run.traces('STREAM_STATUS').map((t) => t.stream_status.status);
        expect(statuses.at(-1)).to.equal('INCOMPLETE');
        expect(run.states('events').length).to.be.greaterThan(0);
        expect(run.logs.at(-1)!.message).to.match(/Stopped by a signal/);
      } finally {
        sim.setOptions({ latencyMs: 0 });
      }
    });

    it('a bad token fails the read with TRACE ERROR config_error and a non-zero exit', async () => {
      const run = await read(configFile({ api_token: 'not-the-token' }), allIncremental());
      expect(run.code).to.not.equal(0);
      const errors = run.traces('ERROR');
      expect(errors.length).to.be.greaterThan(0);
      for (const e of errors) expect(e.error.failure_type).to.equal('config_error');
      expect(run.errors.at(-1)).to.match(/api_token/);
      expect(run.records()).to.deep.equal([]);
      // Stops at the first stream: the same token would fail every other one. Each selected
      // stream still gets a status, and the closing error counts them, naming the cause once.
      expect(
        run.traces('STREAM_STATUS').map((t) => [t.stream_status.stream_descriptor.name, t.stream_status.status]),
      ).to.deep.equal([
        ['events', 'STARTED'],
        ['events', 'INCOMPLETE'],
        ['aggregates', 'INCOMPLETE'],
        ['company_rollup', 'INCOMPLETE'],
        ['company_events', 'INCOMPLETE'],
        ['pixel_events', 'INCOMPLETE'],
        ['company_package_rollup', 'INCOMPLETE'],
        ['company_pixel_rollup', 'INCOMPLETE'],
        ['aggregations', 'INCOMPLETE'],
      ]);
      const closing = errors.at(-1)!.error.message as string;
      expect(closing).to.match(
        /^Scarf rejected the API token .* No selected stream could sync: events met this first \(request: aggregates counts .*\), and 7 other selected stream\(s\) did not run \(aggregates, company_rollup, company_events, pixel_events, company_package_rollup, company_pixel_rollup, aggregations\): the same cause would fail them\.$/,
      );
      expect(closing.match(/api_token/g)).to.have.length(1);
    });

    it('an invalid config or catalog is a config_error; exhausted retries a transient_error; bad data a system_error', async () => {
      const badConfig = await read(
        writeJson(dir, 'bad-read.json', { ...baseConfig(), events_window_days: 'two' }),
        allIncremental(),
      );
      expect(badConfig.code).to.equal(1);
      expect(badConfig.traces('ERROR').at(-1)!.error.failure_type).to.equal('config_error');

      const badCatalog = await read(config, configured([{ name: 'company_rollup', cursor: ['total_events'] }]));
      expect(badCatalog.code).to.equal(1);
      const err = badCatalog.traces('ERROR').at(-1)!.error;
      expect(err.failure_type).to.equal('config_error');
      expect(err.message).to.match(/cursor_field.*first_seen/);

      sim.setFaults([{ kind: '503', endpoint: 'events', times: 1000 }]);
      const transient = await read(configFile({ max_retries: 1 }), configured([{ name: 'events' }]));
      expect(transient.code).to.equal(1);
      expect(transient.traces('ERROR').at(-1)!.error.failure_type).to.equal('transient_error');

      sim.setFaults([{ kind: 'malformed-row', endpoint: 'events', times: 1000 }]);
      const system = await read(configFile({ max_retries: 1 }), configured([{ name: 'events' }]));
      expect(system.code).to.equal(1);
      const last = system.traces('ERROR').at(-1)!.error;
      expect(last.failure_type).to.equal('system_error');
    });
  });
});

describe('Airbyte state and catalog translation (unit)', () => {
  const bm = { replication_key: 'time', replication_key_value: '2026-10-02T00:00:00.000000Z' };

  it("accepts the platform's array, wrapped messages, a single message, Singer state and a legacy blob", () => {
    const streamMsg = { type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: bm } };
    const expected = { bookmarks: { events: bm } };
    expect(airbyteStateToTapState([streamMsg], 't')).to.deep.equal(expected);
    expect(airbyteStateToTapState([{ type: 'STATE', state: streamMsg }], 't')).to.deep.equal(expected);
    expect(airbyteStateToTapState(streamMsg, 't')).to.deep.equal(expected);
    expect(airbyteStateToTapState({ bookmarks: { events: bm } }, 't')).to.deep.equal(expected);
    expect(airbyteStateToTapState({ events: bm }, 't')).to.deep.equal(expected);
    expect(airbyteStateToTapState([{ type: 'LEGACY', data: { bookmarks: { events: bm } } }], 't')).to.deep.equal(expected);
    expect(airbyteStateToTapState({ type: 'GLOBAL', global: { stream_states: [streamMsg.stream] } }, 't')).to.deep.equal(
      expected,
    );
    expect(airbyteStateToTapState([], 't')).to.deep.equal({ bookmarks: {} });
    // Keys another version wrote are kept; a stream with no state is just absent.
    const unknown = airbyteStateToTapState(
      [
        { type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: { ...bm, future_key: 1 } } },
        { type: 'STREAM', stream: { stream_descriptor: { name: 'aggregates' } } },
      ],
      't',
    );
    expect(unknown).to.deep.equal({ bookmarks: { events: { ...bm, future_key: 1 } } });
  });

  it('rejects state it cannot trust, with a config error that says how to recover', () => {
    const bad = [
      { type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: { replication_key_value: 'yesterday' } } },
    ];
    expect(() => airbyteStateToTapState(bad, 't')).to.throw(/not a valid date/);
    expect(() => airbyteStateToTapState([{ type: 'STREAM', stream: {} }], 't')).to.throw(/stream_descriptor/);
    expect(() => airbyteStateToTapState('x', 't')).to.throw(/JSON array/);
  });

  it('maps sync modes and keeps key, cursor and partition columns whatever the column selection', () => {
    const warnings: string[] = [];
    const previous = getLogSink();
    setLogSink((_level, message) => warnings.push(message));
    let sel;
    try {
      const cat = airbyteCatalog();
      const ce = cat.streams.find((s) => s.name === 'company_events')!;
      sel = selectionFromConfiguredCatalog(
        {
          streams: [
            {
              stream: { ...ce, json_schema: { type: 'object', properties: { type: {} } } },
              sync_mode: 'full_refresh',
              destination_sync_mode: 'overwrite',
            },
            { stream: cat.streams[2], sync_mode: 'incremental', cursor_field: ['first_seen'], destination_sync_mode: 'append' },
            {
              stream: { name: 'not_a_stream', json_schema: {}, supported_sync_modes: ['full_refresh'] },
              sync_mode: 'full_refresh',
              destination_sync_mode: 'append',
            },
          ],
        },
        't',
      );
    } finally {
      setLogSink(previous);
    }
    expect(sel.map((s) => s.stream)).to.deep.equal(['company_rollup', 'company_events']);
    expect(sel[0]!.replicationKey).to.equal('first_seen');
    expect(sel[0]!.replicationMethod).to.equal('INCREMENTAL');
    expect(sel[1]!.replicationMethod).to.equal('FULL_TABLE');
    expect(sel[1]!.fields).to.deep.equal(['owner', 'id', 'type', 'time', 'company_domain']);
    expect(warnings.join('\n')).to.match(/ignoring unknown stream 'not_a_stream'/);
  });
});
