// A header compiled into the layout of its records' JSON text, from the schema: what the
// row typer (compileRowTyper) would make of every row with this header, as fixed bytes and
// one step per value.
import { wordsOf } from '../../util/words.js';
import { placeColumns } from '../header-names.js';
import type { JsonSchemaObject } from '../row-typer.js';
import { Kind, kindOf } from '../schema-kind.js';

/** What the fast path needs to know of a stream's records. */
export interface RecordSpec {
  /** The stream, for messages. */
  stream?: string;
  schema: JsonSchemaObject;
  /** Values every record carries (owner, company_domain), JSON-serialised once. */
  constants: Record<string, unknown>;
  /** The de-duplication key: a text column, read from the row's bytes. */
  keyField: string;
  /** The timestamp field whose value's text each record reports (the count reconciliation's day tally), if any. */
  tallyField?: string;
}

/** A step that writes no value of its own: fixed bytes, or extra_fields (the unknown columns). */
export const enum Fixed {
  Bytes = 6,
  Extra = 7,
}

/** One step of a record's JSON text: fixed bytes, or a column's value (by its Kind) after its key. */
export interface Step {
  op: Kind | Fixed;
  /** Fixed.Bytes: the bytes; otherwise the member's `"key":` (with its leading comma). */
  bytes: Buffer;
  col: number;
  nonNull: boolean;
}

export interface Layout {
  steps: Step[];
  keyCol: number;
  /** The tallied field's column (-1: not in the header), and whether the schema has that field. */
  tallyCol: number;
  hasTally: boolean;
  /** Unknown header columns in header order, with their `{"name":` / `,"name":` prefix escaped for inside a string. */
  unknownCols: number[];
  unknownPrefix: Buffer[];
}

/**
 * The layout of one header, mirroring compileRowTyper: schema order, constants and
 * extra_fields never from the input, a known column absent from the header is null. A
 * string saying why the fast path does not apply: the key is not a text column, or the
 * tallied field not a timestamp.
 */
export function compileLayout(spec: RecordSpec, header: string[]): Layout | string {
  const props = spec.schema.properties ?? {};
  const keys = Object.keys(props);
  const constants = spec.constants;
  const fixed = new Set<string>([...Object.keys(constants), 'extra_fields']);
  // The same placing as the row typer's (which has already accepted this header).
  const placed = placeColumns(spec.stream ?? '', header, keys, fixed);
  const colOf = new Map<string, number>();
  placed.prop.forEach((p, c) => {
    if (p >= 0) colOf.set(keys[p]!, c);
  });
  const unknownCols = placed.unknown;
  const steps: Step[] = [];
  let pending = '{';
  const flush = () => {
    if (pending) steps.push({ op: Fixed.Bytes, bytes: Buffer.from(pending, 'utf8'), col: -1, nonNull: false });
    pending = '';
  };
  keys.forEach((k, i) => {
    const member = (i === 0 ? '' : ',') + JSON.stringify(k) + ':';
    if (k in constants) {
      pending += member + (constants[k] === undefined ? 'null' : JSON.stringify(constants[k]));
      return;
    }
    if (k === 'extra_fields') {
      if (unknownCols.length === 0) pending += member + 'null';
      else {
        flush();
        steps.push({ op: Fixed.Extra, bytes: Buffer.from(member, 'utf8'), col: -1, nonNull: false });
      }
      return;
    }
    const c = colOf.get(k);
    if (c === undefined) {
      pending += member + 'null';
      return;
    }
    flush();
    // As compileRowTyper: a property whose type does not admit null must not come out null.
    const { kind, nullable } = kindOf(props[k]!);
    steps.push({ op: kind, bytes: Buffer.from(member, 'utf8'), col: c, nonNull: !nullable });
  });
  pending += '}';
  flush();
  const keyCol = colOf.get(spec.keyField);
  if (keyCol === undefined || kindOf(props[spec.keyField]!).kind !== Kind.String) return 'the key is not a text column';
  const tally = spec.tallyField;
  const hasTally = tally !== undefined && Object.prototype.hasOwnProperty.call(props, tally);
  const tallyCol = hasTally ? (colOf.get(tally) ?? -1) : -1;
  // The tally reads a canonical timestamp's text; any other value goes the papaparse way.
  if (tallyCol >= 0 && kindOf(props[tally!]!).kind !== Kind.DateTime) return 'the tallied field is not a timestamp';
  const unknownPrefix = unknownCols.map((c, j) => {
    const inner = (j === 0 ? '{' : ',') + JSON.stringify(header[c]) + ':';
    return Buffer.from(JSON.stringify(inner).slice(1, -1), 'utf8');
  });
  return { steps, keyCol, tallyCol, hasTally, unknownCols, unknownPrefix };
}

/**
 * The one-pass reading's layout: when the schema takes the header's columns in header order
 * (as Scarf sends them), each column's value is written while it is scanned, after the fixed
 * text that precedes it.
 */
export interface OnePass {
  /** The layout allows it: no extra_fields step, columns in header order. */
  inOrder: boolean;
  /** Each column's Kind, -1 for a column the schema does not take. */
  colOp: Int8Array;
  colNonNull: Uint8Array;
  /** Each column's fixed text before its value, as words (the one-pass reading copies it so). */
  colPreW: Int32Array[];
  colPreT: Uint8Array[];
  /** The steps after the last column's value. */
  tail: Step[];
}

export function compileOnePass(layout: Layout, ncols: number): OnePass {
  const colOp = new Int8Array(ncols).fill(-1);
  const colNonNull = new Uint8Array(ncols);
  const colPre: Buffer[] = [];
  for (let c = 0; c < ncols; c++) colPre.push(Buffer.alloc(0));
  let lastCol = -1;
  let pre: Buffer[] = [];
  let inOrder = true;
  const tail: Step[] = [];
  let lastColStep = -1;
  layout.steps.forEach((st, j) => {
    if (st.op !== Fixed.Bytes && st.op !== Fixed.Extra) lastColStep = j;
  });
  layout.steps.forEach((st, j) => {
    if (j > lastColStep) tail.push(st);
    else if (st.op === Fixed.Bytes) pre.push(st.bytes);
    else if (st.op === Fixed.Extra) inOrder = false;
    else {
      if (st.col <= lastCol) inOrder = false;
      colPre[st.col] = Buffer.concat([...pre, st.bytes]);
      colOp[st.col] = st.op;
      colNonNull[st.col] = st.nonNull ? 1 : 0;
      pre = [];
      lastCol = st.col;
    }
  });
  const words = colPre.map(wordsOf);
  return { inOrder, colOp, colNonNull, colPreW: words.map((w) => w.words), colPreT: words.map((w) => w.tail), tail };
}
