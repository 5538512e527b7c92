// A run of COPY text rows reordered by their key, for a COPY straight into a keyed table
// (src/destination/postgres/writer.ts). The server inserts each row's key into the primary
// key's index as the row comes; Scarf's event ids are random, so rows in arrival order each
// descend to a leaf of their own, while a run sorted by key walks the index's leaves in order
// (measured: docs/postgres.md "Rows in key order within bounded runs"). Only the order of
// whole rows changes, never their bytes, and a run is bounded (the writer's SORT_BYTES), so
// memory stays flat: no window is held whole.

const TAB = 0x09;
const NL = 0x0a;

/**
 * Where rows start in a chunk of COPY text, appended to as rows are encoded (the chunk's
 * length before each row), and emptied with the chunk.
 */
export class RowStarts {
  starts = new Int32Array(1024);
  rows = 0;

  add(at: number): void {
    if (this.rows === this.starts.length) {
      const next = new Int32Array(this.starts.length * 2);
      next.set(this.starts);
      this.starts = next;
    }
    this.starts[this.rows++] = at;
  }
}

/** Scratch arrays of the radix sort, kept across runs (a run is bounded, so are they). */
let prefixes = new Uint32Array(0);
let prefixesB = new Uint32Array(0);
let orderA = new Int32Array(0);
let orderB = new Int32Array(0);
let keyEnds = new Int32Array(0);
let keyFroms = new Int32Array(0);
const counts = new Int32Array(257);

/**
 * The rows of `buf` (from `rows.starts[0]` to `end`, each ending with a newline), ordered by
 * the first four bytes of their last key field, then by their first `keyColumns` fields as
 * bytes; rows with the same key keep their order. The fields before the last key field (the
 * owner) are the same in every row of a load, so this is key order (under the "C" collation;
 * under another it is only close to the index's order, which costs speed, never
 * correctness). A radix sort of the four bytes, not strings through a comparator, is what
 * keeps this cheap (bench/key-order.ts). Returns a new buffer.
 */
export function rowsInKeyOrder(buf: Buffer, rows: RowStarts, end: number, keyColumns: number, binary = false): Buffer {
  const n = rows.rows;
  const starts = rows.starts;
  const from = n ? starts[0]! : end;
  const out = Buffer.allocUnsafe(end - from);
  if (n < 2) {
    buf.copy(out, 0, from, end);
    return out;
  }
  if (prefixes.length < n) {
    const size = Math.max(n, prefixes.length * 2);
    prefixes = new Uint32Array(size);
    prefixesB = new Uint32Array(size);
    orderA = new Int32Array(size);
    orderB = new Int32Array(size);
    keyEnds = new Int32Array(size);
    keyFroms = new Int32Array(size);
  }
  for (let r = 0; r < n; r++) {
    let e = starts[r]!;
    let tabs = 0;
    let last = e;
    keyFroms[r] = e;
    if (binary) {
      // Binary COPY rows (src/destination/postgres/copy-binary.ts): a field count, then each
      // field's length and bytes; ties compare the last key field's bytes alone (the owner
      // before it is the same in every row).
      e += 2;
      for (let k = 0; k < keyColumns; k++) {
        last = e + 4;
        e = last + Math.max(0, buf.readInt32BE(e));
      }
      keyFroms[r] = last;
    } else
      while (e < end) {
        const b = buf[e];
        if (b === NL) break;
        if (b === TAB) {
          if (++tabs === keyColumns) break;
          last = e + 1;
        }
        e++;
      }
    keyEnds[r] = e;
    // Up to four bytes of the last key field, big-endian, zero-padded (a shorter field sorts first).
    let p = 0;
    for (let k = 0; k < 4; k++) p = (p << 8) | (last + k < e ? buf[last + k]! : 0);
    prefixes[r] = p >>> 0;
    orderA[r] = r;
  }
  // Least significant byte first, stable: four passes of counting by one byte.
  let src = orderA;
  let dst = orderB;
  let ps = prefixes;
  let pd = prefixesB;
  for (let shift = 0; shift < 32; shift += 8) {
    counts.fill(0);
    for (let k = 0; k < n; k++) counts[((ps[k]! >>> shift) & 255) + 1]!++;
    for (let d = 1; d < 257; d++) counts[d]! += counts[d - 1]!;
    for (let k = 0; k < n; k++) {
      const p = ps[k]!;
      const at = counts[(p >>> shift) & 255]!++;
      dst[at] = src[k]!;
      pd[at] = p;
    }
    [src, dst] = [dst, src];
    [ps, pd] = [pd, ps];
  }
  // Rows whose four bytes tie: in order of their whole key (insertion sort: the groups are small).
  for (let k = 1; k < n; k++) {
    const p = ps[k]!;
    if (ps[k - 1] !== p) continue;
    const r = src[k]!;
    let j = k - 1;
    while (j >= 0 && ps[j] === p) {
      const q = src[j]!;
      // Buffer#compare(target, …, source range): the source (row r's key) against the target (row q's).
      if (buf.compare(buf, keyFroms[q]!, keyEnds[q]!, keyFroms[r]!, keyEnds[r]!) >= 0) break;
      src[j + 1] = q;
      j--;
    }
    src[j + 1] = r;
  }
  let o = 0;
  for (let k = 0; k < n; k++) {
    const r = src[k]!;
    o += buf.copy(out, o, starts[r]!, r + 1 < n ? starts[r + 1]! : end);
  }
  return out;
}
