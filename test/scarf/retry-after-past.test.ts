// Retry-After as an HTTP-date that is already past: the tap waits its computed backoff
// instead of retrying at once.
import { expect } from 'chai';

import { computeDelayMs, parseRetryAfterMs, RetryBudget } from '../../src/scarf/retry.js';

describe('scarf/retry: Retry-After HTTP-date in the past', () => {
  const NOW = Date.UTC(2026, 10, 2, 13, 0, 0);
  const PAST = new Date(NOW - 5000).toUTCString();
  const realRandom = Math.random;
  afterEach(() => {
    Math.random = realRandom;
  });

  it('is no Retry-After at all (undefined), as is a date equal to now', () => {
    expect(parseRetryAfterMs(PAST, NOW, 1000)).to.equal(undefined);
    expect(parseRetryAfterMs(new Date(NOW).toUTCString(), NOW, 1000)).to.equal(undefined);
    expect(parseRetryAfterMs('Thu, 01 Jan 1970 00:00:00 GMT', NOW, 1000)).to.equal(undefined);
  });

  it('gives the computed backoff, not a zero wait', () => {
    Math.random = () => 0.5;
    expect(computeDelayMs(1, PAST, NOW, 1000)).to.equal(500);
    expect(computeDelayMs(3, PAST, NOW, 1000)).to.equal(2000);
  });

  it('RetryBudget: the backoff is granted and counted, and the budget does not blame Retry-After', () => {
    Math.random = () => 0.5;
    const budget = new RetryBudget(8, 1200, 1000);
    expect(budget.next(PAST, NOW)).to.equal(500);
    expect(budget.refusedRetryAfter).to.equal(false);
    expect(budget.next(PAST, NOW)).to.equal(700); // 1000 drawn, capped by the 700 ms left
    expect(budget.next(PAST, NOW)).to.equal(undefined);
    expect(budget.refusedRetryAfter, 'the wait ran out by backoff, not by a Retry-After').to.equal(false);
  });

  it('a future Retry-After longer than the wait left still ends the retries and says so', () => {
    const budget = new RetryBudget(8, 1000, 1000);
    expect(budget.next(new Date(NOW + 5000).toUTCString(), NOW)).to.equal(undefined);
    expect(budget.refusedRetryAfter).to.equal(true);
  });
});
