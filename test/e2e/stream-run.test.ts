// A stream's run (StreamRun, src/streams/engine/stream-run.ts) as runSync makes it: the
// checkpoint policy applies to company_rollup's snapshot as to a window (issue 19 item 2), and
// the company-rollup snapshot read once serves company_events through the sync's memo.
import { expect } from 'chai';

import { defaultSelection } from '../../src/catalog.js';
import { validateSettings } from '../../src/config/load.js';
import { getLogSink, setLogSink } from '../../src/log.js';
import { makeClient } from '../../src/scarf/from-settings.js';
import type { StreamName } from '../../src/schemas.js';
import { StateStore } from '../../src/state.js';
import type { Rec } from '../../src/streams/engine/types.js';
import { makeContext, type ProtocolWriter, runSync } from '../../src/sync.js';
import { useSimulator } from '../helpers/sim-suite.js';

const SIM_NOW = new Date('2026-10-10T12:00:00Z');

/** A writer that says what it was asked, in order: `record <stream>`, `state <stream> <final>` with the stream's bookmark. */
function recordingWriter(log: string[]): ProtocolWriter {
  return {
    startStream: (s) => void log.push(`start ${s.stream}`),
    record: (stream: StreamName, _rec: Rec) => void log.push(`record ${stream}`),
    checkpoint: async (stream, state, final) =>
      void log.push(`state ${stream} ${final ? 'final' : 'commit'} ${JSON.stringify(state.bookmark(stream) ?? null)}`),
    endStream: (s) => void log.push(`end ${s.stream}`),
    outputBytes: () => 0,
  };
}

describe('stream run: one per stream per sync', function () {
  this.timeout(60_000);
  const suite = useSimulator({ seed: 11, dataStart: '2026-09-20', dataEnd: '2026-10-08', now: SIM_NOW, companies: 5 }, {});

  async function sync(streams: StreamName[], everyCommit: boolean) {
    const settings = validateSettings({
      api_token: suite.sim.options.token,
      owner: 'acme-oss',
      base_url: suite.sim.url,
      start_date: '2026-10-01',
      end_date: '2026-10-06',
      verify_counts: false,
    });
    const client = makeClient(settings);
    const log: string[] = [];
    const before = getLogSink();
    setLogSink(() => undefined);
    try {
      const ctx = makeContext(settings, new StateStore(), client, SIM_NOW);
      ctx.checkpointEveryCommit = everyCommit;
      const selections = defaultSelection().filter((s) => streams.includes(s.stream));
      await runSync(ctx, selections, recordingWriter(log));
      return { log, requests: client.requestCount };
    } finally {
      setLogSink(before);
      await client.close();
    }
  }

  it('company_rollup under the load policy: a STATE right after its snapshot is committed, with the bookmark, before the final one', async () => {
    const { log } = await sync(['company_rollup'], true);
    const records = log.filter((l) => l === 'record company_rollup').length;
    expect(records).to.equal(suite.sim.truth.companyRollup().length);
    const states = log.filter((l) => l.startsWith('state '));
    expect(states).to.have.length(2);
    expect(states[0]).to.match(/^state company_rollup commit \{.*"replication_key":"last_seen","replication_key_value":"2026-/);
    expect(states[1]).to.equal(states[0]!.replace(' commit ', ' final '));
    // The commit's STATE comes after every record of the snapshot and before the stream's end.
    expect(log.indexOf(states[0]!)).to.equal(log.lastIndexOf('record company_rollup') + 1);
    expect(log.at(-1)).to.equal('end company_rollup');
  });

  it('company_events after company_rollup: the snapshot is read once for both (the memo on the sync, not a context field)', async () => {
    const { log } = await sync(['company_rollup', 'company_events'], false);
    expect(suite.sim.requests.filter((r) => r.endpoint === 'company-rollup')).to.have.length(1);
    expect(log.filter((l) => l === 'record company_events').length).to.be.greaterThan(0);
  });
});
