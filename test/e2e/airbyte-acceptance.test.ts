// Runs acceptance-test-config.yml (Airbyte's Connector Acceptance Test format) ourselves,
// against the simulator: each case of the file becomes a test here, with the checks CAT makes
// for it, and every stdout line is validated against the Airbyte protocol definition. A case
// added to the file without a runner here fails the first test.
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';
import yaml from 'js-yaml';

import { ScarfSimulator } from '../../sim/index.js';
import { newAjv } from '../../src/ajv.js';
import { airbyteOutput, type TapOutput } from '../helpers/output.js';
import { protocolProblems, protocolValidators } from '../helpers/protocol.js';
import { loadRepoJson } from '../helpers/schemas.js';
import { repoRoot, runTap, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

type Msg = Record<string, any>;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const RUNNERS = ['spec', 'connection', 'discovery', 'basic_read', 'incremental', 'full_refresh'];

const cat = yaml.load(fs.readFileSync(path.join(repoRoot, 'acceptance-test-config.yml'), 'utf8')) as Msg;
const cases = (name: string): Msg[] => cat.acceptance_tests[name]?.tests ?? [];

describe('Airbyte acceptance tests (acceptance-test-config.yml, run against the simulator)', function () {
  this.timeout(120_000);
  let sim: ScarfSimulator;
  let dir: string;
  let secretConfig: string;

  /** secrets/… is the user's real config: here, the simulator's. Other configs get its base_url. */
  function config(rel: string): string {
    if (rel.startsWith('secrets/')) return secretConfig;
    return writeJson(dir, `config-${path.basename(rel)}`, { ...loadRepoJson(rel), base_url: sim.url });
  }
  async function airbyte(args: string[]): Promise<TapOutput> {
    const run = await runTap(args);
    expect(protocolProblems(run.stdout), args.join(' ')).to.deep.equal([]);
    expect(run.stdout + run.stderr, 'the token is never printed').to.not.include(TOKEN);
    return airbyteOutput(run);
  }
  const read = (t: Msg, state?: string) =>
    airbyte([
      'read',
      '--config',
      config(t.config_path),
      '--catalog',
      path.join(repoRoot, t.configured_catalog_path),
      ...(state ? ['--state', state] : []),
    ]);
  /** The platform's saved state after a read: the last STATE of each stream. */
  function savedState(run: TapOutput): string {
    return writeJson(dir, `state-${Math.random().toString(36).slice(2)}.json`, run.storedState);
  }
  const recordSet = (run: TapOutput) =>
    [...run.recordsByStream()].flatMap(([stream, rows]) => rows.map((r) => `${stream} ${JSON.stringify(r)}`)).sort();

  before(async () => {
    sim = new ScarfSimulator({
      seed: 21,
      token: TOKEN,
      dataStart: day(-30),
      dataEnd: day(-1),
      now: new Date(),
      eventsPerDay: 15,
      companies: 4,
      lateRate: 0,
    });
    await sim.start();
    dir = tmpDir('tap-scarf-cat-');
    secretConfig = writeJson(dir, 'config.json', {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: day(-6),
      end_date: day(-3),
      aggregates_breakdowns: ['by-total', 'by-country'],
    });
  });
  after(async () => sim?.stop());

  it('the file is CAT format and every case has a runner here', () => {
    expect(cat.connector_image).to.match(/^ghcr\.io\/tap-scarf\/source-scarf:/);
    expect(Object.keys(cat.acceptance_tests).sort()).to.deep.equal([...RUNNERS].sort());
    for (const name of RUNNERS) expect(cases(name).length, name).to.be.greaterThan(0);
  });

  for (const t of cases('spec'))
    it(`spec: the SPEC message is ${t.spec_path}`, async () => {
      const run = await airbyte(['spec']);
      expect(run.code).to.equal(0);
      const [spec, ...more] = run.ofType('SPEC');
      expect(more).to.deep.equal([]);
      const file = loadRepoJson(t.spec_path);
      expect(spec!.spec.connectionSpecification).to.deep.equal(file.connectionSpecification);
      expect(spec!.spec.documentationUrl).to.equal(file.documentationUrl);
      newAjv().compile(spec!.spec.connectionSpecification);
    });

  for (const t of cases('connection'))
    it(`connection: ${t.config_path} → ${t.status}`, async () => {
      const run = await airbyte(['check', '--config', config(t.config_path)]);
      if (t.status === 'exception') {
        expect(run.code).to.not.equal(0);
        expect(run.ofType('TRACE').filter((m) => m.trace.type === 'ERROR')).to.have.length(1);
        return;
      }
      expect(run.code).to.equal(0);
      const [status, ...more] = run.ofType('CONNECTION_STATUS');
      expect(more).to.deep.equal([]);
      expect(status!.connectionStatus.status, status!.connectionStatus.message).to.equal(
        { succeed: 'SUCCEEDED', failed: 'FAILED' }[t.status as string],
      );
    });

  for (const t of cases('discovery'))
    it(`discovery: a CATALOG whose schemas compile, whose keys and cursors exist, equal to every configured catalog's streams`, async () => {
      const run = await airbyte(['discover', '--config', config(t.config_path)]);
      expect(run.code).to.equal(0);
      const streams: Msg[] = run.ofType('CATALOG')[0]!.catalog.streams;
      for (const s of streams) {
        newAjv().compile(s.json_schema);
        expect(s.supported_sync_modes.length, s.name).to.be.greaterThan(0);
        for (const k of s.source_defined_primary_key) expect(s.json_schema.properties, `${s.name} key`).to.have.property(k[0]);
        expect(s.json_schema.properties, `${s.name} cursor`).to.have.property(s.default_cursor_field[0]);
      }
      // The committed configured catalogs must not drift from what discover says.
      for (const name of ['basic_read', 'incremental', 'full_refresh'])
        for (const c of cases(name)) {
          const configured = loadRepoJson(c.configured_catalog_path);
          expect(protocolValidators()?.configuredCatalog(configured), c.configured_catalog_path).to.equal(undefined);
          for (const cs of configured.streams)
            expect(cs.stream, `${c.configured_catalog_path}: ${cs.stream.name}`).to.deep.equal(
              streams.find((s) => s.name === cs.stream.name),
            );
        }
    });

  for (const t of cases('basic_read'))
    it(`basic_read: records in every stream but ${JSON.stringify(t.empty_streams ?? [])}, each valid against its schema`, async () => {
      const run = await read(t);
      expect(run.code, run.stderr).to.equal(0);
      const configured = loadRepoJson(t.configured_catalog_path).streams as Msg[];
      const ajv = newAjv({ allErrors: true });
      const empty = new Set((t.empty_streams ?? []).map((s: Msg) => s.name));
      for (const cs of configured) {
        const name = cs.stream.name;
        const rows = run.records(name);
        if (!empty.has(name)) expect(rows.length, `records of ${name}`).to.be.greaterThan(0);
        const validate = ajv.compile(cs.stream.json_schema);
        for (const r of rows) {
          expect(validate(r), `${name}: ${ajv.errorsText(validate.errors)}`).to.equal(true);
          for (const k of cs.primary_key ?? []) expect(r[k[0]], `${name} key ${k[0]}`).to.not.equal(null);
        }
        expect(run.states(name).length, `STATE of ${name}`).to.be.greaterThan(0);
      }
      expect(new Set(run.recordsByStream().keys())).to.deep.equal(
        new Set(configured.map((cs) => cs.stream.name).filter((n) => !empty.has(n))),
      );
    });

  for (const t of cases('incremental'))
    it(`incremental: a future state (${t.future_state?.future_state_path}) is clamped to the sync's start and re-reads only the lookback; a read from the last state reads less, and only what the first read had`, async () => {
      const configured = loadRepoJson(t.configured_catalog_path).streams as Msg[];
      const future = loadRepoJson(t.future_state.future_state_path) as Msg[];
      const missing = new Set((t.future_state.missing_streams ?? []).map((s: Msg) => s.name));
      // CAT expects no records here; the case says why tap-scarf reads the lookback instead.
      expect(t.future_state.bypass_reason, 'bypass_reason of the future-state case').to.match(/clamp/);
      // CAT's own check: the future state covers every incremental stream not declared missing.
      for (const cs of configured.filter((c) => c.sync_mode === 'incremental' && !missing.has(c.stream.name)))
        expect(
          future.some((s) => s.stream.stream_descriptor.name === cs.stream.name),
          `future state of ${cs.stream.name}`,
        ).to.equal(true);
      const startedAt = new Date().toISOString();
      const far = await read(t, path.join(repoRoot, t.future_state.future_state_path));
      expect(far.code, far.stderr).to.equal(0);
      // Unlike CAT's "no records" expectation (docs/airbyte.md, Limitations): a bookmark past the
      // sync's start cannot be true, so it is clamped and the lookback is read again.
      const cfg = JSON.parse(fs.readFileSync(secretConfig, 'utf8')) as Msg;
      const eventsFrom = `${day(-(cfg.lookback_days ?? 1))}T00:00:00`;
      const aggregatesFrom = day(-(cfg.aggregates_lookback_days ?? 7));
      for (const r of far.records('events')) expect(r.time >= eventsFrom, r.time).to.equal(true);
      for (const r of far.records('aggregates')) expect(r.date >= aggregatesFrom, r.date).to.equal(true);
      for (const cs of configured) expect(far.states(cs.stream.name).length, cs.stream.name).to.be.greaterThan(0);
      for (const s of far.states()) {
        const v = s.stream.stream_state.replication_key_value as string | undefined;
        if (v !== undefined)
          expect(v.slice(0, 10) <= startedAt.slice(0, 10), `${s.stream.stream_descriptor.name}: ${v}`).to.equal(true);
      }
      const warnings = far.logs.filter((l) => l.level === 'WARN' && l.message.includes('2099'));
      expect(warnings.length, 'each clamped bookmark is named in a warning').to.be.greaterThan(0);

      const first = await read(t);
      expect(first.code, first.stderr).to.equal(0);
      const second = await read(t, savedState(first));
      expect(second.code, second.stderr).to.equal(0);
      expect(second.records().length).to.be.lessThan(first.records().length);
      // The second read re-reads the lookback, so it may repeat records but never invent one.
      const firstSet = new Set(recordSet(first));
      for (const r of recordSet(second)) expect(firstSet.has(r), r.slice(0, 200)).to.equal(true);
    });

  for (const t of cases('full_refresh'))
    it('full_refresh: two reads give the same records', async () => {
      const a = await read(t);
      const b = await read(t);
      expect(a.code, a.stderr).to.equal(0);
      expect(b.code, b.stderr).to.equal(0);
      expect(a.records().length).to.be.greaterThan(0);
      expect(recordSet(b)).to.deep.equal(recordSet(a));
    });
});
