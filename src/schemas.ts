import path from 'node:path';

import { readJsonFile, schemasDir } from './paths.js';

export interface JsonSchemaProperty {
  type?: string | string[];
  format?: string;
  description?: string;
  [k: string]: unknown;
}

export interface StreamSchema {
  type: 'object';
  properties: Record<string, JsonSchemaProperty>;
  required?: string[];
  additionalProperties?: boolean;
  [k: string]: unknown;
}

/** The streams of src/streams/registry.ts, by name: the literal union the types need (a unit test checks the two agree). */
export const STREAM_NAMES = [
  'events',
  'aggregates',
  'company_rollup',
  'company_events',
  'pixel_events',
  'company_package_rollup',
  'company_pixel_rollup',
  'aggregations',
] as const;
export type StreamName = (typeof STREAM_NAMES)[number];

const cache = new Map<StreamName, StreamSchema>();

/** A stream's record schema given in-process instead of its file (src/streams/registry.ts addStreams). */
export function useSchema(stream: StreamName, schema: StreamSchema): void {
  cache.set(stream, schema);
}

/** The record schema of a stream, read from schemas/<stream>.json (the one definition). */
export function loadSchema(stream: StreamName): StreamSchema {
  let s = cache.get(stream);
  if (!s) {
    s = readJsonFile<StreamSchema>(path.join(schemasDir, `${stream}.json`));
    cache.set(stream, s);
  }
  return s;
}

/** The schema as emitted to targets: the authoring keywords ($schema, title) stripped. */
export function emittedSchema(stream: StreamName): StreamSchema {
  const { $schema: _s, title: _t, ...rest } = loadSchema(stream);
  return rest as StreamSchema;
}
