// The binary COPY encoder (src/destination/postgres/copy-binary.ts) against the COPY text
// encoders (test/helpers/copy-text-encoder.ts, the reference), on a real server: the same
// records, random and hostile (escapes, \uXXXX, astral characters, nulls, timestamps of every
// fraction length and offset, extreme years, negative, tiny and huge numbers), loaded once
// through COPY text and once through binary COPY, from their JSON text and from their objects,
// must read back identical, column for column, as PostgreSQL prints them.
import { expect } from 'chai';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

import { BINARY_HEADER, BINARY_TRAILER, BinaryEncoder } from '../../src/destination/postgres/copy-binary.js';
import { createTableSql, ident, type PgType, TABLES } from '../../src/destination/postgres/tables.js';
import { DataError } from '../../src/errors.js';
import { CopyChunk, JsonEncoder, ObjectEncoder } from '../helpers/copy-text-encoder.js';
import { hostileString } from '../helpers/hostile.js';
import { testPostgres } from '../helpers/postgres.js';
import { type Rng, rng } from '../helpers/rng.js';

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Timestamps the tap could hand on: 0-9 fraction digits, Z or an offset, extreme years. */
function timestamp(r: Rng): string {
  const y = pick(r, [1, 1000, 1899, 1970, 1999, 2000, 2024, 2026, 2262, 2300, 9999, 1600 + Math.floor(r() * 600)]);
  const mo = 1 + Math.floor(r() * 12);
  const d = 1 + Math.floor(r() * 28);
  const two = (n: number) => String(n).padStart(2, '0');
  let s = `${String(y).padStart(4, '0')}-${two(mo)}-${two(d)}${r() < 0.8 ? 'T' : ' '}${two(Math.floor(r() * 24))}:${two(Math.floor(r() * 60))}:${two(Math.floor(r() * 60))}`;
  const nf = Math.floor(r() * 10);
  // Rounding at the microsecond: a run of nines carries into the second (and the day, the year).
  if (r() < 0.1) s += '.' + '9'.repeat(1 + Math.floor(r() * 9));
  else if (nf) s += '.' + Array.from({ length: nf }, () => Math.floor(r() * 10)).join('');
  return s + pick(r, ['Z', 'Z', 'Z', '+00', '+00:00', '+0530', '-08:00', '+02', '-0000']);
}

/** JSON number texts, as Scarf's values reach the fast path (and a few it never writes). */
function numberText(r: Rng): string {
  if (r() < 0.5) return JSON.stringify(Math.round((r() - 0.5) * 3600000) / 10000);
  return pick(r, [
    '0',
    '-0',
    '0.0',
    '-0.000',
    '1.50',
    '100',
    '10000',
    '-10000.0001',
    '1e5',
    '1E-7',
    '-2.5e+3',
    '1e+21',
    '123456789012345678901234567890.123456789',
    '0.00001234',
    '-0.1',
    '37.7749',
    '-122.4194',
    '5e-324',
    '1.7976931348623157e+308',
    '99999999',
    '0.0001',
  ]);
}

const EVENTS = TABLES.events;

/** One events record as JSON text (escapes of every kind), for key `n`. */
function eventJson(r: Rng, n: number): string {
  const parts: string[] = [];
  for (const c of EVENTS.columns) {
    let v: string;
    if (c.name === 'owner') v = JSON.stringify('acme-oss');
    else if (c.name === 'id') v = JSON.stringify(`${hostileString(r)}#${n}`);
    else if (r() < 0.15) v = 'null';
    else if (c.type === 'timestamptz') v = JSON.stringify(timestamp(r));
    else if (c.type === 'numeric') v = numberText(r);
    else if (c.type === 'boolean') v = r() < 0.5 ? 'true' : 'false';
    else if (c.type === 'jsonb') v = JSON.stringify(JSON.stringify({ new_column: hostileString(r), n: r() < 0.5 ? null : r() }));
    else v = JSON.stringify(hostileString(r));
    parts.push(`${JSON.stringify(c.name)}:${v}`);
  }
  // JSON's other escapes: \/, \u00e9, a surrogate pair, \u escapes of ASCII letters.
  return `{${parts.join(',')}}`
    .replace(/\//g, () => (r() < 0.5 ? '\\/' : '/'))
    .replace(/é/g, () => (r() < 0.5 ? '\\u00e9' : 'é'))
    .replace(/😀/g, () => (r() < 0.5 ? '\\ud83d\\ude00' : '😀'))
    .replace(/Zürich/g, () => (r() < 0.5 ? 'Z\\u00FCrich' : 'Z\\u00fc\\u0072ich'));
}

async function copyInto(c: pg.Client, sql: string, chunks: Buffer[]): Promise<void> {
  const copy = c.query(copyStreams.from(sql));
  await new Promise<void>((resolve, reject) => {
    copy.once('finish', resolve);
    copy.once('error', reject);
    for (const b of chunks) copy.write(b);
    copy.end();
  });
}

/** Every column as PostgreSQL prints it (timestamps, numerics and jsonb in its own text). */
async function tableText(c: pg.Client, table: string, columns: string[], key: string): Promise<(string | null)[][]> {
  const res = await c.query({
    text: `SELECT ${columns.map((n) => `${ident(n)}::text`).join(', ')} FROM ${table} ORDER BY ${key}`,
    rowMode: 'array',
  });
  return res.rows as (string | null)[][];
}

describe('binary COPY against COPY text on a real server (load command)', function () {
  this.timeout(120_000);
  let client: pg.Client;

  before(async () => {
    const server = await testPostgres();
    client = new pg.Client({ connectionString: await server.freshDatabase('copy_binary') });
    await client.connect();
    await client.query(`SET TimeZone = 'UTC'`);
  });
  after(async () => {
    await client?.end();
  });

  it('4,000 hostile events read back identical through text and binary, from JSON text and from objects', async () => {
    const r = rng(2101);
    const names = EVENTS.columns.map((c) => c.name);
    const types = EVENTS.columns.map((c) => c.type);
    const textJson = new JsonEncoder('events', names);
    const textObj = new ObjectEncoder('events', names);
    const bin = new BinaryEncoder('events', names, types);
    const chunks = {
      text_json: new CopyChunk(64),
      text_obj: new CopyChunk(64),
      bin_json: new CopyChunk(64),
      bin_obj: new CopyChunk(64),
    };
    let viaJson = 0;
    for (let n = 0; n < 4000; n++) {
      const json = Buffer.from(eventJson(r, n));
      const rec = JSON.parse(json.toString()) as Record<string, unknown>;
      expect(textJson.encode(json, json.length, chunks.text_json), json.toString()).to.equal(true);
      textObj.encode(rec, chunks.text_obj);
      if (bin.encodeJson(json, json.length, chunks.bin_json)) viaJson++;
      else bin.encode(rec, chunks.bin_json);
      bin.encode(rec, chunks.bin_obj);
    }
    // The hostile strings' escapes all take the fast path (the writer falls back only on other shapes).
    expect(viaJson).to.equal(4000);
    const cols = names.map(ident).join(', ');
    const out: Record<string, (string | null)[][]> = {};
    for (const [name, chunk] of Object.entries(chunks)) {
      await client.query(`CREATE SCHEMA ${name}`);
      await client.query(createTableSql(name, EVENTS));
      const binary = name.startsWith('bin_');
      const body = chunk.take();
      await copyInto(
        client,
        `COPY ${name}.events (${cols}) FROM STDIN${binary ? ' (FORMAT binary)' : ''}`,
        binary ? [BINARY_HEADER, body.subarray(0, 100_000), body.subarray(100_000), BINARY_TRAILER] : [body],
      );
      out[name] = await tableText(client, `${name}.events`, names, 'owner, id');
    }
    expect(out.text_json!.length).to.equal(4000);
    expect(out.bin_json).to.deep.equal(out.text_json);
    expect(out.text_obj!.length).to.equal(4000);
    expect(out.bin_obj).to.deep.equal(out.text_obj);
  });

  it('the other column types (date, bigint, jsonb, numeric, boolean) read back identical from objects', async () => {
    const r = rng(77);
    const spec: { name: string; type: PgType }[] = [
      { name: 'k', type: 'text' },
      { name: 'd', type: 'date' },
      { name: 'n', type: 'bigint' },
      { name: 'x', type: 'numeric' },
      { name: 'b', type: 'boolean' },
      { name: 'j', type: 'jsonb' },
      { name: 't', type: 'timestamptz' },
    ];
    const names = spec.map((c) => c.name);
    const text = new ObjectEncoder('aggregates', names);
    const bin = new BinaryEncoder(
      'aggregates',
      names,
      spec.map((c) => c.type),
    );
    const a = new CopyChunk(64);
    const b = new CopyChunk(64);
    const bigs = [
      0,
      1,
      -1,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 53 - 1,
      -(2 ** 53) + 1,
      4294967296,
      4294967295,
      -4294967296,
      1e15,
      123456789012,
    ];
    for (let n = 0; n < 2000; n++) {
      const two = (v: number) => String(v).padStart(2, '0');
      const rec: Record<string, unknown> = {
        k: `${hostileString(r)}#${n}`,
        d:
          r() < 0.1
            ? null
            : `${String(pick(r, [1, 1999, 2000, 2024, 2026, 9999, 1900 + Math.floor(r() * 200)])).padStart(4, '0')}-${two(1 + Math.floor(r() * 12))}-${two(1 + Math.floor(r() * 28))}`,
        n: r() < 0.1 ? null : r() < 0.5 ? pick(r, bigs) : Math.floor((r() - 0.5) * 2 ** 40),
        x: r() < 0.1 ? null : r() < 0.5 ? (r() - 0.5) * 10 ** Math.floor(r() * 30 - 10) : Math.floor(r() * 1e9),
        b: r() < 0.1 ? null : r() < 0.5,
        j: r() < 0.1 ? null : r() < 0.5 ? JSON.stringify({ a: hostileString(r), b: [1, 2.5, null] }) : { o: hostileString(r) },
        t: r() < 0.1 ? null : timestamp(r),
      };
      text.encode(rec, a);
      bin.encode(rec, b);
    }
    const ddl = (s: string) => `CREATE TABLE ${s} (${spec.map((c) => `${c.name} ${c.type}`).join(', ')}, PRIMARY KEY (k))`;
    await client.query(ddl('public.t_text'));
    await client.query(ddl('public.t_bin'));
    await copyInto(client, `COPY public.t_text FROM STDIN`, [a.take()]);
    await copyInto(client, `COPY public.t_bin FROM STDIN (FORMAT binary)`, [BINARY_HEADER, b.take(), BINARY_TRAILER]);
    const want = await tableText(client, 'public.t_text', names, 'k');
    expect(want.length).to.equal(2000);
    expect(await tableText(client, 'public.t_bin', names, 'k')).to.deep.equal(want);
  });

  it('refuses U+0000 naming the column, and a value not of its type, on both inputs', () => {
    const bin = new BinaryEncoder('events', ['owner', 'id', 'time'], ['text', 'text', 'timestamptz']);
    const nul = Buffer.from('{"owner":"a","id":"x\\u0000y","time":null}');
    expect(() => bin.encodeJson(nul, nul.length, new CopyChunk())).to.throw(DataError, "column 'id'");
    expect(() => bin.encode({ owner: 'a', id: 'x\u0000y', time: null }, new CopyChunk())).to.throw(DataError, "column 'id'");
    const bad = Buffer.from('{"owner":"a","id":"x","time":"yesterday"}');
    const chunk = new CopyChunk(64);
    expect(bin.encodeJson(bad, bad.length, chunk)).to.equal(false);
    expect(chunk.len).to.equal(0);
    expect(() => bin.encode({ owner: 'a', id: 'x', time: 'yesterday' }, chunk)).to.throw(DataError, "column 'time'");
  });
});
