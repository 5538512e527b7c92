// The window runner (src/streams/engine/runner.ts) with a fake request step: no simulator, no HTTP.
import { expect } from 'chai';

import { requestConcurrency } from '../../src/config/concurrency.js';
import { readRuntimeOptions } from '../../src/config/runtime-options.js';
import { RangeTooLongError, TransientError } from '../../src/errors.js';
import { StateStore } from '../../src/state.js';
import { type Window } from '../../src/streams/engine/days.js';
import { type FetchSpec } from '../../src/streams/engine/fetch.js';
import { splitByDays } from '../../src/streams/engine/ranges.js';
import {
  everyCommit,
  runWindows,
  throttledCheckpoints,
  throttleOptions,
  type WindowedStream,
} from '../../src/streams/engine/runner.js';
import { streamRun } from '../../src/streams/engine/stream-run.js';
import type { FetchRecords, Rec, StreamStats, SyncContext } from '../../src/streams/engine/types.js';
import { STREAMS } from '../../src/streams/registry.js';

const newStats = (): StreamStats => ({ records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 });

function context(concurrency: number): SyncContext {
  return {
    settings: { max_concurrent_requests: concurrency } as SyncContext['settings'],
    state: new StateStore(),
    aborted: false,
  } as unknown as SyncContext;
}

const days = (n: number): Window[] =>
  Array.from({ length: n }, (_, i) => ({
    start: `2026-10-${String(i + 1).padStart(2, '0')}`,
    end: `2026-10-${String(i + 1).padStart(2, '0')}`,
  }));

interface Harness {
  /** Everything in the order the sink saw it: `rec <window> <n>` and `state <bookmark>`. */
  log: string[];
  fetched: string[];
  inFlight: number;
  maxInFlight: number;
}

/** A fake request step: each part yields 3 records after a delay that makes later windows answer first. */
function fakeFetch(h: Harness, behave: (spec: FetchSpec) => Error | undefined = () => undefined): FetchRecords {
  return async (to, spec, _seen, waitTurn) => {
    h.fetched.push(spec.label);
    h.inFlight++;
    h.maxInFlight = Math.max(h.maxInFlight, h.inFlight);
    try {
      const day = Number(spec.query.start_date!.toString().slice(8, 10));
      await new Promise((r) => setTimeout(r, Math.max(0, 12 - day) * 2));
      const failure = behave(spec);
      if (failure) throw failure;
      await waitTurn?.();
      for (let n = 0; n < 3; n++) await to.sink.record({ id: `${spec.label} ${n}` } as Rec);
    } finally {
      h.inFlight--;
    }
  };
}

function eventsLike(windows: Window[], state: StateStore, concurrent = true): WindowedStream<Window> {
  return {
    declaration: STREAMS.events,
    windows,
    split: splitByDays,
    concurrent,
    request: (_w, part) => ({
      path: '/x',
      query: { start_date: part.start, end_date: part.end },
      label: `${part.start}..${part.end}`,
    }),
    commit: (_w, part) => state.setValue('events', 'time', `${part.end}T`),
  };
}

async function run(ctx: SyncContext, stream: WindowedStream<Window>, h: Harness, fetch: FetchRecords): Promise<StreamStats> {
  const stats = newStats();
  const sink = {
    record: (rec: Rec) => void h.log.push(`rec ${rec.id as string}`),
    checkpoint: async () => void h.log.push(`state ${ctx.state.value('events', 'time')}`),
    outputBytes: () => 0,
  };
  const selection = { stream: 'events' as const, replicationKey: 'time', replicationMethod: 'INCREMENTAL' as const, fields: [] };
  // These tests follow each part's bookmark; the throttle has its own tests below.
  await runWindows(streamRun(ctx, stream.declaration, selection, sink, stats, { fetch, checkpoints: everyCommit }), stream);
  return stats;
}

const harness = (): Harness => ({ log: [], fetched: [], inFlight: 0, maxInFlight: 0 });

describe('window runner', () => {
  it('fetches up to the concurrency ahead, yet writes windows in order, each STATE right after its own records', async () => {
    const ctx = context(3);
    const h = harness();
    const stats = await run(ctx, eventsLike(days(6), ctx.state), h, fakeFetch(h));
    expect(h.maxInFlight).to.equal(3);
    const expected: string[] = [];
    for (const w of days(6)) {
      const label = `${w.start}..${w.end}`;
      for (let n = 0; n < 3; n++) expected.push(`rec ${label} ${n}`);
      expected.push(`state ${w.end}T`);
    }
    expect(h.log).to.deep.equal(expected);
    expect(stats.windowsPlanned).to.equal(6);
    expect(stats.windows).to.equal(6);
  });

  it('a stream that is not concurrent fetches one window at a time', async () => {
    const ctx = context(4);
    const h = harness();
    await run(ctx, eventsLike(days(4), ctx.state, false), h, fakeFetch(h));
    expect(h.maxInFlight).to.equal(1);
  });

  it('a failing window ends the stream: later windows write nothing, its bookmark stays at the last complete window', async () => {
    const ctx = context(2);
    const h = harness();
    const failing = fakeFetch(h, (spec) =>
      spec.query.start_date === '2026-10-03' ? new TransientError('window 3 failed') : undefined,
    );
    let err: unknown;
    try {
      await run(ctx, eventsLike(days(6), ctx.state), h, failing);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal('window 3 failed');
    expect(h.log.filter((l) => l.startsWith('state'))).to.deep.equal(['state 2026-10-01T', 'state 2026-10-02T']);
    expect(h.log.at(-1)).to.equal('state 2026-10-02T');
    expect(h.log.some((l) => l.includes('2026-10-04'))).to.equal(false);
    expect(ctx.state.value('events', 'time')).to.equal('2026-10-02T');
  });

  it('splits a window Scarf refuses as too long, commits each part, and pre-splits the next window', async () => {
    const ctx = context(1);
    const h = harness();
    const tooLong = fakeFetch(h, (spec) => {
      const span = Number(spec.query.end_date!.toString().slice(8)) - Number(spec.query.start_date!.toString().slice(8)) + 1;
      return span > 2
        ? new RangeTooLongError('range-too-long', {
            status: 400,
            code: 'range-too-long',
            endpoint: 'events',
            failureType: 'config_error',
          })
        : undefined;
    });
    const windows = [
      { start: '2026-10-01', end: '2026-10-04' },
      { start: '2026-10-05', end: '2026-10-08' },
    ];
    await run(ctx, eventsLike(windows, ctx.state), h, tooLong);
    // The first window is tried whole, refused, then read as halves; the second is split before its request.
    expect(h.fetched).to.deep.equal([
      '2026-10-01..2026-10-04',
      '2026-10-01..2026-10-02',
      '2026-10-03..2026-10-04',
      '2026-10-05..2026-10-06',
      '2026-10-07..2026-10-08',
    ]);
    expect(h.log.filter((l) => l.startsWith('state'))).to.deep.equal([
      'state 2026-10-02T',
      'state 2026-10-04T',
      'state 2026-10-06T',
      'state 2026-10-08T',
    ]);
  });

  it('takes its concurrency from the same place as the client (at least one)', () => {
    expect(requestConcurrency({ max_concurrent_requests: 4 })).to.equal(4);
    expect(requestConcurrency({ max_concurrent_requests: 0 })).to.equal(1);
  });
});

describe('checkpoint throttle', () => {
  /** A sink whose output and clock the test moves; a STATE of the whole state costs `stateSize()` bytes. */
  function fakeSink(stateSize: () => number) {
    const t = { now: 0, output: 0, states: 0, stateBytes: 0 };
    const sink = {
      record: () => undefined,
      outputBytes: () => t.output,
      checkpoint: async () => {
        const n = stateSize();
        t.output += n;
        t.states++;
        t.stateBytes += n;
      },
    };
    return { t, sink };
  }
  const opts = (t: { now: number }, minIntervalMs = 10_000) => ({ minIntervalMs, ratio: 10, partBytes: 2048, now: () => t.now });

  it('writes no STATE within the interval, then one once the work since the last outweighs ten of it', async () => {
    const { t, sink } = fakeSink(() => 1000);
    const policy = throttledCheckpoints(sink, opts(t));
    t.output += 50_000;
    t.now = 9_999;
    await policy.committed();
    expect(t.states, 'within 10 s').to.equal(0);
    t.now = 10_000;
    await policy.committed();
    expect(t.states, 'the first STATE waits only for the interval').to.equal(1);
    // 10 × 1000 bytes of work needed: 7,000 bytes of records + one part (2,048) is not enough …
    t.now = 30_000;
    t.output += 7000;
    await policy.committed();
    expect(t.states).to.equal(1);
    // … a second part makes it 11,096.
    await policy.committed();
    expect(t.states).to.equal(2);
  });

  it('keeps all STATE bytes linear in the partitions: 200 vs 2,000 companies, each STATE holding every company', async () => {
    // Every company: one request, 1.5 KB of records, 130 bytes of bookmark in every later STATE.
    const total = async (companies: number) => {
      let done = 0;
      const { t, sink } = fakeSink(() => 130 * done);
      const policy = throttledCheckpoints(sink, opts(t, 0));
      for (; done < companies;) {
        done++;
        t.output += 1500;
        await policy.committed();
      }
      return { ...t, work: t.output - t.stateBytes };
    };
    const small = await total(200);
    const large = await total(2000);
    // One STATE per commit would be 100× for 10× the companies.
    expect(large.stateBytes / small.stateBytes).to.be.within(5, 20);
    // Each STATE is weighed against the previous one, and the state grows in between: the
    // total stays within a fifth of the work (records + 2 KB a request), not just a tenth.
    expect(large.stateBytes, 'within a fifth of the work').to.be.at.most((large.work + 2000 * 2048) / 5);
  });

  it('TAP_SCARF_STATE_INTERVAL_MS replaces the 10 s interval (tests)', () => {
    expect(throttleOptions(readRuntimeOptions({})).minIntervalMs).to.equal(10_000);
    expect(throttleOptions(readRuntimeOptions({ TAP_SCARF_STATE_INTERVAL_MS: '0' })).minIntervalMs).to.equal(0);
  });
});
