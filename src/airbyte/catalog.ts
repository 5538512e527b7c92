// The Airbyte catalog and the configured catalog → StreamSelection, derived from the same
// schemas and stream facts as the Singer catalog (src/catalog.ts), so the two cannot drift.
import { automaticFields, catalogFormat, type StreamSelection } from '../catalog.js';
import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { emittedSchema, STREAM_NAMES, type StreamName, type StreamSchema } from '../schemas.js';
import { inStreamOrder, STREAMS } from '../streams/registry.js';
import { isObj } from '../util/json.js';

export interface AirbyteStream {
  name: string;
  json_schema: StreamSchema;
  supported_sync_modes: ('full_refresh' | 'incremental')[];
  source_defined_cursor: boolean;
  default_cursor_field: string[];
  source_defined_primary_key: string[][];
  is_resumable: boolean;
}

export function airbyteCatalog(): { streams: AirbyteStream[] } {
  return {
    streams: STREAM_NAMES.map((name) => {
      const info = STREAMS[name];
      return {
        name,
        json_schema: emittedSchema(name),
        supported_sync_modes: ['full_refresh', 'incremental'],
        // company_rollup lets the user pick last_seen or first_seen; the other cursors are
        // what the API filters on, so they are not the user's to change.
        source_defined_cursor: !info.userChoosableCursor,
        default_cursor_field: [info.defaultReplicationKey],
        source_defined_primary_key: info.keyProperties.map((k) => [k]),
        // Every stream checkpoints as it goes (throttled, src/streams/engine/runner.ts), so an interrupted read resumes.
        is_resumable: true,
      };
    }),
  };
}

/** Reads a ConfiguredAirbyteCatalog: which streams, which sync mode, which cursor, which columns. */
export function selectionFromConfiguredCatalog(value: unknown, source: string): StreamSelection[] {
  const found = catalogFormat(value);
  if (found.format === 'singer') {
    throw new ConfigError(
      `Configured catalog ${source} is a Singer catalog (${found.shownBy}), but read expects an Airbyte ConfiguredAirbyteCatalog, with a "stream" object and a "sync_mode" per stream. ` +
        `Give this file to the Singer command (tap-scarf --config … --catalog ${source}), or configure the streams of 'tap-scarf discover' for read.`,
    );
  }
  if (found.format === 'airbyte-discovered') {
    throw new ConfigError(
      `Configured catalog ${source} is the catalog that discover prints (${found.shownBy}), but read expects a ConfiguredAirbyteCatalog: each stream wrapped as {"stream": {…}, "sync_mode": "incremental" or "full_refresh", "destination_sync_mode": …}. ` +
        'The Airbyte platform writes it from your connection settings; by hand, wrap each stream of the discover output that way.',
    );
  }
  if (!isObj(value) || !Array.isArray(value.streams)) {
    throw new ConfigError(
      `Configured catalog ${source} must be a JSON object with a "streams" array (a ConfiguredAirbyteCatalog; run discover to see the streams).`,
    );
  }
  const out: StreamSelection[] = [];
  const seen = new Set<string>();
  value.streams.forEach((cs: unknown, i: number) => {
    if (!isObj(cs) || !isObj(cs.stream))
      throw new ConfigError(`Configured catalog ${source}: streams[${i}] must be an object with a "stream" object.`);
    const name = cs.stream.name;
    if (typeof name !== 'string') throw new ConfigError(`Configured catalog ${source}: streams[${i}].stream has no name.`);
    if (!(STREAM_NAMES as readonly string[]).includes(name)) {
      log.warn(`Configured catalog ${source}: ignoring unknown stream '${name}' (known: ${STREAM_NAMES.join(', ')}).`);
      return;
    }
    if (seen.has(name)) {
      log.warn(
        `Configured catalog ${source}: stream '${name}' is listed twice (streams[${i}]); using its first entry and ignoring this one.`,
      );
      return;
    }
    seen.add(name);
    const stream = name as StreamName;
    const info = STREAMS[stream];

    const mode = cs.sync_mode ?? 'full_refresh';
    if (mode !== 'full_refresh' && mode !== 'incremental') {
      throw new ConfigError(
        `Configured catalog ${source}: stream '${name}' sync_mode ${JSON.stringify(mode)} is not supported; use full_refresh or incremental.`,
      );
    }

    let replicationKey = info.defaultReplicationKey;
    const cursor = cs.cursor_field;
    if (Array.isArray(cursor) && cursor.length > 0) {
      const wanted = cursor.length === 1 && typeof cursor[0] === 'string' ? cursor[0] : undefined;
      if (info.userChoosableCursor) {
        if (wanted === undefined || !info.validReplicationKeys.includes(wanted)) {
          throw new ConfigError(
            `Configured catalog ${source}: stream '${name}' cursor_field ${JSON.stringify(cursor)} is not supported; use one of ${info.validReplicationKeys.map((k) => `["${k}"]`).join(', ')}.`,
          );
        }
        replicationKey = wanted;
      } else if (wanted !== info.defaultReplicationKey && mode === 'incremental') {
        // The protocol says a source-defined cursor wins over whatever the user asked for.
        log.warn(
          `Configured catalog ${source}: stream '${name}' has a source-defined cursor ${JSON.stringify([info.defaultReplicationKey])}; ignoring cursor_field ${JSON.stringify(cursor)}.`,
        );
      }
    }

    // Column selection: the platform trims json_schema.properties to the chosen columns.
    // Key, cursor and partition fields stay, or state and de-duplication would break.
    const all = Object.keys(emittedSchema(stream).properties);
    const props =
      isObj(cs.stream.json_schema) && isObj(cs.stream.json_schema.properties) ? cs.stream.json_schema.properties : undefined;
    const auto = automaticFields(stream, replicationKey);
    const fields = props ? all.filter((f) => auto.has(f) || f in props) : all;

    out.push({ stream, fields, replicationKey, replicationMethod: mode === 'incremental' ? 'INCREMENTAL' : 'FULL_TABLE' });
  });
  if (out.length === 0) log.warn(`Configured catalog ${source} selects no known stream: nothing to read.`);
  // A stream runs after those it depends on (company_events uses company_rollup's snapshot).
  return inStreamOrder(out);
}
