// Usage texts for both names of the connector. `tap-scarf` is first a Singer tap (flags);
// `source-scarf` is first an Airbyte source (commands). Help goes to stdout and exits 0: it
// is asked for by a person, never by an orchestrator reading protocol messages.
import type { AirbyteArgs } from './airbyte/main.js';

export type ProgramName = 'tap-scarf' | 'source-scarf';

const COMMANDS: Record<AirbyteArgs['command'], { args: string; summary: string; options: [string, string][] }> = {
  spec: { args: '', summary: 'print the connector specification (a SPEC message)', options: [] },
  check: {
    args: '--config FILE',
    summary: 'test the settings with one small Scarf API request (a CONNECTION_STATUS message)',
    options: [['--config FILE', 'JSON object of settings (see spec), or ENV for TAP_SCARF_* variables']],
  },
  discover: {
    args: '--config FILE',
    summary: 'print the streams and their schemas (a CATALOG message)',
    options: [['--config FILE', 'JSON object of settings (see spec), or ENV for TAP_SCARF_* variables']],
  },
  read: {
    args: '--config FILE --catalog FILE [--state FILE]',
    summary: 'read records, state and logs of the configured streams (AirbyteMessages)',
    options: [
      ['--config FILE', 'JSON object of settings (see spec), or ENV for TAP_SCARF_* variables'],
      ['--catalog FILE', 'ConfiguredAirbyteCatalog: the streams, sync modes and columns to read'],
      ['--state FILE', "the last STATE messages of the previous read (the platform's saved state)"],
    ],
  },
  plan: {
    args: '--config FILE [--catalog FILE] [--state FILE] [options]',
    summary: 'print the requests (Scarf Runs) the next read would make, per stream (text or JSON; no protocol message)',
    options: [
      ['--config FILE', 'JSON object of settings (see spec), or ENV for TAP_SCARF_* variables'],
      ['--catalog FILE', 'ConfiguredAirbyteCatalog of the read (default: every stream)'],
      ['--state FILE', "the platform's saved state for the read"],
      ['--format json', 'one JSON object {"streams": {...}, "total": n, ...} instead of text'],
      ['--upper-bound', 'make no request: company_events counted without the company-rollup snapshot'],
    ],
  },
};

export function isAirbyteCommand(word: string | undefined): word is AirbyteArgs['command'] {
  return word !== undefined && Object.hasOwn(COMMANDS, word);
}

/** `<prog> <command> --help`. */
export function commandHelp(prog: ProgramName, command: AirbyteArgs['command']): string {
  const c = COMMANDS[command];
  const width = Math.max(0, ...c.options.map(([o]) => o.length));
  return [
    `Usage: ${prog} ${command}${c.args ? ` ${c.args}` : ''}`,
    '',
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.options.length ? ['', 'Options:', ...c.options.map(([o, d]) => `  ${o.padEnd(width)}  ${d}`)] : []),
    '',
  ].join('\n');
}

/** `source-scarf --help` (and `tap-scarf help` names the commands too, see singer help). */
export function airbyteHelp(prog: ProgramName): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => [`${name}${c.args ? ` ${c.args}` : ''}`, c.summary] as const);
  const width = Math.max(...rows.map(([u]) => u.length));
  return [
    `Usage: ${prog} <command> [options]`,
    '',
    'Scarf analytics exports (events, aggregates, company rollup, company events) as an Airbyte source.',
    '',
    'Commands:',
    ...rows.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`),
    '',
    `Run '${prog} <command> --help' for the options of one command.`,
    `The same program is a Singer tap: '${prog} --config FILE [--state FILE] [--catalog FILE]' (tap-scarf --help).`,
    '',
  ].join('\n');
}

/** The help text argv asks for, or undefined when it asks for something else. */
export function helpRequested(argv: string[], prog: ProgramName, singerHelp: () => string): string | undefined {
  const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');
  const top = () => (prog === 'source-scarf' ? airbyteHelp(prog) : singerHelp());
  if (argv[0] === 'help') return isAirbyteCommand(argv[1]) ? commandHelp(prog, argv[1]) : top();
  if (isAirbyteCommand(argv[0])) return wantsHelp(argv.slice(1)) ? commandHelp(prog, argv[0]) : undefined;
  return wantsHelp(argv) ? top() : undefined;
}
