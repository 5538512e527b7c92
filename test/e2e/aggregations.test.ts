// The aggregations stream (Scarf's v3 export) end to end against the simulator's ground truth:
// a backfill longer than a year (366-day windows, exclusive end, no day lost or read twice at
// either edge), periods aligned to the rollup, the owner's case, the incremental sync from
// state with its rewrite window picking up a revised period, a server answering a narrower
// window than asked, v3's errors, and both protocols.
import { expect } from 'chai';

import type { RequestLogEntry } from '../../sim/index.js';
import { aggregationsRecord } from '../helpers/aggregations.js';
import { runInProcess } from '../helpers/in-process.js';
import { protocolProblems } from '../helpers/protocol.js';
import { configuredCatalogFor, expectSameRecords } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, records, runTap, type TapRun, writeJson } from '../helpers/tap.js';

const OWNER = 'Acme-OSS'; // the simulator's owner in its display case: v3 takes only this spelling
const DATA_START = '2025-01-06';
const NOW = new Date('2026-03-15T12:00:00Z');
const TODAY = '2026-03-15';

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
const daysBetween = (a: string, b: string) =>
  Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);

const aggRequests = (log: RequestLogEntry[]) => log.filter((r) => r.endpoint === 'aggregations');
const asked = (r: RequestLogEntry) => ({ start: r.query.start_date![0]!, end: r.query.end_date![0]! });

describe('aggregations (v3) end to end', function () {
  this.timeout(300_000);
  const suite = useSimulator(
    { seed: 11, owner: OWNER, dataStart: DATA_START, now: NOW, eventsPerDay: 4, companies: 12, duplicateRate: 0 },
    { owner: OWNER, start_date: DATA_START, end_date: TODAY },
  );
  const catalog = () =>
    writeJson(suite.dir, 'cat-aggregations.json', {
      streams: [
        {
          tap_stream_id: 'aggregations',
          stream: 'aggregations',
          schema: {},
          metadata: [{ breadcrumb: [], metadata: { selected: true } }],
        },
      ],
    });
  /** The truth for the given v3 windows (each within 366 days), in the tap's record shape. */
  const truth = (windows: [string, string][], q: Record<string, string> = {}) =>
    windows.flatMap(([start, end]) =>
      suite.sim.truth.aggregations({ start_date: start, end_date: end, ...q }).map((row) => aggregationsRecord(row, OWNER)),
    );
  const sync = async (cfg: string, ...more: string[]): Promise<TapRun> => {
    const run = await runInProcess(['--config', cfg, '--catalog', catalog(), ...more]);
    expect(run.badLines).to.deep.equal([]);
    return run;
  };

  it('a backfill longer than a year: 366-day windows with exclusive ends, every row once, equal to the truth however the range is split', async () => {
    const run = await sync(suite.config());
    expect(run.code, run.stderr).to.equal(0);
    const reqs = aggRequests(suite.sim.requests);
    // 2025-01-06..2026-03-15 inclusive is 434 days: a first window of exactly 366, then the rest up to today, end exclusive.
    expect(reqs.map(asked)).to.deep.equal([
      { start: DATA_START, end: '2026-01-07' },
      { start: '2026-01-07', end: '2026-03-16' },
    ]);
    expect(daysBetween(DATA_START, '2026-01-07')).to.equal(366);
    // The owner goes to v3 exactly as configured (v3 is case-sensitive), and every request was answered.
    expect(reqs.every((r) => r.path === `/v3/insights/${OWNER}/aggregations/export`)).to.equal(true);
    expect(reqs.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(reqs[0]!.query).to.include.keys('rollup', 'breakdown_set');
    expect(reqs[0]!.query.breakdown_set).to.deep.equal(['by-total']);

    const got = records(run, 'aggregations');
    expect(new Set(got.map((r) => r.row_key)).size, 'one record per key').to.equal(got.length);
    expect(got.every((r) => r.owner === 'acme-oss')).to.equal(true);
    // Daily rows do not depend on where a range is cut: the truth read with other cuts is the same set.
    expectSameRecords(
      got,
      truth([
        [DATA_START, '2025-09-01'],
        ['2025-09-01', '2026-03-16'],
      ]),
      'row_key',
      'aggregations',
    );
    expect(got.map((r) => r.date).sort()[0]).to.equal(DATA_START);
    expect(
      got.some((r) => r.date === TODAY),
      'today, the last day of the range, is read',
    ).to.equal(true);
    expect(lastState(run)!.bookmarks.aggregations).to.deep.include({ replication_key: 'date', replication_key_value: TODAY });
    expect(lastState(run)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-total': TODAY });
  });

  it('weekly: windows start on a Monday and end before one, so no week is split; a mid-week start_date reads its whole week', async () => {
    const start = '2025-01-09'; // a Thursday
    const cfg = suite.config({ start_date: start, aggregations_rollup: 'weekly', aggregations_breakdown_sets: [['by-country']] });
    const run = await sync(cfg);
    expect(run.code, run.stderr).to.equal(0);
    const windows = aggRequests(suite.sim.requests).map(asked);
    // 52 whole weeks (364 days) fit in 366 days; the last window ends after today (exclusive).
    expect(windows).to.deep.equal([
      { start: '2025-01-06', end: '2026-01-05' },
      { start: '2026-01-05', end: '2026-03-16' },
    ]);
    for (const w of windows) expect(new Date(`${w.start}T00:00:00Z`).getUTCDay(), w.start).to.equal(1);
    const got = records(run, 'aggregations');
    expect(new Set(got.map((r) => r.row_key)).size).to.equal(got.length);
    expectSameRecords(
      got,
      truth(
        [
          ['2025-01-06', '2025-06-02'],
          ['2025-06-02', '2026-03-16'],
        ],
        { rollup: 'weekly', breakdown_set: 'by-country' },
      ),
      'row_key',
      'weekly aggregations',
    );
    expect(lastState(run)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-country': TODAY });
  });

  it('incremental from state: the rewrite window re-reads whole trailing periods and picks up a revised period', async () => {
    const sets = [['by-total'], ['by-company']];
    const cfg = suite.config({ start_date: '2026-01-01', aggregations_breakdown_sets: sets });
    const first = await sync(cfg);
    expect(first.code, first.stderr).to.equal(0);
    expect(lastState(first)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-total': TODAY, 'by-company': TODAY });
    const before = records(first, 'aggregations');

    // Later that day Scarf attributes 2026-03-01's anonymous events to Globex.
    const later = new Date('2026-03-15T20:00:00Z');
    suite.sim.setOptions({ revisions: [{ at: '2026-03-15T18:00:00Z', day: '2026-03-01', domain: 'globex.com', share: 1 }] });
    suite.sim.setNow(later);
    try {
      suite.sim.resetRequests();
      const state = writeJson(suite.dir, 'state-rewrite.json', lastState(first));
      const second = await sync(cfg, '--state', state);
      expect(second.code, second.stderr).to.equal(0);
      // aggregations_rewrite_days 28 before the bookmark: from 2026-02-15, for each set.
      expect(aggRequests(suite.sim.requests).map((r) => [r.query.breakdown_set![0], asked(r)])).to.deep.equal([
        ['by-total', { start: '2026-02-15', end: '2026-03-16' }],
        ['by-company', { start: '2026-02-15', end: '2026-03-16' }],
      ]);
      const got = records(second, 'aggregations');
      const now = [
        ...truth([['2026-02-15', '2026-03-16']]),
        ...truth([['2026-02-15', '2026-03-16']], { breakdown_set: 'by-company' }),
      ];
      expectSameRecords(got, now, 'row_key', 'the rewrite window');
      const revised = now.filter((r) => r.date === '2026-03-01' && r.company_domain === 'globex.com');
      const old = new Map(before.map((r) => [r.row_key, JSON.stringify(r)]));
      const changed = revised.filter((r) => old.get(r.row_key) !== JSON.stringify(r));
      expect(changed.length, 'the revision changed Globex rows of 2026-03-01 after the first sync').to.be.greaterThan(0);
      // The target, merging by key, ends with the revised counts.
      const merged = new Map([...before, ...got].map((r) => [r.row_key, r]));
      for (const r of revised) expect(merged.get(r.row_key as string)).to.deep.equal(r);
    } finally {
      suite.sim.setOptions({ revisions: [] });
    }
  });

  it('a narrower window than asked (X-Scarf-Effective-*) is reported, and the bookmark goes no further than the days answered', async () => {
    const cfg = suite.config({ start_date: '2026-02-01' });
    suite.sim.setOptions({ aggregationsNarrow: { start: 0, end: 3 } });
    try {
      const run = await sync(cfg);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.include(
        'aggregations by-total 2026-02-01..2026-03-15: Scarf answered 2026-02-01..2026-03-12 (its X-Scarf-Effective-Start-Date/End-Date headers; end shown inclusive), not the whole window asked. The bookmark of by-total moves only to 2026-03-12',
      );
      expect(lastState(run)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-total': '2026-03-12' });
      // The truth of the window asked, as the narrowing server answers it.
      expectSameRecords(records(run, 'aggregations'), truth([['2026-02-01', '2026-03-16']]), 'row_key', 'narrowed');
      expect(records(run, 'aggregations').some((r) => r.date === '2026-03-13')).to.equal(false);

      // Narrowed at the start: the days before are a gap, so the bookmark stays where it was.
      suite.sim.setOptions({ aggregationsNarrow: { start: 2, end: 0 } });
      const state = writeJson(suite.dir, 'state-narrow.json', lastState(run));
      const again = await sync(cfg, '--state', state);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stderr).to.include('The bookmark of by-total stays where it was');
      expect(lastState(again)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-total': '2026-03-12' });
    } finally {
      suite.sim.setOptions({ aggregationsNarrow: { start: 0, end: 0 } });
    }
  });

  it("the owner is sent as configured: a lower-case owner gets v3's 404, told to check its exact spelling", async () => {
    const run = await sync(suite.config({ owner: 'acme-oss', start_date: '2026-03-01' }));
    expect(run.code).to.not.equal(0);
    expect(aggRequests(suite.sim.requests).map((r) => [r.path, r.status])).to.deep.equal([
      ['/v3/insights/acme-oss/aggregations/export', 404],
    ]);
    expect(run.stderr).to.include("Scarf answered 404 on v3: organization 'acme-oss' not found");
    expect(run.stderr).to.include('exact spelling, upper and lower case included');
    expect(run.stderr).to.include('Scarf said: "Organization not found"');
    expect(lastState(run)?.bookmarks?.aggregations?.breakdowns).to.equal(undefined);
  });

  it('config errors: query with ids refused before any request; 422 and the plan refusal are config errors naming the fix', async () => {
    const both = await sync(
      suite.config({ aggregations_query: 'acme*', aggregations_tracking_pixel_ids: ['00000000-0000-4000-8000-000000000000'] }),
    );
    expect(both.code).to.not.equal(0);
    expect(both.stderr).to.include("Settings 'aggregations_query'");
    expect(both.stderr).to.include('cannot be used together');
    expect(suite.sim.requests).to.deep.equal([]);

    suite.sim.setOptions({ aggregationsMaxDays: 100 });
    try {
      const refused = await sync(suite.config());
      expect(refused.code).to.not.equal(0);
      expect(aggRequests(suite.sim.requests)[0]!.status).to.equal(422);
      expect(refused.stderr).to.include("Scarf refused the request's parameters (HTTP 422): check the aggregations_* settings");
      expect(refused.stderr).to.include('Date range cannot exceed 100 days');
    } finally {
      suite.sim.setOptions({ aggregationsMaxDays: 366 });
    }

    suite.sim.resetRequests();
    suite.sim.setOptions({ planIncludesAggregations: false });
    try {
      const plan = await sync(suite.config({ start_date: '2026-03-01' }));
      expect(plan.code).to.not.equal(0);
      expect(aggRequests(suite.sim.requests)).to.have.length(1);
      expect(plan.stderr).to.include('does not include aggregation exports');
      expect(plan.stderr).to.include('leave the aggregations stream out of the catalog');
    } finally {
      suite.sim.setOptions({ planIncludesAggregations: true });
    }
  });

  it('an unknown tracking pixel id answers no rows: warned as a likely typo', async () => {
    const typo = '00000000-0000-4000-8000-000000000000';
    const run = await sync(suite.config({ start_date: '2026-03-01', aggregations_tracking_pixel_ids: [typo] }));
    expect(run.code, run.stderr).to.equal(0);
    expect(records(run, 'aggregations')).to.deep.equal([]);
    expect(aggRequests(suite.sim.requests)[0]!.query.tracking_pixel_id).to.deep.equal([typo]);
    expect(run.stderr).to.include(`aggregations: no rows for aggregations_tracking_pixel_ids '${typo}'`);
    expect(run.stderr).to.include('almost always a typo');
  });

  it('settings changes: a set added is read alone from start_date; a changed rollup or artifact selection re-reads from start_date', async () => {
    const base = { start_date: '2026-01-01' };
    const first = await sync(suite.config(base));
    expect(first.code, first.stderr).to.equal(0);
    const state = writeJson(suite.dir, 'state-settings.json', lastState(first));

    suite.sim.resetRequests();
    const added = await sync(
      suite.config({ ...base, aggregations_breakdown_sets: [['by-total'], ['by-platform']] }),
      '--state',
      state,
    );
    expect(added.code, added.stderr).to.equal(0);
    expect(added.stderr).to.include(
      'breakdown(s) by-platform added since the last sync: reading them from start_date 2026-01-01 while by-total continue from their bookmark',
    );
    expect(aggRequests(suite.sim.requests).map((r) => [r.query.breakdown_set![0], asked(r).start])).to.deep.equal([
      ['by-total', '2026-02-15'],
      ['by-platform', '2026-01-01'],
    ]);
    expectSameRecords(
      records(added, 'aggregations'),
      [...truth([['2026-02-15', '2026-03-16']]), ...truth([['2026-01-01', '2026-03-16']], { breakdown_set: 'by-platform' })],
      'row_key',
      'a set added',
    );

    for (const change of [{ aggregations_rollup: 'monthly' }, { aggregations_query: 'acme*' }]) {
      suite.sim.resetRequests();
      const run = await sync(suite.config({ ...base, ...change }), '--state', state);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.include(
        'since its bookmark was written, so the bookmark does not cover what the settings now ask for: reading aggregations again from start_date 2026-01-01',
      );
      expect(aggRequests(suite.sim.requests).map((r) => asked(r).start)).to.deep.equal(['2026-01-01']);
    }
  });

  it('max_requests_per_sync stops at the budget with the finished sets committed, and the next sync reads only the rest', async () => {
    const sets = [['by-total'], ['by-country']];
    const cfg = suite.config({ start_date: '2025-02-01', aggregations_breakdown_sets: sets, max_concurrent_requests: 1 });
    const first = await sync(
      suite.config({
        start_date: '2025-02-01',
        aggregations_breakdown_sets: sets,
        max_concurrent_requests: 1,
        max_requests_per_sync: 3,
      }),
    );
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stderr).to.include('Stopped after 3 API requests, the max_requests_per_sync setting');
    expect(aggRequests(suite.sim.requests)).to.have.length(3);
    expect(lastState(first)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-total': TODAY, 'by-country': '2026-02-01' });

    suite.sim.resetRequests();
    const state = writeJson(suite.dir, 'state-budget.json', lastState(first));
    const rest = await sync(cfg, '--state', state);
    expect(rest.code, rest.stderr).to.equal(0);
    // by-country from its bookmark (less the rewrite window), by-total only its rewrite window.
    expect(aggRequests(suite.sim.requests).map((r) => [r.query.breakdown_set![0], asked(r)])).to.deep.equal([
      ['by-total', { start: '2026-02-15', end: '2026-03-16' }],
      ['by-country', { start: '2026-01-04', end: '2026-03-16' }],
    ]);
    expect(lastState(rest)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-total': TODAY, 'by-country': TODAY });
  });

  it('faults: a 503 and a body reset mid-way are retried, and every row still arrives exactly once', async () => {
    const cfg = suite.config({ start_date: '2025-06-02', max_concurrent_requests: 1 });
    suite.sim.setFaults([
      { kind: '503', endpoint: 'aggregations', nth: 1 },
      { kind: 'reset-mid-body', endpoint: 'aggregations', nth: 2, afterRows: 40 },
    ]);
    const run = await sync(cfg);
    expect(run.code, run.stderr).to.equal(0);
    // One window (287 days): the 503, the answer cut by the reset, then the whole answer.
    expect(aggRequests(suite.sim.requests).map((r) => [r.status, r.fault ?? null])).to.deep.equal([
      [503, '503'],
      [200, 'reset-mid-body'],
      [200, null],
    ]);
    const got = records(run, 'aggregations');
    expect(new Set(got.map((r) => r.row_key)).size, 'no row emitted twice after the retry').to.equal(got.length);
    expectSameRecords(got, truth([['2025-06-02', '2026-03-16']]), 'row_key', 'aggregations after faults');
    expect(lastState(run)!.bookmarks.aggregations.breakdowns).to.deep.equal({ 'by-total': TODAY });
  });

  it('a malformed line stops the stream (exit 1, window and line named); the set that failed keeps its bookmark', async () => {
    const cfg = suite.config({
      start_date: '2025-02-01',
      max_concurrent_requests: 1,
      aggregations_breakdown_sets: [['by-total'], ['by-country']],
    });
    // The by-country set's second window: by-total finished, by-country's first window committed.
    suite.sim.setFaults([{ kind: 'bad-json-line', endpoint: 'aggregations', nth: 4, afterRows: 3 }]);
    const run = await sync(cfg);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(
      /Stream aggregations, window aggregations by-country 2026-02-02\.\.2026-03-15: NDJSON line 4 is not valid JSON/,
    );
    const bm = lastState(run)!.bookmarks.aggregations;
    expect(bm.breakdowns).to.deep.equal({ 'by-total': TODAY, 'by-country': '2026-02-01' });
    // The stream-wide value is the least of the sets': every set is read up to it.
    expect(bm.replication_key_value).to.equal('2026-02-01');
  });

  it('SIGTERM mid-sync: a complete STATE last, exit 143, and the next sync from it ends with exactly the truth', async () => {
    const sets = [['by-total'], ['by-country'], ['by-client']];
    const cfg = suite.config({ start_date: '2025-02-01', max_concurrent_requests: 1, aggregations_breakdown_sets: sets });
    suite.sim.setOptions({ latencyMs: 150 });
    let run: TapRun;
    try {
      run = await runTap(['--config', cfg, '--catalog', catalog()], {
        killAfterLines: { lines: 1500, signal: 'SIGTERM' },
        env: { TAP_SCARF_STATE_INTERVAL_MS: '0' },
      });
    } finally {
      suite.sim.setOptions({ latencyMs: 0 });
    }
    expect(run.code, run.stderr).to.equal(143);
    expect(run.badLines).to.deep.equal([]);
    expect(run.messages.at(-1)!.type).to.equal('STATE');
    const state = run.messages.at(-1)!.value;
    const done = state.bookmarks?.aggregations?.breakdowns ?? {};
    expect(Object.keys(done).length, 'stopped before the last set finished').to.be.lessThan(3);
    const windows = (q: Record<string, string>) =>
      truth(
        [
          ['2025-02-01', '2026-02-02'],
          ['2026-02-02', '2026-03-16'],
        ],
        q,
      );
    const all = [...windows({}), ...windows({ breakdown_set: 'by-country' }), ...windows({ breakdown_set: 'by-client' })];
    // Every row a set's bookmark covers was emitted before the signal.
    const emitted = new Set(records(run, 'aggregations').map((r) => r.row_key));
    for (const [set, mark] of Object.entries<string>(done))
      for (const r of all.filter((x) => x.breakdown === set && (x.date as string) <= mark))
        expect(emitted.has(r.row_key), `${set} row ${r.row_key as string} covered by the bookmark`).to.equal(true);
    const resumed = await sync(cfg, '--state', writeJson(suite.dir, 'state-sigterm.json', state));
    expect(resumed.code, resumed.stderr).to.equal(0);
    const merged = new Map([...records(run, 'aggregations'), ...records(resumed, 'aggregations')].map((r) => [r.row_key, r]));
    expectSameRecords([...merged.values()], all, 'row_key', 'aggregations after a stop and a resume');
    expect(lastState(resumed)!.bookmarks.aggregations.breakdowns).to.deep.equal({
      'by-total': TODAY,
      'by-country': TODAY,
      'by-client': TODAY,
    });
  });

  it('legacy aggregates: v2 answering no rows for days that have events is said once, pointing to aggregations; with rows, nothing is said', async () => {
    const legacy = writeJson(suite.dir, 'cat-legacy.json', {
      streams: [
        {
          tap_stream_id: 'aggregates',
          stream: 'aggregates',
          schema: {},
          metadata: [{ breadcrumb: [], metadata: { selected: true } }],
        },
      ],
    });
    const cfg = suite.config({ start_date: '2026-03-01' });
    const hint = "aggregates (legacy): Scarf's v2 aggregates export answered no rows for 2026-03-01..2026-03-15.";
    const ok = await runInProcess(['--config', cfg, '--catalog', legacy]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(records(ok, 'aggregates').length).to.be.greaterThan(0);
    expect(ok.stderr).to.not.include('aggregates (legacy)');

    suite.sim.setOptions({ v2Aggregates: 'empty' });
    try {
      // The days do have events: the events export serves them.
      expect(suite.sim.truth.events({ start: '2026-03-01', end: '2026-03-15' }).length).to.be.greaterThan(0);
      const empty = await runInProcess(['--config', cfg, '--catalog', legacy]);
      expect(empty.code, empty.stderr).to.equal(0);
      expect(records(empty, 'aggregates')).to.deep.equal([]);
      expect(empty.stderr.split(hint).length - 1, 'said once').to.equal(1);
      expect(empty.stderr).to.include('select the aggregations stream');
    } finally {
      suite.sim.setOptions({ v2Aggregates: 'rows' });
    }
  });

  it('Airbyte: read emits the same records as valid protocol messages, with the per-set bookmark in its state', async () => {
    const cfg = suite.config({ start_date: '2026-01-01' });
    const cat = writeJson(suite.dir, 'configured-aggregations.json', configuredCatalogFor(['aggregations']));
    const run = await runInProcess(['read', '--config', cfg, '--catalog', cat]);
    expect(run.code, run.stderr).to.equal(0);
    expect(protocolProblems(run.stdout)).to.deep.equal([]);
    const got = run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.data);
    expect(run.messages.filter((m) => m.type === 'RECORD').every((m) => m.record.stream === 'aggregations')).to.equal(true);
    expectSameRecords(got, truth([['2026-01-01', '2026-03-16']]), 'row_key', 'Airbyte aggregations');
    const states = run.messages.filter((m) => m.type === 'STATE').map((m) => m.state);
    expect(states.at(-1).stream.stream_descriptor.name).to.equal('aggregations');
    expect(states.at(-1).stream.stream_state.breakdowns).to.deep.equal({ 'by-total': TODAY });
  });

  it('--plan equals the request log of the sync', async () => {
    const cfg = suite.config({
      start_date: '2025-02-01',
      aggregations_breakdown_sets: [['by-total'], ['by-referer', 'by-company']],
    });
    const planRun = await runInProcess(['--config', cfg, '--catalog', catalog(), '--plan', '--format', 'json']);
    expect(planRun.code, planRun.stderr).to.equal(0);
    const planned = JSON.parse(planRun.stdout.trim());
    expect(suite.sim.requests).to.deep.equal([]);
    const run = await sync(cfg);
    expect(run.code, run.stderr).to.equal(0);
    expect(suite.sim.requests.length).to.equal(planned.total);
    expect(planned.streams).to.deep.equal({ aggregations: 4 });
    expect(aggRequests(suite.sim.requests).map((r) => `${r.query.breakdown_set![0]} ${asked(r).start}`)).to.deep.equal([
      'by-total 2025-02-01',
      `by-total ${addDays('2025-02-01', 366)}`,
      'by-referer,by-company 2025-02-01',
      `by-referer,by-company ${addDays('2025-02-01', 366)}`,
    ]);
  });
});
