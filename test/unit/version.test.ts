// One version, package.json's, everywhere it is written: the image label, metadata.yaml, the
// Python package (its version is read from the bundled package.json), the changelogs, and the
// versioned commands in the docs. --version and --about print packageJson.version itself
// (test/e2e/meltano.test.ts, test/packaging/install.test.ts, test/packaging/bundle.test.ts run them).
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';
import yaml from 'js-yaml';

import { repoRoot } from '../helpers/tap.js';

const read = (rel: string) => fs.readFileSync(path.join(repoRoot, rel), 'utf8');
const version = (JSON.parse(read('package.json')) as { version: string }).version;

describe('the version: package.json is the one source', () => {
  it('is a semantic version', () => {
    expect(version).to.match(/^\d+\.\d+\.\d+$/);
  });

  it('the image label, metadata.yaml and package-lock.json say the same', () => {
    expect(read('Dockerfile')).to.match(new RegExp(`io\\.airbyte\\.version="${version.replace(/\./g, '\\.')}"`));
    const metadata = yaml.load(read('metadata.yaml')) as { data: { dockerImageTag: string } };
    expect(metadata.data.dockerImageTag).to.equal(version);
    const lock = JSON.parse(read('package-lock.json')) as { version: string; packages: Record<string, { version: string }> };
    expect(lock.version).to.equal(version);
    expect(lock.packages['']!.version).to.equal(version);
  });

  it('the Python package takes it from the bundled package.json', () => {
    const pyproject = read('python/pyproject.toml');
    expect(pyproject).to.match(/^dynamic = \["version"\]$/m);
    expect(pyproject).to.match(/^path = "src\/tap_scarf\/node\/package\.json"$/m);
    const bundled = JSON.parse(read('python/src/tap_scarf/node/package.json')) as { version: string };
    expect(bundled.version, 'run `npm run bundle`').to.equal(version);
  });

  it('the newest CHANGELOG section and the Airbyte changelog row are this version; every release has a dated section', () => {
    const sections = [...read('CHANGELOG.md').matchAll(/^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$/gm)].map((m) => ({
      v: m[1],
      date: m[2],
    }));
    expect(sections[0]!.v).to.equal('Unreleased');
    expect(sections[1]).to.deep.include({ v: version });
    for (const s of sections.slice(1)) expect(s.date, `CHANGELOG [${s.v}] has a date`).to.match(/^\d{4}-\d{2}-\d{2}$/);
    const rows = [
      ...read('docs/airbyte.md')
        .split('## Changelog')[1]!
        .matchAll(/^\| (\d+\.\d+\.\d+) \| (\d{4}-\d{2}-\d{2}) \|/gm),
    ];
    expect(rows[0]![1]).to.equal(version);
    expect(sections.slice(1).map((s) => s.v)).to.deep.equal(rows.map((r) => r[1]));
  });

  it('a breaking release has releases.breakingChanges in metadata.yaml, with a migration guide that exists', () => {
    const metadata = yaml.load(read('metadata.yaml')) as any;
    const breaking = metadata.data.releases.breakingChanges as Record<string, any>;
    expect(Object.keys(breaking)).to.include('0.2.0');
    const entry = breaking['0.2.0'];
    expect(entry.message).to.match(/owner/);
    expect(entry.upgradeDeadline).to.match(/^\d{4}-\d{2}-\d{2}$/);
    const doc = /blob\/main\/(docs\/[^#]+)#(.+)$/.exec(entry.migrationDocumentationUrl as string)!;
    expect(read(doc[1]!)).to.include(`## Upgrading to ${'0.2.0'}`);
    expect(doc[2]).to.equal('upgrading-to-020');
    expect(entry.scopedImpact[0].impactedScopes).to.deep.equal(['events', 'aggregates', 'company_rollup', 'company_events']);
  });

  it('every versioned command or tag in the docs and definitions names this version', () => {
    for (const rel of [
      'README.md',
      'docs/airbyte.md',
      'docs/meltano.md',
      'Dockerfile',
      'meltano/tap-scarf.yml',
      'examples/meltano/meltano.yml',
    ]) {
      const text = read(rel);
      for (const m of text.matchAll(/(?:source-scarf:|tap-scarf-|tap-scarf\.git@v|tap-scarf==)(\d+\.\d+\.\d+)/g))
        expect(m[1], `${rel}: ${m[0]}`).to.equal(version);
    }
  });

  it('LICENSE is the Apache License 2.0 that package.json and pyproject.toml name', () => {
    expect((JSON.parse(read('package.json')) as { license: string }).license).to.equal('Apache-2.0');
    expect(read('python/pyproject.toml')).to.match(/^license = "Apache-2.0"$/m);
    expect(read('LICENSE')).to.match(/Apache License\s+Version 2\.0, January 2004/);
    expect(read('python/LICENSE')).to.equal(read('LICENSE'));
    const pkg = JSON.parse(read('package.json')) as Record<string, any>;
    expect(pkg.repository.url).to.equal('git+https://github.com/tap-scarf/tap-scarf.git');
    expect(pkg.homepage).to.match(/^https:\/\/github\.com\/tap-scarf\/tap-scarf/);
    expect(pkg.bugs.url).to.equal('https://github.com/tap-scarf/tap-scarf/issues');
  });
});
