import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { expect } from 'chai';

import { DataError, IncompleteBodyError, NotAnExportError } from '../../src/errors.js';
import { type BodyChunk } from '../../src/scarf/body.js';
import { readCsv } from '../../src/scarf/csv-rows.js';
import { rejects } from '../helpers/assert.js';

async function* chunksOf(parts: BodyChunk[], failWith?: Error): AsyncGenerator<BodyChunk> {
  for (const p of parts) {
    await Promise.resolve();
    yield p;
  }
  if (failWith) throw failWith;
}

function bytewise(text: string): Buffer[] {
  const b = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.subarray(i, i + 1));
  return out;
}

async function collect(body: AsyncIterable<BodyChunk> | NodeJS.ReadableStream) {
  let header: string[] | undefined;
  const rows: string[][] = [];
  const numbers: number[] = [];
  const res = await readCsv(body, {
    onHeader(h) {
      expect(header, 'onHeader called once').to.equal(undefined);
      header = h;
    },
    onRow(f, n) {
      rows.push(f);
      numbers.push(n);
    },
  });
  return { header, rows, numbers, res };
}

const TRICKY =
  'id,user_agent,n\r\n' +
  '1,"Mozilla/5.0 (X11, Linux) ""quoted""",1.5\r\n' +
  '2,"multi\r\nline\nfield, with comma",\r\n' +
  '3,plain,"x"\r\n' +
  '4,"日本語 é 😀",""\r\n';
const TRICKY_ROWS = [
  ['1', 'Mozilla/5.0 (X11, Linux) "quoted"', '1.5'],
  ['2', 'multi\r\nline\nfield, with comma', ''],
  ['3', 'plain', 'x'],
  ['4', '日本語 é 😀', ''],
];

describe('scarf/csv-rows readCsv', () => {
  it('parses quotes, doubled quotes, commas and line breaks inside fields, CRLF', async () => {
    const r = await collect(chunksOf([TRICKY]));
    expect(r.header).to.deep.equal(['id', 'user_agent', 'n']);
    expect(r.rows).to.deep.equal(TRICKY_ROWS);
    expect(r.numbers).to.deep.equal([1, 2, 3, 4]);
    expect(r.res).to.deep.equal({
      rows: 4,
      bytes: Buffer.byteLength(TRICKY),
      header: ['id', 'user_agent', 'n'],
      parsedChars: TRICKY.length,
    });
  });

  it('gives the same rows whatever the chunking (byte by byte, every split point)', async () => {
    const whole = await collect(chunksOf([Buffer.from(TRICKY)]));
    expect((await collect(chunksOf(bytewise(TRICKY)))).rows).to.deep.equal(whole.rows);
    const b = Buffer.from(TRICKY);
    for (let cut = 1; cut < b.length; cut++) {
      const r = await collect(chunksOf([b.subarray(0, cut), b.subarray(cut)]));
      expect(r.rows, `cut at ${cut}`).to.deep.equal(TRICKY_ROWS);
    }
  });

  it('handles LF line ends and a quoted line break in the last row', async () => {
    const r = await collect(chunksOf(['a,b\n1,2\n', '3,"4\n5"\n']));
    expect(r.rows).to.deep.equal([
      ['1', '2'],
      ['3', '4\n5'],
    ]);
  });

  it('a last row without its line break is not proven complete: IncompleteBodyError, the row is not handed over', async () => {
    // The field count matches, but `eu-west-3` may have been cut to `eu-we` (issue 18, defect 7).
    for (const parts of [['a,b\n1,2\n', '3,eu-we'], ['a,b\n1,2\n3,"4\n5"'], ['a,b\r\n1,2\r\n3,t']]) {
      const rows: string[][] = [];
      const err = await rejects(readCsv(chunksOf(parts), { onHeader() {}, onRow: (f) => void rows.push(f) }));
      expect(err, parts.join('')).to.be.instanceOf(IncompleteBodyError);
      expect(err.message).to.match(
        /ended without a line break after row 2 \(after 1 complete rows\): a last row without its line break may be cut inside its last field/,
      );
      expect(rows).to.deep.equal([['1', '2']]);
    }
    // A header without its line break may be a cut header: not an empty window either.
    const h = await rejects(collect(chunksOf(['a,b'])));
    expect(h).to.be.instanceOf(IncompleteBodyError);
    expect(h.message).to.match(/after its header row/);
    // The CR of a CRLF whose LF never came ends the row: complete.
    expect((await collect(chunksOf(['a,b\r\n1,2\r']))).rows).to.deep.equal([['1', '2']]);
  });

  it('decodes multibyte UTF-8 split across chunks', async () => {
    const text = 'name,city\nJosé,Zürich\n山田,東京\n😀,"🚀, ok"\n';
    const r = await collect(chunksOf(bytewise(text)));
    expect(r.rows).to.deep.equal([
      ['José', 'Zürich'],
      ['山田', '東京'],
      ['😀', '🚀, ok'],
    ]);
  });

  it('strips a BOM, also when it arrives byte by byte', async () => {
    const text = '\uFEFFid,name\r\n1,x\r\n';
    for (const parts of [[text], bytewise(text)]) {
      const r = await collect(chunksOf(parts));
      expect(r.header).to.deep.equal(['id', 'name']);
      expect(r.rows).to.deep.equal([['1', 'x']]);
    }
  });

  it('reads a Node Readable', async () => {
    const r = await collect(Readable.from([Buffer.from('a,b\n'), Buffer.from('1,2\n')]));
    expect(r.rows).to.deep.equal([['1', '2']]);
  });

  it('ignores a blank last line; a header-only body gives no rows; an empty body has no header and is no export', async () => {
    expect((await collect(chunksOf(['a,b\n1,2\n\n']))).rows).to.deep.equal([['1', '2']]);
    expect((await collect(chunksOf(['a,b\r\n1,2\r\n\r\n']))).rows).to.deep.equal([['1', '2']]);
    const h = await collect(chunksOf(['a,b\n']));
    expect(h.header).to.deep.equal(['a', 'b']);
    expect(h.rows).to.deep.equal([]);
    const e = await rejects(collect(chunksOf([])));
    expect(e).to.be.instanceOf(NotAnExportError);
    expect(e.message).to.match(/^the CSV body is empty \(0 bytes\): a CSV export always starts with its header row/);
  });

  it('pauses the body while onRow returns a pending Promise', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 6; i++) {
        pulled++;
        yield Buffer.from(i === 0 ? 'a,b\n' : `${i},x\n`);
      }
    }
    const seen: string[] = [];
    let inFlight = 0;
    await readCsv(source(), {
      onHeader() {},
      async onRow(f, n) {
        inFlight++;
        expect(inFlight).to.equal(1);
        const before = pulled;
        await sleep(n === 1 ? 30 : 2);
        expect(pulled, 'no chunk read while a row is pending').to.equal(before);
        seen.push(f[0]!);
        inFlight--;
      },
    });
    expect(seen).to.deep.equal(['1', '2', '3', '4', '5']);
  });

  describe('completeness', () => {
    it('abort mid-body → IncompleteBodyError (rows before it were delivered)', async () => {
      const rows: string[][] = [];
      const err = await rejects(
        readCsv(chunksOf(['a,b\n1,2\n', '3,'], Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), {
          onHeader() {},
          onRow: (f) => void rows.push(f),
        }),
      );
      expect(err).to.be.instanceOf(IncompleteBodyError);
      expect(err.message).to.match(/UND_ERR_SOCKET/);
      expect(rows).to.deep.equal([['1', '2']]);
    });

    it('a destroyed Readable → IncompleteBodyError', async () => {
      const r = new Readable({ read() {} });
      r.push('a,b\n1,2\n');
      setTimeout(() => r.destroy(new Error('aborted')), 5);
      const err = await rejects(collect(r));
      expect(err).to.be.instanceOf(IncompleteBodyError);
    });

    it('a Readable closed before its end → IncompleteBodyError', async () => {
      const r = new Readable({ read() {} });
      r.push('a,b\n1,2\n');
      setTimeout(() => r.destroy(), 5);
      expect(await rejects(collect(r))).to.be.instanceOf(IncompleteBodyError);
    });

    it('cut mid-row without a line break → IncompleteBodyError', async () => {
      const err = await rejects(collect(chunksOf(['a,b,c\n1,2,3\n4,5'])));
      expect(err).to.be.instanceOf(IncompleteBodyError);
      expect(err.message).to.match(/row 2 \(2 of 3 fields\)/);
    });

    it('unterminated quoted field → IncompleteBodyError', async () => {
      for (const body of ['a,b\n1,"abc\n', 'a,b\n1,"abc', 'a,b\n1,"ab""c\r\nd']) {
        const err = await rejects(collect(chunksOf([body])));
        expect(err, body).to.be.instanceOf(IncompleteBodyError);
        expect(err.message).to.match(/inside a quoted field/);
      }
    });

    it('a terminated row with the wrong field count → DataError naming the row', async () => {
      const err = await rejects(collect(chunksOf(['a,b\n1,2\n1,2,3\n4,5\n'])));
      expect(err).to.be.instanceOf(DataError);
      expect(err.message).to.match(/row 2 has 3 fields but the header has 2/);
      const err2 = await rejects(collect(chunksOf(['a,b,c\n1,2,3\n4\n'])));
      expect(err2).to.be.instanceOf(DataError);
      expect(err2.message).to.match(/row 2 has 1 fields but the header has 3/);
    });

    it('an unterminated last row with too many fields → DataError', async () => {
      expect(await rejects(collect(chunksOf(['a,b\n1,2,3'])))).to.be.instanceOf(DataError);
    });

    it('a malformed closing quote → DataError', async () => {
      const err = await rejects(collect(chunksOf(['a,b\n1,2\n3,"x"y\n'])));
      expect(err).to.be.instanceOf(DataError);
      expect(err.message).to.match(/row 2 has a malformed quoted field/);
    });

    it('a handler error passes through unchanged and stops the source', async () => {
      const r = Readable.from(['a,b\n', '1,2\n', '3,4\n']);
      const boom = new DataError('bad row');
      const err = await rejects(
        readCsv(r, {
          onHeader() {},
          onRow() {
            throw boom;
          },
        }),
      );
      expect(err).to.equal(boom);
      await sleep(5);
      expect(r.destroyed).to.equal(true);
    });
  });
});
