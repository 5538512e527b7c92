// The differential check of the two CSV paths at the bench's size (millions of rows; the
// test suite runs the same check on ~20,000): test/helpers/csv-differential.ts.
//
//   node dist/bench/differential.js <rows> [seed]      (JSON result on stdout)
import { differential } from '../test/helpers/csv-differential.js';

const rows = Number(process.argv[2] ?? 2_000_000);
const seed = Number(process.argv[3] ?? 1_000_000);
const t0 = performance.now();
const res = await differential(rows, { seed, rowsPerBody: 2000 });
const secs = (performance.now() - t0) / 1000;
process.stdout.write(
  JSON.stringify({
    rows: res.rows,
    bodies: res.bodies,
    seconds: Math.round(secs),
    counts: res.fastPath,
    mismatches: res.mismatches.slice(0, 5),
  }) + '\n',
);
process.exitCode = res.mismatches.length === 0 ? 0 : 1;
