// matchHeader (src/scarf/header-names.ts), the one reading of a CSV header's names that the
// row typer and the fast path share (issue 18, defect 2).
import { expect } from 'chai';

import { DataError } from '../../src/errors.js';
import { compileLayout } from '../../src/scarf/csv-fast/compile.js';
import { matchHeader, placeColumns } from '../../src/scarf/header-names.js';
import { compileRowTyper } from '../../src/scarf/row-typer.js';
import { loadSchema } from '../../src/schemas.js';

const KNOWN = new Set(['id', 'time', 'user_agent']);

describe('scarf/header-names matchHeader', () => {
  it('exact names as they are; others matched after trimming and case-folding, and listed', () => {
    expect(matchHeader('events', ['id', ' Time', 'USER_AGENT ', 'new_col'], KNOWN)).to.deep.equal({
      names: ['id', 'time', 'user_agent', 'new_col'],
      renamed: [
        [' Time', 'time'],
        ['USER_AGENT ', 'user_agent'],
      ],
    });
  });

  it('the exact spelling wins: another spelling of a column that is there stays an unknown column', () => {
    expect(matchHeader('events', ['Time', 'id', 'time'], KNOWN)).to.deep.equal({ names: ['Time', 'id', 'time'], renamed: [] });
  });

  it('two other spellings of one column: a DataError naming both', () => {
    let err: unknown;
    try {
      matchHeader('events', ['id', 'Time', ' time'], KNOWN);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DataError);
    expect((err as Error).message).to.equal(
      'events: the response header has two columns that both read as "time" ("Time" and " time"); cannot tell which value is meant',
    );
  });

  it('placeColumns: the schema property of each column, by index; a column named like a fixed property is not taken', () => {
    const placed = placeColumns(
      'events',
      ['ID', 'owner', 'new_col', 'time', 'extra_fields'],
      ['owner', 'id', 'time', 'extra_fields'],
      new Set(['owner', 'extra_fields']),
    );
    expect([...placed.prop]).to.deep.equal([1, -1, -1, 2, -1]);
    expect(placed.unknown).to.deep.equal([1, 2, 4]);
    expect(placed.names).to.deep.equal(['id', 'owner', 'new_col', 'time', 'extra_fields']);
    expect(placed.renamed).to.deep.equal([['ID', 'id']]);
  });

  it('the row typer and the fast path layout take the column alike; required columns are enforced', () => {
    const schema = loadSchema('events');
    const header = ['ID', 'type', ' time'];
    const typer = compileRowTyper({ stream: 'events', schema, header, constants: { owner: 'o' }, requiredColumns: ['time'] });
    expect(typer.renamedColumns).to.deep.equal([
      ['ID', 'id'],
      [' time', 'time'],
    ]);
    const rec = typer.typeRow(['a', 'pixel-fetch', '2026-10-01 00:00:01+00']);
    expect([rec.id, rec.time, rec.extra_fields]).to.deep.equal(['a', '2026-10-01T00:00:01.000000Z', null]);
    const layout = compileLayout(
      { stream: 'events', schema, constants: { owner: 'o' }, keyField: 'id', tallyField: 'time' },
      header,
    );
    expect(typeof layout === 'string' ? layout : [layout.keyCol, layout.tallyCol, layout.unknownCols]).to.deep.equal([0, 2, []]);
    expect(() =>
      compileRowTyper({
        stream: 'events',
        schema,
        header: ['id', 'timestamp'],
        constants: { owner: 'o' },
        requiredColumns: ['time'],
      }),
    ).to.throw(DataError, /^events: the response has no column "time", which every record needs/);
  });
});
