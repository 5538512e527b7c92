// The Airbyte face: `spec`, `check --config F`, `discover --config F`,
// `read --config F --catalog F [--state F]`. stdout carries only AirbyteMessages (logs
// included, as LOG messages); the streams, schemas, config rules and state are the Singer
// side's, this module only translates.
import { defaultSelection, readCatalogFile, type StreamSelection } from '../catalog.js';
import { loadConfig, type Settings } from '../config/load.js';
import { loadSpec } from '../config/spec.js';
import { asTapError, ConfigError, SyncFailedError, TapError } from '../errors.js';
import { log, redact, setLogSink } from '../log.js';
import { AirbyteWriter, syncFailure, traceError } from '../protocol/airbyte.js';
import { type AirbyteSpecMessage, serialize } from '../protocol/airbyte-types.js';
import { LineWriter } from '../protocol/output.js';
import { configSources } from '../run/config-sources.js';
import { type Io, processIo } from '../run/io.js';
import { installStopHandlers } from '../run/stop.js';
import type { ScarfClient } from '../scarf/client.js';
import { makeClient } from '../scarf/from-settings.js';
import { StateStore } from '../state.js';
import { fullTable } from '../streams/engine/stream-state.js';
import { makeContext, runSync } from '../sync.js';
import { airbyteCatalog, selectionFromConfiguredCatalog } from './catalog.js';
import { checkConnection } from './check.js';
import { readAirbyteStateFile } from './state.js';

export interface AirbyteArgs {
  command: 'spec' | 'check' | 'discover' | 'read' | 'plan';
  config?: string;
  catalog?: string;
  state?: string;
  /** plan: text (default) or json. */
  format?: string;
  /** plan: make no request (an upper bound). */
  upperBound?: boolean;
}

const USAGE =
  'usage: tap-scarf spec | check --config F | discover --config F | read --config F --catalog F [--state F] | plan --config F [--catalog F] [--state F] [--format json] [--upper-bound]';
const ALLOWED: Record<AirbyteArgs['command'], string[]> = {
  spec: [],
  check: ['config'],
  discover: ['config'],
  read: ['config', 'catalog', 'state'],
  plan: ['config', 'catalog', 'state', 'format', 'upper-bound'],
};
/** Options that take no value. */
const FLAGS = new Set(['upper-bound']);

export function parseAirbyteArgs(argv: string[]): AirbyteArgs {
  const command = argv[0] as AirbyteArgs['command'];
  if (!(command in ALLOWED)) throw new ConfigError(`Unknown command '${argv[0]}'. ${USAGE}`);
  const args: AirbyteArgs = { command };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !ALLOWED[command].includes(m[1]!)) throw new ConfigError(`'${command}' does not take '${a}'. ${USAGE}`);
    if (FLAGS.has(m[1]!)) {
      if (m[2] !== undefined) throw new ConfigError(`--${m[1]} takes no value. ${USAGE}`);
      args.upperBound = true;
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '')
      throw new ConfigError(`--${m[1]} needs ${m[1] === 'format' ? 'a value (text or json)' : 'a file path'}. ${USAGE}`);
    (args as unknown as Record<string, string>)[m[1]!] = value;
  }
  if (command !== 'spec' && !args.config)
    throw new ConfigError(`'${command}' needs --config FILE (a JSON object of settings; see 'spec'). ${USAGE}`);
  if (command === 'read' && !args.catalog)
    throw new ConfigError(`'read' needs --catalog FILE (a ConfiguredAirbyteCatalog). ${USAGE}`);
  return args;
}

function settingsFrom(args: AirbyteArgs): Settings {
  // configSources also accepts ENV, which lets a container take TAP_SCARF_* variables; only
  // then do errors speak of them.
  const settings = loadConfig(configSources([args.config!]), { envHint: args.config === 'ENV' });
  // The Airbyte protocol has no BATCH message: records go out as RECORDs whatever the config says.
  if (settings.batch_config)
    log.warn("Setting 'batch_config' is for Singer (Meltano) only: an Airbyte read writes RECORD messages.");
  return settings;
}

export function specMessage(): AirbyteSpecMessage {
  const spec = loadSpec();
  return {
    type: 'SPEC',
    spec: {
      documentationUrl: spec.documentationUrl,
      connectionSpecification: spec.connectionSpecification,
      supportsIncremental: true,
    },
  };
}

/**
 * The state `read` and `plan` start from. full_refresh means "from start_date": whatever the
 * platform passed for such a stream does not apply, so its entry goes before anything reads it.
 */
function startState(args: AirbyteArgs, selections: readonly StreamSelection[]): StateStore {
  const state = new StateStore(args.state ? readAirbyteStateFile(args.state) : { bookmarks: {} });
  for (const s of selections) fullTable(s, { droppedFrom: state });
  return state;
}

async function read(args: AirbyteArgs, writer: AirbyteWriter): Promise<void> {
  const settings = settingsFrom(args);
  const selections = selectionFromConfiguredCatalog(readCatalogFile(args.catalog!), args.catalog!);
  const state = startState(args, selections);
  let client: ScarfClient | undefined;
  let removeHandlers = () => {};
  try {
    client = makeClient(settings);
    const ctx = makeContext(settings, state, client);
    removeHandlers = installStopHandlers(
      ctx,
      () => writer.out.flush(),
      () => writer.finalLines(state),
    );
    await runSync(ctx, selections, writer);
  } finally {
    removeHandlers();
    await client?.close();
  }
}

/**
 * `plan`: what `tap-scarf --plan` prints, from an Airbyte config, configured catalog and
 * state, for Airbyte users, who cannot pass the Singer flags (README "Requests (Scarf Runs)").
 * Not a protocol command: it prints text or one JSON object, and logs to stderr.
 */
async function plan(args: AirbyteArgs, io: Io): Promise<number> {
  const { planFormat, runPlan } = await import('../run/plan.js');
  const format = planFormat(args.format);
  const settings = settingsFrom(args);
  const selections = args.catalog
    ? selectionFromConfiguredCatalog(readCatalogFile(args.catalog), args.catalog)
    : defaultSelection();
  return runPlan(
    settings,
    selections,
    startState(args, selections),
    { upperBound: !!args.upperBound, format },
    (t) => void io.stdout.write(t),
  );
}

export async function airbyteMain(argv: string[], io: Io = processIo()): Promise<number> {
  if (argv[0] === 'plan') {
    try {
      return await plan(parseAirbyteArgs(argv), io);
    } catch (err) {
      log.error(asTapError(err).message);
      return 1;
    }
  }
  const writer = new AirbyteWriter(new LineWriter(io.stdout));
  // Before anything else can log: Airbyte reads only stdout, so stderr lines would be lost.
  setLogSink(writer.logSink());
  try {
    const args = parseAirbyteArgs(argv);
    switch (args.command) {
      case 'spec':
        await writer.out.write(serialize(specMessage()));
        return 0;
      case 'check': {
        let result: { ok: boolean; message: string };
        let settings: Settings | undefined;
        try {
          settings = settingsFrom(args);
          result = await checkConnection(settings);
        } catch (err) {
          // A config the connector cannot use is an answer to "check", not a crash.
          result = { ok: false, message: asTapError(err).message };
        }
        if (!result.ok) log.error(`check failed: ${result.message}`);
        else if (settings) {
          const { firstReadPlanLine } = await import('../run/plan.js');
          log.info(await firstReadPlanLine(settings));
        }
        await writer.out.write(
          serialize({
            type: 'CONNECTION_STATUS',
            connectionStatus: { status: result.ok ? 'SUCCEEDED' : 'FAILED', message: redact(result.message) },
          }),
        );
        return 0;
      }
      case 'discover':
        // The catalog needs no API call; the config is still validated so a bad one fails here.
        settingsFrom(args);
        await writer.out.write(serialize({ type: 'CATALOG', catalog: airbyteCatalog() }));
        return 0;
      case 'read':
        await read(args, writer);
        return 0;
      case 'plan':
        return await plan(args, io);
    }
  } catch (err) {
    const e = asTapError(err);
    const message = err instanceof SyncFailedError ? syncFailure(err.outcomes) : e.message;
    log.error(message);
    // A stack helps only for the unexpected; the tap's own errors already say what to fix.
    const stack = err instanceof TapError ? undefined : (err as Error)?.stack;
    await writer.out.write(traceError(message, e.failureType, { internal: e.name, ...(stack ? { stack } : {}) }));
    return 1;
  } finally {
    await writer.out.end();
  }
}
