// A 2xx answer that is not the export asked for — nothing at all, a 204, a JSON error, a
// proxy's HTML page, a body compressed unasked, a row that never ends, a header with an
// unnamed column — must never pass for an empty window: the stream fails with a message
// naming what came, its bookmark stays, and only complete windows' records are emitted.
import { expect } from 'chai';

import type { FaultSpec } from '../../sim/index.js';
import { aggregatesBookmark, eventsBookmark } from '../helpers/bookmarks.js';
import {
  catalogFor,
  expectNoRepeats,
  expectSameRecords,
  runCheckedInProcess,
  streamRecords,
  TOKEN,
} from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { lastState, type TapRun, writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-03';
const SIM_NOW = new Date('2026-10-07T12:00:00Z');
const BREAKDOWNS = ['by-total', 'by-country'];
const EVENTS_DAY2 = eventsBookmark('2026-10-02T00:00:00.000000Z', START);
const AGG_DAY1 = aggregatesBookmark('2026-10-01', START, BREAKDOWNS);

function lastLine(run: TapRun): string {
  const lines = run.stderr.trim().split('\n');
  return lines[lines.length - 1]!;
}

describe('reliability: an answer that is not an export never passes for an empty window', function () {
  this.timeout(90_000);
  const suite = useSimulator(
    { seed: 7, token: TOKEN, dataStart: '2026-09-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 30, companies: 6 },
    {
      start_date: START,
      end_date: END,
      events_window_days: 1,
      aggregates_window_days: 1,
      aggregates_breakdowns: BREAKDOWNS,
      max_concurrent_requests: 1,
      max_retries: 2,
    },
    'tap-scarf-bodies-',
  );

  async function sync(stream: 'events' | 'aggregates', fault: FaultSpec | undefined, env: Record<string, string> = {}) {
    if (fault) suite.sim.setFaults([fault]);
    return runCheckedInProcess(
      ['--config', suite.config(), '--catalog', writeJson(suite.dir, 'cat.json', catalogFor([stream]))],
      { env },
      suite.sim,
    );
  }

  /** Window 1 complete and committed, window 2 failed: only window 1's records, bookmark at window 2's start. */
  function expectStoppedAtWindow2(run: TapRun, stream: 'events' | 'aggregates', message: RegExp): void {
    expect(run.code, run.stderr).to.equal(1);
    expect(run.badLines).to.deep.equal([]);
    expect(lastLine(run)).to.match(new RegExp(`^ERROR 1 of 1 stream\\(s\\) failed: ${stream}: `));
    expect(lastLine(run)).to.match(message);
    const truth =
      stream === 'events'
        ? suite.sim.truth.events({ start: START, end: START })
        : suite.sim.truth.aggregates({ start: START, end: START, rollup: 'daily', breakdowns: BREAKDOWNS });
    expectSameRecords(streamRecords(run, stream), truth, stream === 'events' ? 'id' : 'row_key', `${stream} window 1`);
    expectNoRepeats(run, stream);
    expect(lastState(run)!.bookmarks[stream], 'the failed window keeps its bookmark').to.deep.equal(
      stream === 'events' ? EVENTS_DAY2 : AGG_DAY1,
    );
  }

  const retried: { name: string; stream: 'events' | 'aggregates'; fault: FaultSpec; message: RegExp }[] = [
    {
      name: 'events: 200 with an empty body',
      stream: 'events',
      fault: { kind: 'empty-200', endpoint: 'events', nth: 2, times: 3 },
      message:
        /events 2026-10-02\.\.2026-10-02: giving up after 3 attempts .*last failure: incomplete body: Scarf answered 200 with an empty body \(0 bytes, no Content-Type\): a CSV export always starts with its header row, so this is a failed answer, not an empty window$/,
    },
    {
      name: 'events: 204 No Content',
      stream: 'events',
      fault: { kind: '204', endpoint: 'events', nth: 2, times: 3 },
      message:
        /giving up after 3 attempts .*last failure: incomplete body: Scarf answered HTTP 204 No Content instead of 200 with a CSV export/,
    },
    {
      name: 'aggregates: 200 with an empty body and no NDJSON Content-Type',
      stream: 'aggregates',
      fault: { kind: 'empty-200', endpoint: 'aggregates', nth: 2, times: 3 },
      message:
        /aggregates 2026-10-02\.\.2026-10-02: giving up after 3 attempts .*Scarf answered 200 with an empty body and no Content-Type: an empty NDJSON answer must say it is NDJSON/,
    },
    {
      name: 'aggregates: 204 No Content',
      stream: 'aggregates',
      fault: { kind: '204', endpoint: 'aggregates', nth: 2, times: 3 },
      message: /Scarf answered HTTP 204 No Content instead of 200 with an NDJSON export/,
    },
    {
      name: 'aggregates: a JSON error body with 200',
      stream: 'aggregates',
      fault: { kind: 'json-on-csv', endpoint: 'aggregates', nth: 2, times: 3 },
      message:
        /the server answered a JSON error \(Content-Type "application\/json; charset=utf-8"\) instead of an NDJSON export \(code "export-failed"\): Scarf said: "Export failed, please try again later"$/,
    },
  ];

  for (const c of retried) {
    it(`${c.name} → retried, then the stream fails naming it; window 1's records and bookmark only; exit 1`, async () => {
      const run = await sync(c.stream, c.fault);
      expectStoppedAtWindow2(run, c.stream, c.message);
      // Each wrong answer was a failed attempt: the window was asked 1 + max_retries times.
      expect(suite.sim.requests.filter((r) => r.fault).length).to.equal(3);
      expect(run.stderr).to.match(/attempt 1 failed \(incomplete body: /);
    });
  }

  it('events: one empty 200, then the export → the retry reads the window; every record, bookmark at the end, exit 0', async () => {
    const run = await sync('events', { kind: 'empty-200', endpoint: 'events', nth: 2 });
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.match(
      /WARNING events 2026-10-02\.\.2026-10-02: attempt 1 failed \(incomplete body: Scarf answered 200 with an empty body/,
    );
    expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
    expect(lastState(run)!.bookmarks.events.replication_key_value).to.equal('2026-10-04T00:00:00.000000Z');
  });

  it('legitimately empty days still pass: a header-only CSV and an empty application/x-ndjson answer', async () => {
    const cfg = suite.config({ start_date: '2026-08-20', end_date: '2026-08-21' });
    const run = await runCheckedInProcess(
      ['--config', cfg, '--catalog', writeJson(suite.dir, 'cat.json', catalogFor(['events', 'aggregates']))],
      {},
      suite.sim,
    );
    expect(run.code, run.stderr).to.equal(0);
    expect(streamRecords(run, 'events')).to.deep.equal([]);
    expect(streamRecords(run, 'aggregates')).to.deep.equal([]);
    const state = lastState(run)!;
    expect(state.bookmarks.events.replication_key_value).to.equal('2026-08-22T00:00:00.000000Z');
    expect(state.bookmarks.aggregates.replication_key_value).to.equal('2026-08-21');
  });

  it('events: a JSON error body with 200 → "the server answered JSON", its message redacted, then clipped', async () => {
    const message = `Export failed for token ${TOKEN}: ` + 'x'.repeat(1000);
    const run = await sync('events', { kind: 'json-on-csv', endpoint: 'events', nth: 2, times: 3, message });
    const clipped = `Export failed for token ***: ${'x'.repeat(300 - 'Export failed for token ***: '.length)}…`;
    expectStoppedAtWindow2(
      run,
      'events',
      new RegExp(
        `the server answered JSON \\(Content-Type "application/json; charset=utf-8"\\) instead of a CSV export \\(code "export-failed"\\): Scarf said: "${clipped.replace(/[*]/g, '\\*')}"$`,
      ),
    );
    expect(run.stderr).to.not.match(/malformed quoted field/);
  });

  const unasked: { name: string; stream: 'events' | 'aggregates'; fault: FaultSpec; message: RegExp }[] = [
    {
      name: 'events: a proxy sign-in page (HTML 200)',
      stream: 'events',
      fault: { kind: 'html-page', endpoint: 'events', nth: 2 },
      message:
        /Stream events, window events 2026-10-02\.\.2026-10-02: the server answered an HTML page \(title "Sign in - Corporate Web Gateway"\) with Content-Type "text\/html; charset=utf-8" instead of a CSV export\. A proxy, captive portal or sign-in page is probably between tap-scarf and Scarf/,
    },
    {
      name: 'aggregates: a proxy sign-in page (HTML 200)',
      stream: 'aggregates',
      fault: { kind: 'html-page', endpoint: 'aggregates', nth: 2 },
      message:
        /Stream aggregates, window aggregates 2026-10-02\.\.2026-10-02: the server answered an HTML page \(title "Sign in - Corporate Web Gateway"\) .*instead of an NDJSON export/,
    },
    {
      name: 'events: a gzip body nobody asked for',
      stream: 'events',
      fault: { kind: 'content-encoding', endpoint: 'events', nth: 2, encoding: 'gzip' },
      message:
        /Stream events, window events 2026-10-02\.\.2026-10-02: the answer came with Content-Encoding "gzip", which tap-scarf did not ask for and does not decode\. A proxy or gateway/,
    },
    {
      name: 'aggregates: a brotli body nobody asked for',
      stream: 'aggregates',
      fault: { kind: 'content-encoding', endpoint: 'aggregates', nth: 2, encoding: 'br' },
      message: /Stream aggregates, window aggregates 2026-10-02\.\.2026-10-02: the answer came with Content-Encoding "br"/,
    },
    {
      name: 'events: a row that never ends (default limit, 8 MiB)',
      stream: 'events',
      fault: { kind: 'endless-row', endpoint: 'events', nth: 2, maxBytes: 12 * 1024 * 1024 },
      message:
        /Stream events, window events 2026-10-02\.\.2026-10-02: CSV data row 1 is longer than the row size limit of 8 MiB and has not ended: the body is not a readable export .*TAP_SCARF_MAX_ROW_BYTES$/,
    },
    {
      name: 'events: a header with an unnamed column',
      stream: 'events',
      fault: { kind: 'empty-column-name', endpoint: 'events', nth: 2 },
      message:
        /Stream events, window events 2026-10-02\.\.2026-10-02: events: in the response header, column 3 has an empty name/,
    },
  ];

  for (const c of unasked) {
    it(`${c.name} → not retried, the stream fails naming it; window 1's records and bookmark only; exit 1`, async () => {
      const run = await sync(c.stream, c.fault);
      expectStoppedAtWindow2(run, c.stream, c.message);
      expect(suite.sim.requests.filter((r) => r.fault).length).to.equal(1);
      expect(run.stderr).to.not.match(/attempt \d+ failed/);
      // Nothing binary reached stderr.
      // eslint-disable-next-line no-control-regex -- finding control characters is the point
      expect(run.stderr).to.not.match(/[\u0000-\u0008\u000e-\u001f\ufffd]/);
    });
  }

  it('aggregates: a line that never ends, with the limit lowered by TAP_SCARF_MAX_ROW_BYTES', async () => {
    const run = await sync(
      'aggregates',
      { kind: 'endless-row', endpoint: 'aggregates', nth: 2, maxBytes: 8 * 1024 * 1024 },
      { TAP_SCARF_MAX_ROW_BYTES: String(1024 * 1024) },
    );
    expectStoppedAtWindow2(
      run,
      'aggregates',
      /Stream aggregates, window aggregates 2026-10-02\.\.2026-10-02: NDJSON line 1 is longer than the row size limit of 1 MiB and has not ended/,
    );
    expect(suite.sim.requests.filter((r) => r.fault).length).to.equal(1);
  });

  it('Singer --test: an empty 200 is not "a stream without records in range"', async () => {
    suite.sim.setFaults([{ kind: 'empty-200', endpoint: 'events', times: 100 }]);
    const run = await runCheckedInProcess(
      ['--config', suite.config(), '--catalog', writeJson(suite.dir, 'cat.json', catalogFor(['events'])), '--test'],
      {},
      suite.sim,
    );
    expect(run.code, run.stderr).to.not.equal(0);
    expect(streamRecords(run, 'events')).to.deep.equal([]);
    expect(run.stderr).to.not.match(/no record in the configured date range/);
    expect(lastLine(run)).to.match(/Scarf answered 200 with an empty body/);
  });
});
