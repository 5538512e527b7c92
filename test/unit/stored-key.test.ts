// storedKey is the form a window's de-duplication set holds a key in. It packs canonical
// UUIDs and escapes keys that could look packed; if two distinct keys ever mapped to one
// stored key, the second record would be dropped as a duplicate and lost without a word.
import { randomUUID } from 'node:crypto';

import { expect } from 'chai';

import { KeySet, storedKey } from '../../src/streams/engine/key-set.js';
// Seeded, so a failure names a reproducible key.
import { rng } from '../helpers/rng.js';

/** Unpacks a stored UUID back into its canonical text. */
function unpack(stored: string): string {
  // By UTF-16 unit: two packed units can form a surrogate pair, which a spread would merge.
  let hex = '';
  for (let i = 1; i < stored.length; i++) hex += stored.charCodeAt(i).toString(16).padStart(4, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Keys that stress every branch: UUIDs in several spellings, packed-looking and marker-led text, plain ids. */
function generatedKeys(count: number): string[] {
  const next = rng(9);
  const pick = (s: string) => s[Math.floor(next() * s.length)]!;
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const uuid = randomUUID();
    const packed = storedKey(uuid);
    const at = Math.floor(next() * 36);
    keys.push(
      uuid,
      uuid.toUpperCase(),
      uuid.slice(0, at) + uuid.charAt(at).toUpperCase() + uuid.slice(at + 1),
      // One digit replaced by a non-hex letter, or a dash moved: no longer a UUID.
      uuid.slice(0, at) + (uuid.charAt(at) === '-' ? '0' : pick('ghxz')) + uuid.slice(at + 1),
      `{${uuid}}`,
      uuid.replace(/-/g, ''),
      // The packed form of a UUID, and marker-led variants of it, given as keys themselves.
      packed,
      '\ufffe' + packed,
      '\ufffe' + uuid,
      '\uffff' + uuid.slice(0, 8),
      packed.slice(0, 5),
      // Plain keys of other streams: row_key JSON, domains, numbers, the empty key.
      JSON.stringify(['acme', `2026-10-${String(1 + (i % 28)).padStart(2, '0')}`, i]),
      `company-${i}.example`,
      String(i),
    );
  }
  keys.push('', '\ufffe', '\uffff', '\ufffe\ufffe', '\uffff\uffff', '\ufffe\uffff');
  return keys;
}

describe('storedKey: the de-duplication key form is one-to-one and stable', () => {
  it('packs a canonical lower-case UUID into a U+FFFF marker and its 128 bits, which unpack to the same UUID', () => {
    for (let i = 0; i < 1000; i++) {
      const uuid = randomUUID();
      const stored = storedKey(uuid);
      expect(stored.length, uuid).to.equal(9);
      expect(stored.charCodeAt(0), uuid).to.equal(0xffff);
      expect(unpack(stored), uuid).to.equal(uuid);
    }
    expect(unpack(storedKey('00000000-0000-0000-0000-000000000000'))).to.equal('00000000-0000-0000-0000-000000000000');
    expect(unpack(storedKey('ffffffff-ffff-ffff-ffff-ffffffffffff'))).to.equal('ffffffff-ffff-ffff-ffff-ffffffffffff');
  });

  it('keeps a non-canonical UUID (upper or mixed case, a non-hex digit) as its own text, never packed', () => {
    const uuid = '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';
    for (const key of [uuid.toUpperCase(), '0A1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9', '0g1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9'])
      expect(storedKey(key)).to.equal(key);
    expect(storedKey(uuid)).to.not.equal(storedKey(uuid.toUpperCase()));
  });

  it('puts a U+FFFE in front of a key that starts with U+FFFE or U+FFFF, so only packed UUIDs start with U+FFFF', () => {
    const packed = storedKey('0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9');
    expect(storedKey(packed)).to.equal('\ufffe' + packed);
    expect(storedKey('\ufffe' + packed)).to.equal('\ufffe\ufffe' + packed);
    expect(storedKey('\uffff')).to.equal('\ufffe\uffff');
    expect(storedKey('plain')).to.equal('plain');
  });

  it('maps no two of 14,000 generated distinct keys to the same stored key, and maps each the same way every time', () => {
    const keys = [...new Set(generatedKeys(1000))];
    expect(keys.length).to.be.greaterThan(13_000);
    const from = new Map<string, string>();
    for (const key of keys) {
      const stored = storedKey(key);
      const clash = from.get(stored);
      expect(clash, `${JSON.stringify(key)} and ${JSON.stringify(clash)} share a stored key`).to.equal(undefined);
      from.set(stored, key);
      // Stable: the same text (also as a fresh string, as the parser hands it over) stores alike.
      expect(storedKey(key)).to.equal(stored);
      expect(storedKey(key.split('').join(''))).to.equal(stored);
      // Only a packed UUID starts with the marker.
      if (stored.charCodeAt(0) === 0xffff) expect(unpack(stored)).to.equal(key);
    }
    expect(from.size).to.equal(keys.length);
  });
});

describe('KeySet: the window key set takes each distinct key once, by text or by bytes', () => {
  it('agrees with a Set of the keys themselves on 14,000 generated keys added twice, in any spelling', () => {
    const keys = generatedKeys(1000);
    const reference = new Set<string>();
    const set = new KeySet();
    const next = rng(21);
    for (const key of [...keys, ...keys]) {
      const isNew = !reference.has(key);
      reference.add(key);
      // An ASCII key may come as bytes (the fast path) or as text (the reference path): both one entry.
      const ascii = /^[\x20-\x7e]*$/.test(key);
      const added = ascii && next() < 0.5 ? set.addBytes(Buffer.from(` ${key}!`, 'latin1'), 1, key.length + 1) : set.add(key);
      expect(added, JSON.stringify(key)).to.equal(isNew);
      expect(set.size).to.equal(reference.size);
    }
    // Every key is found again, whichever way it comes the second time.
    for (const key of reference) {
      expect(set.add(key), JSON.stringify(key)).to.equal(false);
      if (/^[\x20-\x7e]*$/.test(key)) expect(set.addBytes(Buffer.from(key, 'latin1'), 0, key.length)).to.equal(false);
    }
    expect(set.storedKeys()).to.deep.equal([...reference].map(storedKey).sort());
  });

  it('keeps 300,000 UUIDs through its growth, the all-zero and all-f UUIDs among them', () => {
    const set = new KeySet();
    const uuids = ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
    for (let i = 0; i < 300_000; i++) uuids.push(randomUUID());
    for (const u of uuids) expect(set.add(u)).to.equal(true);
    expect(set.size).to.equal(uuids.length);
    let again = 0;
    for (const u of uuids) if (!set.addBytes(Buffer.from(u, 'latin1'), 0, 36)) again++;
    expect(again).to.equal(uuids.length);
    expect(set.size).to.equal(uuids.length);
    expect(set.add(uuids[1]!.toUpperCase())).to.equal(true);
  });
});
