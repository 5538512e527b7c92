// start_date / end_date in the forms Meltano and people write them (a datetime without an
// offset is UTC), and ranges that can hold no data refused before any request.
import { expect } from 'chai';

import { airbyteCatalog } from '../../src/airbyte/catalog.js';
import { checkDateRange, settingDay, validateSettings } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, expectSameRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, records, writeJson } from '../helpers/tap.js';

const SIM_NOW = new Date('2026-10-07T12:00:00Z');

function utcDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

describe('config dates: the forms accepted', () => {
  for (const [text, day] of [
    ['2026-11-30', '2026-11-30'],
    ['2026-11-30T00:00:00', '2026-11-30'], // Meltano: an unquoted YAML datetime
    ['2026-11-30T23:59:59.999999', '2026-11-30'],
    ['2026-11-30 00:00:00', '2026-11-30'], // Python str(datetime)
    ['2026-11-30T00:00', '2026-11-30'],
    ['2026-11-30T00:00:00Z', '2026-11-30'],
    ['2026-11-30T00:00:00+00:00', '2026-11-30'], // Python isoformat() of an aware datetime
    ['2026-11-30T00:00:00+0000', '2026-11-30'],
    ['2026-11-30T00:00:00+01', '2026-11-30'],
    ['2026-11-30T22:00:00-05:00', '2026-11-30'], // the date as written: the time and offset are ignored
  ])
    it(`${text} → day ${day}`, () => {
      expect(settingDay(text!)).to.equal(day);
      const s = validateSettings({ api_token: 't', owner: 'o', start_date: text, end_date: text });
      expect(s.start_date!.slice(0, 10)).to.equal(day);
    });

  for (const text of ['2026-11-31T00:00:00', '2026-11-30T24:00:00', '2026-11-30T10:61', '2026-11-30T00:00:00+25:00'])
    it(`${text} is refused, naming the setting`, () => {
      expect(settingDay(text)).to.equal(undefined);
      expect(() => validateSettings({ api_token: 't', owner: 'o', start_date: text })).to.throw(
        ConfigError,
        /Setting 'start_date'.*(not a calendar date|is not a date)/,
      );
    });

  it('checkDateRange: start after end, or after today, is refused; today and a future end_date are not', () => {
    const none = new Map<string, string>();
    expect(() => checkDateRange({ start_date: '2026-12-01' }, none, '2026-12-01')).not.to.throw();
    expect(() => checkDateRange({ start_date: '2026-11-01', end_date: '2027-01-01' }, none, '2026-12-01')).not.to.throw();
    expect(() => checkDateRange({ start_date: '2026-12-02T00:00:00' }, none, '2026-12-01')).to.throw(
      ConfigError,
      "Setting 'start_date' (2026-12-02) is after today (2026-12-01, UTC): there is no data to export yet. Set start_date to today or an earlier day, or remove it (default: 31 days before today).",
    );
    expect(() => checkDateRange({ start_date: '2026-10-05', end_date: '2026-10-01T00:00:00' }, none, '2026-12-01')).to.throw(
      ConfigError,
      "Setting 'start_date' (2026-10-05) is after 'end_date' (2026-10-01); swap them or remove end_date.",
    );
  });
});

describe('config dates: end to end', function () {
  this.timeout(120_000);
  const suite = useSimulator(
    { seed: 5, dataStart: '2026-08-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 30, companies: 6 },
    {},
  );
  const catalog = () => writeJson(suite.dir, `cat-${Math.random().toString(36).slice(2)}.json`, catalogFor(['events']));
  const configuredCatalog = () => {
    const stream = airbyteCatalog().streams.find((s) => s.name === 'events')!;
    const value = {
      streams: [
        {
          stream,
          sync_mode: 'incremental',
          cursor_field: ['time'],
          destination_sync_mode: 'append_dedup',
          primary_key: stream.source_defined_primary_key,
        },
      ],
    };
    return writeJson(suite.dir, `configured-${Math.random().toString(36).slice(2)}.json`, value);
  };

  it('naive datetimes (Meltano) are UTC days: the requests and the records are those of the days written', async () => {
    const run = await runInProcess([
      '--config',
      suite.config({ start_date: '2026-10-02T00:00:00', end_date: '2026-10-03T00:00:00', events_window_days: 1 }),
      '--catalog',
      catalog(),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    // The two events windows, and verify_counts' request for the counts of the same two days.
    const asked = (endpoint: string) =>
      suite.sim.requests.filter((r) => r.endpoint === endpoint).map((r) => [r.query.start_date![0], r.query.end_date![0]]);
    expect(asked('events')).to.deep.equal([
      ['2026-10-02', '2026-10-02'],
      ['2026-10-03', '2026-10-03'],
    ]);
    expect(asked('aggregates')).to.deep.equal([['2026-10-02', '2026-10-03']]);
    expect(suite.sim.requests).to.have.length(3);
    expectSameRecords(records(run, 'events'), suite.sim.truth.events({ start: '2026-10-02', end: '2026-10-03' }), 'id', 'events');
  });

  const refused: { name: string; config: () => Record<string, unknown>; message: () => RegExp }[] = [
    {
      name: 'start_date tomorrow',
      config: () => ({ start_date: utcDay(1) }),
      message: () =>
        new RegExp(`Setting 'start_date'( \\(from [^)]+\\))? \\(${utcDay(1)}\\) is after today \\(${utcDay(0)}, UTC\\)`),
    },
    {
      name: 'start_date in the future, as a naive datetime',
      config: () => ({ start_date: '2099-01-01T00:00:00' }),
      message: () =>
        /Setting 'start_date' .*\(2099-01-01\) is after today .*Set start_date to today or an earlier day, or remove it/,
    },
    {
      name: 'start_date after end_date',
      config: () => ({ start_date: '2026-10-05T00:00:00', end_date: '2026-10-01' }),
      message: () => /Setting 'start_date' \(2026-10-05\) is after 'end_date' \(2026-10-01\); swap them or remove end_date\./,
    },
  ];
  for (const c of refused) {
    it(`Singer: ${c.name} → exit 1, the message, not one request`, async () => {
      const run = await runInProcess(['--config', suite.config(c.config()), '--catalog', catalog()]);
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(c.message());
      expect(suite.sim.requests).to.deep.equal([]);
    });
    it(`Airbyte read and check: ${c.name} → a config_error naming start_date, not one request`, async () => {
      const read = await runInProcess(['read', '--config', suite.config(c.config()), '--catalog', configuredCatalog()]);
      expect(read.code, read.stderr).to.equal(1);
      const trace = read.messages.filter((m) => m.type === 'TRACE').at(-1)!.trace.error;
      expect(trace.failure_type).to.equal('config_error');
      expect(trace.message).to.match(c.message());
      const check = await runInProcess(['check', '--config', suite.config(c.config())]);
      const status = check.messages.find((m) => m.type === 'CONNECTION_STATUS')!.connectionStatus;
      expect(status.status).to.equal('FAILED');
      expect(status.message).to.match(c.message());
      expect(suite.sim.requests).to.deep.equal([]);
    });
  }

  it('a state past end_date (a finished backfill run again) is a warning, exit 0, no request, the state kept', async () => {
    const state = {
      bookmarks: {
        events: {
          replication_key: 'time',
          replication_key_value: '2026-10-04T00:00:00.000000Z',
          settings: { start_date: '2026-10-01', package_query: null },
        },
      },
    };
    const run = await runInProcess([
      '--config',
      suite.config({ start_date: '2026-10-01', end_date: '2026-10-03', lookback_days: 0 }),
      '--catalog',
      catalog(),
      '--state',
      writeJson(suite.dir, 'state-past-end.json', state),
    ]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.include(
      "WARNING events: the state's bookmark (2026-10-04T00:00:00.000000Z) is past the last day to read (2026-10-03, end_date), so there is nothing to read and no request is made.",
    );
    expect(suite.sim.requests).to.deep.equal([]);
    expect(records(run, 'events')).to.deep.equal([]);
    // Unchanged, now marked with the owner it was taken for (docs/state.md "Owners").
    expect(lastState(run)!.bookmarks.events).to.deep.equal({ ...state.bookmarks.events, owner: 'acme-oss' });
  });
});
