// Response bodies as lazily produced rows. Nothing here holds more than one day of events
// (plus that day's far-apart duplicates, which are sent after the next day's rows).

import { eventColumns, rollupColumns } from './columns.js';
import { dayText, parseDay } from './dates.js';
import { type Cell, csvLine, eventCells } from './format.js';
import type { SimEvent } from './generator.js';
import {
  aggregateLines,
  type AggregateQuery,
  rollupRows,
  type View,
  visibleCompanyDayEvents,
  visibleDayEvents,
} from './views.js';

export interface BodyRow {
  /** Complete text of the row, terminated by "\n". */
  line: string;
  /** Unescaped cells (CSV bodies only), so faults can cut or break a row precisely. */
  cells?: Cell[];
  /** The day the row belongs to (an event's UTC day of `time`, an aggregate's period start); none for the rollup. */
  day?: number;
}

export interface Body {
  contentType: string;
  contentDisposition?: string;
  format: 'csv' | 'ndjson';
  /** CSV header line ("\n"-terminated), or '' for NDJSON. */
  header: string;
  headerCells: string[];
  rows(): Iterable<BodyRow>;
}

const CSV_TYPE = 'text/csv; charset=utf-8';
const NDJSON_TYPE = 'application/x-ndjson';

function disposition(kind: string, start: string, end: string): string {
  return `attachment; filename=${kind}-scarf-export-${start}-${end}.csv`;
}

/**
 * Writes each visible event once, plus its duplicate when its dup roll says so: right after it
 * (adjacent) or after the following day's rows (far apart), as at-least-once delivery does.
 */
function* eventRows(v: View, days: Iterable<number>, dayEvents: (day: number) => Iterable<SimEvent>): Generator<BodyRow> {
  const columns = eventColumns(v.opts.columnSet, v.opts.seed);
  const style = v.opts;
  const rate = v.opts.duplicateRate;
  let deferred: BodyRow[] = [];
  for (const day of days) {
    const far: BodyRow[] = [];
    for (const e of dayEvents(day)) {
      const cells = eventCells(e, columns, style);
      const row = { line: csvLine(cells), cells, day: e.day };
      yield row;
      if (e.dupRoll < rate) {
        if (e.dupFar) far.push(row);
        else yield row;
      }
    }
    yield* deferred;
    deferred = far;
  }
  yield* deferred;
}

function* range(start: number, end: number): Generator<number> {
  for (let d = start; d <= end; d++) yield d;
}

function csvBody(columns: string[], rows: () => Iterable<BodyRow>, disp?: string): Body {
  return { contentType: CSV_TYPE, contentDisposition: disp, format: 'csv', header: csvLine(columns), headerCells: columns, rows };
}

export function eventsBody(v: View, start: number, end: number, query?: string): Body {
  return csvBody(
    eventColumns(v.opts.columnSet, v.opts.seed),
    () => eventRows(v, range(start, end), (day) => visibleDayEvents(v, day, query)),
    disposition('events', dayText(start), dayText(end)),
  );
}

export function companyEventsBody(v: View, domain: string, start: number, end: number): Body {
  const company = v.gen.companyByDomain(domain);
  return csvBody(
    eventColumns(v.opts.columnSet, v.opts.seed),
    () => eventRows(v, range(start, end), (day) => visibleCompanyDayEvents(v, company, day)),
    disposition('events', dayText(start), dayText(end)),
  );
}

export function rollupBody(v: View): Body {
  const columns = rollupColumns(v.opts.columnSet, v.opts.seed);
  const today = dayText(Math.floor(v.nowUs / 86_400_000_000));
  return csvBody(
    columns,
    function* () {
      for (const r of rollupRows(v)) {
        const cells = columns.map((c) => r.cells[c] ?? null);
        yield { line: csvLine(cells), cells };
      }
    },
    disposition('company-rollups', today, today),
  );
}

export function aggregatesBody(v: View, q: AggregateQuery): Body {
  return {
    contentType: NDJSON_TYPE,
    format: 'ndjson',
    header: '',
    headerCells: [],
    *rows() {
      for (const line of aggregateLines(v, q)) yield { line: JSON.stringify(line) + '\n', day: parseDay(line.date as string) };
    },
  };
}
