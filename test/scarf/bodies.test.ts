// The body layer's defences against answers that are not exports (openExport), rows that
// never end (the row size limit), and long multi-line fields arriving in small pieces
// (read in linear time: the held-back row is not re-parsed per chunk).
import { expect } from 'chai';

import { DataError, NotAnExportError } from '../../src/errors.js';
import { type AnswerInfo, type BodyChunk, type BodySource, openExport } from '../../src/scarf/body.js';
import { readCsv } from '../../src/scarf/csv-rows.js';
import { readNdjson } from '../../src/scarf/ndjson-rows.js';
import { rejects } from '../helpers/assert.js';

async function* chunksOf(parts: BodyChunk[]): AsyncGenerator<BodyChunk> {
  for (const p of parts) {
    await Promise.resolve();
    yield p;
  }
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function text(body: BodySource): Promise<string> {
  let s = '';
  for await (const c of body as AsyncIterable<BodyChunk>) s += c.toString();
  return s;
}

const csvInfo: AnswerInfo = { status: 200, headers: { 'content-type': 'text/csv; charset=utf-8' } };
const ndjsonInfo: AnswerInfo = { status: 200, headers: { 'content-type': 'application/x-ndjson' } };

describe('scarf/body openExport', () => {
  it('hands an export on byte for byte, the looked-at chunks included', async () => {
    const body = 'id,n\n1,a\n2,b\n';
    expect(await text(await openExport(chunksOf(pieces(body, 3)), csvInfo, 'csv', ''))).to.equal(body);
    const nd = '{"date":"2026-10-01","artifact":"a","total":1}\n{"date":"2026-10-01","artifact":"b","total":2}\n';
    expect(await text(await openExport(chunksOf(pieces(nd, 5)), ndjsonInfo, 'ndjson', ''))).to.equal(nd);
    const identity = { status: 200, headers: { ...csvInfo.headers, 'content-encoding': 'identity' } };
    expect(await text(await openExport(chunksOf([body]), identity, 'csv', ''))).to.equal(body);
  });

  it('an empty NDJSON answer is valid only when it says it is NDJSON (or JSON)', async () => {
    expect(await text(await openExport(chunksOf([]), ndjsonInfo, 'ndjson', ''))).to.equal('');
    const json = { status: 200, headers: { 'content-type': 'application/json' } };
    expect(await text(await openExport(chunksOf(['\n']), json, 'ndjson', ''))).to.equal('\n');
    const plain = await rejects(
      openExport(chunksOf([]), { status: 200, headers: { 'content-type': 'text/plain' } }, 'ndjson', ''),
    );
    expect(plain).to.be.instanceOf(NotAnExportError);
    expect(plain.message).to.equal(
      'Scarf answered 200 with an empty body and Content-Type "text/plain": an empty NDJSON answer must say it is NDJSON (application/x-ndjson), so this is a failed answer, not an empty window',
    );
  });

  it('a CSV body of blank lines, a 206, plain text on NDJSON and JSON on CSV are no exports', async () => {
    const blank = await rejects(openExport(chunksOf(['\r\n\n']), csvInfo, 'csv', 'w: '));
    expect(blank).to.be.instanceOf(NotAnExportError);
    expect(blank.message).to.match(
      /^w: Scarf answered 200 with an empty body \(3 bytes, Content-Type "text\/csv; charset=utf-8"\)/,
    );
    const partial = await rejects(openExport(chunksOf(['id\n']), { status: 206, headers: {} }, 'csv', ''));
    expect(partial.message).to.match(/^Scarf answered HTTP 206 instead of 200 with a CSV export/);
    const ok = await rejects(openExport(chunksOf(['OK\n']), { status: 200, headers: {} }, 'ndjson', ''));
    expect(ok).to.be.instanceOf(NotAnExportError);
    expect(ok.message).to.equal('the answer (no Content-Type) is not NDJSON: its first line is not JSON: "OK"');
    const arr = await rejects(openExport(chunksOf(['[{"x":1}]']), csvInfo, 'csv', ''));
    expect(arr).to.be.instanceOf(NotAnExportError);
    expect(arr.message).to.equal(
      'the server answered JSON (Content-Type "text/csv; charset=utf-8") instead of a CSV export: Scarf said: "[{\\"x\\":1}]"',
    );
  });
});

describe('scarf/csv-rows: long fields and endless rows', () => {
  it('a 4 MB quoted multi-line field in 4 KB pieces comes out exact, parsed about once (not once per piece)', async () => {
    const line = 'Mozilla/5.0 "quoted", with commas, and a CRLF\r\n';
    const field = line.repeat(Math.ceil((4 * 1024 * 1024) / line.length));
    const body = `id,user_agent,n\n1,"${field.replace(/"/g, '""')}",x\n2,short,y\n`;
    const rows: string[][] = [];
    const res = await readCsv(chunksOf(pieces(body, 4096)), { onHeader() {}, onRow: (f) => void rows.push(f) });
    expect(rows.length).to.equal(2);
    expect(rows[0]![1] === field, 'the field, exactly').to.equal(true);
    expect(rows[1]).to.deep.equal(['2', 'short', 'y']);
    // Re-parsing the held-back row per piece would hand the parser ~1000 × 2 MB.
    expect(res.parsedChars).to.be.at.most(2 * body.length);
  });

  it('a row that never ends stops at the row size limit, with bounded reading', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<string> {
      yield 'id,user_agent\n1,"';
      for (;;) {
        pulled += 65536;
        yield 'x'.repeat(65536);
      }
    }
    const err = await rejects(readCsv(endless(), { onHeader() {}, onRow() {} }, { maxRowChars: 1024 * 1024 }));
    expect(err).to.be.instanceOf(DataError);
    expect(err.message).to.match(/^CSV data row 1 is longer than the row size limit of 1 MiB and has not ended/);
    expect(pulled).to.be.at.most(1024 * 1024 + 2 * 65536);
  });

  it('a header that never ends, and an NDJSON line that never ends, stop at the limit too', async () => {
    async function* noBreak(start: string): AsyncGenerator<string> {
      yield start;
      for (;;) yield 'y'.repeat(4096);
    }
    const h = await rejects(readCsv(noBreak('id,'), { onHeader() {}, onRow() {} }, { maxRowChars: 100_000 }));
    expect(h.message).to.match(/^the header row is longer than the row size limit of 100000 bytes/);
    const n = await rejects(readNdjson(noBreak('{"a":"'), { onObject() {} }, { maxRowChars: 64 * 1024 }));
    expect(n).to.be.instanceOf(DataError);
    expect(n.message).to.match(/^NDJSON line 1 is longer than the row size limit of 64 KiB/);
  });
});
