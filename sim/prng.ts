// Every value the simulator produces is derived from a hash of (seed, day, stream, slot…),
// so any day can be regenerated on its own, in any order, without keeping state.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Order-sensitive 32-bit hash of numbers and strings (murmur3-style mixing). */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (typeof p === 'number') {
      // Split into two 32-bit halves so day numbers and large integers both mix fully.
      const lo = p >>> 0;
      const hi = Math.floor(p / 4294967296) >>> 0;
      h = fmix32(h ^ Math.imul(lo, 0xcc9e2d51));
      h = fmix32(h ^ Math.imul(hi ^ 0x5bd1e995, 0x1b873593));
    } else {
      // UTF-16 code units: cheaper than encoding, and just as deterministic.
      for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193);
      h = fmix32(h ^ p.length ^ 0x27d4eb2f);
    }
  }
  return fmix32(h);
}

/** mulberry32: small, fast and good enough for test data. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  static of(...parts: (number | string)[]): Rng {
    return new Rng(hash32(...parts));
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(arr: readonly T[]): T {
    return arr[this.int(arr.length)]!;
  }
  /** Picks by relative weights given as [value, weight] pairs. */
  weighted<T>(pairs: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let r = this.next() * total;
    for (const [v, w] of pairs) {
      r -= w;
      if (r < 0) return v;
    }
    return pairs[pairs.length - 1]![0];
  }
  shuffle<T>(arr: T[]): T[] {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = arr[i]!;
      arr[i] = arr[j]!;
      arr[j] = t;
    }
    return arr;
  }
}

const HEX = '0123456789abcdef';

/** The low `width` hex digits of n. */
export function hex(n: number, width: number): string {
  let s = '';
  for (let i = width - 1; i >= 0; i--) s += HEX[(n >>> (i * 4)) & 15];
  return s;
}
