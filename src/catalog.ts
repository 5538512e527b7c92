// Schemas + stream facts → Singer catalog (discover) and the selection a catalog asks for.

import { ConfigError } from './errors.js';
import { log } from './log.js';
import { emittedSchema, STREAM_NAMES, type StreamName, type StreamSchema } from './schemas.js';
import type { StreamSelection } from './streams/engine/definitions.js';
import { inStreamOrder, streamOrder, STREAMS } from './streams/registry.js';
import { isObj, readJsonFile } from './util/json.js';

export type { ReplicationMethod, StreamSelection } from './streams/engine/definitions.js';

interface MetadataEntry {
  breadcrumb: string[];
  metadata: Record<string, unknown>;
}

export interface SingerCatalogStream {
  tap_stream_id: string;
  stream: string;
  schema: StreamSchema;
  key_properties: string[];
  replication_key?: string;
  replication_method?: string;
  metadata: MetadataEntry[];
}

export interface SingerCatalog {
  streams: SingerCatalogStream[];
}

export function automaticFields(stream: StreamName, replicationKey: string): Set<string> {
  return new Set([
    ...STREAMS[stream].keyProperties,
    replicationKey,
    ...(STREAMS[stream].partitionedBy ? [STREAMS[stream].partitionedBy!] : []),
  ]);
}

export function singerCatalog(): SingerCatalog {
  return {
    streams: STREAM_NAMES.map((name) => {
      const info = STREAMS[name];
      const schema = emittedSchema(name);
      const auto = new Set([
        ...info.keyProperties,
        ...info.validReplicationKeys,
        ...(info.partitionedBy ? [info.partitionedBy] : []),
      ]);
      const metadata: MetadataEntry[] = [
        {
          breadcrumb: [],
          metadata: {
            inclusion: 'available',
            'selected-by-default': !info.optIn,
            'table-key-properties': info.keyProperties,
            'valid-replication-keys': info.validReplicationKeys,
            'replication-method': 'INCREMENTAL',
            'replication-key': info.defaultReplicationKey,
          },
        },
        ...Object.keys(schema.properties).map((field) => ({
          breadcrumb: ['properties', field],
          metadata: { inclusion: auto.has(field) ? 'automatic' : 'available', 'selected-by-default': true },
        })),
      ];
      return {
        tap_stream_id: name,
        stream: name,
        schema,
        key_properties: info.keyProperties,
        replication_key: info.defaultReplicationKey,
        replication_method: 'INCREMENTAL',
        metadata,
      };
    }),
  };
}

/** The streams a sync leaves out unless a catalog selects them (declared `selectedByDefault: false`). */
export function optInStreams(): StreamName[] {
  return STREAM_NAMES.filter((s) => STREAMS[s].optIn === true);
}

/** Every stream selected by default, with every field: what a sync without a catalog does. */
export function defaultSelection(): StreamSelection[] {
  return streamOrder(STREAM_NAMES.filter((s) => !STREAMS[s].optIn)).map((stream) => ({
    stream,
    fields: Object.keys(emittedSchema(stream).properties),
    replicationKey: STREAMS[stream].defaultReplicationKey,
    replicationMethod: 'INCREMENTAL',
  }));
}

/** Reads the selection out of a Singer catalog (--catalog, or legacy --properties). */
/** Which of the catalog formats a parsed catalog file is, judged from its first stream entry. */
export type CatalogFormat = 'singer' | 'airbyte-configured' | 'airbyte-discovered' | 'unknown';

/** The format and the fields that show it, for a message saying which format was found. */
export function catalogFormat(value: unknown): { format: CatalogFormat; shownBy: string } {
  // A discover output saved whole: {"type":"CATALOG","catalog":{…}}.
  if (isObj(value) && value.type === 'CATALOG' && isObj(value.catalog))
    return { format: 'airbyte-discovered', shownBy: 'it is a whole CATALOG message' };
  const first = isObj(value) && Array.isArray(value.streams) ? (value.streams as unknown[]).find(isObj) : undefined;
  if (first === undefined) return { format: 'unknown', shownBy: '' };
  if (isObj(first.stream) && ('sync_mode' in first || 'destination_sync_mode' in first))
    return { format: 'airbyte-configured', shownBy: 'its streams have a "stream" object and a "sync_mode"' };
  if (typeof first.name === 'string' && isObj(first.json_schema))
    return { format: 'airbyte-discovered', shownBy: 'its streams have "name" and "json_schema"' };
  if (typeof first.tap_stream_id === 'string' || Array.isArray(first.metadata))
    return { format: 'singer', shownBy: 'its streams have "tap_stream_id" and "metadata"' };
  return { format: 'unknown', shownBy: '' };
}

export function selectionFromSingerCatalog(value: unknown, source: string): StreamSelection[] {
  const found = catalogFormat(value);
  if (found.format === 'airbyte-configured' || found.format === 'airbyte-discovered') {
    throw new ConfigError(
      `Catalog ${source} is an Airbyte ${found.format === 'airbyte-configured' ? 'configured catalog' : 'catalog (discover output)'} (${found.shownBy}), but the Singer command expects a Singer catalog, with "tap_stream_id" and "metadata" per stream. ` +
        `Get one with tap-scarf --discover, or give this file to the Airbyte command: tap-scarf read --config … --catalog ${source}.`,
    );
  }
  if (!isObj(value) || !Array.isArray(value.streams))
    throw new ConfigError(
      `Catalog ${source} must be a JSON object with a "streams" array (run tap-scarf --discover to get one).`,
    );
  const entries: { stream: StreamName; meta: Map<string, Record<string, unknown>>; raw: Record<string, unknown> }[] = [];
  value.streams.forEach((s: unknown, i: number) => {
    if (!isObj(s)) throw new ConfigError(`Catalog ${source}: streams[${i}] is not an object.`);
    const id = (s.tap_stream_id ?? s.stream) as unknown;
    if (typeof id !== 'string') throw new ConfigError(`Catalog ${source}: streams[${i}] has no tap_stream_id.`);
    if (!(STREAM_NAMES as readonly string[]).includes(id)) {
      log.warn(`Catalog ${source}: ignoring unknown stream '${id}' (known: ${STREAM_NAMES.join(', ')}).`);
      return;
    }
    const meta = new Map<string, Record<string, unknown>>();
    if (s.metadata !== undefined && !Array.isArray(s.metadata))
      throw new ConfigError(`Catalog ${source}: stream '${id}' metadata must be an array.`);
    for (const m of (s.metadata as unknown[] | undefined) ?? []) {
      if (!isObj(m) || !Array.isArray(m.breadcrumb) || !isObj(m.metadata))
        throw new ConfigError(`Catalog ${source}: stream '${id}' has a metadata entry without breadcrumb/metadata.`);
      meta.set(JSON.stringify(m.breadcrumb), m.metadata);
    }
    entries.push({ stream: id as StreamName, meta, raw: s });
  });

  const streamSelected = (e: (typeof entries)[number]): boolean | undefined => {
    const top = e.meta.get('[]');
    if (typeof top?.selected === 'boolean') return top.selected;
    const legacy = isObj(e.raw.schema) ? e.raw.schema.selected : undefined; // pre-metadata catalogs
    return typeof legacy === 'boolean' ? legacy : undefined;
  };
  const anySelectionKey = entries.some((e) => streamSelected(e) !== undefined);
  // Without "selected", the tap's own default decides: an opt-in stream marked selected-by-default false stays out, as in a sync without a catalog.
  const byDefault = (e: (typeof entries)[number]): boolean => e.meta.get('[]')?.['selected-by-default'] !== false;
  if (!anySelectionKey && entries.length > 0) {
    log.info(
      `Catalog ${source} has no "selected" metadata: syncing every stream it lists (${entries
        .filter(byDefault)
        .map((e) => e.stream)
        .join(', ')}) except those marked "selected-by-default": false. Mark streams with "selected": true/false to choose.`,
    );
  }

  const out: StreamSelection[] = [];
  for (const e of entries) {
    if (anySelectionKey ? streamSelected(e) !== true : !byDefault(e)) continue;
    if (out.some((o) => o.stream === e.stream)) {
      // Synced twice, the second run would re-emit every record and rewind nothing useful.
      log.warn(`Catalog ${source}: stream '${e.stream}' is selected twice; syncing it once, as its first selected entry says.`);
      continue;
    }
    const info = STREAMS[e.stream];
    const top = e.meta.get('[]') ?? {};
    const rk = (top['replication-key'] ?? e.raw.replication_key ?? info.defaultReplicationKey) as unknown;
    if (typeof rk !== 'string' || !info.validReplicationKeys.includes(rk)) {
      throw new ConfigError(
        `Catalog ${source}: stream '${e.stream}' replication-key ${JSON.stringify(rk)} is not valid; use one of ${info.validReplicationKeys.join(', ')}.`,
      );
    }
    const method = (top['replication-method'] ?? e.raw.replication_method ?? 'INCREMENTAL') as unknown;
    if (method !== 'INCREMENTAL' && method !== 'FULL_TABLE') {
      throw new ConfigError(
        `Catalog ${source}: stream '${e.stream}' replication-method ${JSON.stringify(method)} is not supported; use INCREMENTAL or FULL_TABLE.`,
      );
    }
    const auto = automaticFields(e.stream, rk);
    const fields = Object.keys(emittedSchema(e.stream).properties).filter((f) => {
      if (auto.has(f)) return true;
      const fm = e.meta.get(JSON.stringify(['properties', f]));
      if (typeof fm?.selected === 'boolean') return fm.selected;
      return fm?.['selected-by-default'] !== false;
    });
    out.push({ stream: e.stream, fields, replicationKey: rk, replicationMethod: method });
  }
  // A stream runs after those it depends on (company_events uses company_rollup's snapshot).
  return inStreamOrder(out);
}

export function readCatalogFile(file: string): unknown {
  return readJsonFile(file, { kind: 'catalog', invalidHint: 'Regenerate it with tap-scarf --discover.' });
}
