// The row typer: a response's rows (CSV fields or NDJSON objects) → records with every
// schema property in schema order. The per-row path is hot (≥150k rows/s): converters are
// chosen once per column and rows are built by a generated object-literal factory (one
// hidden class, schema key order).

import { DataError } from '../errors.js';
import { clip } from '../log.js';
import type { JsonSchemaProperty } from '../schemas.js';
import {
  BOOL_EXPECTED,
  DATE_EXPECTED,
  INT_EXPECTED,
  invalid,
  NUM_EXPECTED,
  quoteValue,
  toBoolean,
  toDate,
  toInteger,
  toNumber,
  toTimestamp,
  TS_EXPECTED,
} from './convert.js';
import { placeColumns } from './header-names.js';
import { Kind, kindOf } from './schema-kind.js';

export type { JsonSchemaProperty };

export interface JsonSchemaObject {
  properties?: Record<string, JsonSchemaProperty>;
  required?: string[];
  [key: string]: unknown;
}

function convertText(kind: Kind, raw: string): unknown {
  switch (kind) {
    case Kind.String:
      return raw;
    case Kind.DateTime:
      return toTimestamp(raw);
    case Kind.Number:
      return toNumber(raw);
    case Kind.Integer:
      return toInteger(raw);
    case Kind.Boolean:
      return toBoolean(raw);
    case Kind.Date:
      return toDate(raw);
  }
}

/** JSON value → typed value. Empty strings stay strings for string fields (they are real values in JSON). */
// eslint-disable-next-line complexity -- once per value of every NDJSON record: one switch on the kind, not a call per case
function convertJson(kind: Kind, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  const t = typeof v;
  switch (kind) {
    case Kind.String:
      if (t === 'string') return v;
      if (t === 'number' || t === 'boolean') return String(v);
      return JSON.stringify(v);
    case Kind.Integer:
      if (t === 'number') {
        if (Number.isInteger(v)) return v;
        throw invalid('integer', v, INT_EXPECTED);
      }
      if (t === 'string') return v === '' ? null : toInteger(v as string);
      throw invalid('integer', v, INT_EXPECTED);
    case Kind.Number:
      if (t === 'number') return v;
      if (t === 'string') return v === '' ? null : toNumber(v as string);
      throw invalid('number', v, NUM_EXPECTED);
    case Kind.Boolean:
      if (t === 'boolean') return v;
      if (t === 'string') return v === '' ? null : toBoolean(v as string);
      throw invalid('boolean', v, BOOL_EXPECTED);
    case Kind.DateTime:
      if (t === 'string') return v === '' ? null : toTimestamp(v as string);
      throw invalid('timestamp', v, TS_EXPECTED);
    case Kind.Date:
      if (t === 'string') return v === '' ? null : toDate(v as string);
      throw invalid('date', v, DATE_EXPECTED);
  }
}

export interface RowTyperOptions {
  /** Stream name, for messages. */
  stream: string;
  schema: JsonSchemaObject;
  /** CSV header (required for typeRow; omit for NDJSON-only use). */
  header?: string[];
  /** Fixed values, e.g. `{company_domain: 'acme.com'}` for company_events. They win over any input column of the same name (that column then goes to extra_fields). */
  constants?: Record<string, unknown>;
  /**
   * Fields computed from the typed record after typing, in this order (e.g. the aggregates
   * `row_key`). Their key keeps its schema position; an input column of the same name goes to extra_fields.
   */
  computed?: Record<string, (rec: Record<string, unknown>) => unknown>;
  /** Called once per typer for each object key (typeObject) that the schema does not know. */
  onUnknownKey?: (key: string) => void;
  /** Non-nullable schema properties must not come out null (default true): DataError otherwise. */
  requireNonNull?: boolean;
  /**
   * Columns a CSV header must have although their values may be empty: the fields a sync
   * relies on (a cursor, the tallied `time`). Without one every record would carry null
   * there, so the header is a failed answer (DataError).
   */
  requiredColumns?: string[];
}

export interface RowTyper {
  /** Types one CSV row (fields in header order). Throws DataError naming the column. */
  typeRow(fields: string[]): Record<string, unknown>;
  /** Types one NDJSON object. Throws DataError naming the field. */
  typeObject(obj: Record<string, unknown>): Record<string, unknown>;
  /** Header columns the schema does not know (kept in extra_fields, or dropped when the schema has none), in header order. */
  unknownColumns: string[];
  /** Schema properties absent from the header (emitted as null), in schema order; constants and computed fields excluded. */
  missingColumns: string[];
  /** Header columns taken under another spelling (trimmed, case-folded): [as sent, schema name]. */
  renamedColumns: [string, string][];
}

type Factory = (v: unknown[]) => Record<string, unknown>;

function makeFactory(keys: string[]): Factory {
  if (keys.every((k) => k !== '__proto__')) {
    const body = 'return {' + keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(', ') + '};';
    // One object literal → every record shares one hidden class and the schema key order.
    return new Function('v', body) as Factory;
  }
  return (v) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++)
      Object.defineProperty(o, keys[i]!, { value: v[i], enumerable: true, writable: true, configurable: true });
    return o;
  };
}

const EXTRA = 'extra_fields';

/**
 * Compiles the typing of one response: one converter per header column, by the schema
 * property type. Output records have every schema property in schema order.
 */
export function compileRowTyper(opts: RowTyperOptions): RowTyper {
  const props = opts.schema.properties ?? {};
  const keys = Object.keys(props);
  const nprops = keys.length;
  const propIndex = new Map<string, number>();
  const kinds: Kind[] = [];
  keys.forEach((k, i) => {
    propIndex.set(k, i);
    kinds.push(kindOf(props[k]!).kind);
  });
  const extraIdx = propIndex.get(EXTRA) ?? -1;
  const constants = opts.constants ?? {};
  const computed = opts.computed ?? {};
  const computedNames = Object.keys(computed);
  const computedFns = computedNames.map((k) => computed[k]);
  /** Properties whose value never comes from the input. */
  const fixed = new Set<string>([...Object.keys(constants), ...computedNames, EXTRA]);

  const template: unknown[] = new Array(nprops).fill(null);
  for (const [k, v] of Object.entries(constants)) {
    const i = propIndex.get(k);
    if (i !== undefined) template[i] = v;
  }

  const requireNonNull = opts.requireNonNull !== false;
  const nonNullIdx: number[] = [];
  if (requireNonNull) {
    keys.forEach((k, i) => {
      if (!kindOf(props[k]!).nullable && !computed[k] && !(k in constants && constants[k] !== null)) nonNullIdx.push(i);
    });
  }

  const factory = makeFactory(keys);

  // --- CSV header compilation
  const header = opts.header;
  const ncols = header ? header.length : -1;
  const colTarget = new Int32Array(Math.max(0, ncols)).fill(-1);
  const colKind: Kind[] = [];
  const unknownColumns: string[] = [];
  const unknownIdx: number[] = [];
  const unknownPrefix: string[] = [];
  const missingColumns: string[] = [];
  let renamedColumns: [string, string][] = [];
  if (header) {
    const seen = new Set<string>();
    const placed = placeColumns(opts.stream, header, keys, fixed);
    renamedColumns = placed.renamed;
    for (let c = 0; c < header.length; c++) {
      const name = placed.names[c]!;
      if (name.trim() === '') {
        throw new DataError(
          `${opts.stream}: in the response header, column ${c + 1} has an empty name, so tap-scarf cannot tell what its values are; columns sent: ${header.join(',').slice(0, 300)}`,
        );
      }
      if (seen.has(name)) {
        throw new DataError(
          `${opts.stream}: the response header names column ${quoteValue(name)} twice; cannot tell which value is meant`,
        );
      }
      seen.add(name);
      const p = placed.prop[c]!;
      if (p < 0) {
        unknownColumns.push(name);
        unknownIdx.push(c);
        unknownPrefix.push((unknownIdx.length === 1 ? '{' : ',') + JSON.stringify(name) + ':');
        colKind.push(Kind.String);
      } else {
        colTarget[c] = p;
        colKind.push(kinds[p]!);
      }
    }
    for (const k of keys) if (!fixed.has(k) && !seen.has(k)) missingColumns.push(k);
    const needed = new Set(opts.requiredColumns ?? []);
    const missingRequired = missingColumns.filter(
      (k) => needed.has(k) || (requireNonNull && nonNullIdx.includes(propIndex.get(k)!)),
    );
    if (missingRequired.length > 0) {
      throw new DataError(
        `${opts.stream}: the response has no column ${missingRequired.map((k) => quoteValue(k)).join(', ')}, which every record needs (also under another letter case or with spaces around it), so the answer is not used; columns sent: ${clip(header.join(','), 300)}`,
      );
    }
  }
  const nunknown = unknownIdx.length;
  const keepExtra = extraIdx >= 0 && nunknown > 0;

  const vals: unknown[] = template.slice();

  function checkNonNull(v: unknown[], what: string): void {
    for (let j = 0; j < nonNullIdx.length; j++) {
      const i = nonNullIdx[j]!;
      if (v[i] === null) {
        throw new DataError(`${what} ${quoteValue(keys[i])} is empty, but every ${opts.stream} record needs it`);
      }
    }
  }

  function finish(v: unknown[]): Record<string, unknown> {
    const rec = factory(v);
    for (let j = 0; j < computedFns.length; j++) rec[computedNames[j]!] = computedFns[j]!(rec);
    return rec;
  }

  function typeRow(fields: string[]): Record<string, unknown> {
    if (ncols < 0) throw new Error('compileRowTyper: typeRow needs a header');
    if (fields.length !== ncols) {
      throw new DataError(`row has ${fields.length} fields but the header has ${ncols}`);
    }
    const v = vals;
    let c = 0;
    try {
      for (; c < ncols; c++) {
        const t = colTarget[c]!;
        if (t < 0) continue;
        const raw = fields[c]!;
        if (raw === '') v[t] = null;
        else {
          const k = colKind[c]!;
          v[t] = k === Kind.String ? raw : convertText(k, raw);
        }
      }
    } catch (err) {
      throw new DataError(`column ${quoteValue(header![c])}: ${(err as Error).message}`);
    }
    if (keepExtra) {
      let s = '';
      for (let j = 0; j < nunknown; j++) {
        const raw = fields[unknownIdx[j]!];
        s += unknownPrefix[j]! + (raw === '' ? 'null' : JSON.stringify(raw));
      }
      v[extraIdx] = s + '}';
    }
    if (nonNullIdx.length > 0) checkNonNull(v, 'column');
    return finish(v);
  }

  const seenUnknownKeys = new Set<string>();
  const objVals: unknown[] = template.slice();

  function typeObject(obj: Record<string, unknown>): Record<string, unknown> {
    const v = objVals;
    for (let i = 0; i < nprops; i++) v[i] = template[i];
    let extra: Record<string, unknown> | undefined;
    let key = '';
    try {
      for (key in obj) {
        const p = propIndex.get(key);
        if (p === undefined || fixed.has(key)) {
          if (!seenUnknownKeys.has(key)) {
            seenUnknownKeys.add(key);
            opts.onUnknownKey?.(key);
          }
          // null prototype: a "__proto__" key from JSON.parse stays a plain key
          (extra ??= Object.create(null) as Record<string, unknown>)[key] = obj[key] === undefined ? null : obj[key];
          continue;
        }
        v[p] = convertJson(kinds[p]!, obj[key]);
      }
    } catch (err) {
      throw new DataError(`field ${quoteValue(key)}: ${(err as Error).message}`);
    }
    if (extraIdx >= 0) v[extraIdx] = extra === undefined ? null : JSON.stringify(extra);
    if (nonNullIdx.length > 0) checkNonNull(v, 'field');
    return finish(v);
  }

  return { typeRow, typeObject, unknownColumns, missingColumns, renamedColumns };
}
