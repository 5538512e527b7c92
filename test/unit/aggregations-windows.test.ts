// The one conversion between the tap's inclusive windows and v3's exclusive end, the windows
// the aggregations stream asks for (at most 366 days, whole periods), and its reading of the
// X-Scarf-Effective-* headers.
import { expect } from 'chai';

import { aggregationRowKey, answeredWindow, MAX_WINDOW_DAYS } from '../../src/streams/aggregations.js';
import {
  addDays,
  daySpan,
  exclusiveEnd,
  inclusiveEnd,
  periodEnd,
  periodStart,
  periodWindows,
  type Rollup,
} from '../../src/streams/engine/days.js';

describe('aggregations windows: inclusive days ↔ v3 exclusive end', () => {
  it('exclusiveEnd is the next day, across month, year and leap-day edges, and inclusiveEnd undoes it', () => {
    const cases: [string, string][] = [
      ['2026-03-15', '2026-03-16'],
      ['2026-01-31', '2026-02-01'],
      ['2026-02-28', '2026-03-01'],
      ['2028-02-28', '2028-02-29'],
      ['2028-02-29', '2028-03-01'],
      ['2025-12-31', '2026-01-01'],
    ];
    for (const [last, excl] of cases) {
      expect(exclusiveEnd(last), last).to.equal(excl);
      expect(inclusiveEnd(excl), excl).to.equal(last);
    }
  });

  it('a one-day window asks [day, day+1): one day, never zero (v3 refuses start = end)', () => {
    const [w] = periodWindows('2026-03-15', '2026-03-15', MAX_WINDOW_DAYS, 'daily');
    expect(w).to.deep.equal({ start: '2026-03-15', end: '2026-03-15' });
    expect(exclusiveEnd(w!.end)).to.equal('2026-03-16');
  });

  for (const rollup of ['daily', 'weekly', 'monthly', 'yearly'] as Rollup[]) {
    it(`${rollup}: windows over three years cover every day once, each within 366 days and made of whole periods`, () => {
      const start = '2024-01-03';
      const end = '2026-12-30';
      const windows = periodWindows(start, end, MAX_WINDOW_DAYS, rollup);
      expect(windows[0]!.start).to.equal(periodStart(start, rollup));
      expect(windows.at(-1)!.end).to.equal(end);
      for (let i = 0; i < windows.length; i++) {
        const w = windows[i]!;
        // end − start of the request, end exclusive: at most 366 days.
        expect(daySpan(w.start, w.end), `${w.start}..${w.end}`).to.be.at.most(366);
        expect(w.start, 'starts a period').to.equal(periodStart(w.start, rollup));
        if (i < windows.length - 1) {
          expect(w.end, 'ends a period').to.equal(periodEnd(w.end, rollup));
          expect(windows[i + 1]!.start, 'the next window starts the day after').to.equal(addDays(w.end, 1));
        }
      }
    });
  }

  it('a leap year is one yearly window of 366 days; daily windows are exactly 366 days', () => {
    expect(periodWindows('2028-01-01', '2028-12-31', MAX_WINDOW_DAYS, 'yearly')).to.deep.equal([
      { start: '2028-01-01', end: '2028-12-31' },
    ]);
    const daily = periodWindows('2025-01-01', '2026-06-30', MAX_WINDOW_DAYS, 'daily');
    expect(daily[0]).to.deep.equal({ start: '2025-01-01', end: '2026-01-01' });
    expect(exclusiveEnd(daily[0]!.end)).to.equal('2026-01-02');
    expect(daySpan(daily[0]!.start, daily[0]!.end)).to.equal(366);
  });
});

describe('aggregations: what Scarf says it answered', () => {
  it('reads X-Scarf-Effective-Start-Date/End-Date as inclusive days; without both, nothing', () => {
    expect(
      answeredWindow({ 'x-scarf-effective-start-date': '2026-02-01', 'x-scarf-effective-end-date': '2026-03-13' }),
    ).to.deep.equal({ start: '2026-02-01', end: '2026-03-12' });
    expect(answeredWindow({ 'x-scarf-effective-start-date': '2026-02-01' })).to.equal(undefined);
    expect(answeredWindow({ 'x-scarf-effective-start-date': 'soon', 'x-scarf-effective-end-date': '2026-03-13' })).to.equal(
      undefined,
    );
  });
});

describe('aggregations row key', () => {
  it('holds owner, date, rollup, breakdown set, artifact and all 20 dimensions (null where unused); names left out', () => {
    const base = { owner: 'acme', date: '2026-03-02', rollup: 'weekly', breakdown: 'by-referer,by-company', artifact: 'a' };
    const key = JSON.parse(aggregationRowKey({ ...base, referer: 'docs.acme.dev', company_domain: 'globex.com' }));
    expect(key).to.have.length(25);
    expect(key.slice(0, 5)).to.deep.equal(['acme', '2026-03-02', 'weekly', 'by-referer,by-company', 'a']);
    expect(key.filter((v: unknown) => v !== null)).to.have.length(7);
    // A null and an absent dimension are one key; an empty string is another value.
    expect(aggregationRowKey({ ...base, country: null })).to.equal(aggregationRowKey(base));
    expect(aggregationRowKey({ ...base, country: '' })).to.not.equal(aggregationRowKey(base));
  });
});
