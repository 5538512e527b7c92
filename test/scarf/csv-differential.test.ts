import { expect } from 'chai';

import { readRuntimeOptions, setRuntimeOptions } from '../../src/config/runtime-options.js';
import { ConfigError } from '../../src/errors.js';
import { differential, readBody } from '../helpers/csv-differential.js';

// The fast CSV path (src/scarf/csv-fast/) against the papaparse path (papaparse + the row
// typer) on generated hostile bodies in random chunks: output bytes, errors, stats, key sets
// and the onAccepted tally must be identical. The bench runs the same check on millions of rows.
describe('scarf/csv-fast: differential against the papaparse path', () => {
  it('gives the same output, errors, stats and key sets on ~20,000 generated rows (Singer and Airbyte)', async function () {
    this.timeout(120_000);
    const res = await differential(20_000, { seed: 1, rowsPerBody: 300 });
    expect(res.mismatches, JSON.stringify(res.mismatches.slice(0, 3), null, 1)).to.deep.equal([]);
    expect(res.rows).to.be.at.least(20_000);
    // The comparison is only worth something if the fast path did most of the work, and each
    // way of handing work back to the papaparse path was taken too.
    const c = res.fastPath;
    expect(c.fastRows, JSON.stringify(c)).to.be.above(res.rows * 0.4);
    expect(c.typerRows, JSON.stringify(c)).to.be.above(0);
    expect(c.handedOverBodies, JSON.stringify(c)).to.be.above(5);
    expect(c.bodiesRead - c.handedOverBodies, JSON.stringify(c)).to.be.above(5);
  });
});

describe('TAP_SCARF_CSV_PATH', () => {
  let restore = () => {};
  afterEach(() => restore());

  it('reference reads every row the papaparse way; fast (or unset) takes the fast path', async () => {
    let csv = 'id,type,time,origin_latitude,dnt,user_agent\n';
    for (let i = 0; i < 200; i++)
      csv += `${1000 + i}-a,pixel-fetch,2026-11-02 13:04:05.${100000 + i}+00,37.7290,t,"curl ""x"", é"\n`;
    const body = Buffer.from(csv);
    restore = setRuntimeOptions(readRuntimeOptions({ TAP_SCARF_CSV_PATH: 'reference' }));
    const papaparse = await readBody('fast', 'events', [body], 'singer');
    expect(papaparse.fastPath).to.equal(undefined);
    restore();
    restore = setRuntimeOptions(readRuntimeOptions({ TAP_SCARF_CSV_PATH: 'fast' }));
    const fast = await readBody('fast', 'events', [body], 'singer');
    expect(fast.fastPath).to.deep.equal({ rows: 200, fastRows: 200, typerRows: 0 });
    expect(fast.out).to.equal(papaparse.out);
    expect(fast.stats.records).to.equal(200);
  });

  it('any other value is a configuration error naming the variable and its values', () => {
    expect(() => readRuntimeOptions({ TAP_SCARF_CSV_PATH: 'papaparse' })).to.throw(
      ConfigError,
      /TAP_SCARF_CSV_PATH is "papaparse": use 'fast' \(the default\) or 'reference'/,
    );
  });
});
