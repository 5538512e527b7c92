// The one loop every stream uses to turn a request into records: fetch (with the client's
// retries), parse by header, type by schema, de-duplicate by key, hand to the sink.
// The key set is created per window by the caller and survives retries, so a window
// retried after a cut body emits only the rows its failed attempt had not emitted yet.
import { DataError } from '../errors.js';
import { log } from '../log.js';
import { readCsv } from '../scarf/csv-rows.js';
import { readNdjson } from '../scarf/ndjson-rows.js';
import { compileRowTyper } from '../scarf/typing.js';
import type { Endpoint, Query } from '../scarf/endpoints.js';
import { loadSchema, type StreamName } from '../schemas.js';
import type { Rec, StreamStats, SyncContext } from './types.js';

export interface FetchSpec {
  stream: StreamName;
  endpoint: Endpoint;
  path: string;
  query: Query;
  /** Human label for logs and errors: "events 2026-11-01..2026-11-01". */
  label: string;
  keyField: string;
  /** Values every record of this request carries (company_events: its domain). */
  constants?: Rec;
  /** Computes a derived key (aggregates' row_key) after typing. */
  deriveKey?: (rec: Rec) => string;
}

export type OnRecord = (rec: Rec) => void | Promise<void>;

function warnUnknown(ctx: SyncContext, stream: StreamName, columns: string[]): void {
  const fresh = columns.filter((c) => !ctx.warnedUnknownColumns.has(`${stream}.${c}`));
  if (fresh.length === 0) return;
  for (const c of fresh) ctx.warnedUnknownColumns.add(`${stream}.${c}`);
  log.warn(`${stream}: Scarf sent column(s) this version does not know: ${fresh.join(', ')}. Their values are kept as JSON text in the extra_fields column; upgrade tap-scarf to get them as typed columns.`);
}

function wrapRowError(spec: FetchSpec, what: string, n: number, err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  throw new DataError(`Stream ${spec.stream}, window ${spec.label}, ${what} ${n}: ${msg}`);
}

/**
 * `waitTurn` (from runInOrder) is awaited once the response has arrived and before its
 * first row is read, so concurrent requests still write their records in order.
 */
export async function fetchRecords(
  ctx: SyncContext,
  spec: FetchSpec,
  seen: Set<string>,
  stats: StreamStats,
  onRecord: OnRecord,
  waitTurn?: () => Promise<void>,
): Promise<void> {
  const schema = loadSchema(spec.stream);
  const keyOf = (rec: Rec, n: number, what: string): string => {
    const key = rec[spec.keyField];
    if (key === null || key === undefined || key === '') wrapRowError(spec, what, n, new Error(`the key column '${spec.keyField}' is empty`));
    return key as string;
  };
  const accept = (rec: Rec, n: number, what: string): void | Promise<void> => {
    if (ctx.aborted) throw new AbortedError();
    const key = keyOf(rec, n, what);
    if (seen.has(key)) {
      stats.duplicates++;
      return;
    }
    seen.add(key);
    if (seen.size > stats.maxKeySet) stats.maxKeySet = seen.size;
    stats.records++;
    return onRecord(rec);
  };

  const domain = spec.constants?.company_domain as string | undefined;
  await ctx.client.fetch({ endpoint: spec.endpoint, path: spec.path, query: spec.query, label: spec.label, domain }, async (body) => {
    if (waitTurn) await waitTurn();
    if (spec.endpoint === 'aggregates') {
      const typer = compileRowTyper({
        stream: spec.stream,
        schema,
        computed: spec.deriveKey ? { [spec.keyField]: spec.deriveKey } : undefined,
        onUnknownKey: (key) => warnUnknown(ctx, spec.stream, [key]),
      });
      await readNdjson(body, {
        onObject(obj, line) {
          let rec: Rec;
          try {
            rec = typer.typeObject(obj);
          } catch (e) {
            wrapRowError(spec, 'line', line, e);
          }
          return accept(rec, line, 'line');
        },
      });
      return;
    }
    let typeRow: ((fields: string[]) => Rec) | undefined;
    await readCsv(body, {
      onHeader(header) {
        const typer = compileRowTyper({ stream: spec.stream, schema, header, constants: spec.constants });
        if (typer.unknownColumns.length) warnUnknown(ctx, spec.stream, typer.unknownColumns);
        typeRow = typer.typeRow;
      },
      onRow(fields, row) {
        let rec: Rec;
        try {
          rec = typeRow!(fields);
        } catch (e) {
          wrapRowError(spec, 'row', row, e);
        }
        return accept(rec, row, 'row');
      },
    });
  });
}

/** Thrown inside a stream when the process was asked to stop; never shown as a failure. */
export class AbortedError extends Error {
  constructor() {
    super('sync interrupted');
    this.name = 'AbortedError';
  }
}
