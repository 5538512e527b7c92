// The Singer face of the tap: --discover, --about, --version, and a sync with
// --config/--state/--catalog (or legacy --properties).

import { aboutInfo, aboutMarkdown, aboutText } from '../about.js';
import { defaultSelection, optInStreams, readCatalogFile, selectionFromSingerCatalog, singerCatalog } from '../catalog.js';
import { loadConfig } from '../config/load.js';
import { batchSettings } from '../config/sdk-settings.js';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { packageJson } from '../paths.js';
import { LineWriter } from '../protocol/output.js';
import { configSources } from '../run/config-sources.js';
import { type Io, processIo } from '../run/io.js';
import { parseState, StateStore } from '../state.js';
import { readJsonFile } from '../util/json.js';

export interface SingerArgs {
  config: string[];
  state?: string;
  catalog?: string;
  properties?: string;
  discover?: boolean;
  about?: boolean;
  format?: string;
  version?: boolean;
  /** --test: 'record' emits one record per stream, 'schema' only SCHEMA messages. */
  test?: string;
  plan?: boolean;
  planUpperBound?: boolean;
}

export function readStateFile(file: string): StateStore {
  const value = readJsonFile(file, {
    kind: 'state',
    invalidHint:
      "Restore it from your orchestrator's last good state, or delete it (and run 'meltano state clear' under Meltano) to start again from start_date.",
    blankIsEmpty: true,
  });
  if (value === undefined) return new StateStore();
  return new StateStore(parseState(value, `state file ${file}`));
}

/** --about in one of its formats. */
function about(format: string): string {
  if (format === 'json') return JSON.stringify(aboutInfo(), null, 2) + '\n';
  if (format === 'markdown') return aboutMarkdown();
  if (format === 'text') return aboutText();
  throw new ConfigError(`--format ${format} is not supported; use text, json or markdown.`);
}

export async function singerMain(args: SingerArgs, io: Io = processIo()): Promise<number> {
  if (args.version) {
    io.stdout.write(`${packageJson.name} ${packageJson.version}\n`);
    return 0;
  }
  if (args.about) {
    io.stdout.write(about(args.format ?? 'text'));
    return 0;
  }
  if (args.plan || args.planUpperBound) {
    // The plan reads the sync's inputs as the sync below does, each with its own error for a
    // missing --config (docs/DESIGN.md "Repeated shapes").
    const { planFormat, runPlan } = await import('../run/plan.js');
    const format = planFormat(args.format);
    if (!args.config.length)
      throw new ConfigError(
        '--plan needs a configuration: pass --config FILE or --config ENV (and the --catalog and --state of the sync).',
      );
    const settings = loadConfig(configSources(args.config));
    const catalogFile = args.catalog ?? args.properties;
    const selections = catalogFile ? selectionFromSingerCatalog(readCatalogFile(catalogFile), catalogFile) : defaultSelection();
    const state = args.state ? readStateFile(args.state) : new StateStore();
    return runPlan(settings, selections, state, { upperBound: !!args.planUpperBound, format }, (t) => void io.stdout.write(t));
  }
  if (args.discover) {
    // Discovery needs no API call: the catalog comes from schemas/. A given config is still checked.
    if (args.config.length) loadConfig(configSources(args.config));
    io.stdout.write(JSON.stringify(singerCatalog(), null, 2) + '\n');
    return 0;
  }
  if (args.test !== undefined) {
    const { parseTestMode, runTestMode } = await import('./test-mode.js');
    const testFile = args.catalog ?? args.properties;
    return runTestMode(
      parseTestMode(args.test),
      args.config.length ? loadConfig(configSources(args.config)) : undefined,
      testFile ? selectionFromSingerCatalog(readCatalogFile(testFile), testFile) : defaultSelection(),
      io.stdout,
    );
  }
  if (!args.config.length)
    throw new ConfigError(
      'No configuration: pass --config FILE (JSON with api_token and owner) or --config ENV (TAP_SCARF_API_TOKEN, TAP_SCARF_OWNER, …).',
    );
  const settings = loadConfig(configSources(args.config));
  const catalogFile = args.catalog ?? args.properties;
  const selections = catalogFile ? selectionFromSingerCatalog(readCatalogFile(catalogFile), catalogFile) : defaultSelection();
  if (!catalogFile)
    log.info(
      `No --catalog given: syncing every stream with every field, except the opt-in ones (${optInStreams().join(', ')}: select them in a catalog).`,
    );
  const state = args.state ? readStateFile(args.state) : new StateStore();

  // The sync's modules (the HTTP client, the writers, the runner) load only for a sync:
  // --about, --version and --discover start without them.
  const [{ SingerWriter }, { SingerBatchWriter }, { installStopHandlers }, { makeClient }, { makeContext, runSync }] =
    await Promise.all([
      import('../protocol/singer.js'),
      import('../protocol/singer-batch.js'),
      import('../run/stop.js'),
      import('../scarf/from-settings.js'),
      import('../sync.js'),
    ]);
  const batch = batchSettings(settings);
  const singer = new SingerWriter(new LineWriter(io.stdout));
  const writer = batch ? new SingerBatchWriter(batch, singer) : singer;
  const client = makeClient(settings);
  const ctx = makeContext(settings, state, client);
  const removeHandlers = installStopHandlers(
    ctx,
    () => {
      // The open batch file is announced before the last safe state, which may cover its records.
      if (writer instanceof SingerBatchWriter) writer.announceNow();
      return writer.out.flush();
    },
    () => writer.stateLine(state),
  );
  try {
    await runSync(ctx, selections, writer);
  } finally {
    removeHandlers();
    await writer.out.end();
    await client.close();
  }
  return 0;
}
