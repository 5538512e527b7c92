// Column names and values from a response are echoed in log lines (unknown columns, bad
// values). A line break or ANSI escape in them must not start a forged log line or recolour
// the terminal: every log message shows control characters as visible escapes (\n, \u001b).
import { expect } from 'chai';

import { FORGED_COLUMN } from '../../sim/index.js';
import { airbyteCatalog } from '../../src/airbyte/catalog.js';
import { escapeControls } from '../../src/log.js';
import { catalogFor, runCheckedInProcess, streamRecords, TOKEN } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { type TapRun, writeJson } from '../helpers/tap.js';

const FORGED = '\n[tap-scarf] INFO forged\x1b[31m';
/** How FORGED_COLUMN reads in a log line. */
const SHOWN = 'x\\n[tap-scarf] INFO forged\\u001b[31m';

/** No line of `text` was forged, and no raw control character other than line breaks is in it. */
function expectNothingForged(text: string, what: string): void {
  const lines = text.split('\n');
  expect(
    lines.filter((l) => l.startsWith('[tap-scarf] INFO forged')),
    `${what}: a forged log line`,
  ).to.deep.equal([]);
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  expect(/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text), `${what}: a raw control character`).to.equal(false);
}

describe('logs: control characters and ANSI escapes from a response are shown escaped', function () {
  this.timeout(60_000);
  const suite = useSimulator(
    { seed: 31, token: TOKEN, dataStart: '2026-09-01', dataEnd: '2026-10-31', now: new Date('2026-10-07T12:00:00Z') },
    { start_date: '2026-10-01', end_date: '2026-10-02', aggregates_breakdowns: ['by-total'] },
    'tap-scarf-log-escaping-',
  );

  it('escapeControls: \\n, \\r, \\t, ESC, DEL, C1 and bidi overrides become visible escapes; other text is kept', () => {
    expect(escapeControls('a\nb\r\tc\x1b[31md\x7f\u009b\u202eé€ ok')).to.equal(
      'a\\nb\\r\\tc\\u001b[31md\\u007f\\u009b\\u202eé€ ok',
    );
  });

  it('Singer: an unknown CSV column and NDJSON key named "x\\n[tap-scarf] INFO forged\\x1b[31m" are logged escaped', async () => {
    expect(FORGED_COLUMN).to.equal('x' + FORGED);
    suite.sim.setFaults([
      { kind: 'log-forge-header', endpoint: 'events' },
      { kind: 'log-forge-header', endpoint: 'aggregates' },
    ]);
    const run = await runCheckedInProcess(
      ['--config', suite.config(), '--catalog', writeJson(suite.dir, 'c1.json', catalogFor(['events', 'aggregates']))],
      {},
      suite.sim,
    );
    expect(run.code, run.stderr).to.equal(0);
    expectNothingForged(run.stderr, 'stderr');
    const warnings = run.stderr.split('\n').filter((l) => l.includes('does not know'));
    expect(warnings).to.have.length(2);
    for (const w of warnings)
      expect(w).to.match(new RegExp(`^WARNING (events|aggregates): Scarf sent column\\(s\\) .*: ${escape(SHOWN)}\\.`));
    // The data keeps the name as it came: it is the target's to store, and JSON escapes it on the wire.
    const rec = streamRecords(run, 'events')[0]!;
    expect(JSON.parse(rec.extra_fields)).to.have.property(FORGED_COLUMN);
  });

  it('Singer: a bad value holding a line break and an ANSI escape is quoted escaped in the error', async () => {
    suite.sim.setFaults([{ kind: 'bad-value', endpoint: 'events', column: 'time', value: FORGED }]);
    const run = await runCheckedInProcess(
      ['--config', suite.config(), '--catalog', writeJson(suite.dir, 'c2.json', catalogFor(['events']))],
      {},
      suite.sim,
    );
    expect(run.code).to.equal(1);
    expectNothingForged(run.stderr, 'stderr');
    expect(run.stderr).to.include('invalid timestamp "\\n[tap-scarf] INFO forged\\u001b[31m"');
  });

  it('Airbyte read: the LOG message names the column with visible escapes, no line break or ESC in it', async () => {
    suite.sim.setFaults([{ kind: 'log-forge-header', endpoint: 'events' }]);
    const catalog = {
      streams: airbyteCatalog()
        .streams.filter((s) => s.name === 'events')
        .map((stream) => ({ stream, sync_mode: 'full_refresh', destination_sync_mode: 'overwrite' })),
    };
    const run: TapRun = await runCheckedInProcess(
      ['read', '--config', suite.config(), '--catalog', writeJson(suite.dir, 'configured.json', catalog)],
      {},
      suite.sim,
    );
    expect(run.code, run.stdout.slice(-2000)).to.equal(0);
    const logs = run.messages.filter((m) => m.type === 'LOG').map((m) => m.log.message as string);
    const warning = logs.find((m) => m.includes('does not know'));
    expect(warning).to.include(`: ${SHOWN}.`);
    for (const m of logs) expectNothingForged(m, 'LOG message');
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
