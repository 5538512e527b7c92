// Text forms of values as the server sends them. A cell is string | null: null is written
// as nothing (`,,`), '' as a quoted empty string (`,"",`) — Postgres COPY's distinction,
// which consumers must both read as null.

import { isoTimestamp, pgTimestamp } from './dates.js';
import type { SimEvent } from './generator.js';

export type Cell = string | null;
export type TimestampStyle = 'pg' | 'iso';
export type BooleanStyle = 'tf' | 'truefalse';

export interface TextStyle {
  timestampStyle: TimestampStyle;
  booleanStyle: BooleanStyle;
}

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(cell: Cell): string {
  if (cell === null) return '';
  if (cell === '' || NEEDS_QUOTES.test(cell)) return '"' + cell.replace(/"/g, '""') + '"';
  return cell;
}

export function csvLine(cells: readonly Cell[]): string {
  return cells.map(csvField).join(',') + '\n';
}

export function timestampText(us: number, style: TimestampStyle): string {
  return style === 'iso' ? isoTimestamp(us) : pgTimestamp(us);
}

export function booleanText(b: boolean | null, style: BooleanStyle): Cell {
  if (b === null) return null;
  if (style === 'truefalse') return b ? 'true' : 'false';
  return b ? 't' : 'f';
}

export function eventCell(e: SimEvent, column: string, style: TextStyle): Cell {
  switch (column) {
    case 'time':
      return timestampText(e.timeUs, style.timestampStyle);
    case 'dnt':
      return booleanText(e.dnt, style.booleanStyle);
    case 'mtc_quota_exceeded':
      return booleanText(e.mtc_quota_exceeded, style.booleanStyle);
    default: {
      const v = (e as unknown as Record<string, unknown>)[column];
      return typeof v === 'string' ? v : null;
    }
  }
}

export function eventCells(e: SimEvent, columns: readonly string[], style: TextStyle): Cell[] {
  const out: Cell[] = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) out[i] = eventCell(e, columns[i]!, style);
  return out;
}
