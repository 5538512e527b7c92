// A direct COPY's runs of rows sorted by key (src/destination/postgres/key-order.ts): the run
// sent must hold exactly the rows encoded, byte for byte, only reordered, in the order a plain
// comparator sort by key gives (the reference here), on random runs: keys that share their
// first bytes, keys shorter than four bytes, equal keys (kept in arrival order), non-ASCII
// bytes, rows with fewer fields than the key, a run that does not start at the buffer's start.
import { expect } from 'chai';

import { BinaryEncoder } from '../../src/destination/postgres/copy-binary.js';
import { rowsInKeyOrder, RowStarts } from '../../src/destination/postgres/key-order.js';
import { CopyChunk } from '../helpers/copy-text-encoder.js';
import { rng } from '../helpers/rng.js';

/** The first `keyColumns` fields of a row (its bytes up to the tab that ends them). */
function keyOf(line: Buffer, keyColumns: number): Buffer {
  let tabs = 0;
  for (let i = 0; i < line.length; i++) if (line[i] === 0x09 && ++tabs === keyColumns) return line.subarray(0, i);
  return line.subarray(0, line.length - 1);
}

/** The last key field's first four bytes, zero-padded, as the documented first sort criterion. */
function prefixOf(line: Buffer, keyColumns: number): Buffer {
  const key = keyOf(line, keyColumns);
  const last = key.subarray(key.lastIndexOf(0x09) + 1);
  const p = Buffer.alloc(4);
  last.copy(p, 0, 0, 4);
  return p;
}

/** The reference: a stable comparator sort of the rows. */
function reference(rows: Buffer[], keyColumns: number): Buffer {
  const order = rows.map((r, i) => ({ r, i }));
  order.sort(
    (a, b) =>
      Buffer.compare(prefixOf(a.r, keyColumns), prefixOf(b.r, keyColumns)) ||
      Buffer.compare(keyOf(a.r, keyColumns), keyOf(b.r, keyColumns)) ||
      a.i - b.i,
  );
  return Buffer.concat(order.map((o) => o.r));
}

function randomRow(next: () => number, owners: string[]): Buffer {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(next() * 16)]).join('');
  // Ids from a small alphabet and short lengths too, so prefixes and whole keys often tie.
  const id = pick([
    () => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`,
    () => hex(Math.floor(next() * 4)),
    () => `ab${hex(Math.floor(next() * 3))}`,
    () => `abcd${hex(2)}`,
    () => `é${hex(3)}\\t${hex(1)}`,
    () => '\\N',
  ])();
  const rest = Array.from({ length: Math.floor(next() * 4) }, () => pick(['', 'x', '\\N', 'ünï', hex(40)]));
  // Now and then a row with the owner only (fewer fields than the key).
  const fields = next() < 0.05 ? [pick(owners)] : [pick(owners), id, ...rest];
  return Buffer.from(fields.join('\t') + '\n', 'utf8');
}

describe('a direct COPY’s rows in key order within a run (key-order.ts)', () => {
  it('5,000 random runs: the same rows, byte for byte, in the reference’s order', () => {
    const next = rng(21);
    for (let run = 0; run < 5_000; run++) {
      const owners = next() < 0.8 ? ['acme-oss'] : ['acme-oss', 'beta', 'acme'];
      const n = Math.floor(next() * (run % 500 === 0 ? 3000 : 40));
      const rows = Array.from({ length: n }, () => randomRow(next, owners));
      // The run starts after other bytes in the chunk now and then, and the chunk is reused.
      const chunk = new CopyChunk(16);
      const lead = next() < 0.3 ? Math.floor(next() * 50) : 0;
      chunk.ensure(lead);
      chunk.buf.fill(0x41, 0, lead);
      chunk.len = lead;
      const starts = new RowStarts();
      for (const r of rows) {
        starts.add(chunk.len);
        chunk.ensure(r.length);
        chunk.len += r.copy(chunk.buf, chunk.len);
      }
      const got = rowsInKeyOrder(chunk.buf, starts, chunk.len, 2);
      const want = reference(rows, 2);
      if (!got.equals(want)) expect(got.toString('utf8'), `run ${run}: ${n} rows`).to.equal(want.toString('utf8'));
    }
  });

  it('one owner: plain key order, equal keys in arrival order', () => {
    const rows = [
      'acme-oss\tb2\tone\n',
      'acme-oss\ta\ttwo\n',
      'acme-oss\tb10\tthree\n',
      'acme-oss\ta\tfour\n',
      'acme-oss\tb1\tfive\n',
    ];
    const chunk = new CopyChunk(8);
    const starts = new RowStarts();
    for (const r of rows) {
      starts.add(chunk.len);
      chunk.ensure(r.length);
      chunk.len += chunk.buf.write(r, chunk.len);
    }
    expect(rowsInKeyOrder(chunk.buf, starts, chunk.len, 2).toString()).to.equal(
      'acme-oss\ta\ttwo\nacme-oss\ta\tfour\nacme-oss\tb1\tfive\nacme-oss\tb10\tthree\nacme-oss\tb2\tone\n',
    );
  });

  it('no row, one row: handed on as they are', () => {
    const chunk = new CopyChunk(64);
    const starts = new RowStarts();
    expect(rowsInKeyOrder(chunk.buf, starts, 0, 2).length).to.equal(0);
    starts.add(0);
    chunk.len = chunk.buf.write('acme-oss\tz\n', 0);
    expect(rowsInKeyOrder(chunk.buf, starts, chunk.len, 2).toString()).to.equal('acme-oss\tz\n');
  });

  it('binary COPY rows (copy-binary.ts), 500 random runs: the same rows, byte for byte, ordered by the id, equal ids in arrival order', () => {
    const next = rng(2121);
    const enc = new BinaryEncoder('events', ['owner', 'id', 'n'], ['text', 'text', 'bigint']);
    const ids = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcd\\u00e9', 'é', '😀', 'zz', 'a\\tb', 'a\\n'];
    for (let run = 0; run < 500; run++) {
      const chunk = new CopyChunk(16);
      const starts = new RowStarts();
      // A run need not start at the buffer's start.
      chunk.len = Math.floor(next() * 5);
      const rows: { id: Buffer; bytes: Buffer; i: number }[] = [];
      const n = Math.floor(next() * 60);
      for (let i = 0; i < n; i++) {
        const id = next() < 0.5 ? ids[Math.floor(next() * ids.length)]! : Math.floor(next() * 1e6).toString(16);
        const at = chunk.len;
        starts.add(at);
        const json = Buffer.from(`{"owner":"acme-oss","id":"${id}","n":${i}}`);
        expect(enc.encodeJson(json, json.length, chunk)).to.equal(true);
        const idText = JSON.parse(`"${id}"`) as string;
        rows.push({ id: Buffer.from(idText), bytes: Buffer.from(chunk.buf.subarray(at, chunk.len)), i });
      }
      rows.sort((a, b) => Buffer.compare(a.id, b.id) || a.i - b.i);
      const got = rowsInKeyOrder(chunk.buf, starts, chunk.len, 2, true);
      expect(got.equals(Buffer.concat(rows.map((r) => r.bytes))), `run ${run}`).to.equal(true);
    }
  });
});
