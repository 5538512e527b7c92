// `tap-scarf load` and `tap-scarf verify`: the same sync (streams, windows, verification,
// plan, budget, signals, --catalog selection) written into PostgreSQL instead of stdout, and
// the per-day check of what the database holds against Scarf's counts. Configured like a sync
// (--config FILE / ENV), or with no --config from the environment the way Scarf's own
// Postgres exporter is: SCARF_API_TOKEN, SCARF_ENTITY_NAME, PSQL_CONN_STRING, BACKFILL_DAYS,
// plus any TAP_SCARF_* setting.
import { Command } from 'commander';
import type pg from 'pg';

import { defaultSelection, readCatalogFile, selectionFromSingerCatalog, type StreamSelection } from '../catalog.js';
import { type ConfigSource, loadConfig, type RawConfig, type Settings } from '../config/load.js';
import { connect, lockOwner, parseTarget, type PgTarget } from '../destination/postgres/connection.js';
import { describeTarget, DestinationError, destinationError } from '../destination/postgres/errors.js';
import { EXPORTER_TABLE, exporterTableExists, importExporterTable } from '../destination/postgres/exporter-import.js';
import { ensureTables } from '../destination/postgres/migrate.js';
import { selectStateSql, stateFromRows, type StateRow, TrackedStateStore } from '../destination/postgres/state-table.js';
import { qualified, STATE_TABLE } from '../destination/postgres/tables.js';
import { verifyCompanyEvents, verifyCompanyText, verifyEvents, verifyText } from '../destination/postgres/verify.js';
import { PostgresWriter } from '../destination/postgres/writer.js';
import { AbortedError, ConfigError, SyncFailedError, type TapError } from '../errors.js';
import { log } from '../log.js';
import { configSources } from '../run/config-sources.js';
import { makeClient } from '../scarf/from-settings.js';
import type { StreamName } from '../schemas.js';
import { addDays, dayOf } from '../streams/engine/days.js';
import type { SyncContext } from '../streams/engine/types.js';
import { ScarfCounts } from '../streams/verify/counts.js';
import { makeContext, runSync, type StreamOutcome } from '../sync.js';

export interface LoadArgs {
  command: 'load' | 'verify';
  config: string[];
  catalog?: string;
  to?: string;
  schema: string;
  verify?: boolean;
  importExporter?: string | boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function program(command: 'load' | 'verify'): Command {
  const p = new Command(`tap-scarf ${command}`)
    .description(
      command === 'load'
        ? 'Sync Scarf into PostgreSQL, exactly once: every window committed with its bookmark in one transaction.'
        : "Compare, per UTC day, the events (and per company the company_events) the database holds with Scarf's own daily counts.",
    )
    .option(
      '--config <file>',
      'config JSON file, or ENV for TAP_SCARF_* variables (repeatable, later wins); without it: the Scarf exporter variables',
      collect,
    )
    .option('--to <url>', 'PostgreSQL connection string, postgres://USER:PASSWORD@HOST:PORT/DATABASE (default: PSQL_CONN_STRING)')
    .option('--schema <name>', 'schema of the tables (created if missing)', process.env.TAP_SCARF_PG_SCHEMA || 'scarf');
  if (command === 'load')
    p.option('--catalog <file>', 'catalog JSON file (from --discover) selecting streams and fields')
      .option('--verify', 'after the load, verify the events per UTC day against Scarf (as tap-scarf verify)')
      .option(
        '--import-exporter [table]',
        `first load of an owner: import the Scarf exporter's table (default ${EXPORTER_TABLE}) de-duplicated, and continue after it`,
      );
  return p
    .helpOption('-h, --help')
    .configureHelp({ helpWidth: 100 })
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stderr.write(s), writeErr: (s) => process.stderr.write(s) })
    .allowExcessArguments(false);
}

export function loadHelp(command: 'load' | 'verify'): string {
  return program(command).helpInformation();
}

export function parseLoadArgs(argv: string[]): LoadArgs {
  const command = argv[0] as 'load' | 'verify';
  const p = program(command);
  p.parse(argv.slice(1), { from: 'user' });
  const o = p.opts<Omit<LoadArgs, 'command'>>();
  return { ...o, command, config: o.config ?? [] };
}

/**
 * Settings without --config, as Scarf's exporter takes them: SCARF_API_TOKEN, SCARF_ENTITY_NAME
 * and BACKFILL_DAYS (start_date that many days back; the exporter's default is 31, as is
 * tap-scarf's), then TAP_SCARF_* variables, which win.
 */
export function exporterEnvSources(env: NodeJS.ProcessEnv = process.env): ConfigSource[] {
  const value: RawConfig = {};
  if (env.SCARF_API_TOKEN !== undefined) value.api_token = env.SCARF_API_TOKEN;
  if (env.SCARF_ENTITY_NAME !== undefined) value.owner = env.SCARF_ENTITY_NAME;
  if (env.BACKFILL_DAYS !== undefined && env.BACKFILL_DAYS.trim() !== '') {
    const n = Number(env.BACKFILL_DAYS.trim());
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError(
        `BACKFILL_DAYS: '${env.BACKFILL_DAYS}' is not a whole number of days; set it to e.g. 31, or remove it.`,
      );
    value.start_date = addDays(dayOf(new Date().toISOString()), -n);
  }
  return [
    { kind: 'object', value, label: 'the Scarf exporter variables (SCARF_API_TOKEN, SCARF_ENTITY_NAME, BACKFILL_DAYS)' },
    { kind: 'env' },
  ];
}

function settingsOf(args: LoadArgs): Settings {
  if (args.config.length) return loadConfig(configSources(args.config));
  if (process.env.SCARF_API_TOKEN === undefined && process.env.TAP_SCARF_API_TOKEN === undefined)
    throw new ConfigError(
      `No configuration: pass --config FILE or --config ENV, or set the Scarf exporter's variables SCARF_API_TOKEN and SCARF_ENTITY_NAME (and PSQL_CONN_STRING for the database).`,
    );
  return loadConfig(exporterEnvSources());
}

function targetOf(args: LoadArgs): PgTarget {
  const url = args.to ?? process.env.PSQL_CONN_STRING;
  if (url === undefined)
    throw new ConfigError('No database: pass --to postgres://USER:PASSWORD@HOST:PORT/DATABASE, or set PSQL_CONN_STRING.');
  return parseTarget(url, args.schema);
}

async function readState(client: pg.Client, target: PgTarget, owner: string): Promise<TrackedStateStore> {
  const { rows } = await client.query<StateRow>(selectStateSql(target.schema), [owner]);
  return new TrackedStateStore(stateFromRows(rows));
}

/** A connection that holds the owner's lock, with the tables of `streams` in place. */
async function open(target: PgTarget, owner: string, streams: StreamName[]): Promise<pg.Client> {
  const client = await connect(target);
  try {
    await lockOwner(client, target, owner);
    await ensureTables(client, target.schema, streams);
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw destinationError(err, target, 'preparing the tables');
  }
}

/** Reads of a stream again after a lost connection, before the load gives up. */
const STREAM_RETRIES = 3;

/**
 * SIGTERM/SIGINT/SIGHUP/SIGQUIT: a commit in flight is let finish (the server has it either
 * way), the open window is rolled back with the connection, and the exit code is 128 + the
 * signal. The database then holds every window committed before the signal.
 */
function installLoadStopHandlers(ctx: () => SyncContext | undefined, writer: () => PostgresWriter | undefined): () => void {
  const codes: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = codes[signal] ?? 143;
    if (stopping) process.exit(code);
    stopping = true;
    const c = ctx();
    if (c) c.aborted = true;
    log.error(`Stopped by ${signal}: the database holds every window committed before it; the next load resumes from there.`);
    const w = writer();
    void (w ? w.settled() : Promise.resolve()).finally(() => process.exit(code));
    setTimeout(() => process.exit(code), 10_000).unref();
  };
  for (const s of Object.keys(codes)) process.on(s, handler);
  return () => {
    for (const s of Object.keys(codes)) process.off(s, handler);
  };
}

function retryable(stream: StreamName, outcome: StreamOutcome | undefined, writer: PostgresWriter): DestinationError | undefined {
  const e = writer.failures.get(stream) ?? (outcome?.error instanceof DestinationError ? outcome.error : undefined);
  return e?.retry ? e : undefined;
}

async function runLoad(args: LoadArgs): Promise<number> {
  const settings = settingsOf(args);
  const target = targetOf(args);
  const catalogFile = args.catalog;
  const selections: StreamSelection[] = catalogFile
    ? selectionFromSingerCatalog(readCatalogFile(catalogFile), catalogFile)
    : defaultSelection();
  const owner = settings.owner;
  const streams = selections.map((s) => s.stream);
  const run: LoadRun = { ctx: undefined, writer: undefined };
  // From the start: a signal while connecting or creating the tables (one transaction) leaves nothing behind either.
  const removeHandlers = installLoadStopHandlers(
    () => run.ctx,
    () => run.writer,
  );
  log.info(
    `Loading ${streams.join(', ')} of owner '${owner}' into PostgreSQL ${describeTarget(target)}, schema "${target.schema}".`,
  );
  const scarf = makeClient(settings);
  let client: pg.Client | undefined;
  try {
    // Every database problem (reach, login, privileges, column types) shows before any Scarf request.
    client = await open(target, owner, streams);
    const state = await readState(client, target, owner);
    const importName = args.importExporter === true ? EXPORTER_TABLE : args.importExporter;
    const autoImport = !args.config.length && importName === undefined && !state.hasProgress('events');
    if (
      streams.includes('events') &&
      (importName !== undefined || (autoImport && (await exporterTableExists(client, EXPORTER_TABLE))))
    )
      await importExporterTable(client, target.schema, owner, state, importName || EXPORTER_TABLE).catch((err: unknown) => {
        throw destinationError(err, target, 'importing the exporter table');
      });
    // Session 0 holds the owner's lock; session 1 takes every other window (src/destination/postgres/writer.ts).
    const sessionFactory = (i: number) => (i === 0 ? open(target, owner, streams) : connect(target));
    run.writer = new PostgresWriter([client, await sessionFactory(1)], target, owner, state, sessionFactory);
    client = undefined;
    return await syncWithRetries(args, settings, target, selections, scarf, state, run);
  } catch (err) {
    if (err instanceof AbortedError) return typeof process.exitCode === 'number' ? process.exitCode : 143;
    throw err;
  } finally {
    removeHandlers();
    // An open socket would keep the process alive: every connection is closed, whatever failed.
    await client?.end().catch(() => undefined);
    await run.writer?.close();
    await scarf.close();
  }
}

interface LoadRun {
  ctx: SyncContext | undefined;
  writer: PostgresWriter | undefined;
}

/** The sync into the writer; streams that lost the connection are read again from the committed state. */
async function syncWithRetries(
  args: LoadArgs,
  settings: Settings,
  target: PgTarget,
  selections: StreamSelection[],
  scarf: ReturnType<typeof makeClient>,
  initial: TrackedStateStore,
  run: LoadRun,
): Promise<number> {
  const writer = run.writer!;
  const owner = settings.owner;
  const signpost = new Date();
  const contextFor = (state: TrackedStateStore): SyncContext => {
    const ctx = makeContext(settings, state, scarf, signpost);
    ctx.checkpointEveryCommit = true;
    return (run.ctx = ctx);
  };
  let ctx = contextFor(initial);
  const failed: { stream: string; error?: TapError }[] = [];
  let pending = selections;
  for (let attempt = 0; pending.length; attempt++) {
    let outcomes: StreamOutcome[];
    try {
      outcomes = await runSync(ctx, pending, writer);
    } catch (err) {
      if (!(err instanceof SyncFailedError)) throw err;
      outcomes = err.outcomes as StreamOutcome[];
    }
    const outcome = (stream: string) => outcomes.find((o) => o.stream === stream);
    const again = pending.filter((s) => retryable(s.stream, outcome(s.stream), writer));
    for (const o of outcomes) {
      if (again.some((s) => s.stream === o.stream)) continue;
      const error = writer.failures.get(o.stream) ?? o.error;
      if (error) failed.push({ stream: o.stream, error });
    }
    if (!again.length) break;
    const why = retryable(again[0]!.stream, outcome(again[0]!.stream), writer)!;
    if (attempt + 1 >= STREAM_RETRIES) {
      for (const s of again) failed.push({ stream: s.stream, error: retryable(s.stream, outcome(s.stream), writer) ?? why });
      break;
    }
    log.warn(
      `${again.map((s) => s.stream).join(', ')}: ${why.message} The window that was open is not in the database; reading from the database's state again (attempt ${attempt + 2} of ${STREAM_RETRIES}).`,
    );
    // The state as committed: the windows that made it are not read again (beyond the usual lookback).
    await writer.reset().catch((err: unknown) => {
      throw destinationError(err, target, 'reconnecting');
    });
    const state = await readState(writer.connection(), target, owner);
    writer.useState(state);
    ctx = contextFor(state);
    pending = again;
  }
  if (failed.length) throw new SyncFailedError(failed);
  if (args.verify) return runVerify(ctx, writer.connection(), target);
  return 0;
}

async function runVerify(ctx: SyncContext, client: pg.Client, target: PgTarget): Promise<number> {
  const owner = ctx.settings.owner;
  const stateTable = qualified(target.schema, STATE_TABLE);
  const fail = (doing: string) => (err: unknown) => {
    throw err instanceof Error && 'code' in err ? destinationError(err, target, doing) : err;
  };
  // One reference: without package_query one aggregates request carries both kinds of count.
  const reference = new ScarfCounts(ctx);
  const report = await verifyEvents(ctx, client, target.schema, undefined, reference).catch(fail('counting events per day'));
  const companies = await verifyCompanyEvents(ctx, client, target.schema, reference).catch(
    fail('counting company_events per day and company'),
  );
  process.stdout.write(verifyText(report, qualified(target.schema, 'events'), stateTable, owner));
  process.stdout.write(verifyCompanyText(companies, qualified(target.schema, 'company_events'), stateTable, owner));
  let code = 0;
  if (report.differing.length) {
    log.error(
      `verify: ${report.differing.length} of ${report.days.length} day(s) differ from Scarf's counts: ${report.differing
        .slice(0, 10)
        .map((d) => `${d.day} (database ${d.database}, Scarf ${d.scarf})`)
        .join(', ')}${report.differing.length > 10 ? ', …' : ''}.`,
    );
    code = 1;
  } else log.info(`verify: ${report.days.length} day(s) checked, all equal to Scarf's counts.`);
  if (companies.differing.length) {
    log.error(
      `verify: ${companies.differing.length} of ${companies.days.length} company-day(s) of company_events differ from Scarf's by-company counts: ${companies.differing
        .slice(0, 10)
        .map((d) => `${d.day} ${d.company} (database ${d.database}, Scarf ${d.scarf})`)
        .join(', ')}${companies.differing.length > 10 ? ', …' : ''}.`,
    );
    code = 1;
  } else if (companies.range)
    log.info(
      `verify: ${companies.days.length} company-day(s) of company_events checked, all equal to Scarf's by-company counts.`,
    );
  return code;
}

async function verifyOnly(args: LoadArgs): Promise<number> {
  const settings = settingsOf(args);
  const target = targetOf(args);
  const client = await connect(target);
  const scarf = makeClient(settings);
  try {
    const state = await readState(client, target, settings.owner).catch((err: unknown) => {
      throw destinationError(err, target, `reading ${qualified(target.schema, STATE_TABLE)}`);
    });
    const ctx = makeContext(settings, state, scarf);
    return await runVerify(ctx, client, target);
  } finally {
    await client.end().catch(() => undefined);
    await scarf.close();
  }
}

export async function loadMain(argv: string[]): Promise<number> {
  let args: LoadArgs;
  try {
    args = parseLoadArgs(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed') return 0;
    return 2;
  }
  return args.command === 'verify' ? verifyOnly(args) : runLoad(args);
}
