// Response bodies as lazily produced rows. Nothing here holds more than one day of events
// (plus that day's far-apart duplicates, which are sent after the next day's rows).

import { type AggregationQuery, aggregationRows, effectiveWindow } from './aggregations.js';
import { eventColumns, rollupColumns } from './columns.js';
import { type ArtifactType, companyArtifactColumns, companyArtifactDayRows } from './company-artifacts.js';
import { dayText, parseDay } from './dates.js';
import { type Cell, csvLine, eventCells } from './format.js';
import type { SimEvent } from './generator.js';
import {
  aggregateLines,
  type AggregateQuery,
  exportDayEvents,
  pixelDayEvents,
  rollupRows,
  type View,
  visibleCompanyDayEvents,
} from './views.js';

export interface BodyRow {
  /** Complete text of the row, terminated by "\n" (a `json` body's rows: no line break; the writer puts `sep` between them). */
  line: string;
  /** Unescaped cells (CSV bodies only), so faults can cut or break a row precisely. */
  cells?: Cell[];
  /** The day the row belongs to (an event's UTC day of `time`, an aggregate's period start); none for the rollup. */
  day?: number;
}

export interface Body {
  contentType: string;
  contentDisposition?: string;
  /** Other headers of a normal answer (v3's effective window). */
  headers?: Record<string, string>;
  format: 'csv' | 'ndjson' | 'json';
  /** Which API answers: error bodies follow its shape (v2 `{message, code}`, v3 `{detail}`). */
  api: 'v2' | 'v3';
  /** CSV header line ("\n"-terminated), '' for NDJSON, the opening `{"data":[` for JSON. */
  header: string;
  headerCells: string[];
  /** Between two rows (JSON: a comma). */
  sep?: string;
  /** After the last row (JSON: `]}`). */
  trailer?: string;
  /** false: the body's last line break is left out (SimOptions.finalNewline). */
  finalNewline: boolean;
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

function csvBody(v: View, columns: string[], rows: () => Iterable<BodyRow>, disp?: string): Body {
  return {
    contentType: CSV_TYPE,
    contentDisposition: disp,
    format: 'csv',
    api: 'v2',
    header: csvLine(columns),
    headerCells: columns,
    finalNewline: v.opts.finalNewline,
    rows,
  };
}

export function eventsBody(v: View, start: number, end: number, query?: string): Body {
  return csvBody(
    v,
    eventColumns(v.opts.columnSet, v.opts.seed),
    () => eventRows(v, range(start, end), (day) => exportDayEvents(v, day, query)),
    disposition('events', dayText(start), dayText(end)),
  );
}

export function pixelEventsBody(v: View, start: number, end: number): Body {
  return csvBody(
    v,
    eventColumns(v.opts.columnSet, v.opts.seed),
    () => eventRows(v, range(start, end), (day) => pixelDayEvents(v, day)),
    disposition('tracking-pixel-events', dayText(start), dayText(end)),
  );
}

export function companyEventsBody(v: View, domain: string, start: number, end: number): Body {
  const company = v.gen.companyByDomain(domain);
  return csvBody(
    v,
    eventColumns(v.opts.columnSet, v.opts.seed),
    () => eventRows(v, range(start, end), (day) => visibleCompanyDayEvents(v, company, day)),
    disposition('events', dayText(start), dayText(end)),
  );
}

export function rollupBody(v: View): Body {
  const columns = rollupColumns(v.opts.columnSet, v.opts.seed);
  const today = dayText(Math.floor(v.nowUs / 86_400_000_000));
  return csvBody(
    v,
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

export function companyArtifactRollupBody(v: View, type: ArtifactType, start: number, end: number): Body {
  return csvBody(
    v,
    companyArtifactColumns(type),
    function* () {
      for (let day = start; day <= end; day++)
        for (const r of companyArtifactDayRows(v, type, day)) yield { line: csvLine(r.cells), cells: r.cells, day };
    },
    disposition(`company-${type}-rollups`, dayText(start), dayText(end)),
  );
}

export function aggregatesBody(v: View, q: AggregateQuery): Body {
  return {
    contentType: NDJSON_TYPE,
    format: 'ndjson',
    api: 'v2',
    header: '',
    headerCells: [],
    finalNewline: v.opts.finalNewline,
    *rows() {
      for (const line of aggregateLines(v, q)) yield { line: JSON.stringify(line) + '\n', day: parseDay(line.date as string) };
    },
  };
}

/** v2 aggregates that answer no rows (SimOptions.v2Aggregates 'empty'): an NDJSON body of nothing. */
export function emptyAggregatesBody(v: View): Body {
  return { ...aggregatesBody(v, { start: 0, end: -1, rollups: [], breakdowns: [] }), rows: () => [] };
}

export function aggregationsBody(v: View, q: AggregationQuery): Body {
  const w = effectiveWindow(v, q);
  const json = q.format === 'json';
  return {
    contentType: json ? 'application/json' : NDJSON_TYPE,
    headers: { 'X-Scarf-Effective-Start-Date': dayText(w.start), 'X-Scarf-Effective-End-Date': dayText(w.endExcl) },
    format: json ? 'json' : 'ndjson',
    api: 'v3',
    header: json ? '{"data":[' : '',
    headerCells: [],
    ...(json ? { sep: ',', trailer: ']}' } : {}),
    finalNewline: v.opts.finalNewline,
    *rows() {
      for (const row of aggregationRows(v, q))
        yield { line: JSON.stringify(row) + (json ? '' : '\n'), day: parseDay(row.date as string) };
    },
  };
}
