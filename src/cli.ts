// Entry point for both protocols: `spec|check|discover|read` speak Airbyte, flags speak Singer.
import { Command, Option } from 'commander';

import { runtimeOptions } from './config/runtime-options.js';
import { asTapError } from './errors.js';
import { helpRequested, type ProgramName } from './help.js';
import { log, setLogSink } from './log.js';
import { packageJson } from './paths.js';
import { exitOnBrokenOutput, stdoutWasClosed } from './protocol/output.js';
import { type Io, isProcessIo, processIo, stderrLogSink } from './run/io.js';
import type { SingerArgs } from './singer/main.js';

export const AIRBYTE_COMMANDS = new Set(['spec', 'check', 'discover', 'read', 'plan']);

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function singerProgram(io: Io = processIo()): Command {
  return (
    new Command('tap-scarf')
      .description(`${packageJson.description}.`)
      // No default value: commander would print it as "(default: [])".
      .option('--config <file>', 'config JSON file, or ENV for TAP_SCARF_* variables (repeatable, later wins)', collect)
      .option('--state <file>', 'state JSON file from the last run')
      .option('--catalog <file>', 'catalog JSON file (from --discover) selecting streams and fields')
      .option('--properties <file>', 'legacy name of --catalog')
      .option('--discover', 'print the catalog')
      .option('--about', 'print name, version, capabilities and settings')
      .option('--plan', 'print the requests (Scarf Runs) the next sync would make, per stream')
      .option('--plan-upper-bound', 'as --plan, but make no request: an upper bound')
      .addOption(
        new Option('--format <format>', 'format of --about, or of --plan (text, json)').choices(['text', 'json', 'markdown']),
      )
      .option('--test [mode]', "emit one record per stream and stop ('schema': only SCHEMA messages)")
      .option('--version', 'print the version')
      .helpOption('-h, --help')
      .configureHelp({ helpWidth: 100 })
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stderr.write(s), writeErr: (s) => io.stderr.write(s) })
      .allowExcessArguments(false)
  );
}

/** `tap-scarf --help`: the Singer flags, then where the Airbyte commands are described. */
export function singerHelp(): string {
  return (
    singerProgram().helpInformation() +
    '\nAirbyte commands: tap-scarf spec | check --config F | discover --config F | read --config F --catalog F [--state F]\n' +
    '                  | plan --config F [--catalog F] [--state F] [--format json] [--upper-bound]\n' +
    'PostgreSQL:       tap-scarf load --config F --to postgres://… [--catalog F] [--schema S] [--verify]\n' +
    '                  | verify --config F --to postgres://…   (without --config: the Scarf exporter variables)\n' +
    "Run 'tap-scarf <command> --help' for one command's options; source-scarf is the same program.\n"
  );
}

export function parseSingerArgs(argv: string[], io: Io = processIo()): SingerArgs {
  const program = singerProgram(io);
  program.parse(argv, { from: 'user' });
  const o = program.opts<Omit<SingerArgs, 'test'> & { test?: string | boolean }>();
  return { ...o, config: o.config ?? [], test: o.test === true ? 'record' : o.test || undefined };
}

/**
 * The environment knobs are read and checked once, here, before anything is said. One the tap
 * cannot use is said where the command first needs it (runSync, before its first request), in
 * the protocol's own words (for Airbyte, a TRACE message): until then DEBUG stays off.
 */
function debugAsked(): boolean {
  try {
    return runtimeOptions().debug;
  } catch {
    return false;
  }
}

/** The whole CLI; `io` is where its output goes (a test passes memory, test/helpers/in-process.ts). */
export async function main(argv: string[], prog: ProgramName = 'tap-scarf', io: Io = processIo()): Promise<number> {
  const ownStreams = isProcessIo(io);
  if (ownStreams) exitOnBrokenOutput();
  // Set on every call: an earlier Airbyte run in the same process (a test) left its own.
  setLogSink(stderrLogSink(io.stderr));
  try {
    log.setDebug(debugAsked());
    if (argv[0] === 'load' || argv[0] === 'verify') {
      const { loadHelp, loadMain } = await import('./load/main.js');
      if (argv.includes('--help') || argv.includes('-h')) {
        io.stdout.write(loadHelp(argv[0]));
        return 0;
      }
      return await loadMain(argv);
    }
    // (load writes its records to PostgreSQL, not stdout: checked after it.)
    if (ownStreams && stdoutWasClosed()) {
      log.error(
        'stdout is closed (as with >&-): every message the tap writes (records, state, catalog) would go nowhere, so it does not start. ' +
          'Give it a stdout: a pipe to a target, or a file (> out.jsonl); to discard the output on purpose, redirect it to /dev/null (> /dev/null).',
      );
      return 1;
    }
    const help = helpRequested(argv, prog, singerHelp);
    if (help !== undefined) {
      io.stdout.write(help);
      return 0;
    }
    if (argv[0] !== undefined && AIRBYTE_COMMANDS.has(argv[0])) {
      const { airbyteMain } = await import('./airbyte/main.js');
      return await airbyteMain(argv, io);
    }
    let args: SingerArgs;
    try {
      args = parseSingerArgs(argv, io);
    } catch (e) {
      const code = (e as { exitCode?: number; code?: string }).code;
      if (code === 'commander.helpDisplayed' || code === 'commander.version') return 0;
      return 2;
    }
    // Loaded here, not at the top: load, verify and the Airbyte commands never need it.
    const { singerMain } = await import('./singer/main.js');
    return await singerMain(args, io);
  } catch (err) {
    const e = asTapError(err);
    log.error(e.message);
    if (e.failureType === 'system_error' && !(err as Error)?.name?.endsWith('Error'))
      // Frame by frame: a log message is one line (log.ts escapes line breaks), and the
      // message itself, which may quote response text, was logged above.
      for (const frame of String((err as Error)?.stack ?? '').split('\n')) if (/^\s+at /.test(frame)) log.debug(frame.trim());
    return 1;
  }
}
