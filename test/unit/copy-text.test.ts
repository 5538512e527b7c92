// The COPY text encoders (test/helpers/copy-text-encoder.ts, the binary encoder's reference): the JSON
// text path (the fast CSV path's records) and the object path must give PostgreSQL the same
// values, for hostile strings too (quotes, backslashes, tabs, line breaks, control characters,
// non-ASCII and astral characters). Checked by decoding the COPY text as PostgreSQL does.
// JsonEncoder (word at a time) must write what PlainJsonEncoder (byte by byte, the
// reference, test/helpers/plain-json-encoder.ts) writes, byte for byte, and refuse what it refuses.
import { expect } from 'chai';

import { DataError } from '../../src/errors.js';
import { CopyChunk, JsonEncoder, ObjectEncoder } from '../helpers/copy-text-encoder.js';
import { PlainJsonEncoder } from '../helpers/plain-json-encoder.js';
import { rng } from '../helpers/rng.js';

/** COPY text format → fields (null for \N), as PostgreSQL's COPY FROM reads it. */
function decodeLine(line: Buffer): (string | null)[] {
  const fields: (string | null)[] = [];
  let bytes: number[] = [];
  let isNull = false;
  const end = () => {
    fields.push(isNull ? null : Buffer.from(bytes).toString('utf8'));
    bytes = [];
    isNull = false;
  };
  for (let i = 0; i < line.length; i++) {
    const b = line[i]!;
    if (b === 0x09) {
      end();
      continue;
    }
    if (b !== 0x5c) {
      bytes.push(b);
      continue;
    }
    const e = String.fromCharCode(line[++i]!);
    const simple: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c };
    if (e === 'N') isNull = true;
    else if (e in simple) bytes.push(simple[e]!);
    else if (e === 'x') {
      let hex = '';
      while (hex.length < 2 && /[0-9a-fA-F]/.test(String.fromCharCode(line[i + 1]!))) hex += String.fromCharCode(line[++i]!);
      bytes.push(parseInt(hex, 16));
    } else bytes.push(e.charCodeAt(0));
  }
  end();
  return fields;
}

function lines(chunk: CopyChunk): Buffer[] {
  const buf = chunk.take();
  const out: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < buf.length; i++)
    if (buf[i] === 0x0a) {
      out.push(buf.subarray(from, i));
      from = i + 1;
    }
  expect(from, 'every row ends with a line break').to.equal(buf.length);
  return out;
}

const COLUMNS = ['owner', 'id', 'user_agent', 'origin_latitude', 'dnt', 'total', 'extra_fields'];

/**
 * JSON text of a record as any writer might spell it: JSON.stringify's, or with characters
 * written as \uXXXX escapes (control characters as the fast CSV path writes them, non-ASCII,
 * astral pairs, sometimes upper-case hex), and `/` sometimes as `\/`.
 */
function jsonSpelling(rec: Record<string, unknown>, r: () => number): string {
  const str = (v: string) => {
    let out = '"';
    for (const ch of v) {
      const cp = ch.codePointAt(0)!;
      const hex = (n: number) => {
        const h = n.toString(16).padStart(4, '0');
        return '\\u' + (r() < 0.3 ? h.toUpperCase() : h);
      };
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '/' && r() < 0.5) out += '\\/';
      else if (cp < 0x20 || (cp >= 0x7f && r() < 0.3)) {
        if (cp >= 0x10000) {
          const v2 = cp - 0x10000;
          out += hex(0xd800 + (v2 >> 10)) + hex(0xdc00 + (v2 & 0x3ff));
        } else if (cp < 0x20 && r() < 0.5) out += JSON.stringify(ch).slice(1, -1);
        else out += hex(cp);
      } else out += ch;
    }
    return out + '"';
  };
  return (
    '{' +
    Object.entries(rec)
      .map(([k, v]) => `"${k}":${typeof v === 'string' ? str(v) : JSON.stringify(v ?? null)}`)
      .join(',') +
    '}'
  );
}

/** Runs an encoder on `text` inside a reused buffer with other bytes after it, as the fast path hands records over. */
function encodeIn(
  enc: { encode(json: Buffer, end: number, out: CopyChunk): boolean },
  text: Buffer,
  garbage: Buffer,
  chunk: CopyChunk,
): { ok: boolean; bytes: Buffer } | { error: string } {
  const input = Buffer.concat([text, garbage]);
  const before = chunk.len;
  try {
    const ok = enc.encode(input, text.length, chunk);
    if (!ok) expect(chunk.len, 'a refused record leaves the chunk as it was').to.equal(before);
    return { ok, bytes: Buffer.from(chunk.buf.subarray(before, chunk.len)) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function hostileString(r: () => number): string {
  const pieces = [
    'a',
    'Zürich',
    '株式会社',
    '😀',
    '"',
    '\\',
    '\t',
    '\n',
    '\r\n',
    '\u0001',
    '\u001f',
    '\u007f',
    ',',
    '\\N',
    'x'.repeat(30),
    '\u2028',
    '\b',
    '\f',
    '/',
  ];
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
  return s;
}

/** A record of COLUMNS with hostile strings, nulls, numbers and booleans. */
function hostileRecord(r: () => number): Record<string, unknown> {
  return {
    owner: 'acme-oss',
    id: hostileString(r) || 'id',
    user_agent: r() < 0.2 ? null : hostileString(r),
    origin_latitude: r() < 0.2 ? null : Math.round((r() - 0.5) * 1800000) / 10000,
    dnt: r() < 0.2 ? null : r() < 0.5,
    total: Math.floor(r() * 1e12),
    extra_fields: r() < 0.5 ? null : JSON.stringify({ new_column: hostileString(r) }),
  };
}

/** What PostgreSQL should receive for a value: its text, or null. */
function expected(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

describe('COPY text encoders (load command)', () => {
  it('JSON text and objects give PostgreSQL the same values, for 3,000 hostile records', () => {
    const r = rng(42);
    const json = new JsonEncoder('events', COLUMNS);
    const obj = new ObjectEncoder('events', COLUMNS);
    for (let n = 0; n < 3000; n++) {
      const rec = hostileRecord(r);
      const a = new CopyChunk(64);
      const text = Buffer.from(JSON.stringify(rec));
      expect(json.encode(text, text.length, a), JSON.stringify(rec)).to.equal(true);
      const b = new CopyChunk(64);
      obj.encode(rec, b);
      const fromJson = decodeLine(lines(a)[0]!);
      const fromObj = decodeLine(lines(b)[0]!);
      const want = COLUMNS.map((c) => expected(rec[c]));
      // Booleans: the JSON path sends true/false, the object path t/f; PostgreSQL reads both.
      const norm = (f: (string | null)[]) =>
        f.map((v, i) => (COLUMNS[i] === 'dnt' && v !== null ? String(v === 't' || v === 'true') : v));
      expect(norm(fromJson), JSON.stringify(rec)).to.deep.equal(want);
      expect(norm(fromObj), JSON.stringify(rec)).to.deep.equal(want);
    }
  });

  it('JSON text it cannot rewrite exactly is handed back (other key order, a lone surrogate), leaving the chunk as it was', () => {
    const json = new JsonEncoder('events', ['owner', 'id']);
    const chunk = new CopyChunk(64);
    for (const text of [
      '{"id":"1","owner":"a"}',
      '{"owner":"a"}',
      '{"owner":"a","id":"\\ud800"}',
      '{"owner":"a","id":"1","x":2}',
    ]) {
      const b = Buffer.from(text);
      expect(json.encode(b, b.length, chunk), text).to.equal(false);
      expect(chunk.len).to.equal(0);
    }
  });

  it('a NUL character is refused naming the column (PostgreSQL text cannot hold it)', () => {
    const rec = { owner: 'a', id: 'x\u0000y' };
    const text = Buffer.from(JSON.stringify(rec));
    expect(() => new JsonEncoder('events', ['owner', 'id']).encode(text, text.length, new CopyChunk())).to.throw(
      DataError,
      "column 'id'",
    );
    expect(() => new ObjectEncoder('events', ['owner', 'id']).encode(rec, new CopyChunk())).to.throw(DataError, 'U+0000');
  });

  it('JsonEncoder writes the bytes PlainJsonEncoder writes, and refuses and fails alike, for 20,000 random records', () => {
    const r = rng(7);
    const pieces = [
      'Mozilla/5.0 (X11; Linux x86_64)',
      '2026-12-03T12:34:56.123456Z',
      'ab',
      'abc',
      'abcd',
      'Zürich',
      '株式会社',
      '😀',
      '"',
      '\\',
      '\\\\"',
      '\t',
      '\n',
      '\r',
      '\b',
      '\f',
      '\u0001',
      '\u001f',
      '\u007f',
      '\u0080',
      '\u2028',
      '/',
      '\\N',
      ',',
      '}',
      ':',
    ];
    const str = () => {
      let s = '';
      const n = Math.floor(r() * 10);
      for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
      return s;
    };
    const value = (): unknown => {
      const k = r();
      if (k < 0.15) return null;
      if (k < 0.6) return str();
      if (k < 0.7) return r() < 0.5;
      if (k < 0.8) return Math.floor(r() * 1e12) * (r() < 0.5 ? -1 : 1);
      if (k < 0.9) return Math.round((r() - 0.5) * 1e6) / 1e4;
      return JSON.stringify({ k: str() });
    };
    const columnSets = [
      COLUMNS,
      ['a'],
      ['owner', 'id', 'time'],
      Array.from({ length: 30 }, (_, i) => `c${i}_${'x'.repeat(i % 7)}`),
    ];
    const counts = { taken: 0, refused: 0, failed: 0 };
    for (let n = 0; n < 20_000; n++) {
      const columns = columnSets[n % columnSets.length]!;
      const rec: Record<string, unknown> = Object.fromEntries(columns.map((c) => [c, value()]));
      if (r() < 0.03) rec[columns[0]!] = 'x\u0000y'; // a NUL: both fail naming the column
      let text = jsonSpelling(rec, r);
      const shape = r();
      // Shapes both must refuse: a lone surrogate, a key out of order, a missing or extra key, cut short.
      if (shape < 0.02) text = text.replace(/}$/, '') + ',"zz":1}';
      else if (shape < 0.04 && columns.length > 1) text = jsonSpelling(Object.fromEntries(Object.entries(rec).reverse()), r);
      else if (shape < 0.06) text = text.slice(0, Math.floor(r() * text.length));
      else if (shape < 0.08) text = text.replace(/"[^"]*":[^,}]*,?/, '');
      else if (shape < 0.09) text = text.replace(/}$/, '') + ',"zz":"\\ud800"}'.replace(',"zz"', `,"${columns[0]}"`);
      const bytes = Buffer.from(text);
      const garbage = Buffer.from(
        Array.from({ length: Math.floor(r() * 12) }, () => [0x22, 0x5c, 0x7d, 0x2c, 0x61][Math.floor(r() * 5)]!),
      );
      // A chunk that already holds rows and must grow now and then.
      const prefill = Buffer.from('earlier\trow\n'.repeat(Math.floor(r() * 3)));
      const chunk = (size: number) => {
        const c = new CopyChunk(size);
        prefill.copy(c.buf, 0);
        c.len = prefill.length;
        return c;
      };
      const size = 8 + Math.floor(r() * 600);
      const plain = encodeIn(new PlainJsonEncoder('events', columns), bytes, garbage, chunk(size));
      const fast = encodeIn(new JsonEncoder('events', columns), bytes, garbage, chunk(size));
      expect(fast, text).to.deep.equal(plain);
      if ('error' in plain) counts.failed++;
      else if (plain.ok) counts.taken++;
      else counts.refused++;
    }
    // Each kind of outcome was met often enough to mean something.
    expect(counts.taken).to.be.greaterThan(10_000);
    expect(counts.refused).to.be.greaterThan(1_000);
    expect(counts.failed).to.be.greaterThan(200);
  });

  it('JsonEncoder writes the rows of records in a row, each as PlainJsonEncoder does, into one chunk', () => {
    const r = rng(11);
    const fast = new JsonEncoder('events', COLUMNS);
    const plain = new PlainJsonEncoder('events', COLUMNS);
    const a = new CopyChunk(64);
    const b = new CopyChunk(64);
    // One reused input buffer, as the fast path writes each record over the previous one.
    const input = Buffer.alloc(1 << 16);
    for (let n = 0; n < 2000; n++) {
      const rec = hostileRecord(r);
      const end = input.write(jsonSpelling(rec, r));
      expect(fast.encode(input, end, a)).to.equal(plain.encode(input, end, b));
    }
    expect(a.len).to.be.greaterThan(64);
    expect(a.take().equals(b.take())).to.equal(true);
  });
});
