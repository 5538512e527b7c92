// Issue 18, rough edges of the inputs and the process, through the real CLI (exit code and
// the message the user reads): config messages on one line, a state or config file that is
// a directory, unreadable, empty or absurdly deep, a token that cannot be sent as it is, a
// base_url in capitals, a closed stdout, a Node older than package.json's engines, and a
// catalog of the other protocol.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';

import { runInProcess } from '../helpers/in-process.js';
import { configuredCatalogFor } from '../helpers/reliability.js';
import { repoRoot, tapBin, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1]!;
}

describe('issue 18: rough edges of the inputs, through the CLI', function () {
  this.timeout(60_000);
  let dir = '';
  // Nothing listens there: every test here must fail or finish before any request.
  const base = { api_token: TOKEN, owner: 'acme-oss', base_url: 'http://127.0.0.1:9' };
  before(() => {
    dir = tmpDir('tap-scarf-i18-inputs-');
    fs.chmodSync(dir, 0o755);
  });

  it('several config problems are one line, numbered, with no literal \\n in it', async () => {
    const run = await runInProcess(['--discover', '--config', writeJson(dir, 'c-empty.json', { start_date: 'x' })]);
    expect(run.code).to.equal(1);
    const line = lastLine(run.stderr);
    expect(line).to.match(
      /^ERROR Invalid configuration \(3 problems\): \(1\) Missing required setting 'api_token'.* \(2\) Missing required setting 'owner'.* \(3\) Setting 'start_date'/,
    );
    expect(run.stderr).not.to.include('\\n');
  });

  it('a directory given as state or config file: says it is a directory, not ENOENT or EISDIR alone', async () => {
    const config = writeJson(dir, 'c.json', base);
    let run = await runInProcess(['--config', config, '--state', dir, '--plan-upper-bound']);
    expect(run.code).to.equal(1);
    expect(lastLine(run.stderr)).to.equal(
      `ERROR Cannot read state file ${dir}: it is a directory (EISDIR). Pass the path of a state file, not of its folder.`,
    );
    // Airbyte check answers with a FAILED CONNECTION_STATUS.
    run = await runInProcess(['check', '--config', dir]);
    expect(run.stdout).to.include(`Cannot read config file ${dir}: it is a directory (EISDIR).`);
  });

  it('a file this user may not read: "permission denied", never "pass an existing file"', () => {
    const file = writeJson(dir, 'c-locked.json', base);
    fs.chmodSync(file, 0o000);
    // root reads any file: the tap then runs as nobody, as a scheduler's service user would.
    const asOther = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, [tapBin, '--discover', '--config', file], { encoding: 'utf8', ...asOther });
    expect(r.status, r.stderr).to.equal(1);
    expect(lastLine(r.stderr)).to.equal(
      `ERROR Cannot read config file ${file}: permission denied (EACCES). The file exists but this user may not read it: check its permissions and owner (ls -l), or run as the user that wrote it.`,
    );
  });

  it('an empty (0-byte) state file: a warning naming the file, then no state (Singer and Airbyte)', async () => {
    const config = writeJson(dir, 'c.json', base);
    const empty = writeJson(dir, 'empty-state.json', '');
    const warning = `State file ${empty} is empty (0 bytes): starting without state, so every stream is read from start_date. If it held a state before, restore it before the next sync.`;
    const singer = await runInProcess(['--config', config, '--state', empty, '--plan-upper-bound']);
    expect(singer.code, singer.stderr).to.equal(0);
    expect(singer.stderr).to.include(`WARNING ${warning}`);
    // read: the state is read before the first request (which fails: nothing listens on base_url).
    const catalog = writeJson(dir, 'configured.json', configuredCatalogFor(['events']));
    const airbyte = await runInProcess(['read', '--config', config, '--catalog', catalog, '--state', empty]);
    expect(
      airbyte.messages.filter((m) => m.type === 'LOG' && m.log.level === 'WARN' && m.log.message === warning),
    ).to.have.length(1);
  });

  it('a state nested 100,000 levels deep: a config error naming the file, not "Maximum call stack size exceeded"', async () => {
    const config = writeJson(dir, 'c.json', base);
    const n = 100_000;
    const deep = writeJson(dir, 'deep-state.json', `{"bookmarks":{"x":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}}`);
    for (const args of [
      ['--config', config, '--state', deep, '--plan-upper-bound'],
      ['plan', '--config', config, '--state', deep, '--upper-bound'],
    ]) {
      const run = await runInProcess(args);
      expect(run.code).to.equal(1);
      expect(run.stdout + run.stderr).not.to.include('Maximum call stack');
      expect(run.stdout + run.stderr).to.include(`State file ${deep} nests objects or arrays more than 100 levels deep`);
    }
  });

  it('a token with spaces around it, or with a character outside Latin-1: refused at once naming api_token, the value never shown', async () => {
    for (const [token, why] of [
      [` ${TOKEN} `, /Setting 'api_token' \(from config file .*\) has spaces at its start or end/],
      [
        `${TOKEN}\u2013x`,
        /Setting 'api_token' \(from config file .*\) has a character that cannot be sent in an HTTP header at character 33 of 34/,
      ],
    ] as const) {
      const run = await runInProcess(['--discover', '--config', writeJson(dir, 'c-token.json', { ...base, api_token: token })]);
      expect(run.code).to.equal(1);
      expect(lastLine(run.stderr)).to.match(why);
      expect(run.stderr.toLowerCase()).not.to.include('secret-7f3a');
    }
  });

  it('base_url in capitals (HTTP://LOCALHOST:8787) is the same loopback URL: accepted', async () => {
    const run = await runInProcess([
      '--discover',
      '--config',
      writeJson(dir, 'c-caps.json', { ...base, base_url: 'HTTP://LOCALHOST:8787' }),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    const plain = await runInProcess([
      '--discover',
      '--config',
      writeJson(dir, 'c-caps2.json', { ...base, base_url: 'HTTP://SCARF.EXAMPLE.COM' }),
    ]);
    expect(plain.code).to.equal(1);
    expect(lastLine(plain.stderr)).to.match(/uses plain http, which would send the API token unencrypted/);
  });

  it('stdout closed (>&-): exit 1 saying so; > /dev/null still discards on purpose with exit 0', () => {
    const config = writeJson(dir, 'c.json', base);
    const sh = (redirect: string) =>
      spawnSync('sh', ['-c', `exec "${process.execPath}" "${tapBin}" --discover --config "${config}" ${redirect}`], {
        encoding: 'utf8',
      });
    const closed = sh('>&-');
    expect(closed.status).to.equal(1);
    expect(lastLine(closed.stderr)).to.match(
      /^ERROR stdout is closed \(as with >&-\): every message the tap writes .* would go nowhere/,
    );
    const devnull = sh('> /dev/null');
    expect(devnull.status, devnull.stderr).to.equal(0);
  });

  it('a Node older than package.json engines: one line naming the version needed, no ReferenceError (both bins)', () => {
    const engines = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } })
      .engines.node;
    // What Node 18 reports, without installing Node 18: the check reads process.versions.node.
    const old = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"18.20.4"})';
    for (const bin of [tapBin, path.join(repoRoot, 'bin', 'source-scarf.js')]) {
      const r = spawnSync(process.execPath, ['--import', old, bin, '--version'], { encoding: 'utf8' });
      expect(r.status).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(
        new RegExp(
          `^ERROR tap-scarf needs Node\\.js 20\\.18\\.1 or later \\(package\\.json "engines": "${engines.replace(/\./g, '\\.')}"\\); this is Node\\.js 18\\.20\\.4 `,
        ),
      );
      expect(r.stderr).not.to.match(/ReferenceError|\n\s+at /);
    }
    expect(spawnSync(process.execPath, [tapBin, '--version'], { encoding: 'utf8' }).status).to.equal(0);
  });

  it('a catalog of the other protocol: says which format was expected and which was found', async () => {
    const config = writeJson(dir, 'c.json', base);
    const singerCat = writeJson(dir, 'singer-catalog.json', (await runInProcess(['--discover'])).stdout);
    const airbyteCat = writeJson(dir, 'airbyte-configured.json', configuredCatalogFor(['events']));
    const singer = await runInProcess(['--config', config, '--catalog', airbyteCat]);
    expect(singer.code).to.equal(1);
    expect(lastLine(singer.stderr)).to.equal(
      `ERROR Catalog ${airbyteCat} is an Airbyte configured catalog (its streams have a "stream" object and a "sync_mode"), but the Singer command expects a Singer catalog, with "tap_stream_id" and "metadata" per stream. Get one with tap-scarf --discover, or give this file to the Airbyte command: tap-scarf read --config … --catalog ${airbyteCat}.`,
    );
    const read = await runInProcess(['read', '--config', config, '--catalog', singerCat]);
    expect(read.code).to.equal(1);
    const trace = read.messages.find((m) => m.type === 'TRACE')!;
    expect(trace.trace.error.message).to.match(
      /^Configured catalog .*singer-catalog\.json is a Singer catalog \(its streams have "tap_stream_id" and "metadata"\), but read expects an Airbyte ConfiguredAirbyteCatalog/,
    );
    const discovered = writeJson(dir, 'discovered.json', (await runInProcess(['discover', '--config', config])).stdout.trim());
    const read2 = await runInProcess(['read', '--config', config, '--catalog', discovered]);
    expect(read2.messages.find((m) => m.type === 'TRACE')!.trace.error.message).to.match(
      /is the catalog that discover prints \(it is a whole CATALOG message\), but read expects a ConfiguredAirbyteCatalog/,
    );
  });
});
