// Shared by the reliability, soak, bad-input and security tests: a distinctive token that
// every run's whole output is searched for, catalogs, and record comparisons.
import { expect } from 'chai';

import type { ScarfSimulator } from '../../sim/index.js';
import { airbyteCatalog } from '../../src/airbyte/catalog.js';
import { STREAM_NAMES } from '../../src/schemas.js';
import { runInProcess } from './in-process.js';
import { byKey, type RunOptions, runTap, type TapRun } from './tap.js';
import { TOKEN, TOKEN_MIDDLE } from './token.js';

export { TOKEN };

export const STREAM_KEYS = {
  events: 'id',
  aggregates: 'row_key',
  company_rollup: 'company_domain',
  company_events: 'id',
} as const;
export type Stream = keyof typeof STREAM_KEYS;

/** Every output of every run made through runChecked, for a final sweep. */
export const allOutputs: { what: string; text: string }[] = [];

/** Asserts the token is nowhere in text (nor a large piece of it), in any letter case. */
export function expectNoToken(text: string, what: string): void {
  const folded = text.toLowerCase();
  expect(folded.includes(TOKEN.toLowerCase()), `${what} contains the API token`).to.equal(false);
  // A token cut or re-encoded on its way out would still leak its distinctive middle.
  expect(folded.includes(TOKEN_MIDDLE.toLowerCase()), `${what} contains part of the API token`).to.equal(false);
}

/**
 * runTap, then: the token is in neither stdout nor stderr, and (when a simulator is given)
 * in no request's path or query — it must travel only in the Authorization header.
 */
export async function runChecked(args: string[], opts: RunOptions = {}, sim?: ScarfSimulator): Promise<TapRun> {
  return checked(await runTap(args, opts), args, sim);
}

/** runChecked, the CLI run in this process (helpers/in-process.ts). */
export async function runCheckedInProcess(args: string[], opts: RunOptions = {}, sim?: ScarfSimulator): Promise<TapRun> {
  return checked(await runInProcess(args, opts), args, sim);
}

function checked(run: TapRun, args: string[], sim?: ScarfSimulator): TapRun {
  const what = `tap-scarf ${args.join(' ')}`;
  allOutputs.push({ what: `${what} (stdout)`, text: run.stdout }, { what: `${what} (stderr)`, text: run.stderr });
  expectNoToken(run.stdout, `${what}: stdout`);
  expectNoToken(run.stderr, `${what}: stderr`);
  if (sim) for (const r of sim.requests) expectNoToken(JSON.stringify({ path: r.path, query: r.query }), `request URL ${r.path}`);
  return run;
}

/** A Singer catalog selecting `streams`; `methods` overrides a stream's replication-method. */
export function catalogFor(streams: string[], methods: Record<string, string> = {}): unknown {
  return {
    streams: STREAM_NAMES.map((s) => ({
      tap_stream_id: s,
      stream: s,
      schema: {},
      metadata: [
        {
          breadcrumb: [],
          metadata: { selected: streams.includes(s), ...(methods[s] ? { 'replication-method': methods[s] } : {}) },
        },
      ],
    })),
  };
}

/**
 * An Airbyte configured catalog of `streams`, each as the platform configures it by default:
 * incremental on its default cursor into append_dedup, or full_refresh into overwrite.
 */
export function configuredCatalogFor(streams: string[], mode: 'incremental' | 'full_refresh' = 'incremental'): unknown {
  return {
    streams: airbyteCatalog()
      .streams.filter((s) => streams.includes(s.name))
      .map((stream) =>
        mode === 'incremental'
          ? {
              stream,
              sync_mode: 'incremental',
              cursor_field: stream.default_cursor_field,
              destination_sync_mode: 'append_dedup',
              primary_key: stream.source_defined_primary_key,
            }
          : { stream, sync_mode: 'full_refresh', destination_sync_mode: 'overwrite' },
      ),
  };
}

function sortBy<T extends Record<string, any>>(rows: T[], key: string): T[] {
  return [...rows].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
}

/** Same keys, and every record deep-equal (values and types) to the ground truth's. */
export function expectSameRecords(
  actual: Record<string, any>[],
  expected: Record<string, any>[],
  key: string,
  what: string,
): void {
  const a = byKey(actual, key);
  const e = byKey(expected, key);
  const missing = [...e.keys()].filter((k) => !a.has(k));
  const extra = [...a.keys()].filter((k) => !e.has(k));
  expect(missing, `${what}: records missing from the tap's output`).to.deep.equal([]);
  expect(extra, `${what}: records the ground truth does not have`).to.deep.equal([]);
  expect(sortBy([...a.values()], key), `${what}: values`).to.deep.equal(sortBy([...e.values()], key));
}

/** RECORD messages of a stream, in output order. */
export function streamRecords(run: TapRun, stream: string): Record<string, any>[] {
  return run.messages.filter((m) => m.type === 'RECORD' && m.stream === stream).map((m) => m.record);
}

/** No key was emitted twice in this run (the per-window key set survived the retries). */
export function expectNoRepeats(run: TapRun, stream: Stream): void {
  const recs = streamRecords(run, stream);
  const keys = recs.map((r) => r[STREAM_KEYS[stream]]);
  const seen = new Set<string>();
  const repeated = keys.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
  expect(repeated, `${stream}: keys emitted more than once`).to.deep.equal([]);
}
