// tap-scarf as a Meltano plugin: the Hub-style definition matches spec.json exactly, and the
// tap behaves when run the way Meltano runs it (env-only config, a catalog with selection,
// a partial state file). Also the Singer runner extras Meltano users see: --test, --test=schema
// and the terminal progress line.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

import { expect } from 'chai';
import yaml from 'js-yaml';

import { DEFAULT_TOKEN, ScarfSimulator } from '../../sim/index.js';
import { CAPABILITIES } from '../../src/about.js';
import { singerCatalog } from '../../src/catalog.js';
import { getLogSink, log, setLogSink } from '../../src/log.js';
import { formatProgress, Progress } from '../../src/progress.js';
import { clearOfMidnightUtc, utcDay } from '../helpers/clock.js';
import { runInProcess } from '../helpers/in-process.js';
import { loadRepoJson } from '../helpers/schemas.js';
import { repoRoot, runTap, type TapRun, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

// Dates on the real clock (the tap's signpost), computed once clear of midnight (test/helpers/clock.ts).
const day = utcDay;
const loadYaml = (rel: string) => yaml.load(fs.readFileSync(path.join(repoRoot, rel), 'utf8')) as Record<string, any>;

function expectedKind(name: string, p: Record<string, any>): string {
  if (p.airbyte_secret) return 'password';
  if (name === 'start_date' || name === 'end_date') return 'date_iso8601';
  if (p.enum) return 'options';
  return (
    { string: 'string', integer: 'integer', number: 'decimal', boolean: 'boolean', array: 'array', object: 'object' } as Record<
      string,
      string
    >
  )[p.type]!;
}

describe('Meltano plugin definition', () => {
  const spec = loadRepoJson('spec.json').connectionSpecification;
  const def = loadYaml('meltano/tap-scarf.yml');

  it('names the plugin as Meltano expects and declares the capabilities the tap has', () => {
    expect(def.name).to.equal('tap-scarf');
    expect(def.namespace).to.equal('tap_scarf');
    expect(def.executable).to.equal('tap-scarf');
    expect(def.pip_url, 'the Python package of python/ (the bundled tap)').to.equal(
      'git+https://github.com/tap-scarf/tap-scarf.git#subdirectory=python',
    );
    expect(def.capabilities).to.include.members(['catalog', 'discover', 'state', 'about', 'test']);
    expect(CAPABILITIES, '--about must claim what the definition claims').to.include.members(def.capabilities);
    expect(def.settings_group_validation).to.deep.equal([spec.required]);
  });

  it('lists exactly the settings of spec.json, with matching kinds, defaults, options and descriptions', () => {
    expect(def.settings.map((s: any) => s.name)).to.deep.equal(Object.keys(spec.properties));
    for (const s of def.settings) {
      const p = spec.properties[s.name];
      expect(s.kind, s.name).to.equal(expectedKind(s.name, p));
      expect(s.value, `${s.name} default`).to.deep.equal(p.default);
      expect(s.label, s.name).to.equal(p.title);
      expect(s.description, s.name)
        .to.be.a('string')
        .and.satisfy((d: string) => d.startsWith(p.description));
      expect(s.sensitive === true, `${s.name} sensitive`).to.equal(p.airbyte_secret === true);
      if (p.enum)
        expect(
          s.options.map((o: any) => o.value),
          s.name,
        ).to.deep.equal(p.enum);
    }
    expect(def.settings.find((s: any) => s.name === 'api_token')).to.include({ kind: 'password', sensitive: true });
  });

  it('has a logo_url pointing at the icon shipped in the repository', () => {
    expect(def.logo_url).to.equal('https://raw.githubusercontent.com/tap-scarf/tap-scarf/main/icon.svg');
    expect(fs.readFileSync(path.join(repoRoot, 'icon.svg'), 'utf8')).to.match(
      /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/,
    );
    expect(def.repo, 'logo_url is a file of the plugin repository').to.equal('https://github.com/tap-scarf/tap-scarf');
  });

  it('--about --format json has the keys Meltano SDK taps print, settings a JSON schema with secret/writeOnly', async () => {
    const run = await runInProcess(['--about', '--format', 'json']);
    expect(run.code, run.stderr).to.equal(0);
    const about = JSON.parse(run.stdout);
    const pkg = loadRepoJson('package.json');
    expect(Object.keys(about)).to.deep.equal([
      'name',
      'description',
      'version',
      'supported_node_versions',
      'capabilities',
      'env_var_prefix',
      'streams',
      'settings',
    ]);
    expect(about).to.include({
      name: 'tap-scarf',
      description: pkg.description,
      version: pkg.version,
      supported_node_versions: pkg.engines.node,
      env_var_prefix: 'TAP_SCARF_',
    });
    expect(about.capabilities).to.deep.equal(def.capabilities);
    expect(about.settings.type).to.equal('object');
    expect(about.settings.required).to.deep.equal(spec.required);
    expect(Object.keys(about.settings.properties)).to.deep.equal(Object.keys(spec.properties));
    for (const [name, p] of Object.entries<any>(about.settings.properties)) {
      const { airbyte_secret, order: _order, airbyte_hidden: _hidden, ...rest } = spec.properties[name];
      expect(p, name).to.deep.equal(airbyte_secret ? { ...rest, secret: true, writeOnly: true } : rest);
    }
    expect(about.settings.properties.api_token).to.include({ secret: true, writeOnly: true });
  });

  it('the example meltano.yml carries the same definition and a working pipeline', () => {
    const project = loadYaml('examples/meltano/meltano.yml');
    const tap = project.plugins.extractors.find((e: any) => e.name === 'tap-scarf');
    for (const k of ['namespace', 'pip_url', 'executable', 'capabilities', 'settings', 'settings_group_validation'])
      expect(tap[k], k).to.deep.equal(def[k]);
    const names = new Set(def.settings.map((s: any) => s.name));
    for (const k of Object.keys(tap.config)) expect(names.has(k), `config key ${k} is a setting`).to.equal(true);
    expect(tap.config.api_token, 'no secret in the example file').to.equal(undefined);
    expect(project.plugins.loaders.map((l: any) => l.name)).to.include.members(['target-jsonl', 'target-postgres']);
    expect(project.jobs[0].tasks).to.deep.equal(['tap-scarf target-postgres']);
  });
});

/** `meltano select` patterns (`stream.field`, `*` wildcards, `!` to exclude) applied to a catalog. */
function applySelect(catalog: ReturnType<typeof singerCatalog>, patterns: string[]): ReturnType<typeof singerCatalog> {
  const re = (glob: string) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  const rules = patterns.map((p) => {
    const exclude = p.startsWith('!');
    const [stream, field] = (exclude ? p.slice(1) : p).split('.');
    return { exclude, stream: re(stream!), field: re(field ?? '*') };
  });
  const selected = (stream: string, field: string) => {
    let on = false;
    for (const r of rules) if (r.stream.test(stream) && r.field.test(field)) on = !r.exclude;
    return on;
  };
  const out = structuredClone(catalog);
  for (const s of out.streams) {
    for (const m of s.metadata) {
      const field = m.breadcrumb[1];
      m.metadata.selected =
        field === undefined
          ? Object.keys(s.schema.properties).some((f) => selected(s.tap_stream_id, f))
          : selected(s.tap_stream_id, field);
    }
  }
  return out;
}

describe('examples/meltano runs as documented (the way Meltano runs tap-scarf)', function () {
  this.timeout(60_000);
  // The example's own token: tap-scarf-sim's default (examples/meltano/meltano.yml).
  const EXAMPLE_TOKEN = DEFAULT_TOKEN;
  let sim: ScarfSimulator;
  before(async function () {
    this.timeout(180_000);
    await clearOfMidnightUtc(2);
  });
  after(async () => sim?.stop());

  it("its config as TAP_SCARF_* variables and its select patterns as the catalog: every stream syncs, '!events.user_agent' is left out", async () => {
    // The example's own comment: tap-scarf-sim's defaults (token sim-token, owner acme-oss).
    sim = new ScarfSimulator({
      seed: 8,
      token: EXAMPLE_TOKEN,
      dataStart: day(-20),
      dataEnd: day(-1),
      now: new Date(),
      eventsPerDay: 10,
    });
    await sim.start();
    const project = loadYaml('examples/meltano/meltano.yml');
    const tap = project.plugins.extractors.find((e: any) => e.name === 'tap-scarf');
    expect(tap.config.owner).to.equal('acme-oss');
    const env: Record<string, string> = { TAP_SCARF_API_TOKEN: EXAMPLE_TOKEN, TAP_SCARF_BASE_URL: sim.url };
    for (const [k, v] of Object.entries<unknown>(tap.config))
      env[`TAP_SCARF_${k.toUpperCase()}`] = typeof v === 'string' ? v : JSON.stringify(v);
    // Only the range is shortened, to keep the test small.
    env.TAP_SCARF_START_DATE = day(-3);
    env.TAP_SCARF_END_DATE = day(-2);
    const dir = tmpDir('tap-scarf-meltano-example-');
    const catalog = writeJson(dir, 'catalog.json', applySelect(singerCatalog(), tap.select));
    // Meltano runs `executable` (runTap runs bin/tap-scarf.js, what the npm install links it to).
    expect(Object.keys(loadRepoJson('package.json').bin)).to.include(tap.executable);
    const run = await runTap(['--config', 'ENV', '--catalog', catalog], { env });
    expect(run.code, run.stderr).to.equal(0);
    const recs = run.messages.filter((m) => m.type === 'RECORD');
    expect(new Set(recs.map((m) => m.stream))).to.deep.equal(
      new Set(['events', 'aggregates', 'company_rollup', 'company_events', 'aggregations']),
    );
    const events = recs.filter((m) => m.stream === 'events');
    expect(events.length).to.be.greaterThan(0);
    for (const e of events) expect(e.record, 'deselected column').to.not.have.property('user_agent');
    expect(recs.find((m) => m.stream === 'company_events')!.record, 'selected there').to.have.property('user_agent');
    const breakdowns = new Set(recs.filter((m) => m.stream === 'aggregates').map((m) => m.record.breakdown));
    expect(breakdowns).to.deep.equal(new Set(tap.config.aggregates_breakdowns));
    expect(run.messages.filter((m) => m.type === 'STATE').length).to.be.greaterThan(0);
  });
});

describe('run the way Meltano runs it (env config, catalog selection, partial state)', function () {
  this.timeout(60_000);
  let START: string;
  let END: string;
  let sim: ScarfSimulator;
  let dir: string;
  let env: Record<string, string>;

  /** A catalog as `meltano select` leaves it: explicit selected true/false on streams and fields. */
  function meltanoCatalog(selected: string[]): string {
    const cat = singerCatalog();
    for (const s of cat.streams) {
      for (const m of s.metadata) m.metadata.selected = selected.includes(s.tap_stream_id);
    }
    return writeJson(dir, `catalog-${selected.join('-')}.json`, cat);
  }

  before(async function () {
    // The file's dates must not straddle midnight: this part runs in well under 3 minutes.
    this.timeout(300_000);
    await clearOfMidnightUtc(3);
    START = day(-10);
    END = day(-7);
    sim = new ScarfSimulator({
      seed: 5,
      token: TOKEN,
      dataStart: day(-40),
      dataEnd: day(-1),
      now: new Date(),
      eventsPerDay: 20,
      companies: 4,
      lateRate: 0,
    });
    await sim.start();
    dir = tmpDir('tap-scarf-meltano-');
    env = {
      TAP_SCARF_API_TOKEN: TOKEN,
      TAP_SCARF_OWNER: 'acme-oss',
      TAP_SCARF_BASE_URL: sim.url,
      TAP_SCARF_START_DATE: START,
      TAP_SCARF_END_DATE: END,
      TAP_SCARF_AGGREGATES_BREAKDOWNS: '["by-total","by-country"]',
    };
  });
  after(async () => sim?.stop());
  beforeEach(() => sim.resetRequests());

  it('syncs only the selected streams, resumes the bookmarked one from its bookmark, keeps unknown state keys', async () => {
    const bookmark = `${day(-8)}T00:00:00.000000Z`;
    const state = writeJson(dir, 'state.json', {
      bookmarks: {
        events: { replication_key: 'time', replication_key_value: bookmark, written_by_a_newer_version: { x: 1 } },
        // A stream not selected this time: its bookmark must survive untouched.
        aggregates: { replication_key: 'date', replication_key_value: day(-20) },
      },
      unknown_top_level: 'keep me',
    });
    const run = await runInProcess(
      ['--config', 'ENV', '--catalog', meltanoCatalog(['events', 'company_rollup']), '--state', state],
      {
        env,
      },
    );
    expect(run.code, run.stderr).to.equal(0);
    const streams = new Set(run.messages.filter((m) => m.type === 'RECORD').map((m) => m.stream));
    expect(streams).to.deep.equal(new Set(['events', 'company_rollup']));

    // events resumes at bookmark day − lookback_days (1), not at start_date.
    const eventDays = sim.requests
      .filter((r) => r.endpoint === 'events')
      .map((r) => r.query.start_date![0]!)
      .sort();
    expect(eventDays[0], 'first events window').to.equal(day(-9));
    expect(eventDays).to.deep.equal([day(-9), day(-8), day(-7)]);
    // company_rollup had no bookmark: it is read (its one request); aggregates is not selected.
    expect(sim.requests.filter((r) => r.endpoint === 'company-rollup')).to.have.length(1);
    expect(sim.requests.filter((r) => r.endpoint === 'company-events')).to.deep.equal([]);
    // The one aggregates request is verify_counts' (daily by-total and by-company), not the stream's.
    expect(sim.requests.filter((r) => r.endpoint === 'aggregates').map((r) => [r.query.rollup, r.query.breakdown])).to.deep.equal(
      [[['daily'], ['by-total', 'by-company']]],
    );

    const last = run.messages.filter((m) => m.type === 'STATE').at(-1)!.value;
    expect(last.unknown_top_level).to.equal('keep me');
    expect(last.bookmarks.events.written_by_a_newer_version).to.deep.equal({ x: 1 });
    expect(last.bookmarks.events.replication_key_value > bookmark).to.equal(true);
    expect(last.bookmarks.aggregates).to.deep.equal({ replication_key: 'date', replication_key_value: day(-20) });
    expect(last.bookmarks.company_rollup.replication_key).to.equal('last_seen');
  });

  it('reads array settings from TAP_SCARF_* variables (aggregates breakdowns)', async () => {
    const run = await runInProcess(['--config', 'ENV', '--catalog', meltanoCatalog(['aggregates'])], {
      env: { ...env, TAP_SCARF_START_DATE: END },
    });
    expect(run.code, run.stderr).to.equal(0);
    const agg = sim.requests.filter((r) => r.endpoint === 'aggregates');
    expect(agg.length).to.be.greaterThan(0);
    expect(agg[0]!.query.breakdown).to.deep.equal(['by-total', 'by-country']);
    const breakdowns = new Set(run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.breakdown));
    expect(breakdowns).to.deep.equal(new Set(['by-total', 'by-country']));
  });

  it('--test emits SCHEMA and one RECORD per selected stream, no STATE, exit 0', async () => {
    const run: TapRun = await runInProcess(
      ['--config', 'ENV', '--catalog', meltanoCatalog(['events', 'company_rollup']), '--test'],
      {
        env,
      },
    );
    expect(run.code, run.stderr).to.equal(0);
    const kinds = run.messages.map((m) => `${m.type} ${m.stream}`);
    expect(kinds).to.deep.equal(['SCHEMA events', 'RECORD events', 'SCHEMA company_rollup', 'RECORD company_rollup']);
    // The first window holds a record: one request per stream, not a sync's worth of Runs.
    expect(sim.requests.map((r) => r.endpoint)).to.deep.equal(['events', 'company-rollup']);
  });

  it('--test=schema emits only SCHEMA messages and makes no API call', async () => {
    const run = await runInProcess(['--config', 'ENV', '--test=schema'], { env });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.messages.map((m) => `${m.type} ${m.stream}`)).to.deep.equal([
      'SCHEMA events',
      'SCHEMA aggregates',
      'SCHEMA company_rollup',
      'SCHEMA company_events',
    ]);
    expect(sim.requests).to.deep.equal([]);
    const bad = await runInProcess(['--config', 'ENV', '--test=everything'], { env });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/--test=everything is not supported/);
  });
});

describe('progress line (terminal only)', () => {
  it('formats windows done/total, records, records/s, requests and elapsed time', () => {
    const line = formatProgress({
      stream: 'events',
      windows: 12,
      windowsTotal: 31,
      records: 48210,
      requests: 13,
      elapsedMs: 31_500,
    });
    expect(line).to.equal('events          windows 12/31  records 48,210  1,530 rec/s  requests 13  0:31');
    // A split window can push done past the plan; the total never reads less than done.
    expect(formatProgress({ stream: 'aggregates', windows: 5, windowsTotal: 4, records: 0, requests: 6, elapsedMs: 200 }))
      .to.include('windows 5/5')
      .and.include('– rec/s');
    expect(
      formatProgress({ stream: 'company_rollup', windows: 1, records: 3, requests: 1, elapsedMs: 3_723_000, done: true }),
    ).to.match(/windows 1 .*1:02:03 {2}done$/);
    expect(formatProgress({ stream: 'events', windows: 1, records: 1, requests: 1, elapsedMs: 1000, failed: true })).to.match(
      /FAILED$/,
    );
    expect(formatProgress({ stream: 'events', windows: 1, records: 1, requests: 1, elapsedMs: 1000 }, 20)).to.have.length(20);
  });

  it('stays silent when stderr is not a terminal', () => {
    const out = new Writable({ write: (_c, _e, cb) => cb() }) as unknown as NodeJS.WriteStream;
    expect(new Progress(out).enabled).to.equal(false);
  });

  it('on a terminal, rewrites one line in place and clears it before a log line', async () => {
    let written = '';
    const out = Object.assign(new Writable({ write: (c, _e, cb) => ((written += c.toString()), cb()) }), {
      isTTY: true,
      columns: 200,
    }) as unknown as NodeJS.WriteStream;
    const logged: string[] = [];
    const previous = getLogSink();
    const mine = (level: string, message: string) => {
      logged.push(message);
      out.write(`${level} ${message}\n`);
    };
    setLogSink(mine);
    try {
      const stats = { records: 0, windows: 0, windowsPlanned: 2 };
      const p = new Progress(out, { intervalMs: 10 });
      expect(p.enabled).to.equal(true);
      const t = p.track('events', stats, () => 7);
      stats.records = 5;
      stats.windows = 1;
      await new Promise((r) => setTimeout(r, 40));
      log.info('a log line');
      t.done();
      expect(logged).to.deep.equal(['a log line']);
      expect(written).to.include('\r\x1b[2Kevents          windows 1/2  records 5');
      expect(written).to.include('\r\x1b[2KINFO a log line\n');
      expect(written.endsWith('done\n')).to.equal(true);
      expect(getLogSink(), 'the log sink is restored when the stream ends').to.equal(mine);
    } finally {
      setLogSink(previous);
    }
  });
});
