// The usage texts a person sees: tap-scarf (Singer flags first) and source-scarf (Airbyte
// commands first), each way of asking for help, exit 0, the text on stdout and nothing else.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { shebangNodeFlags } from '../../src/node-flags.js';
import { repoRoot } from '../helpers/tap.js';

const execFileP = promisify(execFile);

async function run(bin: 'tap-scarf' | 'source-scarf', args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = path.join(repoRoot, 'bin', `${bin}.js`);
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [...shebangNodeFlags(file), file, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const SINGER_HELP = `Usage: tap-scarf [options]

Singer tap and Airbyte source for Scarf analytics exports (events, aggregates, company rollup,
company events).

Options:
  --config <file>      config JSON file, or ENV for TAP_SCARF_* variables (repeatable, later wins)
  --state <file>       state JSON file from the last run
  --catalog <file>     catalog JSON file (from --discover) selecting streams and fields
  --properties <file>  legacy name of --catalog
  --discover           print the catalog
  --about              print name, version, capabilities and settings
  --plan               print the requests (Scarf Runs) the next sync would make, per stream
  --plan-upper-bound   as --plan, but make no request: an upper bound
  --format <format>    format of --about, or of --plan (text, json) (choices: "text", "json",
                       "markdown")
  --test [mode]        emit one record per stream and stop ('schema': only SCHEMA messages)
  --version            print the version
  -h, --help           display help for command

Airbyte commands: tap-scarf spec | check --config F | discover --config F | read --config F --catalog F [--state F]
                  | plan --config F [--catalog F] [--state F] [--format json] [--upper-bound]
PostgreSQL:       tap-scarf load --config F --to postgres://… [--catalog F] [--schema S] [--verify]
                  | verify --config F --to postgres://…   (without --config: the Scarf exporter variables)
Run 'tap-scarf <command> --help' for one command's options; source-scarf is the same program.
`;

const AIRBYTE_HELP = (prog: string) => `Usage: ${prog} <command> [options]

Scarf analytics exports (events, aggregates, company rollup, company events) as an Airbyte source.

Commands:
  spec                                                          print the connector specification (a SPEC message)
  check --config FILE                                           test the settings with one small Scarf API request (a CONNECTION_STATUS message)
  discover --config FILE                                        print the streams and their schemas (a CATALOG message)
  read --config FILE --catalog FILE [--state FILE]              read records, state and logs of the configured streams (AirbyteMessages)
  plan --config FILE [--catalog FILE] [--state FILE] [options]  print the requests (Scarf Runs) the next read would make, per stream (text or JSON; no protocol message)

Run '${prog} <command> --help' for the options of one command.
The same program is a Singer tap: '${prog} --config FILE [--state FILE] [--catalog FILE]' (tap-scarf --help).
`;

const COMMAND_HELP: Record<string, (prog: string) => string> = {
  spec: (prog) => `Usage: ${prog} spec

Print the connector specification (a SPEC message).
`,
  check: (prog) => `Usage: ${prog} check --config FILE

Test the settings with one small Scarf API request (a CONNECTION_STATUS message).

Options:
  --config FILE  JSON object of settings (see spec), or ENV for TAP_SCARF_* variables
`,
  discover: (prog) => `Usage: ${prog} discover --config FILE

Print the streams and their schemas (a CATALOG message).

Options:
  --config FILE  JSON object of settings (see spec), or ENV for TAP_SCARF_* variables
`,
  read: (prog) => `Usage: ${prog} read --config FILE --catalog FILE [--state FILE]

Read records, state and logs of the configured streams (AirbyteMessages).

Options:
  --config FILE   JSON object of settings (see spec), or ENV for TAP_SCARF_* variables
  --catalog FILE  ConfiguredAirbyteCatalog: the streams, sync modes and columns to read
  --state FILE    the last STATE messages of the previous read (the platform's saved state)
`,
  plan: (prog) => `Usage: ${prog} plan --config FILE [--catalog FILE] [--state FILE] [options]

Print the requests (Scarf Runs) the next read would make, per stream (text or JSON; no protocol message).

Options:
  --config FILE   JSON object of settings (see spec), or ENV for TAP_SCARF_* variables
  --catalog FILE  ConfiguredAirbyteCatalog of the read (default: every stream)
  --state FILE    the platform's saved state for the read
  --format json   one JSON object {"streams": {...}, "total": n, ...} instead of text
  --upper-bound   make no request: company_events counted without the company-rollup snapshot
`,
};

describe('CLI help (tap-scarf and source-scarf)', function () {
  this.timeout(60_000);

  for (const args of [['--help'], ['-h'], ['help']]) {
    it(`tap-scarf ${args.join(' ')} prints the Singer usage, then the Airbyte commands; exit 0`, async () => {
      expect(await run('tap-scarf', args)).to.deep.equal({ code: 0, stdout: SINGER_HELP, stderr: '' });
    });
  }

  for (const prog of ['tap-scarf', 'source-scarf'] as const)
    it(`${prog} load --help and verify -h print the command's options on stdout; exit 0`, async () => {
      const load = await run(prog, ['load', '--help']);
      expect(load.code).to.equal(0);
      expect(load.stderr).to.equal('');
      expect(load.stdout).to.match(/^Usage: tap-scarf load \[options\]/);
      for (const flag of [
        '--config <file>',
        '--to <url>',
        '--schema <name>',
        '--catalog <file>',
        '--verify',
        '--import-exporter [table]',
      ])
        expect(load.stdout, flag).to.include(`  ${flag}`);
      const verify = await run(prog, ['verify', '-h']);
      expect(verify.code).to.equal(0);
      expect(verify.stdout).to.match(/^Usage: tap-scarf verify \[options\]/);
      expect(verify.stdout).to.include('  --to <url>');
      expect(verify.stdout).to.not.include('--import-exporter');
    });

  it('the --config line has no "(default: [])" and every Singer flag is listed', () => {
    expect(SINGER_HELP).to.not.include('(default:');
    for (const flag of [
      '--config',
      '--state',
      '--catalog',
      '--properties',
      '--discover',
      '--about',
      '--plan',
      '--plan-upper-bound',
      '--format',
      '--test',
      '--version',
    ])
      expect(SINGER_HELP, flag).to.match(new RegExp(`^  ${flag} `, 'm'));
  });

  for (const args of [['--help'], ['-h'], ['help']]) {
    it(`source-scarf ${args.join(' ')} prints the Airbyte usage (commands); exit 0`, async () => {
      expect(await run('source-scarf', args)).to.deep.equal({ code: 0, stdout: AIRBYTE_HELP('source-scarf'), stderr: '' });
    });
  }

  for (const command of ['spec', 'check', 'discover', 'read', 'plan']) {
    it(`source-scarf ${command} --help, ${command} -h, help ${command}, tap-scarf ${command} --help print its usage; exit 0`, async () => {
      for (const [bin, args] of [
        ['source-scarf', [command, '--help']],
        ['source-scarf', [command, '-h']],
        ['source-scarf', ['help', command]],
        ['tap-scarf', [command, '--help']],
        // --help wins over the command's other arguments: nothing is read or run.
        ['source-scarf', [command, '--config', 'missing.json', '--help']],
      ] as const) {
        expect(await run(bin, [...args]), `${bin} ${args.join(' ')}`).to.deep.equal({
          code: 0,
          stdout: COMMAND_HELP[command]!(bin),
          stderr: '',
        });
      }
    });
  }

  it('without a help flag the commands still run: spec prints a SPEC message', async () => {
    const r = await run('source-scarf', ['spec']);
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout).type).to.equal('SPEC');
  });
});
