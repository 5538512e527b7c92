// Every stream, in declaration order: adding a stream adds its one module here
// (docs/DESIGN.md "Adding a stream"). What is looked up by a stream's name is derived from
// this list; STREAM_NAMES (src/schemas.ts, the literal union the types need) must equal it
// (test/unit/stream-registry.test.ts).
import { STREAM_NAMES, type StreamName, type StreamSchema, useSchema } from '../schemas.js';
import { declareStreams } from '../state.js';
import { aggregates } from './aggregates.js';
import { aggregations } from './aggregations.js';
import { companyPackageRollup, companyPixelRollup } from './company-artifact-rollups.js';
import { companyEvents } from './company-events.js';
import { companyRollup } from './company-rollup.js';
import type { StreamDeclaration } from './engine/definitions.js';
import type { StreamModule } from './engine/module.js';
import { events } from './events.js';
import { pixelEvents } from './pixel-events.js';

export const STREAM_MODULES: readonly StreamModule[] = [
  events,
  aggregates,
  companyRollup,
  companyEvents,
  pixelEvents,
  companyPackageRollup,
  companyPixelRollup,
  aggregations,
];

const modules = new Map<StreamName, StreamModule>(STREAM_MODULES.map((m) => [m.declaration.name, m]));

/** Each stream's declaration by name (streams added in-process by addStreams included). */
export const STREAMS = Object.fromEntries(STREAM_MODULES.map((m) => [m.declaration.name, m.declaration])) as Record<
  StreamName,
  StreamDeclaration
>;

declareStreams((name) => STREAMS[name]);

export function streamModule(name: StreamName): StreamModule {
  const m = modules.get(name);
  if (!m) throw new Error(`no stream module named ${name}`);
  return m;
}

/**
 * Adds streams in-process, each with its record schema, in place of a module listed above and
 * a file in schemas/ (the toy stream of test/e2e/adding-a-stream.test.ts proves a stream needs
 * nothing else). Returns what removes them again.
 */
export function addStreams(added: { module: StreamModule; schema: StreamSchema }[]): () => void {
  for (const { module, schema } of added) {
    const name = module.declaration.name;
    if (modules.has(name)) throw new Error(`a stream named ${name} exists already`);
    modules.set(name, module);
    STREAMS[name] = module.declaration;
    useSchema(name, schema);
  }
  return () => {
    for (const { module } of added) {
      modules.delete(module.declaration.name);
      delete (STREAMS as Partial<Record<StreamName, StreamDeclaration>>)[module.declaration.name];
    }
  };
}

/**
 * The order streams run in: every stream after the streams it depends on, otherwise in
 * declaration order (STREAM_NAMES), so output does not depend on the order of a catalog.
 */
export function streamOrder(names: readonly StreamName[] = STREAM_NAMES): StreamName[] {
  const wanted = new Set(names);
  const out: StreamName[] = [];
  const visit = (name: StreamName, path: StreamName[]): void => {
    if (out.includes(name)) return;
    if (path.includes(name)) throw new Error(`stream dependency cycle: ${[...path, name].join(' → ')}`);
    for (const dep of STREAMS[name].dependsOn) if (wanted.has(dep)) visit(dep, [...path, name]);
    out.push(name);
  };
  for (const name of modules.keys()) if (wanted.has(name)) visit(name, []);
  return out;
}

/** Selections (or anything naming a stream) in streamOrder. */
export function inStreamOrder<T extends { stream: StreamName }>(items: T[]): T[] {
  const order = streamOrder(items.map((i) => i.stream));
  return [...items].sort((a, b) => order.indexOf(a.stream) - order.indexOf(b.stream));
}
