import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { expect } from 'chai';

import { DataError, IncompleteBodyError } from '../../src/errors.js';
import type { BodyChunk } from '../../src/scarf/body.js';
import { readNdjson } from '../../src/scarf/ndjson-rows.js';
import { rejects } from '../helpers/assert.js';

async function* chunksOf(parts: BodyChunk[], failWith?: Error): AsyncGenerator<BodyChunk> {
  for (const p of parts) {
    await Promise.resolve();
    yield p;
  }
  if (failWith) throw failWith;
}

async function collect(parts: BodyChunk[] | AsyncIterable<BodyChunk>) {
  const objs: unknown[] = [];
  const lines: number[] = [];
  const res = await readNdjson(Array.isArray(parts) ? chunksOf(parts) : parts, {
    onObject(o, n) {
      objs.push(o);
      lines.push(n);
    },
  });
  return { objs, lines, res };
}

describe('scarf/ndjson-rows readNdjson', () => {
  const BODY = '{"a":1,"s":"日本 😀"}\n\n{"a":2}\r\n  \n{"a":3}\n';

  it('reads objects in order, skipping blank lines, with physical line numbers', async () => {
    const r = await collect([BODY]);
    expect(r.objs).to.deep.equal([{ a: 1, s: '日本 😀' }, { a: 2 }, { a: 3 }]);
    expect(r.lines).to.deep.equal([1, 3, 5]);
    expect(r.res).to.deep.equal({ lines: 3, bytes: Buffer.byteLength(BODY) });
  });

  it('same result byte by byte and at every split point', async () => {
    const b = Buffer.from(BODY);
    const whole = (await collect([b])).objs;
    const bytes: Buffer[] = [];
    for (let i = 0; i < b.length; i++) bytes.push(b.subarray(i, i + 1));
    expect((await collect(bytes)).objs).to.deep.equal(whole);
    for (let cut = 1; cut < b.length; cut++) {
      expect((await collect([b.subarray(0, cut), b.subarray(cut)])).objs, `cut ${cut}`).to.deep.equal(whole);
    }
  });

  it('accepts a last line without newline when it parses; empty body → nothing', async () => {
    expect((await collect(['{"a":1}\n{"a":2}'])).objs).to.deep.equal([{ a: 1 }, { a: 2 }]);
    expect((await collect([])).res).to.deep.equal({ lines: 0, bytes: 0 });
  });

  it('a cut last line → IncompleteBodyError', async () => {
    const err = await rejects(collect(['{"a":1}\n{"a":', '2']));
    expect(err).to.be.instanceOf(IncompleteBodyError);
    expect(err.message).to.match(/line 2/);
  });

  it('invalid JSON on a terminated line → DataError with line number and excerpt', async () => {
    const long = '{"a":' + 'x'.repeat(200) + '}';
    const err = await rejects(collect(['{"a":1}\n', long + '\n{"a":3}\n']));
    expect(err).to.be.instanceOf(DataError);
    expect(err.message).to.match(/line 2 is not valid JSON/);
    expect(err.message).to.contain(JSON.stringify(long.slice(0, 80) + '…'));
    expect(err.message).to.not.contain(JSON.stringify(long.slice(0, 81)).slice(0, -1));
  });

  it('a non-object value → DataError', async () => {
    for (const v of ['[1,2]', '42', 'null', '"s"']) {
      const err = await rejects(collect([`{"a":1}\n${v}\n`]));
      expect(err, v).to.be.instanceOf(DataError);
      expect(err.message).to.match(/line 2 is not a JSON object/);
    }
  });

  it('abort / premature close → IncompleteBodyError', async () => {
    const err = await rejects(collect(chunksOf(['{"a":1}\n{"a"'], new Error('aborted'))));
    expect(err).to.be.instanceOf(IncompleteBodyError);
    const r = new Readable({ read() {} });
    r.push('{"a":1}\n');
    setTimeout(() => r.destroy(), 5);
    expect(await rejects(collect(r))).to.be.instanceOf(IncompleteBodyError);
  });

  it('pauses the body while onObject returns a pending Promise', async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 1; i <= 4; i++) {
        pulled++;
        yield `{"i":${i}}\n`;
      }
    }
    const seen: number[] = [];
    await readNdjson(source(), {
      async onObject(o) {
        const before = pulled;
        await sleep(10);
        expect(pulled).to.equal(before);
        seen.push(o.i as number);
      },
    });
    expect(seen).to.deep.equal([1, 2, 3, 4]);
  });
});
