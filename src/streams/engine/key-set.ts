// A window's de-duplication set. It is the only memory a window keeps, and on the fast CSV
// path it is touched once per row, so its entries are small and cost no garbage:
// - Scarf event ids are UUIDs. A canonical lower-case UUID is held as its 128 bits in an
//   open-addressing table of 32-bit words (16 bytes a key, no object, nothing for the
//   collector to trace or promote), filled straight from the CSV bytes on the fast path.
//   Measured on the events bench: a Set of packed strings cost ~0.3 µs a row and a tenth of
//   the run in garbage collection.
// - Any other key is held in a Set in its stored form (storedKey): copied out of the text it
//   came from (a key cut out of a parser's input is, in V8, a view of the whole ~64 KB
//   chunk, and would keep the window's body alive), and escaped so that the mapping from
//   keys to entries is one-to-one (docs/DESIGN.md "Windows, bookmarks, state").

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;

/** Four lower-case hex digits at i as a number, or -1. */
function hex4(s: string, i: number): number {
  let v = 0;
  for (let j = i; j < i + 4; j++) {
    const c = s.charCodeAt(j);
    const d = c < 128 ? HEX[c]! : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

/**
 * The form a key is held in by the key set: a canonical lower-case UUID as its 128 bits in 8
 * UTF-16 units behind a U+FFFF marker; any other key as it is, with a U+FFFE in front if it
 * starts with U+FFFE or U+FFFF, so only a packed UUID starts with U+FFFF: one-to-one.
 */
export function storedKey(key: string): string {
  if (typeof key !== 'string') return key;
  if (
    key.length === 36 &&
    key.charCodeAt(8) === 45 &&
    key.charCodeAt(13) === 45 &&
    key.charCodeAt(18) === 45 &&
    key.charCodeAt(23) === 45
  ) {
    const a = hex4(key, 0);
    const b = hex4(key, 4);
    const c = hex4(key, 9);
    const d = hex4(key, 14);
    const e = hex4(key, 19);
    const f = hex4(key, 24);
    const g = hex4(key, 28);
    const h = hex4(key, 32);
    if ((a | b | c | d | e | f | g | h) >= 0) return String.fromCharCode(0xffff, a, b, c, d, e, f, g, h);
  }
  const first = key.charCodeAt(0);
  if (first === 0xffff || first === 0xfffe) return '\ufffe' + key;
  // Concatenate-then-slice makes V8 copy the text instead of keeping a view of its parent.
  return (' ' + key).slice(1);
}

const EMPTY_SLOTS = 1 << 10;

export class KeySet {
  /** The UUID table: 4 words a slot; `used` marks the filled slots (the all-zero UUID is a key too). */
  private table = new Int32Array(EMPTY_SLOTS * 4);
  private used = new Uint8Array(EMPTY_SLOTS);
  private mask = EMPTY_SLOTS - 1;
  private uuids = 0;
  /** Every key that is not a canonical lower-case UUID, in its stored form. */
  private readonly others = new Set<string>();

  get size(): number {
    return this.uuids + this.others.size;
  }

  /** Adds a key in its stored form (storedKey); true when it was not there yet. */
  addStored(stored: string): boolean {
    if (stored.length === 9 && stored.charCodeAt(0) === 0xffff) {
      const u = (k: number) => stored.charCodeAt(k);
      return this.addWords((u(1) << 16) | u(2), (u(3) << 16) | u(4), (u(5) << 16) | u(6), (u(7) << 16) | u(8));
    }
    const size = this.others.size;
    this.others.add(stored);
    return this.others.size !== size;
  }

  /** Adds a key; true when it was not there yet. */
  add(key: string): boolean {
    return this.addStored(storedKey(key));
  }

  /** Adds the ASCII key b[s, e) (the fast path: no string unless it is not a canonical UUID); true when new. */
  addBytes(b: Buffer, s: number, e: number): boolean {
    if (e - s === 36 && b[s + 8] === 45 && b[s + 13] === 45 && b[s + 18] === 45 && b[s + 23] === 45) {
      const a = hex4b(b, s);
      const c = hex4b(b, s + 4);
      const d = hex4b(b, s + 9);
      const f = hex4b(b, s + 14);
      const g = hex4b(b, s + 19);
      const h = hex4b(b, s + 24);
      const i = hex4b(b, s + 28);
      const j = hex4b(b, s + 32);
      if ((a | c | d | f | g | h | i | j) >= 0) return this.addWords((a << 16) | c, (d << 16) | f, (g << 16) | h, (i << 16) | j);
    }
    return this.addStored(storedKey(b.toString('latin1', s, e)));
  }

  /** The keys in their stored form, sorted (for tests that compare two key sets). */
  storedKeys(): string[] {
    const out = [...this.others];
    for (let slot = 0; slot <= this.mask; slot++) {
      if (!this.used[slot]) continue;
      const t = slot * 4;
      const units = [0xffff];
      for (let k = 0; k < 4; k++) units.push(this.table[t + k]! >>> 16, this.table[t + k]! & 0xffff);
      out.push(String.fromCharCode(...units));
    }
    return out.sort();
  }

  private addWords(w0: number, w1: number, w2: number, w3: number): boolean {
    const table = this.table;
    const used = this.used;
    const mask = this.mask;
    let h = Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca77) ^ Math.imul(w2, 0xc2b2ae3d) ^ Math.imul(w3, 0x27d4eb2f);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    let slot = h & mask;
    for (;;) {
      if (!used[slot]) break;
      const t = slot * 4;
      if (table[t] === w0 && table[t + 1] === w1 && table[t + 2] === w2 && table[t + 3] === w3) return false;
      slot = (slot + 1) & mask;
    }
    const t = slot * 4;
    table[t] = w0;
    table[t + 1] = w1;
    table[t + 2] = w2;
    table[t + 3] = w3;
    used[slot] = 1;
    // At most half full, so a probe ends soon.
    if (++this.uuids * 2 > mask + 1) this.grow();
    return true;
  }

  private grow(): void {
    const oldTable = this.table;
    const oldUsed = this.used;
    // Four times while small (fewer rehashes of a window that will hold ~100k keys), then twice.
    const slots = (this.mask + 1) * (this.mask + 1 < 1 << 16 ? 4 : 2);
    this.table = new Int32Array(slots * 4);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.uuids = 0;
    for (let slot = 0; slot < oldUsed.length; slot++) {
      if (!oldUsed[slot]) continue;
      const t = slot * 4;
      this.addWords(oldTable[t]!, oldTable[t + 1]!, oldTable[t + 2]!, oldTable[t + 3]!);
    }
  }
}

/** Four lower-case hex digits of b at i, or -1. */
function hex4b(b: Buffer, i: number): number {
  let v = 0;
  for (let j = i; j < i + 4; j++) {
    const c = b[j]!;
    const d = c < 128 ? HEX[c]! : -1;
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}
