// What an Airbyte user reads: errors in Airbyte's terms (no TAP_SCARF_* hints the platform
// cannot act on), Singer METRIC lines demoted to DEBUG, and a failed stream's TRACE message
// naming the stream and the window once.
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { airbyteCatalog } from '../../src/airbyte/catalog.js';
import { ConfigError, DataError, TransientError } from '../../src/errors.js';
import { streamFailure } from '../../src/protocol/airbyte.js';
import { runInProcess } from '../helpers/in-process.js';
import { protocolProblems } from '../helpers/protocol.js';
import { type TapRun, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('Airbyte messages speak Airbyte', function () {
  this.timeout(60_000);
  let sim: ScarfSimulator;
  let dir: string;
  const config = (extra: Record<string, unknown> = {}) =>
    writeJson(dir, `config-${Math.random().toString(36).slice(2)}.json`, {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: day(-4),
      end_date: day(-3),
      ...extra,
    });
  const catalog = (names: string[]) =>
    writeJson(dir, `catalog-${names.join('-')}.json`, {
      streams: airbyteCatalog()
        .streams.filter((s) => names.includes(s.name))
        .map((stream) => ({
          stream,
          sync_mode: 'incremental',
          cursor_field: stream.default_cursor_field,
          destination_sync_mode: 'append',
        })),
    });
  async function airbyte(args: string[], env: Record<string, string | undefined> = {}): Promise<TapRun> {
    const run = await runInProcess(args, { env });
    expect(protocolProblems(run.stdout), args.join(' ')).to.deep.equal([]);
    return run;
  }
  const logs = (run: TapRun) => run.messages.filter((m) => m.type === 'LOG').map((m) => m.log);
  const traceErrors = (run: TapRun) =>
    run.messages.filter((m) => m.type === 'TRACE' && m.trace.type === 'ERROR').map((m) => m.trace.error);

  before(async () => {
    sim = new ScarfSimulator({ seed: 3, token: TOKEN, dataStart: day(-30), dataEnd: day(-1), now: new Date(), eventsPerDay: 10 });
    await sim.start();
    dir = tmpDir('tap-scarf-airbyte-messages-');
  });
  after(async () => sim?.stop());
  beforeEach(() => sim.clearFaults());

  it('check and read with a setting missing: the message names the config, not TAP_SCARF_* variables', async () => {
    const file = config({ api_token: undefined });
    const check = await airbyte(['check', '--config', file]);
    const status = check.messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus;
    expect(status.status).to.equal('FAILED');
    expect(status.message).to.equal(
      "Invalid configuration: Missing required setting 'api_token': set it in the config file. Scarf API token (app.scarf.sh → account settings → API tokens). Sent as a bearer token; never printed.",
    );
    const read = await airbyte(['read', '--config', file, '--catalog', catalog(['events'])]);
    expect(read.code).to.equal(1);
    expect(traceErrors(read).map((e) => e.message)).to.deep.equal([status.message]);
    const missing = await airbyte(['check', '--config', `${dir}/nope.json`]);
    expect(missing.messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus.message).to.equal(
      `Cannot read config file ${dir}/nope.json: ENOENT. Pass an existing JSON file with --config.`,
    );
    for (const run of [check, read, missing]) expect(run.stdout).to.not.include('TAP_SCARF_');
  });

  it('--config ENV (a container given TAP_SCARF_* variables) still names the variable', async () => {
    const run = await airbyte(['check', '--config', 'ENV'], { TAP_SCARF_OWNER: 'acme-oss', TAP_SCARF_API_TOKEN: undefined });
    expect(run.messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus.message).to.include(
      'set it in the config file or as TAP_SCARF_API_TOKEN',
    );
  });

  it('METRIC lines are DEBUG LOG messages; INFO carries no METRIC', async () => {
    const run = await airbyte(['read', '--config', config(), '--catalog', catalog(['events', 'company_rollup'])]);
    expect(run.code, run.stderr).to.equal(0);
    const metrics = logs(run).filter((l) => l.message.startsWith('METRIC: '));
    expect(metrics.length, 'the record counters and request timers are still there').to.be.greaterThan(2);
    expect([...new Set(metrics.map((l) => l.level))]).to.deep.equal(['DEBUG']);
    expect(logs(run).filter((l) => l.level !== 'DEBUG' && l.message.includes('METRIC'))).to.deep.equal([]);
    // Singer keeps them at INFO on stderr, as Singer SDK taps print them.
    const singer = await runInProcess(['--config', config()]);
    expect(singer.stderr).to.match(/^INFO METRIC: \{"type":"counter"/m);
  });

  it('a failed stream says "Stream X failed:" and names the window once', async () => {
    sim.setFaults([{ kind: 'bad-json-line', endpoint: 'aggregates', nth: 1, afterRows: 1 }]);
    const run = await airbyte(['read', '--config', config({ start_date: day(-3) }), '--catalog', catalog(['aggregates'])]);
    expect(run.code).to.equal(1);
    const [err, summary, ...more] = traceErrors(run);
    expect(more).to.deep.equal([]);
    const detail = `window ${day(-3)}..${day(-3)}: NDJSON line 2 is not valid JSON`;
    expect(err.stream_descriptor).to.deep.equal({ name: 'aggregates' });
    expect(err.message.startsWith(`Stream aggregates failed: ${detail}`), err.message).to.equal(true);
    expect(err.message.split('aggregates').length - 1, err.message).to.equal(1);
    // The read's closing error lists the failed streams, again each said once.
    expect(summary.stream_descriptor).to.equal(undefined);
    expect(summary.message.startsWith(`1 of 1 stream(s) failed: aggregates: ${detail}`), summary.message).to.equal(true);
    expect(summary.message.split('aggregates').length - 1, summary.message).to.equal(1);
    expect(
      logs(run)
        .filter((l) => l.level === 'ERROR')
        .map((l) => l.message),
    ).to.include(summary.message);
  });

  it('streamFailure: data errors, window-labelled errors and plain errors', () => {
    const eventsDay = { stream: 'events', window: 'events 2026-10-02..2026-10-02' };
    expect(
      streamFailure(
        'events',
        new DataError('Stream events, window events 2026-10-02..2026-10-02, row 5: column "time": bad').at(eventsDay),
      ),
    ).to.equal('Stream events failed: window 2026-10-02..2026-10-02, row 5: column "time": bad');
    const rollup = { stream: 'company_rollup', window: 'company-rollup snapshot' };
    expect(
      streamFailure(
        'company_rollup',
        new DataError('Stream company_rollup, window company-rollup snapshot, row 3: x').at(rollup),
      ),
    ).to.equal('Stream company_rollup failed: window snapshot, row 3: x');
    const label = { window: 'events 2026-10-01..2026-10-01' };
    expect(
      streamFailure('events', new TransientError('events 2026-10-01..2026-10-01: giving up after 3 attempts').at(label)),
    ).to.equal('Stream events failed: window 2026-10-01..2026-10-01: giving up after 3 attempts');
    expect(streamFailure('events', new ConfigError('Scarf rejected the API token (HTTP 401).'))).to.equal(
      'Stream events failed: Scarf rejected the API token (HTTP 401).',
    );
    // A label that says more than the days keeps its words; a place the message does not begin with is not taken.
    const company = { window: 'company_events acme.com 2026-10-01..2026-10-01' };
    expect(streamFailure('company_events', new TransientError(`${company.window}: giving up`).at(company))).to.equal(
      `Stream company_events failed: ${company.window}: giving up`,
    );
    const other = new TransientError('giving up').at(label);
    expect([other.window, other.stream, other.afterPlace]).to.deep.equal([undefined, undefined, 'giving up']);
    // The text alone decides nothing: without the fields, a message that looks placed stays whole.
    expect(streamFailure('events', new TransientError('events 2026-10-01..2026-10-01: giving up'))).to.equal(
      'Stream events failed: events 2026-10-01..2026-10-01: giving up',
    );
  });
});
