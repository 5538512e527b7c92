// The COPY text encoders (test/helpers/copy-text-encoder.ts, the binary encoder's reference): the JSON
// text path (the fast CSV path's records) and the object path must give PostgreSQL the same
// values, for hostile strings too (quotes, backslashes, tabs, line breaks, control characters,
// non-ASCII and astral characters). Checked by decoding the COPY text as PostgreSQL does.
import { expect } from 'chai';

import { DataError } from '../../src/errors.js';
import { CopyChunk, JsonEncoder, ObjectEncoder } from '../helpers/copy-text-encoder.js';
import { hostileString } from '../helpers/hostile.js';
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

/** A record of COLUMNS with hostile strings, nulls, numbers and booleans. */
function hostileRecord(r: () => number): Record<string, unknown> {
  return {
    owner: 'acme-oss',
    id: hostileString(r, 12) || 'id',
    user_agent: r() < 0.2 ? null : hostileString(r, 12),
    origin_latitude: r() < 0.2 ? null : Math.round((r() - 0.5) * 1800000) / 10000,
    dnt: r() < 0.2 ? null : r() < 0.5,
    total: Math.floor(r() * 1e12),
    extra_fields: r() < 0.5 ? null : JSON.stringify({ new_column: hostileString(r, 12) }),
  };
}

/** What PostgreSQL should receive for a value: its text, or null. */
function expected(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

describe('COPY text encoders (load command)', () => {
  it('JSON text (spelt as any writer might, inside a reused buffer) and objects give PostgreSQL the same values, for 3,000 hostile records', () => {
    const r = rng(42);
    const json = new JsonEncoder('events', COLUMNS);
    const obj = new ObjectEncoder('events', COLUMNS);
    // Bytes after the record, as in the fast path's reused buffer: never read.
    const garbage = Buffer.from('"\\u00}\t,"x":1}');
    for (let n = 0; n < 3000; n++) {
      const rec = hostileRecord(r);
      const a = new CopyChunk(64);
      const text = Buffer.from(jsonSpelling(rec, r));
      expect(encodeIn(json, text, garbage, a), text.toString()).to.have.property('ok', true);
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
});
