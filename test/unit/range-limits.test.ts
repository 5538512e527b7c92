// The range-limit search (src/streams/engine/ranges.ts) against a fake Scarf with a fixed limit:
// how many requests a long backfill costs against the ideal (the limit known in advance).
import { expect } from 'chai';

import { RangeTooLongError } from '../../src/errors.js';
import { addDays, daySpan, periodWindows, type Window } from '../../src/streams/engine/days.js';
import { RangeLimits, splitByDays, type Splitter } from '../../src/streams/engine/ranges.js';

const refusal = () =>
  new RangeTooLongError('range-too-long', {
    status: 400,
    code: 'range-too-long',
    endpoint: 'events',
    failureType: 'config_error',
  });

interface Fake {
  asked: number[];
  refused: number;
  /** Days read, in order, as accepted parts. */
  read: Window[];
  maxUnknownInFlight: number;
}

function fakeScarf(limit: number, delayMs = 0): { fake: Fake; read: (ranges: RangeLimits) => (w: Window) => Promise<void> } {
  const fake: Fake = { asked: [], refused: 0, read: [], maxUnknownInFlight: 0 };
  let unknownInFlight = 0;
  return {
    fake,
    read: (ranges) => async (w) =>
      ranges.forEachRange('events', w, splitByDays, async (part, answered) => {
        const span = daySpan(part.start, part.end);
        const unknown = span > ranges.accepted('events');
        if (unknown) fake.maxUnknownInFlight = Math.max(fake.maxUnknownInFlight, ++unknownInFlight);
        fake.asked.push(span);
        try {
          if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
          if (span > limit) {
            fake.refused++;
            throw refusal();
          }
          answered();
        } finally {
          if (unknown) unknownInFlight--;
        }
        fake.read.push(part);
      }),
  };
}

const windowOf = (start: string, days: number): Window => ({ start, end: addDays(start, days - 1) });

/** The requests a tap knowing the limit would make: each window in parts of the limit. */
const ideal = (windows: Window[], limit: number) => windows.reduce((n, w) => n + Math.ceil(daySpan(w.start, w.end) / limit), 0);

function expectCovered(read: Window[], windows: Window[]): void {
  const days = (ws: Window[]) =>
    ws.flatMap((w) => Array.from({ length: daySpan(w.start, w.end) }, (_, i) => addDays(w.start, i)));
  expect(days(read)).to.deep.equal(days(windows));
}

describe('range limits: the search for the longest range Scarf accepts', () => {
  it('a 365-day backfill against a 92-day limit: 4 requests as ideal, plus 3 refused probes', async () => {
    const { fake, read } = fakeScarf(92);
    const w = windowOf('2025-01-01', 365);
    await read(new RangeLimits())(w);
    // 365 and 183 refused (halving until a range is accepted), 92 accepted; 137 would have read
    // the remaining 273 days in 2 requests instead of 3: tried once, refused, not again.
    expect(fake.asked).to.deep.equal([365, 183, 92, 137, 92, 92, 89]);
    expect(fake.asked.length - fake.refused).to.equal(ideal([w], 92));
    expectCovered(fake.read, [w]);
  });

  // [limit, requests, refused]: 10 windows of 365 days (10 companies' backfills). Halving alone,
  // as the tap did before, cost 42, 42, 42, 164 and 164 requests for these limits.
  for (const [limit, expected, refusedProbes] of [
    [92, 44, 4],
    [137, 32, 2],
    [182, 32, 2],
    [45, 96, 4],
    [30, 136, 6],
  ] as const) {
    const companies = 10;
    it(`${companies} windows of 365 days against a ${limit}-day limit: ${expected} requests, ${refusedProbes} of them refused`, async () => {
      const { fake, read } = fakeScarf(limit);
      const ranges = new RangeLimits();
      const windows = Array.from({ length: companies }, () => windowOf('2025-01-01', 365));
      for (const w of windows) await read(ranges)(w);
      expect(fake.refused).to.equal(refusedProbes);
      expect(fake.asked.length).to.equal(expected);
      // Within 10 % of the ideal (the limit known in advance), refused probes included.
      expect(fake.asked.length).to.be.at.most(Math.ceil(ideal(windows, limit) * 1.1));
      expectCovered(fake.read, windows);
    });
  }

  it('windows read concurrently send one request of unknown outcome at a time, and no range already refused', async () => {
    const { fake, read } = fakeScarf(40, 3);
    const ranges = new RangeLimits();
    const windows = Array.from({ length: 6 }, (_, i) => windowOf(addDays('2025-01-01', i * 200), 200));
    await Promise.all(windows.map((w) => read(ranges)(w)));
    expect(fake.maxUnknownInFlight).to.equal(1);
    const one = fakeScarf(40);
    const alone = new RangeLimits();
    for (const w of windows) await one.read(alone)(w);
    // Concurrency changes which window probes next (each for its own rest), so a few more
    // probes may be refused than when the windows are read one after another (3 here).
    expect(one.fake.refused).to.equal(3);
    expect(fake.refused).to.be.at.most(one.fake.refused + windows.length - 1);
    expect(fake.asked.length - fake.refused).to.be.at.most(one.fake.asked.length - one.fake.refused + 2);
    expectCovered(
      fake.read.sort((a, b) => (a.start < b.start ? -1 : 1)),
      windows,
    );
    expect(fake.read.map((w) => daySpan(w.start, w.end)).every((n) => n <= 40)).to.equal(true);
  });

  it('a window no shorter than the limit allows (one rollup period) fails with the refusal, after one request', async () => {
    const monthly: Splitter = (w, max) => periodWindows(w.start, w.end, max, 'monthly');
    const ranges = new RangeLimits();
    const asked: number[] = [];
    const readMonths = (w: Window) =>
      ranges.forEachRange('aggregates', w, monthly, async (part) => {
        asked.push(daySpan(part.start, part.end));
        if (daySpan(part.start, part.end) > 20) throw refusal();
      });
    let err: unknown;
    try {
      await readMonths({ start: '2025-01-01', end: '2025-03-31' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RangeTooLongError);
    // 90 days refused, then one month (31 days: the shortest part there is) refused: nothing shorter to try.
    expect(asked).to.deep.equal([90, 31]);
  });
});
