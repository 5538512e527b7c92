// Singer METRIC lines as the Meltano SDK emits them (src/metrics.ts, src/scarf/client.ts):
// record_count during and at the end of a stream, sync_duration per stream,
// http_request_duration tagged with the stream, and --test's cut-short request not "failed".
import { expect } from 'chai';

import { runInProcess } from '../helpers/in-process.js';
import { catalogFor } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { records, type TapRun, writeJson } from '../helpers/tap.js';

const SIM_NOW = new Date('2026-10-07T12:00:00Z');
const START = '2026-10-01';
const END = '2026-10-03';

type Metric = { type: string; metric: string; value: number; tags: Record<string, any> };

function metrics(run: TapRun, name: string): Metric[] {
  return run.stderr
    .split('\n')
    .filter((l) => l.startsWith('INFO METRIC: '))
    .map((l) => JSON.parse(l.slice('INFO METRIC: '.length)) as Metric)
    .filter((m) => m.metric === name);
}

describe('metrics (Singer METRIC lines, as the Meltano SDK emits them)', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    { seed: 4, dataStart: '2026-09-01', dataEnd: '2026-10-31', now: SIM_NOW, eventsPerDay: 20, companies: 6 },
    { start_date: START, end_date: END, events_window_days: 1, max_concurrent_requests: 2 },
    'tap-scarf-metrics-',
  );
  const catalog = (streams: string[]) => writeJson(suite.dir, 'cat.json', catalogFor(streams));

  it('record_count during a stream (each line the records since the last; company_events tagged with the company), sync_duration per stream, http_request_duration with the stream', async () => {
    // Interval 0: a line per record, instead of one a minute.
    const run = await runInProcess(
      ['--config', suite.config(), '--catalog', catalog(['events', 'company_rollup', 'company_events'])],
      {
        env: { TAP_SCARF_METRIC_INTERVAL_MS: '0' },
      },
    );
    expect(run.code, run.stderr.slice(-2000)).to.equal(0);
    const counts = metrics(run, 'record_count');
    for (const stream of ['events', 'company_rollup', 'company_events']) {
      const mine = counts.filter((m) => m.tags.stream === stream);
      const recs = records(run, stream);
      expect(recs.length, stream).to.be.greaterThan(3);
      expect(mine.length, `${stream}: a line per record and the closing one`).to.equal(recs.length + 1);
      expect(
        mine.reduce((n, m) => n + m.value, 0),
        `${stream}: the lines add up to the records`,
      ).to.equal(recs.length);
      expect(mine.at(-1)!.tags, `${stream}: the closing line`).to.deep.equal({ stream });
      if (stream === 'company_events')
        expect(mine.slice(0, -1).map((m) => m.tags.context)).to.deep.equal(
          recs.map((r) => ({ owner: 'acme-oss', company_domain: r.company_domain })),
        );
      else expect(mine.every((m) => m.tags.context === undefined)).to.equal(true);
    }
    const durations = metrics(run, 'sync_duration');
    expect(durations.map((m) => m.tags)).to.deep.equal([
      { stream: 'events', status: 'succeeded' },
      { stream: 'company_rollup', status: 'succeeded' },
      { stream: 'company_events', status: 'succeeded' },
    ]);
    expect(durations.every((m) => m.type === 'timer' && m.value >= 0)).to.equal(true);
    const http = metrics(run, 'http_request_duration');
    expect(http.length).to.equal(suite.sim.requests.length);
    const streamOf: Record<string, string> = {
      events: 'events',
      'company-rollup': 'company_rollup',
      'company-events': 'company_events',
      // Scarf's counts (verify_counts) are read as aggregates rows, and tagged so.
      aggregates: 'aggregates',
    };
    for (const m of http) {
      expect(m.tags.stream, JSON.stringify(m)).to.equal(streamOf[m.tags.endpoint]);
      expect(m.tags.status).to.equal('succeeded');
    }
  });

  it('without the knob a short stream writes one record_count, at its end', async () => {
    const run = await runInProcess(['--config', suite.config(), '--catalog', catalog(['events'])]);
    expect(run.code, run.stderr.slice(-2000)).to.equal(0);
    expect(metrics(run, 'record_count')).to.deep.equal([
      { type: 'counter', metric: 'record_count', value: records(run, 'events').length, tags: { stream: 'events' } },
    ]);
  });

  it('a failing stream: sync_duration says failed, and so does the request that failed', async () => {
    suite.sim.setFaults([{ kind: '500', endpoint: 'events', nth: 2, times: 100 }]);
    const run = await runInProcess([
      '--config',
      suite.config({ max_retries: 1, max_concurrent_requests: 1 }),
      '--catalog',
      catalog(['events']),
    ]);
    expect(run.code).to.equal(1);
    expect(metrics(run, 'sync_duration').map((m) => m.tags)).to.deep.equal([{ stream: 'events', status: 'failed' }]);
    expect(metrics(run, 'http_request_duration').map((m) => [m.tags.http_status_code, m.tags.status])).to.deep.equal([
      [200, 'succeeded'], // Scarf's counts (verify_counts), read before the first window
      [200, 'succeeded'],
      [500, 'failed'],
      [500, 'failed'],
    ]);
  });

  it('--test: the request cut short at the first record is not reported as failed', async () => {
    const run = await runInProcess(['--config', suite.config(), '--catalog', catalog(['events', 'company_events']), '--test']);
    expect(run.code, run.stderr.slice(-2000)).to.equal(0);
    const http = metrics(run, 'http_request_duration');
    expect(http.length).to.be.greaterThan(1);
    expect(http.map((m) => m.tags.status)).to.deep.equal(http.map(() => 'succeeded'));
    expect(metrics(run, 'sync_duration').map((m) => m.tags.status)).to.deep.equal(['succeeded', 'succeeded']);
  });
});
