// The Docker image without a Docker engine: the Dockerfile is parsed and checked against
// package.json, metadata.yaml and .ci/run, and the runtime stage's file layout is rebuilt in
// a temporary directory and run through AIRBYTE_ENTRYPOINT, so a broken COPY list or a
// missing production dependency fails here instead of in a user's Airbyte.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';
import yaml from 'js-yaml';

import { shebangNodeFlags } from '../../src/node-flags.js';
import { protocolProblems, protocolYamlPath } from '../helpers/protocol.js';
import { loadRepoJson } from '../helpers/schemas.js';
import { repoRoot, tmpDir } from '../helpers/tap.js';

const execFileP = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile → instructions (continuations joined, comments dropped), numbered by stage. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\w+)\s+(.*)$/.exec(full);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2]!, stage });
  }
  return out;
}

/** KEY=value pairs of ENV/LABEL, values optionally double-quoted. */
function pairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/([\w.-]+)=("((?:[^"\\]|\\.)*)"|\S+)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return out;
}

describe('Docker image (Dockerfile, metadata.yaml, entrypoint)', function () {
  this.timeout(30_000);
  const pkg = loadRepoJson('package.json');
  const dockerfile = parseDockerfile(fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  const lastStage = Math.max(...dockerfile.map((i) => i.stage));
  const runtime = dockerfile.filter((i) => i.stage === lastStage);
  const env = Object.assign({}, ...runtime.filter((i) => i.op === 'ENV').map((i) => pairs(i.args))) as Record<string, string>;
  const labels = Object.assign({}, ...runtime.filter((i) => i.op === 'LABEL').map((i) => pairs(i.args))) as Record<
    string,
    string
  >;
  const entrypoint = JSON.parse(runtime.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
  const workdir = runtime.filter((i) => i.op === 'WORKDIR').at(-1)!.args;
  const metadata = yaml.load(fs.readFileSync(path.join(repoRoot, 'metadata.yaml'), 'utf8')) as Record<string, any>;

  it('ENTRYPOINT (exec form) and AIRBYTE_ENTRYPOINT name the same command', () => {
    expect(entrypoint[0]).to.equal('node');
    expect(env.AIRBYTE_ENTRYPOINT).to.equal(entrypoint.join(' '));
    const script = entrypoint.at(-1)!;
    expect(script.startsWith(workdir + '/'), 'the entrypoint lives in the WORKDIR').to.equal(true);
    // Same node flags as the bin's #! line, so the image runs the tap as a shell does.
    expect(entrypoint.slice(1, -1)).to.deep.equal(shebangNodeFlags(path.join(repoRoot, 'bin', 'source-scarf.js')));
    expect(shebangNodeFlags(path.join(repoRoot, 'bin', 'source-scarf.js'))).to.deep.equal(
      shebangNodeFlags(path.join(repoRoot, 'bin', 'tap-scarf.js')),
    );
  });

  it('labels the image with io.airbyte.name and the package version', () => {
    expect(labels['io.airbyte.version']).to.equal(pkg.version);
    expect(labels['io.airbyte.name']).to.equal(metadata.data.dockerRepository);
  });

  it('uses the Node major CI uses (package.json engines, .ci/run) in every stage, and its steps', () => {
    const froms = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms.length, 'multi-stage').to.be.greaterThan(1);
    const engineMajor = Number(/(\d+)/.exec(pkg.engines.node)![1]);
    for (const f of froms) expect(f, 'a small image').to.match(new RegExp(`^node:${engineMajor}(\\.[\\d.]+)?-slim\\b`));
    // CI runs on the engines' major: the image must not test one Node and ship another.
    expect(Number(process.versions.node.split('.')[0]), 'the Node running the tests').to.equal(engineMajor);
    const ci = fs.readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8');
    const pinned = /node[:@\s-]+v?(\d+)(?:\.\d+)*(?:-|\s|$)/i.exec(ci.replace(/node \$\(node --version\)/g, ''));
    if (pinned) expect(Number(pinned[1]), '.ci/run pins a Node major').to.equal(engineMajor);
    expect(ci).to.match(/npm ci\b/);
    const runs = (stage: number) =>
      dockerfile
        .filter((i) => i.stage === stage && i.op === 'RUN')
        .map((i) => i.args)
        .join(' && ');
    expect(runs(0))
      .to.match(/npm ci\b/)
      .and.match(/npm run build/);
    expect(runs(lastStage)).to.match(/npm ci --omit=dev/);
    expect(runtime.find((i) => i.op === 'USER')?.args, 'runs as a non-root user')
      .to.be.a('string')
      .and.not.match(/^(root|0)$/);
  });

  it('metadata.yaml describes the connector with the package version', () => {
    const d = metadata.data;
    expect(d.dockerImageTag).to.equal(pkg.version);
    expect(d.connectorType).to.equal('source');
    expect(d.connectorSubtype).to.equal('api');
    expect(d.name).to.equal('Scarf');
    expect(d.definitionId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(d.releaseStage).to.equal('alpha');
    expect(d.supportLevel).to.equal('community');
    expect(d.documentationUrl).to.equal(loadRepoJson('spec.json').documentationUrl);
    expect(d.tags).to.include('language:typescript');
  });

  it('metadata.yaml has what a community source carries: allowedHosts, icon, releaseDate, known fields only', () => {
    const d = metadata.data;
    // The data fields of Airbyte's ConnectorMetadataDefinitionV0, which forbids any other.
    const known = new Set([
      'name',
      'icon',
      'definitionId',
      'connectorBuildOptions',
      'connectorTestSuitesOptions',
      'connectorType',
      'dockerRepository',
      'dockerImageTag',
      'supportsDbt',
      'supportsNormalization',
      'license',
      'documentationUrl',
      'githubIssueLabel',
      'maxSecondsBetweenMessages',
      'releaseDate',
      'protocolVersion',
      'erdUrl',
      'connectorSubtype',
      'releaseStage',
      'supportLevel',
      'tags',
      'registryOverrides',
      'allowedHosts',
      'releases',
      'normalizationConfig',
      'suggestedStreams',
      'resourceRequirements',
      'ab_internal',
      'remoteRegistries',
      'supportsRefreshes',
      'generated',
    ]);
    expect(Object.keys(d).filter((k) => !known.has(k))).to.deep.equal([]);
    expect(d.allowedHosts).to.deep.equal({
      hosts: [new URL(loadRepoJson('spec.json').connectionSpecification.properties.base_url.default).host],
    });
    expect(fs.readFileSync(path.join(repoRoot, d.icon), 'utf8')).to.match(/^<svg /);
    // releaseDate is the first release: the oldest row of docs/airbyte.md's changelog, whose
    // newest row is the version the image is tagged with.
    const changelog = fs.readFileSync(path.join(repoRoot, 'docs', 'airbyte.md'), 'utf8').split('## Changelog')[1]!;
    const rows = [...changelog.matchAll(/^\| (\d+\.\d+\.\d+) \| (\d{4}-\d{2}-\d{2}) \|/gm)].map((m) => ({
      version: m[1],
      date: m[2],
    }));
    expect(rows.length).to.be.greaterThan(0);
    expect(d.releaseDate).to.equal(rows.at(-1)!.date);
    expect(rows[0]!.version).to.equal(d.dockerImageTag);
    expect(d.protocolVersion).to.match(/^\d+\.\d+\.\d+$/);
    // The protocol definition the tests validate messages against, when this machine has it.
    if (fs.existsSync(protocolYamlPath))
      expect(d.protocolVersion).to.equal(String((yaml.load(fs.readFileSync(protocolYamlPath, 'utf8')) as any).version));
    expect(d.maxSecondsBetweenMessages, 'longer than a request may wait out its retries').to.be.greaterThan(
      loadRepoJson('spec.json').connectionSpecification.properties.max_retry_wait_seconds.default,
    );
    // docs/airbyte.md has the sections of Airbyte's connector docs.
    const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'airbyte.md'), 'utf8');
    const headings = [...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).to.deep.equal([
      'Prerequisites',
      'Setup guide',
      'Supported sync modes',
      'Supported streams',
      'Data type map',
      'Limitations & troubleshooting',
      'Changelog',
    ]);
  });

  it('the runtime stage holds everything the entrypoint needs: rebuilt locally, `spec` runs', async () => {
    // Rebuild the runtime stage's file system: its COPY instructions, from this checkout.
    const root = tmpDir('tap-scarf-image-');
    const app = path.join(root, workdir);
    fs.mkdirSync(app, { recursive: true });
    for (const i of runtime.filter((x) => x.op === 'COPY')) {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = parts.pop()!;
      for (const src of parts) {
        const from = path.join(repoRoot, src.replace(/^\/build\//, ''));
        expect(fs.existsSync(from), `COPY source ${src} exists after the build`).to.equal(true);
        const to =
          dest.endsWith('/') || dest === './' || parts.length > 1
            ? path.join(app, dest, path.basename(from))
            : path.join(app, dest);
        fs.cpSync(from, to, { recursive: true });
      }
    }
    expect(fs.existsSync(path.join(app, 'dist', 'src', 'cli.js'))).to.equal(true);
    // `npm ci --omit=dev` installs only "dependencies": the compiled code must import nothing else.
    const deps = new Set(Object.keys(pkg.dependencies));
    const missing = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.js')) {
          const text = fs.readFileSync(p, 'utf8');
          for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
            const spec = m[1]!;
            if (spec.startsWith('.') || spec.startsWith('node:')) continue;
            const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
            if (!deps.has(name)) missing.add(`${name} (${path.relative(app, p)})`);
          }
        }
      }
    };
    walk(path.join(app, 'dist', 'src'));
    walk(path.join(app, 'bin'));
    expect([...missing], 'imported by the runtime but not in package.json dependencies').to.deep.equal([]);
    // Stand-in for the installed production dependencies.
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(app, 'node_modules'), 'dir');

    const [cmd, ...args] = env.AIRBYTE_ENTRYPOINT!.split(' ').map((a) => a.split(workdir).join(app));
    expect(cmd).to.equal('node');
    const r = await execFileP(process.execPath, [...args, 'spec'], { cwd: root, encoding: 'utf8' });
    expect(protocolProblems(r.stdout)).to.deep.equal([]);
    const msg = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(msg.type).to.equal('SPEC');
    expect(msg.spec.connectionSpecification.properties.api_token.airbyte_secret).to.equal(true);
    // The plan command, which Airbyte users run with the image (no request: --upper-bound).
    const config = path.join(root, 'config.json');
    fs.writeFileSync(
      config,
      JSON.stringify({
        api_token: 'not-used',
        owner: 'acme-oss',
        start_date: '2026-10-01',
        end_date: '2026-10-03',
        company_domains: ['a.com'],
      }),
    );
    const plan = await execFileP(process.execPath, [...args, 'plan', '--config', config, '--upper-bound', '--format', 'json'], {
      cwd: root,
      encoding: 'utf8',
    });
    // 3 events windows + 1 request for Scarf's counts (verify_counts, which also serve the
    // aggregates window) + rollup + a.com.
    expect(JSON.parse(plan.stdout)).to.include({ total: 6, bound: 'upper', plan_requests: 0 });
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('.dockerignore keeps local installs and builds out of the build context', () => {
    const ignored = fs
      .readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).to.include.members(['node_modules', 'dist']);
  });
});
