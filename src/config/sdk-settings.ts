// The Meltano SDK's own settings a Meltano user may give any tap: batch_config (done, in
// src/protocol/singer-batch.ts), flattening_* (nothing to do: every record is flat) and
// stream_maps (not done: refused, so data a user asked to transform never leaves untransformed).
// docs/meltano.md, "SDK settings", says why stream maps are left to the mapper plugin.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ConfigError } from '../errors.js';
import type { Settings } from '../generated/settings.js';
import { log } from '../log.js';
import { loadSchema, STREAM_NAMES } from '../schemas.js';

export const MAPPER_PLUGIN = 'meltano-map-transform';

function from(origins: Map<string, string>, key: string): string {
  return origins.has(key) ? ` (from ${origins.get(key)})` : '';
}

/**
 * stream_maps: the SDK evaluates Python expressions per record (hashing, aliasing, filtering,
 * new properties). tap-scarf does not reimplement that language, and ignoring the setting
 * would send the very values a user asked to hash or drop: refused before any request.
 */
export function refuseStreamMaps(raw: Record<string, unknown>, origins: Map<string, string>): void {
  const maps = raw.stream_maps;
  if (maps === undefined || maps === null) return;
  const empty = typeof maps === 'object' && !Array.isArray(maps) && Object.keys(maps).length === 0;
  if (empty) {
    log.info(`Setting 'stream_maps'${from(origins, 'stream_maps')} is empty: no stream is mapped.`);
    delete raw.stream_maps;
    return;
  }
  throw new ConfigError(
    `Setting 'stream_maps'${from(origins, 'stream_maps')}: tap-scarf does not apply stream maps, and will not send records it was asked to transform untransformed. Remove stream_maps (and stream_map_config) from the tap's config and run the maps in the ${MAPPER_PLUGIN} mapper between the tap and the target: 'meltano add mapper meltano-map-transformer', give the mapping your stream_maps, then 'meltano run tap-scarf <mapping> <target>' (docs/meltano.md, "Stream maps").`,
  );
}

/**
 * flattening_enabled: the SDK flattens nested objects into parent__child columns. No record
 * of tap-scarf nests (structured text stays JSON text, e.g. extra_fields), so the flattened
 * records are the records as they are; a schema that nests one day fails here instead of
 * sending unflattened data.
 */
export function checkFlattening(settings: Pick<Settings, 'flattening_enabled'>): void {
  if (!settings.flattening_enabled) return;
  for (const stream of STREAM_NAMES) {
    for (const [name, p] of Object.entries(loadSchema(stream).properties)) {
      const types = ([] as unknown[]).concat(p.type ?? []);
      if (types.includes('object') || types.includes('array'))
        throw new ConfigError(
          `Setting 'flattening_enabled': ${stream}.${name} is nested and tap-scarf does not flatten; turn flattening_enabled off and flatten in the ${MAPPER_PLUGIN} mapper.`,
        );
    }
  }
}

export interface BatchSettings {
  /** The folder the batch files go to (absolute). */
  root: string;
  prefix: string;
  gzip: boolean;
  batchSize: number;
}

/** The SDK's default records per batch file. */
export const DEFAULT_BATCH_SIZE = 10_000;

/** batch_config as the batch writer uses it, or undefined for RECORD messages. */
export function batchSettings(settings: Pick<Settings, 'batch_config'>): BatchSettings | undefined {
  const cfg = settings.batch_config;
  if (!cfg) return undefined;
  const format = cfg.encoding.format;
  if (format !== 'jsonl')
    throw new ConfigError(
      `Setting 'batch_config': encoding.format '${format}' is not supported; tap-scarf writes jsonl batch files (set "format": "jsonl").`,
    );
  const compression = cfg.encoding.compression ?? 'gzip';
  if (compression !== 'gzip' && compression !== 'none')
    throw new ConfigError(`Setting 'batch_config': encoding.compression '${compression}' is not supported; use gzip or none.`);
  const root = cfg.storage.root;
  let dir: string;
  if (/^file:/i.test(root)) {
    try {
      dir = fileURLToPath(root);
    } catch {
      throw new ConfigError(
        `Setting 'batch_config': storage.root '${root}' is not a valid file:// URL (file:///absolute/folder).`,
      );
    }
  } else if (/^[a-z][a-z0-9+.-]+:\/\//i.test(root)) {
    throw new ConfigError(
      `Setting 'batch_config': storage.root '${root}' is not local; tap-scarf writes batch files to a local folder (a file:// URL or a path), which the target must be able to read.`,
    );
  } else {
    if (root.trim() === '') throw new ConfigError(`Setting 'batch_config': storage.root must name a folder.`);
    dir = path.resolve(root);
  }
  return {
    root: dir,
    prefix: cfg.storage.prefix ?? '',
    gzip: compression === 'gzip',
    batchSize: cfg.batch_size ?? DEFAULT_BATCH_SIZE,
  };
}
