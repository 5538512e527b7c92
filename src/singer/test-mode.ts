// `--test` and `--test=schema`, as the Singer SDK defines them (the `test` capability of
// the Meltano plugin definition; `meltano invoke tap-scarf --test`):
//   --test / --test=record  sync each selected stream only until its first record: SCHEMA +
//                           that one RECORD per stream, no STATE (a test must not move
//                           bookmarks), exit 0. Proves config, token, plan and parsing for
//                           a handful of requests instead of a whole sync's worth of Runs.
//   --test=schema           only the SCHEMA messages of the selected streams; no API call.
import type { StreamSelection } from '../catalog.js';
import type { Settings } from '../config/load.js';
import { ConfigError, type TapError } from '../errors.js';
import { log } from '../log.js';
import { LineWriter } from '../protocol/output.js';
import { schemaMessage, SingerWriter } from '../protocol/singer.js';
import { makeClient } from '../scarf/from-settings.js';
import type { StreamName } from '../schemas.js';
import { StateStore } from '../state.js';
import type { Rec, StreamStats } from '../streams/engine/types.js';
import { makeContext, type ProtocolWriter, runSync } from '../sync.js';

export type TestMode = 'record' | 'schema';

export function parseTestMode(value: string): TestMode {
  if (value === 'record' || value === 'all' || value === '') return 'record';
  if (value === 'schema') return 'schema';
  throw new ConfigError(
    `--test=${value} is not supported; use --test (one record per stream) or --test=schema (SCHEMA messages only).`,
  );
}

/** Singer output without STATE: a test must not move bookmarks. */
class TestWriter implements ProtocolWriter {
  constructor(readonly singer: SingerWriter) {}

  startStream(selection: StreamSelection): void | Promise<void> {
    return this.singer.startStream(selection);
  }

  record(stream: StreamName, rec: Rec): void | Promise<void> {
    return this.singer.record(stream, rec);
  }

  recordJson(stream: StreamName, json: Buffer, end: number): void | Promise<void> {
    return this.singer.recordJson(stream, json, end);
  }

  async checkpoint(): Promise<void> {}

  outputBytes(): number {
    return this.singer.outputBytes();
  }

  endStream(_selection: StreamSelection, _stats: StreamStats, _error?: TapError): void {}
}

export async function runTestMode(
  mode: TestMode,
  settings: Settings | undefined,
  selections: StreamSelection[],
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  if (mode === 'schema') {
    const writer = new SingerWriter(new LineWriter(stdout));
    for (const s of selections) await writer.out.write(JSON.stringify(schemaMessage(s)));
    await writer.out.end();
    return 0;
  }
  if (!settings)
    throw new ConfigError(
      '--test needs a configuration: pass --config FILE or --config ENV (or use --test=schema, which makes no API call).',
    );
  const writer = new TestWriter(new SingerWriter(new LineWriter(stdout)));
  // One request at a time: windows fetched ahead would cost Runs for records never shown.
  // No count reconciliation: a test stops at the first record, before any window could be
  // judged, and the counts' request would be a Run spent for nothing.
  const serial = { ...settings, max_concurrent_requests: 1, verify_counts: false };
  const client = makeClient(serial);
  // Bookmarks are ignored on purpose: a test reads from start_date and never writes state.
  const ctx = makeContext(serial, new StateStore(), client);
  let got = 0;
  try {
    for (const selection of selections) {
      // The sync loop ends the stream at its first record.
      const [outcome] = await runSync(ctx, [selection], writer, { recordLimit: 1 });
      const written = (outcome?.stats.records ?? 0) > 0;
      if (written) got++;
      log.info(`test: ${selection.stream}: ${written ? 'first record written' : 'no record in the configured date range'}.`);
    }
  } finally {
    await writer.singer.out.end();
    await client.close();
  }
  log.info(
    `test: ${got} of ${selections.length} stream(s) returned a record (${client.requestCount} API request(s)); no state written.`,
  );
  return 0;
}
