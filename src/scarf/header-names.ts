// A CSV header's column names → the schema's names. Scarf's columns are matched exactly
// first; a column that matches no known name exactly is matched after trimming and
// case-folding (` time`, `Time` → `time`), so a re-spelled header cannot send every record
// out with a null key or cursor while the value goes to extra_fields (issue 18, defect 2).
// The row typer and the fast path both read a header through this one function, so the two
// CSV paths always agree on which column is which.

import { DataError } from '../errors.js';
import { clip, escapeControls } from '../log.js';

export interface HeaderNames {
  /** The header with every matched column under its schema name (the others as sent). */
  names: string[];
  /** Columns taken under another spelling: [as sent, schema name], in header order. */
  renamed: [string, string][];
}

function folded(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * `known`: the names a column may take (schema properties whose value comes from the
 * input). Throws DataError when two columns would both be taken as one known name.
 */
export function matchHeader(stream: string, header: string[], known: ReadonlySet<string>): HeaderNames {
  const names = header.slice();
  const renamed: [string, string][] = [];
  const exact = new Set(header.filter((h) => known.has(h)));
  let byFold: Map<string, string> | undefined;
  const taken = new Map<string, string>();
  for (let c = 0; c < header.length; c++) {
    const h = header[c]!;
    if (known.has(h)) continue;
    byFold ??= new Map([...known].map((k) => [folded(k), k]));
    const k = byFold.get(folded(h));
    // The exact spelling, when sent too, is the column; the other stays an unknown column.
    if (k === undefined || exact.has(k)) continue;
    const other = taken.get(k);
    if (other !== undefined) {
      throw new DataError(
        `${stream}: the response header has two columns that both read as ${JSON.stringify(k)} (${JSON.stringify(escapeControls(clip(other, 60)))} and ${JSON.stringify(escapeControls(clip(h, 60)))}); cannot tell which value is meant`,
      );
    }
    taken.set(k, h);
    names[c] = k;
    renamed.push([h, k]);
  }
  return { names, renamed };
}

export interface ColumnPlaces extends HeaderNames {
  /** Each column's schema property, as its index in the schema's keys; -1: the schema does not take it (extra_fields). */
  prop: Int32Array;
  /** The columns the schema does not take, in header order. */
  unknown: number[];
}

/**
 * Which schema property each header column fills. `keys`: the schema's properties in
 * order; `fixed`: those whose value never comes from the input (constants, computed
 * fields, extra_fields), so a column of such a name is one the schema does not take. The
 * row typer and the fast path's layout both place a header's columns by this one function.
 */
export function placeColumns(stream: string, header: string[], keys: string[], fixed: ReadonlySet<string>): ColumnPlaces {
  const index = new Map<string, number>();
  keys.forEach((k, i) => {
    if (!fixed.has(k)) index.set(k, i);
  });
  const matched = matchHeader(stream, header, new Set(index.keys()));
  const prop = new Int32Array(header.length).fill(-1);
  const unknown: number[] = [];
  matched.names.forEach((name, c) => {
    const p = index.get(name);
    if (p === undefined) unknown.push(c);
    else prop[c] = p;
  });
  return { ...matched, prop, unknown };
}
