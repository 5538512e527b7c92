import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';

import { STREAM_NAMES } from '../../src/schemas.js';
import { runInProcess } from '../helpers/in-process.js';
import { loadRepoJson } from '../helpers/schemas.js';
import { repoRoot } from '../helpers/tap.js';

describe('discovery and about (Singer)', () => {
  it('--discover prints the catalog that catalog.json holds, with Singer metadata', async () => {
    const run = await runInProcess(['--discover']);
    expect(run.code, run.stderr).to.equal(0);
    const catalog = JSON.parse(run.stdout);
    expect(catalog).to.deep.equal(loadRepoJson('catalog.json'));
    const byName = Object.fromEntries(catalog.streams.map((s: any) => [s.tap_stream_id, s]));
    expect(Object.keys(byName)).to.deep.equal([
      'events',
      'aggregates',
      'company_rollup',
      'company_events',
      'pixel_events',
      'company_package_rollup',
      'company_pixel_rollup',
      'aggregations',
    ]);
    const top = (s: string) => byName[s].metadata.find((m: any) => m.breadcrumb.length === 0).metadata;
    // A stream added later is opt-in: upgrading must not spend more Runs unasked.
    expect(top('aggregations')['selected-by-default']).to.equal(false);
    expect(top('aggregations')['table-key-properties']).to.deep.equal(['owner', 'row_key']);
    expect(top('events')['selected-by-default']).to.equal(true);
    expect(top('events')['table-key-properties']).to.deep.equal(['owner', 'id']);
    expect(top('company_events')['table-key-properties']).to.deep.equal(['owner', 'id']);
    expect(top('company_rollup')['table-key-properties']).to.deep.equal(['owner', 'company_domain']);
    expect(top('company_rollup')['valid-replication-keys']).to.deep.equal(['last_seen', 'first_seen']);
    expect(top('aggregates')['table-key-properties']).to.deep.equal(['owner', 'row_key']);
    expect(top('pixel_events')['table-key-properties']).to.deep.equal(['owner', 'id']);
    expect(top('company_package_rollup')['table-key-properties']).to.deep.equal(['owner', 'date', 'package', 'company_domain']);
    expect(top('company_pixel_rollup')['table-key-properties']).to.deep.equal(['owner', 'date', 'pixel', 'company_domain']);
    expect(top('company_pixel_rollup')['valid-replication-keys']).to.deep.equal(['date']);
    // The 2026 exports are opt-in (they cost Runs; pixel_events may repeat the views events holds).
    for (const s of Object.keys(byName))
      expect(top(s)['selected-by-default'], s).to.equal(
        !['pixel_events', 'company_package_rollup', 'company_pixel_rollup', 'aggregations'].includes(s),
      );
    const field = (s: string, f: string) => byName[s].metadata.find((m: any) => m.breadcrumb[1] === f).metadata.inclusion;
    expect(field('events', 'id')).to.equal('automatic');
    expect(field('events', 'time')).to.equal('automatic');
    expect(field('events', 'user_agent')).to.equal('available');
    expect(field('company_events', 'company_domain')).to.equal('automatic');
    for (const s of Object.keys(byName)) expect(field(s, 'owner'), `${s}.owner`).to.equal('automatic');
  });

  it('schemas follow what targets need: snake_case names, nullable non-key fields, no $ref or empty objects', () => {
    for (const s of STREAM_NAMES) {
      const schema = loadRepoJson(`schemas/${s}.json`);
      for (const [name, p] of Object.entries<any>(schema.properties)) {
        expect(name).to.match(/^[a-z][a-z0-9_]{0,62}$/);
        expect(JSON.stringify(p)).not.to.include('$ref');
        expect(p.type).not.to.equal('object');
        if (!schema.required.includes(name)) expect(p.type, `${s}.${name}`).to.include('null');
      }
    }
  });

  it('--about prints text, json and markdown; --version the version', async () => {
    const pkg = loadRepoJson('package.json');
    const json = JSON.parse((await runInProcess(['--about', '--format', 'json'])).stdout);
    expect(json.name).to.equal('tap-scarf');
    expect(json.capabilities).to.include.members(['catalog', 'discover', 'state', 'about', 'test']);
    expect(Object.keys(json.settings.properties)).to.deep.equal(
      Object.keys(loadRepoJson('spec.json').connectionSpecification.properties),
    );
    const md = (await runInProcess(['--about', '--format', 'markdown'])).stdout;
    expect(md).to.include('| `api_token` |');
    expect((await runInProcess(['--about'])).stdout).to.include('Capabilities:');
    expect((await runInProcess(['--version'])).stdout.trim()).to.equal(`tap-scarf ${pkg.version}`);
  });

  it("the README's settings table is the one --about --format markdown prints", async () => {
    const md = (await runInProcess(['--about', '--format', 'markdown'])).stdout;
    const table = md.slice(md.indexOf('| setting |')).trim();
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const start = readme.indexOf('| setting |');
    const end = readme.indexOf('<!-- settings-table:end');
    expect(
      readme.slice(start, end).trim(),
      'regenerate the table in README.md from tap-scarf --about --format markdown',
    ).to.equal(table);
  });
});
