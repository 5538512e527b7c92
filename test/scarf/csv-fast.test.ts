import { expect } from 'chai';

import { type FastCsvOptions, type FastCsvResult, transcodeCsv } from '../../src/scarf/csv-fast/index.js';
import { loadSchema } from '../../src/schemas.js';

// The fast CSV path's own interface: what it reports of each body (the counts the
// differential test and the bench rely on) and the tallied field it is given. Its records
// are proven against the papaparse path by test/scarf/csv-differential.test.ts.

const HEADER = 'id,type,time,origin_latitude,dnt\n';

async function* chunks(text: string): AsyncGenerator<Buffer> {
  await Promise.resolve();
  yield Buffer.from(text);
}

interface Read {
  /** Records as JSON text, each with the tallied value's text (or -1 / -2). */
  records: { json: string; tally: string | number }[];
  /** Rows handed over as fields (to the row typer, or by readCsv after a hand-over). */
  rows: { fields: string[]; n: number }[];
  result?: FastCsvResult;
  reported: FastCsvResult[];
  error?: Error;
}

async function read(csv: string, opts: Partial<FastCsvOptions> = {}, failAtRecord = 0): Promise<Read> {
  const out: Read = { records: [], rows: [], reported: [] };
  try {
    out.result = await transcodeCsv(
      chunks(csv),
      {
        stream: 'events',
        schema: loadSchema('events'),
        constants: { owner: 'acme-oss' },
        keyField: 'id',
        tallyField: 'time',
        onRead: (r) => out.reported.push({ ...r }),
        ...opts,
      },
      {
        onHeader() {},
        onRecord(rec, n) {
          if (n === failAtRecord) throw new Error(`stop at ${n}`);
          const json = rec.json.toString('utf8', 0, rec.end);
          out.records.push({
            json,
            tally: rec.tallyStart >= 0 ? rec.json.toString('latin1', rec.tallyStart, rec.tallyEnd) : rec.tallyStart,
          });
        },
        onRow(fields, n) {
          out.rows.push({ fields, n });
        },
      },
    );
  } catch (e) {
    out.error = e as Error;
  }
  return out;
}

describe('scarf/csv-fast: counts and the tallied field', () => {
  it('reports per body how its rows were read, returned and given to onRead', async () => {
    const r = await read(HEADER + 'a,pixel-fetch,2026-11-02 13:04:05.5+00,1.5,t\nb,pixel-fetch,,,yes\nc,pixel-fetch,,,f\n');
    // Row 2's boolean is not one the byte code converts: it goes to the row typer, as fields.
    expect(r.rows).to.deep.equal([{ fields: ['b', 'pixel-fetch', '', '', 'yes'], n: 2 }]);
    expect(r.records).to.have.length(2);
    expect(r.result).to.deep.equal({ rows: 3, fastRows: 2, typerRows: 1 });
    expect(r.reported).to.deep.equal([r.result]);
  });

  it('says when and why readCsv read the rest of the body, with the rows counted over both', async () => {
    const r = await read(HEADER + 'a,pixel-fetch,,,t\nb,pixel-fetch,,,f');
    // readCsv's rule: a last row without its line break may be cut in its last field (`t` → ``), so it is not emitted.
    expect(r.error?.constructor.name).to.equal('IncompleteBodyError');
    expect(r.reported).to.deep.equal([
      { rows: 1, fastRows: 1, typerRows: 0, handedOver: 'the body does not end with a line break' },
    ]);
    expect(r.rows).to.deep.equal([]);
  });

  it('reports what it did before an error too (onRead), and nothing is returned', async () => {
    const r = await read(HEADER + 'a,x,,,t\nb,x,,,t\nc,x,,,t\nd,x,,,t\n', {}, 3);
    expect(r.error?.message).to.equal('stop at 3');
    expect(r.result).to.equal(undefined);
    expect(r.reported).to.deep.equal([{ rows: 3, fastRows: 3, typerRows: 0 }]);
  });

  it("gives the tallied field's canonical text, -1 when it is empty, -2 when the schema has no such field", async () => {
    const csv = HEADER + 'a,x,2026-11-02 13:04:05.5+00,,t\nb,x,,,t\nc,x,2026-11-02T01:02:03+01:00,,t\n';
    const tallies = (await read(csv)).records.map((x) => x.tally);
    expect(tallies).to.deep.equal(['2026-11-02T13:04:05.500000Z', -1, '2026-11-02T00:02:03.000000Z']);
    expect((await read(csv, { tallyField: 'no_such_field' })).records.map((x) => x.tally)).to.deep.equal([-2, -2, -2]);
    expect((await read(csv, { tallyField: undefined })).records.map((x) => x.tally)).to.deep.equal([-2, -2, -2]);
  });

  it('a tallied field that is not a timestamp column leaves the body to the papaparse path', async () => {
    const r = await read(HEADER + 'a,x,,,t\nb,x,,,f\n', { tallyField: 'type' });
    expect(r.records).to.deep.equal([]);
    expect(r.rows.map((x) => x.fields[0])).to.deep.equal(['a', 'b']);
    expect(r.result).to.deep.equal({ rows: 2, fastRows: 0, typerRows: 0, handedOver: 'the tallied field is not a timestamp' });
  });
});
