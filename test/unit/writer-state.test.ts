// The writers decide which checkpoints become STATE messages. A repeated identical STATE is
// noise (and, under Airbyte, a commit the platform must process), but a missing one loses a
// stream's position: Airbyte wants one per stream even when nothing changed, and its
// sourceStats.recordCount must count exactly the records since the stream's previous STATE.
import { Writable } from 'node:stream';

import { expect } from 'chai';

import { defaultSelection, type StreamSelection } from '../../src/catalog.js';
import { AirbyteWriter } from '../../src/protocol/airbyte.js';
import { LineWriter } from '../../src/protocol/output.js';
import { SingerWriter } from '../../src/protocol/singer.js';
import type { StreamName } from '../../src/schemas.js';
import { StateStore } from '../../src/state.js';
import type { Msg } from '../helpers/output.js';

/** Everything a writer puts on its stdout, as parsed lines. */
class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
  get messages(): Msg[] {
    return this.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Msg);
  }
  states(): Msg[] {
    return this.messages.filter((m) => m.type === 'STATE');
  }
}

const selection = (stream: StreamName): StreamSelection => defaultSelection().find((s) => s.stream === stream)!;
const TS1 = '2026-10-02T00:00:00.000000Z';
const TS2 = '2026-10-03T00:00:00.000000Z';

function singer(): { writer: SingerWriter; out: Captured; state: StateStore } {
  const out = new Captured();
  return { writer: new SingerWriter(new LineWriter(out)), out, state: new StateStore() };
}

function airbyte(): { writer: AirbyteWriter; out: Captured; state: StateStore } {
  const out = new Captured();
  return { writer: new AirbyteWriter(new LineWriter(out)), out, state: new StateStore() };
}

describe('Singer writer: STATE de-duplication', () => {
  it('does not repeat a final checkpoint identical to the STATE just written', async () => {
    const { writer, out, state } = singer();
    await writer.startStream(selection('events'));
    state.setValue('events', 'time', TS1);
    await writer.checkpoint('events', state, false);
    await writer.checkpoint('events', state, true);
    expect(out.states().map((m) => m.value.bookmarks.events.replication_key_value)).to.deep.equal([TS1]);
  });

  it('writes a final checkpoint whose state moved since the last STATE', async () => {
    const { writer, out, state } = singer();
    await writer.startStream(selection('events'));
    state.setValue('events', 'time', TS1);
    await writer.checkpoint('events', state, false);
    state.setValue('events', 'time', TS2);
    await writer.checkpoint('events', state, true);
    expect(out.states().map((m) => m.value.bookmarks.events.replication_key_value)).to.deep.equal([TS1, TS2]);
  });

  it('writes the final checkpoint of a stream that has had no STATE yet, even if the whole state is unchanged', async () => {
    const { writer, out, state } = singer();
    await writer.startStream(selection('events'));
    state.setValue('events', 'time', TS1);
    await writer.checkpoint('events', state, false);
    await writer.startStream(selection('company_rollup'));
    // company_rollup found nothing new: the state is what the events STATE said.
    await writer.checkpoint('company_rollup', state, true);
    expect(out.states()).to.have.length(2);
    expect(out.states()[1]!.value).to.deep.equal(out.states()[0]!.value);
  });

  it('writes every intermediate checkpoint, identical or not (only a final one is checked)', async () => {
    const { writer, out, state } = singer();
    await writer.startStream(selection('events'));
    state.setValue('events', 'time', TS1);
    await writer.checkpoint('events', state, false);
    await writer.checkpoint('events', state, false);
    expect(out.states()).to.have.length(2);
  });
});

describe('Airbyte writer: STATE de-duplication and sourceStats', () => {
  const counts = (out: Captured) =>
    out.states().map((m) => [m.state.stream.stream_descriptor.name, m.state.sourceStats.recordCount]);

  it('emits one STATE per stream even when the stream read nothing and its state is empty', async () => {
    const { writer, out, state } = airbyte();
    for (const stream of ['events', 'company_rollup'] as const) {
      await writer.startStream(selection(stream));
      await writer.checkpoint(stream, state, true);
    }
    expect(counts(out)).to.deep.equal([
      ['events', 0],
      ['company_rollup', 0],
    ]);
    expect(out.states().map((m) => m.state.stream.stream_state)).to.deep.equal([{}, {}]);
  });

  it('does not repeat a final checkpoint identical to the stream’s last STATE with no records since', async () => {
    const { writer, out, state } = airbyte();
    await writer.startStream(selection('events'));
    await writer.record('events', { id: 'a' });
    state.setValue('events', 'time', TS1);
    await writer.checkpoint('events', state, false);
    await writer.checkpoint('events', state, true);
    expect(counts(out)).to.deep.equal([['events', 1]]);
  });

  it('writes a final checkpoint with the same state when records were written since (recordCount must add up)', async () => {
    const { writer, out, state } = airbyte();
    await writer.startStream(selection('company_rollup'));
    state.setValue('company_rollup', 'last_seen', TS1);
    await writer.checkpoint('company_rollup', state, false);
    for (const id of ['a', 'b', 'c']) await writer.record('company_rollup', { company_domain: id });
    await writer.checkpoint('company_rollup', state, true);
    expect(counts(out)).to.deep.equal([
      ['company_rollup', 0],
      ['company_rollup', 3],
    ]);
  });

  it('counts records per stream since that stream’s previous STATE, and writes only that stream’s state', async () => {
    const { writer, out, state } = airbyte();
    await writer.startStream(selection('events'));
    await writer.record('events', { id: 'a' });
    await writer.record('events', { id: 'b' });
    state.setValue('events', 'time', TS1);
    await writer.checkpoint('events', state, false);
    await writer.record('events', { id: 'c' });
    state.setValue('events', 'time', TS2);
    await writer.checkpoint('events', state, false);
    await writer.startStream(selection('aggregates'));
    await writer.record('aggregates', { row_key: 'r' });
    state.setValue('aggregates', 'date', '2026-10-02');
    await writer.checkpoint('aggregates', state, true);
    await writer.checkpoint('events', state, true);
    expect(counts(out)).to.deep.equal([
      ['events', 2],
      ['events', 1],
      ['aggregates', 1],
    ]);
    expect(out.states().map((m) => m.state.stream.stream_state.replication_key_value)).to.deep.equal([TS1, TS2, '2026-10-02']);
    // recordCount is written as a double, as the platform's serialisers do.
    expect(out.text).to.match(/"recordCount":2\.0\}/);
  });
});

describe('LineWriter: the bytes the checkpoint throttle weighs', () => {
  it('counts every byte it is given, records given as JSON text included (small and larger than its buffer)', async () => {
    const out = new Captured();
    const lines = new LineWriter(out, 256);
    const prefix = Buffer.from('{"type":"RECORD","stream":"events","record":');
    const json = Buffer.from('{"id":"a","x":"Zürich"}??');
    await lines.write('{"type":"SCHEMA"}');
    await lines.writeRecord(prefix, json, json.length - 2, ',"time_extracted":"t"}');
    await lines.writeRecord(prefix, json, json.length - 2, Buffer.from(',"time_extracted":"t"}'));
    const big = Buffer.from(JSON.stringify({ id: 'b', pad: 'y'.repeat(600) }));
    await lines.writeRecord(prefix, big, big.length, ',"time_extracted":"t"}');
    await lines.end();
    expect(lines.bytes).to.equal(Buffer.byteLength(out.text));
    expect(out.messages.map((m) => (m.record as { id?: string } | undefined)?.id ?? m.type)).to.deep.equal([
      'SCHEMA',
      'a',
      'a',
      'b',
    ]);
  });
});

describe('LineWriter: records given as JSON text in several envelopes', () => {
  it('writes exact lines when two streams of odd-length envelopes alternate and the buffer fills', async () => {
    const out = new Captured();
    const lines = new LineWriter(out, 300);
    // Not multiples of 4, so the words and the bytes left over are both copied; the same two
    // Buffers every time, as a writer hands them over (the words are kept per Buffer).
    const a = Buffer.from('{"type":"RECORD","stream":"abc","record":');
    const b = Buffer.from('{"type":"RECORD","stream":"company_x","record":');
    expect([a.length % 4, b.length % 4]).to.deep.equal([1, 3]);
    const expected: string[] = [];
    for (let i = 0; i < 60; i++) {
      const prefix = i % 3 === 0 ? b : a;
      const json = Buffer.from(JSON.stringify({ n: i, pad: 'z'.repeat(i % 7) }) + '~~~');
      const suffix = i % 2 === 0 ? Buffer.from(`,"s":${i}}`) : `,"t":"${i}"}`;
      await lines.writeRecord(prefix, json, json.length - 3, suffix);
      expected.push(`${prefix.toString()}${json.subarray(0, -3).toString()}${suffix.toString()}`);
    }
    await lines.end();
    expect(out.text).to.equal(expected.map((l) => l + '\n').join(''));
    expect(lines.bytes).to.equal(Buffer.byteLength(out.text));
  });
});
