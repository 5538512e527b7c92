// The one loop every stream uses to turn a request into records: fetch (with the client's
// retries), parse by header, type by schema, de-duplicate by key, hand to the sink.
// The key set is created per window by the caller and survives retries, so a window
// retried after a cut body emits only the rows its failed attempt had not emitted yet.
import { runtimeOptions } from '../../config/runtime-options.js';
import { AbortedError, DataError } from '../../errors.js';
import { log } from '../../log.js';
import { openExport } from '../../scarf/body.js';
import { type FastRecord, transcodeCsv } from '../../scarf/csv-fast/index.js';
import { readCsv } from '../../scarf/csv-rows.js';
import { readNdjson } from '../../scarf/ndjson-rows.js';
import { compileRowTyper } from '../../scarf/row-typer.js';
import { loadSchema, type StreamName } from '../../schemas.js';
import { dedupKey, type StreamDeclaration } from './definitions.js';
import type { KeySet } from './key-set.js';
import type { FetchSpec, Rec, RecordTarget, RequestSpec, SyncContext } from './types.js';

// The request's types live with the other engine types (types.ts), so no type import goes in a circle.
export type { AcceptedTally, FetchSpec, OnRecord, OnRecordJson, RequestSpec } from './types.js';

/**
 * The one place a declaration becomes a request's FetchSpec: its stream, endpoint, body
 * format, key, tallied field and CSV path. A CSV answer without the tallied field is a failed
 * answer, not records with nulls: the count reconciliation and the day windows stand on it.
 */
export function fetchSpec(decl: StreamDeclaration, request: RequestSpec): FetchSpec {
  const required = [...(decl.tallyField !== undefined ? [decl.tallyField] : []), ...(request.requiredColumns ?? [])];
  return {
    ...request,
    stream: decl.name,
    endpoint: decl.endpoint,
    format: decl.format,
    keyField: dedupKey(decl),
    ...(decl.tallyField !== undefined ? { tallyField: decl.tallyField } : {}),
    ...(decl.fastCsv ? { fastCsv: true } : {}),
    ...(required.length ? { requiredColumns: required } : {}),
  };
}

/**
 * TAP_SCARF_CSV_PATH: `fast` (default) or `reference` (papaparse + the row typer for every
 * row, as before the fast path existed: for a user who wants to compare the two). The value
 * keeps its first name; in the code that reader is the papaparse path, as "reference" also
 * means Scarf's counts.
 */
export function csvPath(): 'fast' | 'papaparse' {
  return runtimeOptions().csvPath === 'reference' ? 'papaparse' : 'fast';
}

const WARNED = Symbol('warnedColumns');

/** `<stream>.<column>` (and the like) already warned about this sync, so each is said once per sync. */
function warned(ctx: SyncContext): Set<string> {
  const memos = (ctx.memos ??= new Map());
  let set = memos.get(WARNED) as Set<string> | undefined;
  if (!set) memos.set(WARNED, (set = new Set()));
  return set;
}

function warnUnknown(ctx: SyncContext, stream: StreamName, columns: string[]): void {
  const said = warned(ctx);
  const fresh = columns.filter((c) => !said.has(`${stream}.${c}`));
  if (fresh.length === 0) return;
  for (const c of fresh) said.add(`${stream}.${c}`);
  log.warn(
    `${stream}: Scarf sent column(s) this version does not know: ${fresh.join(', ')}. Their values are kept as JSON text in the extra_fields column; upgrade tap-scarf to get them as typed columns.`,
  );
}

/** Once per stream and spelling: a column taken under another spelling is worth knowing, not a failure. */
function warnRenamed(ctx: SyncContext, stream: StreamName, renamed: [string, string][]): void {
  const said = warned(ctx);
  const fresh = renamed.filter(([from, to]) => !said.has(`${stream}.${from}→${to}`));
  if (fresh.length === 0) return;
  for (const [from, to] of fresh) said.add(`${stream}.${from}→${to}`);
  log.warn(
    `${stream}: Scarf spelled column(s) differently: ${fresh.map(([from, to]) => `${JSON.stringify(from)} read as ${to}`).join(', ')} (known columns are matched after trimming spaces and ignoring letter case).`,
  );
}

/** Once per stream: values changed by the decoder are worth knowing (the count is of the first body that had them). */
function warnInvalidUtf8(ctx: SyncContext, spec: FetchSpec, count: number): void {
  const key = `${spec.stream}.(invalid UTF-8)`;
  const said = warned(ctx);
  if (said.has(key)) return;
  said.add(key);
  log.warn(
    `${spec.stream}: the answer for ${spec.label} held ${count} invalid UTF-8 sequence(s); each was replaced with U+FFFD (\uFFFD), so the values holding them are not exactly what Scarf stored. Reported once per stream.`,
  );
}

function wrapRowError(spec: FetchSpec, what: string, n: number, err: unknown): never {
  const msg = err instanceof Error ? err.message : String(err);
  throw new DataError(`Stream ${spec.stream}, window ${spec.label}, ${what} ${n}: ${msg}`).at({
    stream: spec.stream,
    window: spec.label,
  });
}

/**
 * Reads one request's records into `to.sink` (a StreamRun, or a target of a reader's own),
 * counting into `to.stats`. `waitTurn` (from runInOrder) is awaited once the response has
 * arrived and before its first row is read, so concurrent requests still write their records
 * in order. A sink without recordJson gets every row through the papaparse path.
 */
export async function fetchRecords(
  to: RecordTarget,
  spec: FetchSpec,
  seen: KeySet,
  waitTurn?: () => Promise<void>,
): Promise<void> {
  const { ctx, stats } = to;
  const onRecord = to.sink.record;
  const onRecordJson = to.sink.recordJson;
  const schema = loadSchema(spec.stream);
  const keyOf = (rec: Rec, n: number, what: string): string => {
    const key = spec.keyOf ? spec.keyOf(rec) : rec[spec.keyField];
    if (key === null || key === undefined || key === '')
      wrapRowError(spec, what, n, new Error(`the key column '${spec.keyField}' is empty`));
    return key as string;
  };
  const accept = (rec: Rec, n: number, what: string): void | Promise<void> => {
    if (ctx.aborted) throw new AbortedError();
    if (!seen.add(keyOf(rec, n, what))) {
      stats.duplicates++;
      return;
    }
    if (seen.size > stats.maxKeySet) stats.maxKeySet = seen.size;
    spec.onAccepted?.add(spec.tallyField === undefined ? undefined : rec[spec.tallyField], rec);
    return onRecord(rec);
  };
  // The fast path's twin of accept(): the same checks in the same order, on a record given as text.
  const tally = spec.onAccepted;
  const acceptJson = (rec: FastRecord): void | Promise<void> => {
    if (ctx.aborted) throw new AbortedError();
    if (!(rec.keyText === undefined ? seen.addBytes(rec.src, rec.keyStart, rec.keyEnd) : seen.add(rec.keyText))) {
      stats.duplicates++;
      return;
    }
    if (seen.size > stats.maxKeySet) stats.maxKeySet = seen.size;
    if (tally) {
      if (rec.tallyStart >= 0) tally.addText(rec.json, rec.tallyStart, rec.tallyEnd);
      else tally.add(rec.tallyStart === -1 ? null : undefined);
    }
    return onRecordJson!(rec.json, rec.end);
  };
  const fast =
    onRecordJson !== undefined &&
    spec.format === 'csv' &&
    spec.fastCsv === true &&
    !spec.deriveKey &&
    !spec.keyOf &&
    csvPath() === 'fast';

  const domain = spec.constants?.company_domain as string | undefined;
  // Every record says whose it is, so several owners can share one table.
  const constants: Rec = { owner: ctx.settings.owner, ...spec.constants };
  await ctx.client
    .fetch(
      {
        endpoint: spec.endpoint,
        format: spec.format,
        path: spec.path,
        query: spec.query,
        label: spec.label,
        domain,
        stream: spec.stream,
      },
      async (answer, info) => {
        const onInvalidUtf8 = (n: number) => warnInvalidUtf8(ctx, spec, n);
        // Judged before the turn is awaited: an answer that is no export is retried at once.
        const body = await openExport(answer, info, spec.format, '');
        spec.onHeaders?.(info.headers);
        if (waitTurn) await waitTurn();
        if (spec.format === 'ndjson') {
          const typer = compileRowTyper({
            stream: spec.stream,
            schema,
            constants,
            computed: spec.deriveKey ? { [spec.keyField]: spec.deriveKey } : undefined,
            onUnknownKey: (key) => warnUnknown(ctx, spec.stream, [key]),
          });
          await readNdjson(
            body,
            {
              onObject(obj, line) {
                let rec: Rec;
                try {
                  rec = typer.typeObject(obj);
                } catch (e) {
                  wrapRowError(spec, 'line', line, e);
                }
                return accept(rec, line, 'line');
              },
            },
            { onInvalidUtf8 },
          );
          return;
        }
        let typeRow: ((fields: string[]) => Rec) | undefined;
        const handlers = {
          onHeader(header: string[]) {
            const typer = compileRowTyper({
              stream: spec.stream,
              schema,
              header,
              constants,
              requiredColumns: spec.requiredColumns ?? [],
            });
            if (typer.renamedColumns.length) warnRenamed(ctx, spec.stream, typer.renamedColumns);
            if (typer.unknownColumns.length) warnUnknown(ctx, spec.stream, typer.unknownColumns);
            typeRow = typer.typeRow;
          },
          onRow(fields: string[], row: number) {
            let rec: Rec;
            try {
              rec = typeRow!(fields);
            } catch (e) {
              wrapRowError(spec, 'row', row, e);
            }
            return accept(rec, row, 'row');
          },
        };
        if (fast) {
          await transcodeCsv(
            body,
            {
              stream: spec.stream,
              schema,
              constants,
              keyField: spec.keyField,
              tallyField: spec.tallyField,
              onRead: spec.onFastPath,
              onInvalidUtf8,
            },
            { ...handlers, onRecord: acceptJson },
          );
        } else await readCsv(body, handlers, { onInvalidUtf8 });
      },
    )
    .catch((err: unknown) => {
      throw inWindow(spec, err);
    });
}

/** A DataError the readers raise (row width, bad JSON line) also names the stream and window. */
function inWindow(spec: FetchSpec, err: unknown): unknown {
  // A DataError of the destination names its stream in words of its own (src/destination/postgres/copy-chunk.ts).
  if (!(err instanceof DataError) || err.stream !== undefined || err.message.startsWith('Stream ')) return err;
  return new DataError(`Stream ${spec.stream}, window ${spec.label}: ${err.message}`).at({
    stream: spec.stream,
    window: spec.label,
  });
}
