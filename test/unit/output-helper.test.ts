// The test kit's output reader must answer alike for the two protocols, or a test that
// compares a Singer run with an Airbyte run compares the reader's mistakes.
import { expect } from 'chai';

import { airbyteOutput, keyOf, singerOutput } from '../helpers/output.js';
import { parseLines, type TapRun } from '../helpers/tap.js';

function run(lines: unknown[], stderr = '', code = 0): TapRun {
  const stdout = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  return { code, signal: null, stdout, stderr, ...parseLines(stdout) };
}

const EVENTS_BM = { replication_key: 'time', replication_key_value: '2026-10-02T00:00:00.000000Z' };
const ROLLUP_BM = { replication_key: 'last_seen', replication_key_value: '2026-10-01T00:00:00.000000Z' };
const airbyteState = (name: string, streamState: unknown, recordCount: number) => ({
  type: 'STATE',
  state: { type: 'STREAM', stream: { stream_descriptor: { name }, stream_state: streamState }, sourceStats: { recordCount } },
});

describe('test kit: one output reader for Singer and Airbyte runs', () => {
  const singer = singerOutput(
    run(
      [
        { type: 'SCHEMA', stream: 'events' },
        { type: 'RECORD', stream: 'events', record: { owner: 'o', id: 'a' } },
        { type: 'STATE', value: { bookmarks: { events: EVENTS_BM } } },
        { type: 'RECORD', stream: 'company_rollup', record: { owner: 'o', company_domain: 'x.com' } },
        { type: 'STATE', value: { bookmarks: { events: EVENTS_BM, company_rollup: ROLLUP_BM } } },
      ],
      'INFO Syncing events\nERROR Stream events failed:\n  the detail line\n',
      1,
    ),
  );
  const airbyte = airbyteOutput(
    run([
      { type: 'RECORD', record: { stream: 'events', data: { owner: 'o', id: 'a' }, emitted_at: 1 } },
      airbyteState('events', EVENTS_BM, 1),
      { type: 'RECORD', record: { stream: 'company_rollup', data: { owner: 'o', company_domain: 'x.com' }, emitted_at: 2 } },
      airbyteState('company_rollup', ROLLUP_BM, 1),
      { type: 'LOG', log: { level: 'ERROR', message: 'boom' } },
      {
        type: 'TRACE',
        trace: { type: 'ERROR', emitted_at: 3, error: { message: 'Stream events failed', failure_type: 'system_error' } },
      },
      {
        type: 'TRACE',
        trace: {
          type: 'STREAM_STATUS',
          emitted_at: 4,
          stream_status: { stream_descriptor: { name: 'events' }, status: 'COMPLETE' },
        },
      },
    ]),
  );

  it('reads the same records, by stream, from either protocol', () => {
    for (const out of [singer, airbyte]) {
      expect(out.records('events'), out.protocol).to.deep.equal([{ owner: 'o', id: 'a' }]);
      expect([...out.recordsByStream().keys()], out.protocol).to.deep.equal(['events', 'company_rollup']);
      expect([...out.keyed('company_rollup').keys()], out.protocol).to.deep.equal(['["o","x.com"]']);
    }
  });

  it('gives the last state in the tap’s own shape for both, and what each orchestrator stores', () => {
    expect(airbyte.lastState).to.deep.equal(singer.lastState);
    expect(airbyte.bookmark('company_rollup')).to.deep.equal(ROLLUP_BM);
    expect(singer.storedState).to.deep.equal({ bookmarks: { events: EVENTS_BM, company_rollup: ROLLUP_BM } });
    expect((airbyte.storedState as unknown[]).length).to.equal(2);
    expect(airbyte.states('events')).to.have.length(1);
  });

  it('reads logs and errors: Singer stderr lines (a continued line kept with its message), Airbyte LOG and ERROR traces', () => {
    expect(singer.logs).to.deep.equal([
      { level: 'INFO', message: 'Syncing events' },
      { level: 'ERROR', message: 'Stream events failed:\n  the detail line' },
    ]);
    expect(singer.errors).to.deep.equal(['Stream events failed:\n  the detail line']);
    expect(singer.code).to.equal(1);
    expect(airbyte.logs).to.deep.equal([{ level: 'ERROR', message: 'boom' }]);
    expect(airbyte.errors).to.deep.equal(['Stream events failed']);
    expect(airbyte.streamStatuses('events')).to.deep.equal(['COMPLETE']);
  });

  it('keys a record by its stream’s declared key properties, owner first', () => {
    expect(keyOf('events', { id: 'a', owner: 'o', time: 't' })).to.equal('["o","a"]');
    expect(keyOf('aggregates', { owner: 'o', row_key: 'r' })).to.equal('["o","r"]');
  });
});
