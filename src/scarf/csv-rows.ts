// Streaming CSV body → rows (arrays of field text, header first), with the completeness
// rules of docs/DESIGN.md: a row is handed over only once it is known to be complete, and a
// body that ended early is an IncompleteBodyError (the caller re-requests the window).
//
// This is the papaparse path, the definition of how a CSV body is read: with the row typer
// it reads every stream's rows (every row under TAP_SCARF_CSV_PATH=reference), and the rest
// of any body the fast path (csv-fast/, which exists for speed alone) does not read itself
// (docs/DESIGN.md "Two CSV paths").
//
// papaparse's core Parser is driven directly, one decoded chunk at a time, with
// ignoreLastRow so the trailing, possibly incomplete row is kept back and re-parsed with
// the next chunk. Its ParserHandle/stream layers are bypassed: they guess settings per
// chunk, rename duplicate headers and cannot tell a cut row from a complete one.

import Papa from 'papaparse';

import { DataError, IncompleteBodyError, NotAnExportError } from '../errors.js';
import { BodyDecoder, BodyPuller, BodySource, labelPrefix, maxRowChars, rowTooLong } from './body.js';

export interface CsvHandlers {
  /** Called once with the header row (an empty body is a NotAnExportError: an export always has its header). */
  onHeader(header: string[]): void;
  /** Called per complete data row, in body order; rowNumber 1 = first data row. A returned Promise pauses reading until it settles. */
  onRow(fields: string[], rowNumber: number): void | Promise<void>;
}

export interface CsvResult {
  /** Data rows delivered (header excluded). */
  rows: number;
  /** Body bytes read. */
  bytes: number;
  /** The header. */
  header: string[];
  /** Characters handed to the parser, re-parses of held-back rows included (≈ the body's length; a measure of the work done). */
  parsedChars: number;
}

/**
 * Follows RFC 4180 quoting over text fed in pieces, to tell whether a row has ended (a line
 * break outside quotes) without re-reading what it has already seen. A quote opens a quoted
 * field only at the start of a field; inside one, "" is a quote and " closes it — the same
 * reading papaparse makes, so the two agree on where rows end.
 */
class RowEndScanner {
  private inQuotes = false;
  private fieldStart = true;
  /** A quote inside a quoted field was the last character seen: the next one decides. */
  private afterQuote = false;
  private br = 10;

  reset(breakChar: string): void {
    this.inQuotes = false;
    this.fieldStart = true;
    this.afterQuote = false;
    this.br = breakChar.charCodeAt(0);
  }

  /** True once a row has ended within `text` (the state is then stale until reset). */
  feed(text: string): boolean {
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.afterQuote) {
        this.afterQuote = false;
        if (text.charCodeAt(i) === 34) {
          i++;
          continue; // "" inside a quoted field
        }
        this.inQuotes = false;
      }
      if (this.inQuotes) {
        const q = text.indexOf('"', i);
        if (q < 0) return false;
        this.afterQuote = true;
        i = q + 1;
        continue;
      }
      const c = text.charCodeAt(i++);
      if (c === this.br) return true;
      if (c === 44) this.fieldStart = true;
      else if (c === 34 && this.fieldStart) {
        this.inQuotes = true;
        this.fieldStart = false;
      } else this.fieldStart = false;
    }
    return false;
  }
}

interface PapaResult {
  data: string[][];
  errors: { type: string; code: string; row: number }[];
  meta: { cursor: number };
}

/** The body's line break, from its first line (the header never holds quoted line breaks). */
function detectNewline(text: string, atEnd: boolean): string | undefined {
  const lf = text.indexOf('\n');
  if (lf >= 0) return lf > 0 && text.charCodeAt(lf - 1) === 13 ? '\r\n' : '\n';
  const cr = text.indexOf('\r');
  if (cr >= 0 && (cr < text.length - 1 || atEnd)) return '\r';
  return atEnd ? '\n' : undefined;
}

// eslint-disable-next-line complexity -- the papaparse path's row loop (docs/performance.md, npm run bench): its checks stay inline in the loop
export async function readCsv(
  body: BodySource,
  handlers: CsvHandlers,
  opts: {
    label?: string;
    maxRowChars?: number;
    /** Data rows already read before this body's rows (the fast path hands over mid-body): numbering continues from there. */
    rowOffset?: number;
    /** Called once at the body's end when invalid UTF-8 was replaced with U+FFFD, with how many sequences. */
    onInvalidUtf8?: (count: number) => void;
  } = {},
): Promise<CsvResult> {
  const label = labelPrefix(opts.label);
  const src = new BodyPuller(body, label);
  const decoder = new BodyDecoder();
  const onRow = handlers.onRow;

  let parser: Papa.Parser | undefined;
  let newline: string | undefined;
  let breakChar = '\n';
  /** Decoded text not yet known to hold a complete row. */
  let partial = '';
  let header: string[] | undefined;
  let ncols = 0;
  let rows = opts.rowOffset ?? 0;
  let first = true;
  let parsedChars = 0;
  const maxRow = opts.maxRowChars ?? maxRowChars();
  const scan = new RowEndScanner();
  /** The scanner saw the held-back row end already (only where it reads a malformed quote differently): parse at the next chunk. */
  let heldEnded = false;

  // Hands over the complete rows of one parse; `badRow` is the index of the first row
  // papaparse flagged as malformed (-1: none).
  async function deliver(data: string[][], badRow: number): Promise<void> {
    for (let i = 0; i < data.length; i++) {
      const row = data[i]!;
      if (i === badRow) {
        throw new DataError(
          `${label}CSV data row ${rows + 1} has a malformed quoted field (a closing quote not followed by a comma or line end)`,
        );
      }
      if (header === undefined) {
        header = row;
        ncols = row.length;
        handlers.onHeader(row);
        continue;
      }
      if (row.length !== ncols) {
        // A blank line carries no row (with a one-column header it is an empty value).
        if (row.length === 1 && row[0] === '') continue;
        throw new DataError(`${label}CSV data row ${rows + 1} has ${row.length} fields but the header has ${ncols}`);
      }
      const r = onRow(row, ++rows);
      if (r !== undefined) await r;
    }
  }

  function firstBadRow(res: PapaResult, final: boolean): number {
    let bad = -1;
    for (const e of res.errors) {
      // Errors about the held-back trailing row are re-judged once that row is complete.
      if (e.code === 'MissingQuotes') continue;
      if (!final && e.row >= res.data.length) continue;
      if (bad < 0 || e.row < bad) bad = e.row;
    }
    return bad;
  }

  try {
    for (;;) {
      const chunk = await src.next();
      if (chunk === undefined) break;
      let text = decoder.text(chunk);
      if (first) {
        if (text.length === 0) continue;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      if (parser === undefined) {
        partial += text;
        newline = detectNewline(partial, false);
        if (newline === undefined) {
          if (partial.length > maxRow) throw rowTooLong(label, 'the header row', maxRow);
          continue;
        }
        breakChar = newline === '\r' ? '\r' : '\n';
        parser = new Papa.Parser({ delimiter: ',', newline: newline as '\n', quoteChar: '"' });
        text = partial;
        partial = '';
      } else if (partial.length !== 0) {
        // Only the new text is scanned for the end of the held-back row; the row is parsed
        // again only once it has ended, so a long multi-line field costs linear time.
        const ended = heldEnded || scan.feed(text);
        partial += text;
        if (!ended) {
          if (partial.length > maxRow) throw rowTooLong(label, `CSV data row ${rows + 1}`, maxRow);
          continue;
        }
      }
      const input = partial.length === 0 ? text : partial;
      parsedChars += input.length;
      const res = parser.parse(input, 0, true) as PapaResult;
      partial = res.meta.cursor >= input.length ? '' : input.slice(res.meta.cursor);
      if (partial.length !== 0) {
        scan.reset(breakChar);
        heldEnded = scan.feed(partial);
      }
      if (res.data.length > 0) await deliver(res.data, firstBadRow(res, false));
    }

    const rest = decoder.end();
    partial += rest;
    if (first && partial.charCodeAt(0) === 0xfeff) partial = partial.slice(1);
    if (parser === undefined) {
      if (partial.length === 0) {
        throw new NotAnExportError(
          `${label}the CSV body is empty (${src.bytes} bytes): a CSV export always starts with its header row, so this is a failed answer, not an empty window`,
        );
      }
      newline = detectNewline(partial, true)!;
      parser = new Papa.Parser({ delimiter: ',', newline: newline as '\n', quoteChar: '"' });
      parsedChars += partial.length;
      const res = parser.parse(partial, 0, true) as PapaResult;
      partial = res.meta.cursor >= partial.length ? '' : partial.slice(res.meta.cursor);
      if (res.data.length > 0) await deliver(res.data, firstBadRow(res, false));
    }
    // A CR of a CRLF whose LF never came: the row itself is complete.
    const crEnded = newline === '\r\n' && partial.charCodeAt(partial.length - 1) === 13;
    if (crEnded) partial = partial.slice(0, -1);
    if (partial.length > 0) {
      // The body did not end with a line break: judge its last row.
      parsedChars += partial.length;
      const res = parser.parse(partial, 0, false) as PapaResult;
      const badRow = firstBadRow(res, true);
      // A malformed quote makes the rest of the body unreadable: a data problem, not a cut.
      if (badRow < 0 && res.errors.some((e) => e.code === 'MissingQuotes')) {
        throw new IncompleteBodyError(
          `${label}the CSV body ended inside a quoted field (after ${rows} complete rows): it was cut`,
        );
      }
      const last = res.data[res.data.length - 1];
      if (
        badRow < 0 &&
        header !== undefined &&
        last !== undefined &&
        last.length < ncols &&
        !(last.length === 1 && last[0] === '')
      ) {
        throw new IncompleteBodyError(
          `${label}the CSV body ended without a line break in the middle of row ${rows + 1} (${last.length} of ${ncols} fields): it was cut`,
        );
      }
      // A row too wide (or a malformed quote) is a data error whatever follows it.
      if (badRow >= 0 || (header !== undefined && last !== undefined && last.length > ncols)) {
        await deliver(res.data, badRow);
      }
      // Every field is there, but the last one may have been cut cleanly (`eu-west-3` sent as
      // `eu-we`): nothing in the message or the CSV tells a complete row from a cut one, so
      // the row is not emitted and the body is read again (docs/scarf-api.md "The final line break").
      if (!crEnded && res.data.some((r) => !(r.length === 1 && r[0] === ''))) {
        const what = header === undefined ? 'its header row' : `row ${rows + 1}`;
        throw new IncompleteBodyError(
          `${label}the CSV body ended without a line break after ${what} (after ${rows} complete rows): a last row without its line break may be cut inside its last field, so it is not emitted and the body is read again`,
        );
      }
      await deliver(res.data, badRow);
    }
    if (decoder.invalid > 0) opts.onInvalidUtf8?.(decoder.invalid);
    return { rows, bytes: src.bytes, header: header!, parsedChars };
  } catch (err) {
    src.release();
    throw err;
  }
}
