// Bookmarks and the settings behind them, end to end against the simulator: a bookmark past
// the sync's start is brought back to it (it would stall the stream forever), a change of
// the settings that decide which rows a bookmark covers makes the tap read what the new
// settings imply (a new aggregates breakdown alone from start_date, a dropped package_query
// or an earlier start_date from start_date), state from the previous version keeps working,
// and the bookmark of a stream this version does not know is kept as it is.
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { clearOfMidnightUtc, utcDay } from '../helpers/clock.js';
import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, expectSameRecords, streamRecords } from '../helpers/reliability.js';
import { lastState, type TapRun, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

// The tap's signpost is the real clock, so the simulator's data ends yesterday, real time; the
// dates are computed once the suite is clear of midnight (test/helpers/clock.ts).
const day = utcDay;
let START: string;
const FUTURE = '2099-01-01T00:00:00.000000Z';

type Rec = Record<string, any>;

describe('state: future bookmarks, settings changes, old and unknown bookmarks (end to end)', function () {
  this.timeout(120_000);
  let sim: ScarfSimulator;
  let dir: string;
  let TODAY: string;

  const config = (extra: Record<string, unknown> = {}) =>
    writeJson(dir, `config-${Math.random().toString(36).slice(2)}.json`, {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: START,
      events_window_days: 7,
      aggregates_window_days: 7,
      aggregates_lookback_days: 7,
      lookback_days: 1,
      // These tests read the aggregates requests a bookmark leads to; the counts' own request
      // (verify_counts, test/reliability/counts.test.ts) would be one more in that list.
      verify_counts: false,
      ...extra,
    });
  const catalog = (streams: string[]) => writeJson(dir, `cat-${streams.join('-')}.json`, catalogFor(streams));
  const stateFile = (value: unknown) => writeJson(dir, `state-${Math.random().toString(36).slice(2)}.json`, value);
  const singer = (args: string[]) => runInProcess(args);

  /** The aggregates requests of the last run: [start, end, breakdowns asked]. */
  const aggregateRequests = () =>
    sim.requests
      .filter((r) => r.endpoint === 'aggregates')
      .map((r) => [r.query.start_date![0], r.query.end_date![0], [...(r.query.breakdown ?? [])].sort()]);
  const eventRequests = () =>
    sim.requests.filter((r) => r.endpoint === 'events').map((r) => [r.query.start_date![0], r.query.end_date![0]]);
  const signpostOf = (run: TapRun) => /\(signpost (\S+)\)/.exec(run.stderr)![1]!;

  /** Every bookmark value of every STATE message, with where it is. */
  function bookmarkValues(state: Rec): [string, string][] {
    const out: [string, string][] = [];
    for (const [stream, bm] of Object.entries<Rec>(state.bookmarks ?? {})) {
      if (!['events', 'aggregates', 'company_rollup', 'company_events'].includes(stream)) continue;
      if (bm.replication_key_value) out.push([stream, bm.replication_key_value]);
      for (const [b, v] of Object.entries<string>(bm.breakdowns ?? {})) out.push([`${stream}.${b}`, v]);
      for (const p of bm.partitions ?? [])
        if (p.replication_key_value) out.push([`${stream} ${p.context.company_domain}`, p.replication_key_value]);
    }
    return out;
  }

  before(async function () {
    // This file runs in well under 3 minutes; its dates must not straddle midnight.
    this.timeout(300_000);
    await clearOfMidnightUtc(3);
    START = day(-20);
    TODAY = day(0);
    sim = new ScarfSimulator({
      seed: 17,
      token: TOKEN,
      dataStart: day(-40),
      dataEnd: day(-1),
      now: new Date(),
      eventsPerDay: 12,
      companies: 5,
      lateRate: 0,
    });
    await sim.start();
    dir = tmpDir('tap-scarf-state-settings-');
  });
  after(async () => sim?.stop());
  beforeEach(() => {
    sim.clearFaults();
    sim.resetRequests();
  });

  describe('a bookmark past the signpost', () => {
    const futureState = () => ({
      bookmarks: {
        events: { replication_key: 'time', replication_key_value: FUTURE },
        aggregates: { replication_key: 'date', replication_key_value: '2099-01-01' },
        company_rollup: { replication_key: 'last_seen', replication_key_value: FUTURE },
        company_events: {
          partitions: sim
            .companyDomains()
            .map((d) => ({ context: { company_domain: d }, replication_key: 'time', replication_key_value: FUTURE })),
        },
        // Not a stream of this version: kept as it is, never validated.
        retired_stream: { replication_key_value: 'not a date', cursor: [1, 2] },
      },
      kept_from_another_version: { x: 1 },
    });

    it('Singer: is brought back to the signpost with a warning naming stream and value; the streams re-read from there minus their lookback; no STATE goes past it', async () => {
      const given = futureState();
      const run = await singer(['--config', config(), '--state', stateFile(given)]);
      expect(run.code, run.stderr).to.equal(0);
      const signpost = signpostOf(run);
      expect(run.stderr).to.include(`stream 'events' bookmark ${FUTURE} is later than this sync's start (${signpost})`);
      expect(run.stderr).to.include(`stream 'aggregates' bookmark 2099-01-01 is later than this sync's start (${signpost})`);
      expect(run.stderr).to.include(`stream 'company_rollup' bookmark ${FUTURE} is later than this sync's start (${signpost})`);
      // Partitions written without an owner are the owner's before the bookmarks are checked (src/streams/state/owners.ts).
      for (const d of sim.companyDomains())
        expect(run.stderr).to.include(
          `stream 'company_events' bookmark of {"owner":"acme-oss","company_domain":"${d}"} ${FUTURE} is later`,
        );

      // events: from the signpost's day minus lookback_days (1).
      expect(eventRequests()).to.deep.equal([[day(-1), TODAY]]);
      expectSameRecords(streamRecords(run, 'events'), sim.truth.events({ start: day(-1), end: TODAY }), 'id', 'events');
      // aggregates: from the signpost's day minus aggregates_lookback_days (7).
      expect(aggregateRequests()).to.deep.equal([
        [day(-7), day(-1), ['by-total']],
        [TODAY, TODAY, ['by-total']],
      ]);
      expectSameRecords(
        streamRecords(run, 'aggregates'),
        sim.truth.aggregates({ start: day(-7), end: TODAY, rollup: 'daily', breakdowns: ['by-total'] }),
        'row_key',
        'aggregates',
      );
      // company_rollup: the impossible bookmark is dropped, so the whole snapshot is emitted.
      expectSameRecords(streamRecords(run, 'company_rollup'), sim.truth.companyRollup(), 'company_domain', 'company_rollup');
      // company_events: every company active since the signpost's day minus 1 is asked again.
      const asked = sim.requests.filter((r) => r.endpoint === 'company-events').map((r) => r.domain!);
      expect(asked.length).to.be.greaterThan(0);
      expect(sim.truth.activeDomains({ start: day(-1), end: TODAY }).every((d) => asked.includes(d))).to.equal(true);
      expectSameRecords(
        streamRecords(run, 'company_events'),
        asked.flatMap((d) => sim.truth.companyEvents(d, { start: day(-1), end: TODAY })),
        'id',
        'company_events',
      );

      const states = run.messages.filter((m) => m.type === 'STATE').map((m) => m.value);
      expect(states.length).to.be.greaterThan(0);
      for (const st of states)
        for (const [where, v] of bookmarkValues(st))
          expect(v.length === 10 ? v <= signpost.slice(0, 10) : v <= signpost, `STATE ${where} = ${v}`).to.equal(true);
      const final = lastState(run)!;
      expect(final.bookmarks.retired_stream).to.deep.equal(given.bookmarks.retired_stream);
      expect(final.kept_from_another_version).to.deep.equal({ x: 1 });
    });

    it('Airbyte: the same, per stream state; an unknown stream in the state array does not fail the read', async () => {
      const given = futureState();
      const state = Object.entries(given.bookmarks).map(([name, stream_state]) => ({
        type: 'STREAM',
        stream: { stream_descriptor: { name }, stream_state },
      }));
      const cat = writeJson(dir, 'configured.json', {
        streams: ['events', 'aggregates'].map((name) => ({
          stream: { name, json_schema: {}, supported_sync_modes: ['full_refresh', 'incremental'] },
          sync_mode: 'incremental',
          destination_sync_mode: 'append_dedup',
        })),
      });
      const run = await runInProcess(['read', '--config', config(), '--catalog', cat, '--state', stateFile(state)]);
      expect(run.code, run.stdout.slice(-2000)).to.equal(0);
      const logs = run.messages.filter((m) => m.type === 'LOG').map((m) => m.log.message as string);
      const signpost = /\(signpost (\S+)\)/.exec(logs.join('\n'))![1]!;
      expect(logs.some((l) => l.includes(`stream 'events' bookmark ${FUTURE} is later than this sync's start`))).to.equal(true);
      const recs = (stream: string) =>
        run.messages.filter((m) => m.type === 'RECORD' && m.record.stream === stream).map((m) => m.record.data);
      expect(eventRequests()).to.deep.equal([[day(-1), TODAY]]);
      expectSameRecords(recs('events'), sim.truth.events({ start: day(-1), end: TODAY }), 'id', 'events');
      expectSameRecords(
        recs('aggregates'),
        sim.truth.aggregates({ start: day(-7), end: TODAY, rollup: 'daily', breakdowns: ['by-total'] }),
        'row_key',
        'aggregates',
      );
      const states = run.messages.filter((m) => m.type === 'STATE').map((m) => m.state.stream);
      for (const s of states) {
        for (const [where, v] of bookmarkValues({ bookmarks: { [s.stream_descriptor.name]: s.stream_state } }))
          expect(v.length === 10 ? v <= signpost.slice(0, 10) : v <= signpost, `STATE ${where} = ${v}`).to.equal(true);
      }
    });
  });

  describe('when the settings change', () => {
    it('a breakdown added is read alone from start_date while the others continue from their bookmark; one removed keeps its bookmark for when it comes back', async () => {
      const first = await singer([
        '--config',
        config({ aggregates_breakdowns: ['by-total'] }),
        '--catalog',
        catalog(['aggregates']),
      ]);
      expect(first.code, first.stderr).to.equal(0);
      const state1 = lastState(first)!;
      expect(state1.bookmarks.aggregates).to.deep.equal({
        replication_key: 'date',
        replication_key_value: TODAY,
        breakdowns: { 'by-total': TODAY },
        settings: { start_date: START, package_query: null, rollup: 'daily' },
        // The owner the bookmark belongs to (docs/state.md "Owners").
        owner: 'acme-oss',
      });

      sim.resetRequests();
      const second = await singer([
        '--config',
        config({ aggregates_breakdowns: ['by-total', 'by-country'] }),
        '--catalog',
        catalog(['aggregates']),
        '--state',
        stateFile(state1),
      ]);
      expect(second.code, second.stderr).to.equal(0);
      expect(second.stderr).to.include(
        `aggregates: breakdown(s) by-country added since the last sync: reading them from start_date ${START} while by-total continue from their bookmark.`,
      );
      // Windows from start_date; by-total joins at the window holding its resume day (today − 7).
      expect(aggregateRequests()).to.deep.equal([
        [START, day(-14), ['by-country']],
        [day(-13), day(-7), ['by-country', 'by-total']],
        [day(-6), TODAY, ['by-country', 'by-total']],
      ]);
      expectSameRecords(
        streamRecords(second, 'aggregates'),
        [
          ...sim.truth.aggregates({ start: START, end: TODAY, rollup: 'daily', breakdowns: ['by-country'] }),
          ...sim.truth.aggregates({ start: day(-13), end: TODAY, rollup: 'daily', breakdowns: ['by-total'] }),
        ],
        'row_key',
        'aggregates',
      );
      const state2 = lastState(second)!;
      expect(state2.bookmarks.aggregates).to.deep.equal({
        replication_key: 'date',
        replication_key_value: TODAY,
        breakdowns: { 'by-total': TODAY, 'by-country': TODAY },
        settings: { start_date: START, package_query: null, rollup: 'daily' },
        // The owner the bookmark belongs to (docs/state.md "Owners").
        owner: 'acme-oss',
      });

      sim.resetRequests();
      const third = await singer([
        '--config',
        config({ aggregates_breakdowns: ['by-country'] }),
        '--catalog',
        catalog(['aggregates']),
        '--state',
        stateFile(state2),
      ]);
      expect(third.code, third.stderr).to.equal(0);
      expect(aggregateRequests()).to.deep.equal([
        [day(-7), day(-1), ['by-country']],
        [TODAY, TODAY, ['by-country']],
      ]);
      // by-total is no longer asked for, but keeps its bookmark...
      const state3 = lastState(third)!;
      expect(state3.bookmarks.aggregates.breakdowns).to.deep.equal({ 'by-total': TODAY, 'by-country': TODAY });

      // ...so added back, it resumes from it (which covers the time it was away), not from start_date.
      sim.resetRequests();
      const fourth = await singer([
        '--config',
        config({ aggregates_breakdowns: ['by-country', 'by-total'] }),
        '--catalog',
        catalog(['aggregates']),
        '--state',
        stateFile(state3),
      ]);
      expect(fourth.code, fourth.stderr).to.equal(0);
      expect(aggregateRequests()).to.deep.equal([
        [day(-7), day(-1), ['by-country', 'by-total']],
        [TODAY, TODAY, ['by-country', 'by-total']],
      ]);
    });

    it('Airbyte: a breakdown added is backfilled the same way from the per-stream state', async () => {
      const cat = writeJson(dir, 'configured-agg.json', {
        streams: [
          {
            stream: { name: 'aggregates', json_schema: {}, supported_sync_modes: ['full_refresh', 'incremental'] },
            sync_mode: 'incremental',
            destination_sync_mode: 'append_dedup',
          },
        ],
      });
      const first = await runInProcess(['read', '--config', config({ aggregates_breakdowns: ['by-total'] }), '--catalog', cat]);
      expect(first.code, first.stdout.slice(-2000)).to.equal(0);
      const state = first.messages.filter((m) => m.type === 'STATE').at(-1)!.state;
      sim.resetRequests();
      const second = await runInProcess([
        'read',
        '--config',
        config({ aggregates_breakdowns: ['by-total', 'by-country'] }),
        '--catalog',
        cat,
        '--state',
        stateFile([state]),
      ]);
      expect(second.code, second.stdout.slice(-2000)).to.equal(0);
      expect(aggregateRequests()).to.deep.equal([
        [START, day(-14), ['by-country']],
        [day(-13), day(-7), ['by-country', 'by-total']],
        [day(-6), TODAY, ['by-country', 'by-total']],
      ]);
      const recs = second.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.data);
      expectSameRecords(
        recs,
        [
          ...sim.truth.aggregates({ start: START, end: TODAY, rollup: 'daily', breakdowns: ['by-country'] }),
          ...sim.truth.aggregates({ start: day(-13), end: TODAY, rollup: 'daily', breakdowns: ['by-total'] }),
        ],
        'row_key',
        'aggregates',
      );
      const last = second.messages.filter((m) => m.type === 'STATE').at(-1)!.state.stream.stream_state;
      expect(last.breakdowns).to.deep.equal({ 'by-total': TODAY, 'by-country': TODAY });
    });

    it('dropping package_query re-reads events and aggregates from start_date, with a warning', async () => {
      const pkg = sim.truth.events({ start: START, end: TODAY }).find((r) => r.package)!.package as string;
      const first = await singer(['--config', config({ package_query: pkg }), '--catalog', catalog(['events', 'aggregates'])]);
      expect(first.code, first.stderr).to.equal(0);
      expectSameRecords(
        streamRecords(first, 'events'),
        sim.truth.events({ start: START, end: TODAY, query: pkg }),
        'id',
        'events',
      );
      const state1 = lastState(first)!;
      expect(state1.bookmarks.events.settings).to.deep.equal({ start_date: START, package_query: pkg });

      sim.resetRequests();
      const second = await singer([
        '--config',
        config(),
        '--catalog',
        catalog(['events', 'aggregates']),
        '--state',
        stateFile(state1),
      ]);
      expect(second.code, second.stderr).to.equal(0);
      expect(second.stderr).to.include(
        `events: package_query ${JSON.stringify(pkg)} → (not set) since its bookmark was written, so the bookmark does not cover what the settings now ask for: reading events again from start_date ${START}.`,
      );
      expect(eventRequests()).to.deep.equal([
        [START, day(-14)],
        [day(-13), day(-7)],
        [day(-6), TODAY],
      ]);
      expect(sim.requests.filter((r) => r.endpoint === 'events').every((r) => r.query.query === undefined)).to.equal(true);
      expectSameRecords(streamRecords(second, 'events'), sim.truth.events({ start: START, end: TODAY }), 'id', 'events');
      expect(aggregateRequests().map((r) => r[0])).to.deep.equal([START, day(-13), day(-6)]);
      expectSameRecords(
        streamRecords(second, 'aggregates'),
        sim.truth.aggregates({ start: START, end: TODAY, rollup: 'daily', breakdowns: ['by-total'] }),
        'row_key',
        'aggregates',
      );
      expect(lastState(second)!.bookmarks.events.settings).to.deep.equal({ start_date: START, package_query: null });
    });

    it('an earlier start_date re-reads from it; a later one does not', async () => {
      const later = day(-6);
      const first = await singer(['--config', config({ start_date: later }), '--catalog', catalog(['events'])]);
      expect(first.code, first.stderr).to.equal(0);
      const state1 = lastState(first)!;
      sim.resetRequests();
      const second = await singer([
        '--config',
        config({ start_date: START }),
        '--catalog',
        catalog(['events']),
        '--state',
        stateFile(state1),
      ]);
      expect(second.code, second.stderr).to.equal(0);
      expect(second.stderr).to.include(`events: start_date earlier than the state covers (${later} → ${START})`);
      expect(eventRequests()[0]).to.deep.equal([START, day(-14)]);
      expectSameRecords(streamRecords(second, 'events'), sim.truth.events({ start: START, end: TODAY }), 'id', 'events');
      const state2 = lastState(second)!;
      expect(state2.bookmarks.events.settings.start_date).to.equal(START);

      // Narrowing again (a later start_date) needs no re-read: the bookmark still rules.
      sim.resetRequests();
      const third = await singer([
        '--config',
        config({ start_date: later }),
        '--catalog',
        catalog(['events']),
        '--state',
        stateFile(state2),
      ]);
      expect(third.code, third.stderr).to.equal(0);
      expect(eventRequests()).to.deep.equal([[day(-1), TODAY]]);
      expect(lastState(third)!.bookmarks.events.settings.start_date).to.equal(START);
    });

    it('state of the previous version (no settings recorded) is taken as made with the current settings, said once per stream', async () => {
      const old = {
        bookmarks: {
          events: { replication_key: 'time', replication_key_value: `${day(-3)}T00:00:00.000000Z` },
          aggregates: { replication_key: 'date', replication_key_value: day(-3) },
        },
      };
      const run = await singer([
        '--config',
        config({ aggregates_breakdowns: ['by-total', 'by-country'] }),
        '--catalog',
        catalog(['events', 'aggregates']),
        '--state',
        stateFile(old),
      ]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr.match(/State of 'events' does not record the settings/g)).to.have.length(1);
      expect(run.stderr.match(/State of 'aggregates' does not record the settings/g)).to.have.length(1);
      expect(eventRequests()).to.deep.equal([[day(-4), TODAY]]);
      // Both breakdowns resume from the one old bookmark minus the lookback (7 days).
      expect(aggregateRequests()[0]).to.deep.equal([day(-10), day(-4), ['by-country', 'by-total']]);
      expectSameRecords(
        streamRecords(run, 'aggregates'),
        sim.truth.aggregates({ start: day(-10), end: TODAY, rollup: 'daily', breakdowns: ['by-total', 'by-country'] }),
        'row_key',
        'aggregates',
      );
      const final = lastState(run)!;
      expect(final.bookmarks.aggregates.breakdowns).to.deep.equal({ 'by-total': TODAY, 'by-country': TODAY });
      expect(final.bookmarks.events.settings).to.deep.equal({ start_date: START, package_query: null });
    });
  });
});
