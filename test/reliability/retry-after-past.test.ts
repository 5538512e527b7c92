// End to end: a 429/503 whose Retry-After is an HTTP-date already past is retried after the
// computed backoff (exponential, full jitter), not at once.
import { expect } from 'chai';

import {
  catalogFor,
  expectNoRepeats,
  expectSameRecords,
  runCheckedInProcess,
  streamRecords,
  TOKEN,
} from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { writeJson } from '../helpers/tap.js';

const START = '2026-10-01';
const END = '2026-10-02';

describe('reliability: Retry-After as an HTTP-date in the past (Singer, end to end)', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    {
      seed: 5,
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 20,
    },
    { start_date: START, end_date: END, events_window_days: 1, max_concurrent_requests: 1 },
    'tap-scarf-retry-after-past-',
  );

  for (const kind of ['429', '503'] as const) {
    it(`${kind} with Retry-After an hour ago → backoff waits (base 200 ms: within 0.2, 0.4, 0.8 s, not all zero); truth, no record twice`, async () => {
      const past = new Date(Date.now() - 3_600_000).toUTCString();
      suite.sim.setFaults([{ kind, endpoint: 'events', nth: 1, times: 3, retryAfter: past }]);
      const run = await runCheckedInProcess(
        ['--config', suite.config(), '--catalog', writeJson(suite.dir, 'cat-events.json', catalogFor(['events']))],
        { env: { TAP_SCARF_RETRY_BASE_MS: '200' } },
        suite.sim,
      );
      expect(run.code, run.stderr).to.equal(0);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines[lines.length - 1]).to.match(/^INFO .*events: \d+ records/);
      expectSameRecords(streamRecords(run, 'events'), suite.sim.truth.events({ start: START, end: END }), 'id', 'events');
      expectNoRepeats(run, 'events');
      expect(suite.sim.requests.filter((r) => r.endpoint === 'events')).to.have.length(2 + 3);
      const waits = lines
        .filter((l) => /attempt \d failed/.test(l))
        .map((l) => {
          expect(l).to.match(
            new RegExp(`^WARNING events ${START}\\.\\.${START}: attempt \\d failed \\(HTTP ${kind}\\); retry \\d of 8 in `),
          );
          return Number(/in (\d+\.\d{3}) s$/.exec(l)![1]);
        });
      expect(waits).to.have.length(3);
      waits.forEach((w, i) => expect(w, `retry ${i + 1}: full-jitter backoff`).to.be.within(0, 0.2 * 2 ** i));
      // A zero wait on each of three retries has odds below 1e-7 with backoff; it is certain when the past date counts as "now".
      expect(
        waits.some((w) => w > 0),
        `waits ${waits.join(', ')}`,
      ).to.equal(true);
    });
  }
});
