import { readFileSync } from 'node:fs';

import { expect } from 'chai';

import { DataError } from '../../src/errors.js';
import { toBoolean, toDate, toInteger, toNumber, toTimestamp } from '../../src/scarf/convert.js';
import { compileRowTyper, JsonSchemaObject } from '../../src/scarf/row-typer.js';

/** A stream's schema without `owner`: the tap sets it as a constant, and these tests type what Scarf sends. */
function schema(name: string): JsonSchemaObject {
  const s = JSON.parse(readFileSync(new URL(`../../../schemas/${name}.json`, import.meta.url), 'utf8')) as JsonSchemaObject;
  delete s.properties!.owner;
  s.required = s.required!.filter((k) => k !== 'owner');
  return s;
}

describe('scarf/typing toTimestamp', () => {
  const ok: [string, string][] = [
    ['2026-11-02 13:04:05.123456+00', '2026-11-02T13:04:05.123456Z'],
    ['2026-11-02 13:04:05.123456+00:00', '2026-11-02T13:04:05.123456Z'],
    ['2026-11-02 13:04:05.123456+0000', '2026-11-02T13:04:05.123456Z'],
    ['2026-11-02 13:04:05.123456-00', '2026-11-02T13:04:05.123456Z'],
    ['2026-11-02T13:04:05.123Z', '2026-11-02T13:04:05.123000Z'],
    ['2026-11-02t13:04:05.1z', '2026-11-02T13:04:05.100000Z'],
    ['2026-11-02T13:04:05Z', '2026-11-02T13:04:05.000000Z'],
    ['2026-11-02 13:04:05', '2026-11-02T13:04:05.000000Z'],
    ['2026-11-02 13:04:05.5', '2026-11-02T13:04:05.500000Z'],
    ['2026-11-02 13:04', '2026-11-02T13:04:00.000000Z'],
    ['2026-11-02', '2026-11-02T00:00:00.000000Z'],
    ['2026-11-02T13:04:05.1234567Z', '2026-11-02T13:04:05.1234567Z'],
    ['2026-11-02 13:04:05.123456789+00', '2026-11-02T13:04:05.123456789Z'],
    ['2026-11-02T13:04:05.123456Z', '2026-11-02T13:04:05.123456Z'],
    // offsets converted exactly, fraction untouched
    ['2026-11-02 13:04:05.123456+02', '2026-11-02T11:04:05.123456Z'],
    ['2026-11-02 13:04:05.123456-07', '2026-11-02T20:04:05.123456Z'],
    ['2026-11-02 13:04:05.123456789-07:00', '2026-11-02T20:04:05.123456789Z'],
    ['2026-11-02T13:04:05.000001+0530', '2026-11-02T07:34:05.000001Z'],
    ['2026-11-02 13:04:05+05:45', '2026-11-02T07:19:05.000000Z'],
    // day, month, year and leap-day rollovers
    ['2026-11-02 01:04:05.5+0530', '2026-11-01T19:34:05.500000Z'],
    ['2026-12-31 20:00:00.999999-07', '2027-01-01T03:00:00.999999Z'],
    ['2027-01-01 00:30:00+01', '2026-12-31T23:30:00.000000Z'],
    ['2028-02-28 23:30:00-01:00', '2028-02-29T00:30:00.000000Z'],
    ['2026-03-01 00:15:00+01', '2026-02-28T23:15:00.000000Z'],
    ['2024-03-01 00:15:00+01', '2024-02-29T23:15:00.000000Z'],
    ['0050-01-01 00:00:00+01', '0049-12-31T23:00:00.000000Z'],
  ];
  for (const [input, want] of ok) {
    it(`${input} → ${want}`, () => expect(toTimestamp(input)).to.equal(want));
  }

  it('returns canonical input unchanged', () => {
    const s = '2026-11-02T13:04:05.123456Z';
    expect(toTimestamp(s)).to.equal(s);
  });

  it('agrees with Date on random instants and offsets (whole seconds)', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 2000; i++) {
      const ms = (Math.floor(rnd() * 4e12) * 1000) / 1000; // 1970..2096
      const sec = Math.floor(ms / 1000) * 1000;
      const offMin = Math.floor(rnd() * 28 * 60) - 14 * 60;
      const local = new Date(sec + offMin * 60000).toISOString(); // wall clock at that offset
      const sign = offMin < 0 ? '-' : '+';
      const a = Math.abs(offMin);
      const off = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
      const text = `${local.slice(0, 10)} ${local.slice(11, 19)}.654321${off}`;
      expect(toTimestamp(text)).to.equal(new Date(sec).toISOString().slice(0, 19) + '.654321Z', text);
    }
  });

  const bad = [
    '',
    'yesterday',
    '2026-1-02',
    '2026-13-01',
    '2026-00-10',
    '2026-02-29',
    '2026-04-31',
    '2026-11-02 25:00:00',
    '2026-11-02 13:60:00',
    '2026-11-02 13:04:60',
    '2026-11-02 13:04:05.',
    '2026-11-02 13:04:05.1234567890',
    '2026-11-02 13:04:05+5',
    '2026-11-02 13:04:05+053',
    '2026-11-02 13:04:05+05:3',
    '2026-11-02 13:04:05 +00',
    '2026-11-02 13:04:05+00:00junk',
    '2026-11-02 13:04:05Zjunk',
    '2026-11-02X13:04:05',
    '2026-11-02 13',
    '2026-11-02 13:04:05,123',
    ' 2026-11-02',
    '2026-11-02T13:04:05.123456ZZ',
    '0000-01-01 00:00:00+01',
  ];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      expect(() => toTimestamp(input)).to.throw(/timestamp|year/);
    });
  }

  it('says what was expected', () => {
    expect(() => toTimestamp('nope')).to.throw(
      /invalid timestamp "nope": expected a timestamp such as 2026-11-02 13:04:05\.123456\+00/,
    );
  });
});

describe('scarf/typing toDate, toBoolean, toNumber, toInteger', () => {
  it('dates', () => {
    expect(toDate('2026-11-02')).to.equal('2026-11-02');
    expect(toDate('2024-02-29')).to.equal('2024-02-29');
    expect(toDate('2026-11-02 23:30:00-02')).to.equal('2026-11-03');
    expect(toDate('2026-11-02T13:04:05Z')).to.equal('2026-11-02');
    for (const b of ['2026-02-29', '2026-11-2', '20261102', 'x', '2026-11-02 99'])
      expect(() => toDate(b), b).to.throw(/expected a date/);
  });

  it('booleans: t/true/f/false in any case, nothing else', () => {
    for (const t of ['t', 'true', 'T', 'TRUE', 'True']) expect(toBoolean(t), t).to.equal(true);
    for (const f of ['f', 'false', 'F', 'FALSE', 'False']) expect(toBoolean(f), f).to.equal(false);
    for (const b of ['', '1', '0', 'yes', 'no', 'tru', ' t', 'truee'])
      expect(() => toBoolean(b), b).to.throw(/expected a boolean/);
  });

  it('numbers are strict', () => {
    const ok: [string, number][] = [
      ['42', 42],
      ['-1.5e3', -1500],
      ['0.5', 0.5],
      ['.5', 0.5],
      ['5.', 5],
      ['+3', 3],
      ['1E5', 100000],
      ['37.7749', 37.7749],
      ['-122.4194', -122.4194],
      ['1e-3', 0.001],
    ];
    for (const [s, v] of ok) expect(toNumber(s), s).to.equal(v);
    for (const b of [
      '',
      '12abc',
      'Infinity',
      '-Infinity',
      'NaN',
      '1e999',
      ' 1',
      '1 ',
      '0x10',
      '1e',
      '-',
      '.',
      'e5',
      '1,5',
      '--1',
    ]) {
      expect(() => toNumber(b), b).to.throw(/expected a finite decimal number/);
    }
  });

  it('integers must be integral', () => {
    expect(toInteger('42')).to.equal(42);
    expect(toInteger('-7')).to.equal(-7);
    expect(toInteger('1e3')).to.equal(1000);
    expect(toInteger('3.0')).to.equal(3);
    for (const b of ['1.5', '', 'abc', '1e-1', 'Infinity', '12abc'])
      expect(() => toInteger(b), b).to.throw(/expected an integer/);
  });
});

describe('scarf/typing compileRowTyper', () => {
  const events = schema('events');
  const eventKeys = Object.keys(events.properties!);

  it('types a row by header name: reordered, missing and unknown columns, schema key order', () => {
    const header = ['time', 'id', 'dnt', 'new_col', 'origin_latitude', 'user_agent', 'confidence', 'other_new'];
    const t = compileRowTyper({ stream: 'events', schema: events, header });
    expect(t.unknownColumns).to.deep.equal(['new_col', 'other_new']);
    expect(t.missingColumns).to.include.members(['pixel', 'platform', 'mtc_quota_exceeded', 'type']);
    expect(t.missingColumns).to.not.include('extra_fields');
    const rec = t.typeRow(['2026-11-02 13:04:05.123456+00', 'ev1', 't', 'x,"y"', '37.5', 'curl/8', '', '']);
    expect(Object.keys(rec)).to.deep.equal(eventKeys);
    expect(rec.id).to.equal('ev1');
    expect(rec.time).to.equal('2026-11-02T13:04:05.123456Z');
    expect(rec.dnt).to.equal(true);
    expect(rec.origin_latitude).to.equal(37.5);
    expect(rec.confidence).to.equal(null);
    expect(rec.pixel).to.equal(null);
    expect(rec.user_agent).to.equal('curl/8');
    expect(rec.extra_fields).to.equal('{"new_col":"x,\\"y\\"","other_new":null}');
    expect(JSON.parse(rec.extra_fields as string)).to.deep.equal({ new_col: 'x,"y"', other_new: null });
  });

  it('returns a fresh object per row', () => {
    const t = compileRowTyper({ stream: 'events', schema: events, header: ['id', 'type'] });
    const a = t.typeRow(['a', 'x']);
    const b = t.typeRow(['b', '']);
    expect(a).to.include({ id: 'a', type: 'x' });
    expect(b).to.include({ id: 'b', type: null });
    expect(a.extra_fields).to.equal(null);
  });

  it('sets constants (company_events) in schema order, and keeps a clashing column in extra_fields', () => {
    const ce = schema('company_events');
    const t = compileRowTyper({
      stream: 'company_events',
      schema: ce,
      header: ['id', 'company_domain'],
      constants: { company_domain: 'acme.com' },
    });
    expect(t.unknownColumns).to.deep.equal(['company_domain']);
    const rec = t.typeRow(['e1', 'other.com']);
    expect(Object.keys(rec)).to.deep.equal(Object.keys(ce.properties!));
    expect(rec.company_domain).to.equal('acme.com');
    expect(rec.extra_fields).to.equal('{"company_domain":"other.com"}');
    const t2 = compileRowTyper({
      stream: 'company_events',
      schema: ce,
      header: ['id'],
      constants: { company_domain: 'acme.com' },
    });
    expect(t2.missingColumns).to.not.include('company_domain');
    expect(t2.typeRow(['e2'])).to.include({ id: 'e2', company_domain: 'acme.com', extra_fields: null });
  });

  it('drops unknown columns when the schema has no extra_fields', () => {
    const s: JsonSchemaObject = { properties: { id: { type: 'string' }, n: { type: ['null', 'integer'] } } };
    const t = compileRowTyper({ stream: 's', schema: s, header: ['n', 'zzz', 'id'] });
    expect(t.unknownColumns).to.deep.equal(['zzz']);
    expect(t.typeRow(['7', 'q', 'k'])).to.deep.equal({ id: 'k', n: 7 });
  });

  it('rolls up: integers, dates and date-time first_seen', () => {
    const cr = schema('company_rollup');
    const t = compileRowTyper({
      stream: 'company_rollup',
      schema: cr,
      header: ['company_domain', 'total_events', 'last_seen', 'interest_start_date'],
    });
    expect(t.typeRow(['acme.com', '12', '2026-11-02', '2026-10-01'])).to.include({
      company_domain: 'acme.com',
      total_events: 12,
      last_seen: '2026-11-02T00:00:00.000000Z',
      interest_start_date: '2026-10-01',
    });
  });

  it('throws DataError naming column, value and expectation', () => {
    const t = compileRowTyper({ stream: 'events', schema: events, header: ['id', 'time', 'dnt', 'confidence'] });
    expect(() => t.typeRow(['a', 'soon', 't', '1'])).to.throw(
      DataError,
      /column "time": invalid timestamp "soon": expected a timestamp/,
    );
    expect(() => t.typeRow(['a', '', 'maybe', '1'])).to.throw(
      DataError,
      /column "dnt": invalid boolean "maybe": expected a boolean/,
    );
    expect(() => t.typeRow(['a', '', '', '12abc'])).to.throw(DataError, /column "confidence": invalid number "12abc"/);
    const long = 'x'.repeat(200);
    try {
      t.typeRow(['a', long, '', '']);
      expect.fail('no error');
    } catch (err) {
      expect((err as Error).message).to.contain('"' + 'x'.repeat(80) + '…"');
      expect((err as Error).message).to.not.contain('x'.repeat(81));
    }
  });

  it('rejects a row whose field count differs from the header', () => {
    const t = compileRowTyper({ stream: 'events', schema: events, header: ['id', 'type'] });
    expect(() => t.typeRow(['a'])).to.throw(DataError, /1 fields but the header has 2/);
  });

  it('rejects duplicate header columns', () => {
    expect(() => compileRowTyper({ stream: 'events', schema: events, header: ['id', 'time', 'time'] })).to.throw(
      DataError,
      /"time" twice/,
    );
  });

  it('requires non-nullable properties: missing column and empty value', () => {
    expect(() => compileRowTyper({ stream: 'events', schema: events, header: ['time', 'type'] })).to.throw(
      DataError,
      /no column "id"/,
    );
    const t = compileRowTyper({ stream: 'events', schema: events, header: ['id', 'type'] });
    expect(() => t.typeRow(['', 'x'])).to.throw(DataError, /column "id" is empty/);
    const lax = compileRowTyper({ stream: 'events', schema: events, header: ['type'], requireNonNull: false });
    expect(lax.typeRow(['x']).id).to.equal(null);
  });

  describe('typeObject (NDJSON)', () => {
    const agg = schema('aggregates');
    const rowKey = (r: Record<string, unknown>) =>
      JSON.stringify(
        [
          'date',
          'rollup',
          'breakdown',
          'artifact',
          'company_domain',
          'cloud_provider_domain',
          'country',
          'platform',
          'version',
          'client',
          'variable',
          'value',
          'domain',
        ].map((k) => r[k] ?? null),
      );

    it('types JSON values, computes row_key first, keeps unknown keys', () => {
      const unknown: string[] = [];
      const t = compileRowTyper({
        stream: 'aggregates',
        schema: agg,
        computed: { row_key: rowKey },
        onUnknownKey: (k) => unknown.push(k),
      });
      const rec = t.typeObject({
        total: 5,
        date: '2026-11-02',
        artifact: 'widget',
        rollup: 'daily',
        breakdown: 'by-country',
        country: 'US',
        shiny: { a: 1 },
        total_unique: '3',
      });
      expect(Object.keys(rec)).to.deep.equal(Object.keys(agg.properties!));
      expect(Object.keys(rec)[0]).to.equal('row_key');
      expect(rec).to.include({ total: 5, total_unique: 3, date: '2026-11-02', country: 'US', company_name: null });
      expect(rec.row_key).to.equal('["2026-11-02","daily","by-country","widget",null,null,"US",null,null,null,null,null,null]');
      expect(rec.extra_fields).to.equal('{"shiny":{"a":1}}');
      const rec2 = t.typeObject({
        total: 1,
        date: '2026-11-03',
        artifact: 'w',
        rollup: 'daily',
        breakdown: 'by-total',
        shiny: 2,
      });
      expect(rec2.extra_fields).to.equal('{"shiny":2}');
      expect(rec2.country).to.equal(null);
      expect(unknown).to.deep.equal(['shiny']);
    });

    it('keeps a "__proto__" key as data', () => {
      const t = compileRowTyper({ stream: 'aggregates', schema: agg, computed: { row_key: rowKey } });
      const rec = t.typeObject(
        JSON.parse('{"date":"2026-11-02","artifact":"w","rollup":"daily","breakdown":"by-total","total":1,"__proto__":{"x":1}}'),
      );
      expect(rec.extra_fields).to.equal('{"__proto__":{"x":1}}');
    });

    it('validates integers, dates and types', () => {
      const t = compileRowTyper({ stream: 'aggregates', schema: agg, computed: { row_key: rowKey } });
      const base = { date: '2026-11-02', artifact: 'w', rollup: 'daily', breakdown: 'by-total', total: 1 };
      expect(() => t.typeObject({ ...base, total: 1.5 })).to.throw(DataError, /field "total": invalid integer 1\.5/);
      expect(() => t.typeObject({ ...base, total: true })).to.throw(DataError, /field "total"/);
      expect(() => t.typeObject({ ...base, date: '2026-02-30' })).to.throw(DataError, /field "date": invalid date/);
      expect(() => t.typeObject({ ...base, total: null })).to.throw(DataError, /"total" is empty/);
      expect(t.typeObject({ ...base, date: '2026-11-02T05:00:00+07' }).date).to.equal('2026-11-01');
    });
  });
});
