// Issue 18, defects 2, 7 and 8, through the real CLI against the simulator's faults, on both
// CSV paths (fast, and reference = papaparse for every row):
// - a column spelled differently (`Time`, ` time`) is read as its column, with one warning;
//   a body without a column the sync relies on fails naming it, and no record goes out;
// - a body that ends cleanly inside its last field (no final line break) is read again, and
//   no cut value is ever emitted; one that never ends with a line break fails the window;
// - a token echoed in another letter case in a response header is never printed.
import { expect } from 'chai';

import type { FaultSpec } from '../../sim/index.js';
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
const PATHS = ['fast', 'reference'] as const;

/** Every 8-character piece of the token, in any letter case, in `text`. */
function tokenPieceAnyCase(text: string): string | undefined {
  const folded = text.toLowerCase();
  const token = TOKEN.toLowerCase();
  for (let i = 0; i + 8 <= token.length; i++) if (folded.includes(token.slice(i, i + 8))) return token.slice(i, i + 8);
  return undefined;
}

describe('issue 18: renamed columns, bodies without their final line break, a token echoed in a header', function () {
  this.timeout(120_000);
  const suite = useSimulator(
    {
      seed: 18,
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-10-07T12:00:00Z'),
      eventsPerDay: 40,
      companies: 6,
    },
    { start_date: START, end_date: END, events_window_days: 1, max_concurrent_requests: 1, max_retries: 2 },
    'tap-scarf-i18-',
  );

  async function sync(
    streams: string[],
    faults: FaultSpec[],
    path: (typeof PATHS)[number] = 'fast',
    extra: Record<string, unknown> = {},
  ): Promise<TapRun> {
    suite.sim.setFaults(faults);
    return runCheckedInProcess(
      ['--config', suite.config(extra), '--catalog', writeJson(suite.dir, 'cat.json', catalogFor(streams))],
      { env: { TAP_SCARF_CSV_PATH: path } },
      suite.sim,
    );
  }

  const truth = () => suite.sim.truth.events({ start: START, end: END });

  describe('defect 2: a column spelled differently', () => {
    for (const path of PATHS) {
      for (const spelling of ['Time', ' time', 'TIME ']) {
        it(`${path} path: events with the column spelled ${JSON.stringify(spelling)} → every record has its time; one warning; exit 0`, async () => {
          const run = await sync(
            ['events'],
            [{ kind: 'rename-column', endpoint: 'events', column: 'time', value: spelling, times: 1e9 }],
            path,
          );
          expect(run.code, run.stderr).to.equal(0);
          expectSameRecords(streamRecords(run, 'events'), truth(), 'id', 'events');
          expect(streamRecords(run, 'events').every((r) => r.time !== null && r.extra_fields === null)).to.equal(true);
          const warnings = run.stderr.split('\n').filter((l) => l.includes('spelled column(s) differently'));
          expect(warnings).to.deep.equal([
            `WARNING events: Scarf spelled column(s) differently: ${JSON.stringify(spelling)} read as time (known columns are matched after trimming spaces and ignoring letter case).`,
          ]);
        });
      }

      it(`${path} path: events without a time column (renamed to "timestamp") → the window fails naming the column; no record; exit 1`, async () => {
        const run = await sync(
          ['events'],
          [{ kind: 'rename-column', endpoint: 'events', column: 'time', value: 'timestamp', times: 1e9 }],
          path,
        );
        expect(run.code, run.stderr).to.equal(1);
        expect(streamRecords(run, 'events')).to.deep.equal([]);
        expect(run.stderr).to.match(/events: the response has no column "time", which every record needs/);
        expect(lastState(run)?.bookmarks?.events).to.equal(undefined);
      });

      it(`${path} path: events without an id column → fails naming it; no record with a null key`, async () => {
        const run = await sync(
          ['events'],
          [{ kind: 'rename-column', endpoint: 'events', column: 'id', value: 'event_id', times: 1e9 }],
          path,
        );
        expect(run.code, run.stderr).to.equal(1);
        expect(streamRecords(run, 'events')).to.deep.equal([]);
        expect(run.stderr).to.match(/events: the response has no column "id", which every record needs/);
      });
    }

    it('company_rollup on last_seen without a last_seen column ("lastSeen") → fails naming it; no record; exit 1', async () => {
      const run = await sync(
        ['company_rollup'],
        [{ kind: 'rename-column', endpoint: 'company-rollup', column: 'last_seen', value: 'lastSeen', times: 1e9 }],
      );
      expect(run.code, run.stderr).to.equal(1);
      expect(streamRecords(run, 'company_rollup')).to.deep.equal([]);
      expect(run.stderr).to.match(/company_rollup: the response has no column "last_seen", which every record needs/);
    });

    it('company_rollup with " Last_Seen" → read as last_seen; the records are the ground truth', async () => {
      const run = await sync(
        ['company_rollup'],
        [{ kind: 'rename-column', endpoint: 'company-rollup', column: 'last_seen', value: ' Last_Seen', times: 1e9 }],
      );
      expect(run.code, run.stderr).to.equal(0);
      expectSameRecords(
        streamRecords(run, 'company_rollup'),
        suite.sim.truth.companyRollup(),
        'company_domain',
        'company_rollup',
      );
    });
  });

  describe('defect 7: a body that ends without its final line break', () => {
    for (const path of PATHS) {
      it(`${path} path: cut inside the last field once → read again; no cut value; the records are the ground truth`, async () => {
        const run = await sync(['events'], [{ kind: 'cut-in-last-field', endpoint: 'events', nth: 2 }], path);
        expect(run.code, run.stderr).to.equal(0);
        expect(suite.sim.requests.filter((r) => r.fault === 'cut-in-last-field')).to.have.length(1);
        expect(run.stderr).to.match(/ended without a line break after row \d+ .*may be cut inside its last field/);
        expectSameRecords(streamRecords(run, 'events'), truth(), 'id', 'events');
        expectNoRepeats(run, 'events');
      });

      it(`${path} path: cut inside the last field on every read → the window fails, no cut value was emitted; exit 1`, async () => {
        const run = await sync(['events'], [{ kind: 'cut-in-last-field', endpoint: 'events', nth: 2, times: 1e9 }], path);
        expect(run.code, run.stderr).to.equal(1);
        expect(run.stderr).to.match(/giving up after 3 attempts .*ended without a line break after row \d+/);
        // Window 1 whole, then only complete rows of window 2: each record exactly as the ground truth has it.
        const emitted = streamRecords(run, 'events');
        const ids = new Set(emitted.map((r) => r.id));
        const all = truth();
        expectSameRecords(
          emitted,
          all.filter((r) => ids.has(r.id)),
          'id',
          'events emitted',
        );
        const day1 = suite.sim.truth.events({ start: START, end: START });
        expect(day1.filter((r) => !ids.has(r.id as string))).to.deep.equal([]);
        expect(emitted.length).to.be.lessThan(all.length);
      });
    }

    it('finalNewline false (a server that never writes one): no body is proven, the sync fails saying so; no record of an unproven last row', async () => {
      suite.sim.setOptions({ finalNewline: false });
      try {
        const run = await sync(['events'], []);
        expect(run.code, run.stderr).to.equal(1);
        expect(run.stderr).to.match(/a last row without its line break may be cut inside its last field/);
        // Every row but each body's last was complete and may go out; the last rows were not.
        const emitted = streamRecords(run, 'events');
        const ids = new Set(emitted.map((r) => r.id));
        const day1 = suite.sim.truth.events({ start: START, end: START });
        expect(emitted.length).to.be.greaterThan(0);
        expect(emitted.length).to.be.lessThan(day1.length);
        const same = day1.filter((r) => ids.has(r.id));
        expectSameRecords(emitted, same, 'id', 'the rows before each last row');
      } finally {
        suite.sim.setOptions({ finalNewline: undefined });
      }
    });
  });

  describe('rough edges of answers', () => {
    for (const path of PATHS) {
      it(`${path} path: invalid UTF-8 in the bodies → counted and one warning per stream; the records are still complete; exit 0`, async () => {
        const run = await sync(['events'], [{ kind: 'invalid-utf8', endpoint: 'events', times: 1e9 }], path);
        expect(run.code, run.stderr).to.equal(0);
        const warnings = run.stderr.split('\n').filter((l) => l.includes('invalid UTF-8'));
        // C3 28 FF: a cut two-byte sequence and a byte UTF-8 never uses, two replacements.
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.match(
          /^WARNING events: the answer for events 2026-10-01\.\.2026-10-01 held 2 invalid UTF-8 sequence\(s\); each was replaced with U\+FFFD .* Reported once per stream\.$/,
        );
        const ids = streamRecords(run, 'events').map((r) => r.id);
        expect(new Set(ids)).to.deep.equal(new Set(truth().map((r) => r.id)));
        expect(streamRecords(run, 'events').filter((r) => String(r.user_agent).includes('\uFFFD'))).to.have.length(3);
      });
    }

    it('a redirect → not followed; the message names the target host and points to base_url, never the token; exit 1', async () => {
      const run = await sync(['events'], [{ kind: 'redirect', endpoint: 'events', times: 1e9 }]);
      expect(run.code, run.stderr).to.equal(1);
      expect(suite.sim.requests.filter((r) => r.fault === 'redirect')).to.have.length(1);
      expect(run.stderr).to.match(
        /the server answered HTTP 301, a redirect to https:\/\/login\.example\.invalid, instead of an export\. tap-scarf does not follow redirects .*check the base_url setting/,
      );
      expect(run.stderr).not.to.match(/sso\?return/);
      expect(tokenPieceAnyCase(run.stdout + run.stderr)).to.equal(undefined);
    });
  });

  describe('defect 8: a token echoed in another letter case in a response header', () => {
    for (const echo of ['upper', 'lower'] as const) {
      it(`Content-Encoding holding the token (${echo} case) → the stream fails naming the header; no piece of the token in any case`, async () => {
        const run = await sync(['events'], [{ kind: 'token-echo-header', endpoint: 'events', echo, times: 1e9 }]);
        expect(run.code, run.stderr).to.equal(1);
        expect(run.stderr).to.match(/the answer came with Content-Encoding "\*\*\*", which tap-scarf did not ask for/);
        expect(tokenPieceAnyCase(run.stdout + run.stderr)).to.equal(undefined);
      });
    }
  });
});
