// An empty 200 must not move an Airbyte `read`'s state past the window (records lost for
// good), and `check` must prove that the export answered, not that something answered 2xx: a proxy's
// sign-in page, an empty 200, a 204 or a JSON error with 200 must not pass for "the token
// is valid" (Airbyte would then schedule syncs that cannot work).
import { expect } from 'chai';

import type { FaultSpec } from '../../sim/index.js';
import { eventsBookmark } from '../helpers/bookmarks.js';
import { airbyteOutput } from '../helpers/output.js';
import { expectSameRecords, runCheckedInProcess, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { writeJson } from '../helpers/tap.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('Airbyte: only an export answer passes check or moves read state', function () {
  this.timeout(60_000);
  // check asks for yesterday by the real clock, so the simulator runs on the real clock too.
  const suite = useSimulator(
    { seed: 3, token: TOKEN, dataStart: day(-20), dataEnd: day(-1), eventsPerDay: 20, companies: 3 },
    {},
  );

  async function check(): Promise<{ status: string; message: string; lastLine: string }> {
    const run = airbyteOutput(await runCheckedInProcess(['check', '--config', suite.config()], {}, suite.sim));
    expect(run.code, `check exits 0 whatever the answer\n${run.stderr}`).to.equal(0);
    const statuses = run.ofType('CONNECTION_STATUS');
    expect(statuses).to.have.length(1);
    const last = run.logs.at(-1)!;
    return { ...statuses[0]!.connectionStatus, lastLine: `${last.level} ${last.message}` };
  }

  it('SUCCEEDED when the aggregates export answers (the control case)', async () => {
    const r = await check();
    expect(r.status, r.message).to.equal('SUCCEEDED');
    expect(suite.sim.requests.map((q) => q.status)).to.deep.equal([200]);
  });

  const cases: { name: string; fault: FaultSpec; requests: number; message: RegExp }[] = [
    {
      name: 'a proxy sign-in page (HTML 200)',
      fault: { kind: 'html-page', endpoint: 'aggregates', times: 10 },
      requests: 1,
      message:
        /^check \(aggregates \S+, by-total\): the server answered an HTML page \(title "Sign in - Corporate Web Gateway"\) with Content-Type "text\/html; charset=utf-8" instead of an NDJSON export\. A proxy, captive portal or sign-in page/,
    },
    {
      name: 'an empty 200',
      fault: { kind: 'empty-200', endpoint: 'aggregates', times: 10 },
      requests: 3,
      message:
        /^check \(aggregates \S+, by-total\): giving up after 3 attempts .*Scarf answered 200 with an empty body and no Content-Type: .*The server at http:\/\/127\.0\.0\.1:\d+ answered, but not with a Scarf export, so the token is not proven valid: check the base_url setting and any proxy/,
    },
    {
      name: 'a 204',
      fault: { kind: '204', endpoint: 'aggregates', times: 10 },
      requests: 3,
      message: /Scarf answered HTTP 204 No Content instead of 200 with an NDJSON export.*so the token is not proven valid/,
    },
    {
      name: 'a JSON error with 200',
      fault: { kind: 'json-on-csv', endpoint: 'aggregates', times: 10 },
      requests: 3,
      message:
        /the server answered a JSON error .*Scarf said: "Export failed, please try again later".*so the token is not proven valid/,
    },
  ];
  for (const c of cases) {
    it(`FAILED on ${c.name}, saying what answered`, async () => {
      suite.sim.setFaults([c.fault]);
      const r = await check();
      expect(r.status).to.equal('FAILED');
      expect(r.message).to.match(c.message);
      expect(r.lastLine).to.equal(`ERROR check failed: ${r.message}`);
      expect(suite.sim.requests.length).to.equal(c.requests);
    });
  }

  it('read: an empty 200 for window 2 (every retry too) keeps the events state at window 2; window 1 only; exit 1', async () => {
    const discover = await runCheckedInProcess(['discover', '--config', suite.config()], {}, suite.sim);
    const stream = discover.messages.find((m) => m.type === 'CATALOG')!.catalog.streams.find((x: any) => x.name === 'events');
    const catalog = {
      streams: [
        {
          stream,
          sync_mode: 'incremental',
          cursor_field: stream.default_cursor_field,
          destination_sync_mode: 'append_dedup',
          primary_key: stream.source_defined_primary_key,
        },
      ],
    };
    const [d1, d2, d3] = [day(-4), day(-3), day(-2)];
    suite.sim.setFaults([{ kind: 'empty-200', endpoint: 'events', nth: 2, times: 3 }]);
    suite.sim.resetRequests();
    const cfg = suite.config({ start_date: d1, end_date: d3, events_window_days: 1, max_concurrent_requests: 1, max_retries: 2 });
    const run = airbyteOutput(
      await runCheckedInProcess(
        ['read', '--config', cfg, '--catalog', writeJson(suite.dir, 'configured.json', catalog)],
        {},
        suite.sim,
      ),
    );
    expect(run.code, run.stderr).to.equal(1);
    expectSameRecords(run.records('events'), suite.sim.truth.events({ start: d1, end: d1 }), 'id', 'events window 1');
    expect(run.bookmark('events')).to.deep.equal(eventsBookmark(`${d2}T00:00:00.000000Z`, d1));
    expect(run.errors.join('\n')).to.match(
      new RegExp(`window ${d2}\\.\\.${d2}: giving up after 3 attempts .*Scarf answered 200 with an empty body`),
    );
    expect(suite.sim.requests.filter((r) => r.fault).length).to.equal(3);
  });
});
