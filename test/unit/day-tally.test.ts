// The count reconciliation judges a window by DayTally.get(day) against Scarf's daily counts;
// a miscounted day would re-read a complete window or, worse, accept a short one. The tally
// keeps the current day aside (the fast path gives each record's day as bytes), so the
// cases that matter are days that come back, and the two ways of adding mixed.
import { expect } from 'chai';

import { DayTally } from '../../src/streams/verify/reconcile.js';
import { rng } from '../helpers/rng.js';

const ts = (day: string) => `${day}T12:34:56.123456Z`;

describe('DayTally: distinct ids per UTC day', () => {
  it('counts days that interleave, added as text and as bytes, like a Map does', () => {
    const days = ['2026-11-01', '2026-11-02', '2026-11-12', '2026-12-01', '2025-11-01', '2026-11-11'];
    const next = rng(5);
    const tally = new DayTally();
    const expected = new Map<string, number>();
    for (let i = 0; i < 5000; i++) {
      // Runs of one day, then another (as windows are written), sometimes a day coming back.
      const day = days[Math.floor(next() * next() * days.length)]!;
      const text = ts(day);
      if (next() < 0.5) tally.add(text);
      else {
        const at = Math.floor(next() * 8);
        const b = Buffer.from('x'.repeat(at) + text + 'tail', 'latin1');
        tally.addText(b, at, at + text.length);
      }
      expected.set(day, (expected.get(day) ?? 0) + 1);
      if (i % 97 === 0) for (const d of days) expect(tally.get(d), `${d} after ${i + 1}`).to.equal(expected.get(d) ?? 0);
    }
    for (const d of days) expect(tally.get(d), d).to.equal(expected.get(d) ?? 0);
  });

  it('tells apart days that differ only in the last digits or the year, and ignores null and undefined', () => {
    const tally = new DayTally();
    for (const day of ['2026-11-01', '2026-11-02', '2026-11-01', '2025-11-01', '2026-11-11', '2026-11-01']) {
      const b = Buffer.from(ts(day));
      tally.addText(b, 0, b.length);
    }
    tally.add(null);
    tally.add(undefined);
    expect([tally.get('2026-11-01'), tally.get('2026-11-02'), tally.get('2025-11-01'), tally.get('2026-11-11')]).to.deep.equal([
      3, 1, 1, 1,
    ]);
    expect(tally.get('2026-11-03')).to.equal(0);
  });
});
