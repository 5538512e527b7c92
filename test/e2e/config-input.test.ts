// The input files users get slightly wrong, end to end: a state file holding a whole STATE
// message (or, for Airbyte, the other obvious shapes), a byte-order mark, a stream listed
// twice in a catalog, company domains differing only in case or an empty list, a token or
// user agent with a newline, and a start_date decades back (warned about before the Runs
// are spent).
import { expect } from 'chai';

import { catalogFor, expectSameRecords, runCheckedInProcess, streamRecords, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-03';
const SIM_NOW = new Date('2026-10-07T12:00:00Z');
const BOM = '\uFEFF';

describe('config, state and catalog input: the obvious mistakes work or fail clearly (end to end)', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 29,
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: SIM_NOW,
      eventsPerDay: 20,
      companies: 6,
      lateRate: 0,
    },
    { start_date: START, end_date: END, events_window_days: 1, lookback_days: 1 },
    'tap-scarf-config-input-',
  );
  const file = (name: string, value: unknown) => writeJson(suite.dir, `${Math.random().toString(36).slice(2)}-${name}`, value);
  const eventsCatalog = () => file('cat-events.json', catalogFor(['events']));
  const eventDays = () => suite.sim.requests.filter((r) => r.endpoint === 'events').map((r) => r.query.start_date![0]);
  const configured = (names: string[]) => ({
    streams: names.map((name) => ({
      stream: { name, json_schema: {}, supported_sync_modes: ['full_refresh', 'incremental'] },
      sync_mode: 'incremental',
      destination_sync_mode: 'append_dedup',
    })),
  });
  const logsOf = (run: TapRun) =>
    run.messages
      .filter((m) => m.type === 'LOG')
      .map((m) => m.log.message as string)
      .join('\n');

  async function firstSync(): Promise<TapRun> {
    const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', eventsCatalog()], {}, suite.sim);
    expect(run.code, run.stderr).to.equal(0);
    expect(lastState(run)!.bookmarks.events.replication_key_value).to.equal('2026-10-04T00:00:00.000000Z');
    suite.sim.resetRequests();
    return run;
  }

  describe('a state file holding a whole STATE message', () => {
    it('Singer: `tail -1 out.jsonl > state.json` is unwrapped, with a note, and the sync resumes from it', async () => {
      const first = await firstSync();
      const lastLine = first.stdout.trim().split('\n').at(-1)!;
      expect(JSON.parse(lastLine).type).to.equal('STATE');
      const run = await runCheckedInProcess([
        '--config',
        suite.config(),
        '--catalog',
        eventsCatalog(),
        '--state',
        file('state.json', lastLine),
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.match(/State from state file \S+ is a whole Singer STATE message: using its "value"\./);
      // Resumed at bookmark day − lookback_days, not a full re-sync from start_date.
      expect(eventDays()).to.deep.equal(['2026-10-03']);
      expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: '2026-10-03', end: END }), 'id', 'events');
    });

    it('Airbyte: a Singer STATE message, a bare stream state, or an array of either resumes too', async () => {
      const first = await firstSync();
      const value = lastState(first)!;
      const events = value.bookmarks.events;
      const shapes: [string, unknown, RegExp | undefined][] = [
        ['a Singer STATE message', { type: 'STATE', value }, /is a whole Singer STATE message/],
        ['a bare stream state', { stream_descriptor: { name: 'events' }, stream_state: events }, /is a bare stream state/],
        [
          'an array of bare stream states',
          [{ stream_descriptor: { name: 'events' }, stream_state: events }],
          /is a bare stream state/,
        ],
        ['an array of Singer STATE messages', [{ type: 'STATE', value }], /is a whole Singer STATE message/],
        [
          'AirbyteMessages copied from stdout',
          [{ type: 'STATE', state: { type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: events } } }],
          undefined,
        ],
      ];
      for (const [what, state, note] of shapes) {
        suite.sim.resetRequests();
        const run = await runCheckedInProcess([
          'read',
          '--config',
          suite.config(),
          '--catalog',
          file('configured.json', configured(['events'])),
          '--state',
          file('state.json', state),
        ]);
        expect(run.code, `${what}: ${run.stdout.slice(-1500)}`).to.equal(0);
        if (note) expect(logsOf(run), what).to.match(note);
        expect(eventDays(), what).to.deep.equal(['2026-10-03']);
      }
    });

    it('Airbyte: a state that is neither fails clearly, before any request', async () => {
      const run = await runCheckedInProcess([
        'read',
        '--config',
        suite.config(),
        '--catalog',
        file('configured.json', configured(['events'])),
        '--state',
        file('state.json', '"2026-10-01"'),
      ]);
      expect(run.code).to.equal(1);
      expect(logsOf(run)).to.match(/State state file \S+ must be a JSON array of state messages or an object, not string/);
      expect(suite.sim.requests).to.deep.equal([]);
    });
  });

  describe('a UTF-8 byte-order mark', () => {
    it('Singer: config, state and catalog files starting with a BOM are read', async () => {
      const first = await firstSync();
      const config = suite.config();
      const { readFileSync, writeFileSync } = await import('node:fs');
      writeFileSync(config, BOM + readFileSync(config, 'utf8'));
      const catalog = file('cat.json', BOM + JSON.stringify(catalogFor(['events'])));
      const state = file('state.json', BOM + JSON.stringify(lastState(first)));
      const run = await runCheckedInProcess(['--config', config, '--catalog', catalog, '--state', state]);
      expect(run.code, run.stderr).to.equal(0);
      expect(new Set(run.messages.filter((m) => m.type === 'RECORD').map((m) => m.stream))).to.deep.equal(new Set(['events']));
      expect(eventDays()).to.deep.equal(['2026-10-03']);
    });

    it('Airbyte: config, configured catalog and state files starting with a BOM are read', async () => {
      const first = await firstSync();
      const config = suite.config();
      const { readFileSync, writeFileSync } = await import('node:fs');
      writeFileSync(config, BOM + readFileSync(config, 'utf8'));
      const catalog = file('configured.json', BOM + JSON.stringify(configured(['events'])));
      const state = file(
        'state.json',
        BOM +
          JSON.stringify([
            {
              type: 'STREAM',
              stream: { stream_descriptor: { name: 'events' }, stream_state: lastState(first)!.bookmarks.events },
            },
          ]),
      );
      const run = await runCheckedInProcess(['read', '--config', config, '--catalog', catalog, '--state', state]);
      expect(run.code, run.stdout.slice(-1500)).to.equal(0);
      expect(eventDays()).to.deep.equal(['2026-10-03']);
    });
  });

  describe('catalogs and company_domains', () => {
    it('Singer: a stream selected twice syncs once, with a warning', async () => {
      const cat = catalogFor(['events']) as { streams: unknown[] };
      cat.streams.push(cat.streams[0]);
      const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', file('cat.json', cat)], {}, suite.sim);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.match(/stream 'events' is selected twice; syncing it once, as its first selected entry says\./);
      expect(eventDays()).to.deep.equal(['2026-10-01', '2026-10-02', '2026-10-03']);
      expect(run.messages.filter((m) => m.type === 'SCHEMA')).to.have.length(1);
      expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    });

    it('Airbyte: a stream listed twice reads once, with a warning', async () => {
      const cat = configured(['events', 'events']);
      const run = await runCheckedInProcess(
        ['read', '--config', suite.config(), '--catalog', file('configured.json', cat)],
        {},
        suite.sim,
      );
      expect(run.code, run.stdout.slice(-1500)).to.equal(0);
      expect(logsOf(run)).to.match(
        /stream 'events' is listed twice \(streams\[1\]\); using its first entry and ignoring this one\./,
      );
      expect(eventDays()).to.deep.equal(['2026-10-01', '2026-10-02', '2026-10-03']);
    });

    it('company_domains differing only in case are requested once, in lower case, and the log says so', async () => {
      const domain = suite.sim.truth.activeDomains({ start: START, end: END })[0]!;
      const upper = domain.toUpperCase();
      const run = await runCheckedInProcess(
        [
          '--config',
          // The requests of company_events alone are checked (not the counts' request).
          suite.config({ company_domains: [upper, domain], verify_counts: false }),
          '--catalog',
          file('cat.json', catalogFor(['company_events'])),
        ],
        {},
        suite.sim,
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.include(`using '${upper}' as '${domain}' (domains are case-insensitive)`);
      expect(run.stderr).to.include(
        `'${domain}' is the same domain as one listed before (case is ignored); requesting '${domain}' once.`,
      );
      expect(suite.sim.requests.map((r) => [r.endpoint, r.domain])).to.deep.equal([['company-events', domain]]);
      expectSameRecords(
        streamRecords(run, 'company_events'),
        suite.sim.truth.companyEvents(domain, { start: START, end: END }),
        'id',
        'company_events',
      );
    });

    it('company_domains: [] is treated as not set, with a warning saying what that means', async () => {
      const run = await runCheckedInProcess(
        ['--config', suite.config({ company_domains: [] }), '--catalog', file('cat.json', catalogFor(['company_events']))],
        {},
        suite.sim,
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.include("Setting 'company_domains'");
      expect(run.stderr).to.match(
        /is an empty list: treating it as not set, so company_events reads its domains from company_rollup\. To sync no company events, leave company_events out of the catalog\./,
      );
      const asked = suite.sim.requests.filter((r) => r.endpoint === 'company-events').map((r) => r.domain!);
      expect(suite.sim.requests.filter((r) => r.endpoint === 'company-rollup')).to.have.length(1);
      expect([...asked].sort()).to.deep.equal([...suite.sim.truth.activeDomains({ start: START, end: END })].sort());
    });
  });

  describe('control characters in header settings', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'a token with a trailing newline',
        { api_token: `${TOKEN}\n` },
        /Setting 'api_token' \(from config file \S+\) contains a newline at character \d+ of \d+/,
      ],
      [
        'a token with a carriage return inside',
        { api_token: `${TOKEN}\r` },
        /Setting 'api_token' \(from config file \S+\) contains a carriage return/,
      ],
      [
        'a user agent with a header injection',
        { user_agent: 'tap\r\nX-Evil: 1' },
        /Setting 'user_agent' \(from config file \S+\) contains a carriage return at character 4 of 14/,
      ],
      [
        'a user agent with a bell',
        { user_agent: 'tap\u0007' },
        /Setting 'user_agent' \(from config file \S+\) contains a control character at character 4 of 4/,
      ],
    ];
    for (const [what, extra, message] of cases) {
      it(`${what}: refused at config time, naming the setting, without the value; no request`, async () => {
        const run = await runCheckedInProcess(['--config', suite.config(extra)], {}, suite.sim);
        expect(run.code).to.equal(1);
        expect(run.stderr).to.match(message);
        expect(run.stderr).to.include('The value is not shown.');
        expect(run.stderr).not.to.include('X-Evil');
        expect(run.messages.filter((m) => m.type === 'RECORD' || m.type === 'STATE')).to.deep.equal([]);
        expect(suite.sim.requests).to.deep.equal([]);
      });
    }
  });

  describe('a start_date decades back', () => {
    it('warns with the planned number of requests before making any', async () => {
      // A bad token stops the sync at its first request, so the test spends one, not 20,000.
      const days = Math.round((Date.UTC(2026, 9, 3) - Date.UTC(1970, 0, 1)) / 86_400_000) + 1;
      const run = await runCheckedInProcess(
        [
          '--config',
          suite.config({ start_date: '1970-01-01', api_token: 'not-the-token', max_concurrent_requests: 1 }),
          '--catalog',
          eventsCatalog(),
        ],
        {},
        suite.sim,
      );
      expect(run.code).to.equal(1);
      // One request per day, and verify_counts' requests for Scarf's counts, one per 31 days.
      const requests = days + Math.ceil(days / 31);
      const warning = `This sync will make ${requests} API requests (Scarf Runs), by its plan for days 1970-01-01..${END}: events ${requests}.`;
      expect(run.stderr).to.include(warning);
      // Said before the first request's answer.
      expect(run.stderr.indexOf(warning)).to.be.lessThan(run.stderr.indexOf('Scarf rejected the API token'));
      expect(suite.sim.requests).to.have.length(1);
    });

    it('says nothing for a sync of a few requests', async () => {
      const run = await runCheckedInProcess(['--config', suite.config(), '--catalog', eventsCatalog()], {}, suite.sim);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).not.to.include('This sync will make');
      expect(run.stderr).to.match(/^INFO Plan: events \d+: \d+ API requests \(Scarf Runs\)/m);
    });
  });
});
