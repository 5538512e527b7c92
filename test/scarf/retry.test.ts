import { expect } from 'chai';

import { readRuntimeOptions } from '../../src/config/runtime-options.js';
import { computeDelayMs, parseRetryAfterMs, RetryBudget } from '../../src/scarf/retry.js';

describe('scarf/retry', () => {
  const NOW = Date.UTC(2026, 10, 2, 13, 0, 0);

  it('Retry-After delta-seconds wins over backoff', () => {
    expect(computeDelayMs(1, '3', NOW, 1000)).to.equal(3000);
    expect(computeDelayMs(5, '0', NOW, 1000)).to.equal(0);
    expect(computeDelayMs(1, ' 120 ', NOW, 1000)).to.equal(120000);
  });

  it('Retry-After HTTP-date is a wait until that time', () => {
    expect(computeDelayMs(1, new Date(NOW + 5000).toUTCString(), NOW, 1000)).to.equal(5000);
  });

  it('an unreadable Retry-After falls back to backoff', () => {
    expect(parseRetryAfterMs('soon', NOW, 1000)).to.equal(undefined);
    expect(parseRetryAfterMs('-1', NOW, 1000)).to.equal(undefined);
    const d = computeDelayMs(1, 'soon', NOW, 1000);
    expect(d).to.be.within(0, 1000);
  });

  it('exponential backoff with full jitter, capped at 60 base units', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const bound = Math.min(60000, 1000 * 2 ** (attempt - 1));
      let max = 0;
      for (let i = 0; i < 300; i++) {
        const d = computeDelayMs(attempt, undefined, NOW, 1000);
        expect(d).to.be.within(0, bound);
        max = Math.max(max, d);
      }
      expect(max, `attempt ${attempt} uses its range`).to.be.greaterThan(bound * 0.5);
    }
  });

  it('the testing knob scales backoff and Retry-After', () => {
    expect(computeDelayMs(1, '2', NOW, 10)).to.equal(20);
    expect(computeDelayMs(7, undefined, NOW, 10)).to.be.at.most(600);
    expect(readRuntimeOptions({ TAP_SCARF_RETRY_BASE_MS: '7' }).retryBaseMs).to.equal(7);
    expect(readRuntimeOptions({}).retryBaseMs).to.equal(1000);
    expect(new RetryBudget(1, 60_000, 7).next('2', NOW)).to.equal(14);
    expect(new RetryBudget(1, 60_000).next('2', NOW), 'the default base').to.equal(2000);
  });

  it('RetryBudget stops after maxRetries', () => {
    const b = new RetryBudget(3, 1e9, 1000);
    const waits = [b.next(), b.next(), b.next(), b.next()];
    expect(waits.slice(0, 3).every((w) => typeof w === 'number')).to.equal(true);
    expect(waits[3]).to.equal(undefined);
    expect(b.used).to.equal(3);
  });

  it('RetryBudget stops at once when Retry-After asks for longer than the wait left', () => {
    const b = new RetryBudget(10, 2500, 1000);
    expect(b.next('2')).to.equal(2000);
    // 2 s more would exceed the 0.5 s left: retrying early would only be refused (and billed).
    expect(b.next('2')).to.equal(undefined);
    expect(b.totalWaitMs).to.equal(2000);
    expect(b.used).to.equal(1);
  });

  it('RetryBudget shortens a backoff wait (no Retry-After) to the wait left', () => {
    const b = new RetryBudget(10, 1, 1000);
    const w = b.next();
    expect(w).to.be.at.most(1);
  });

  it('RetryBudget with no retries or no wait budget retries nothing', () => {
    expect(new RetryBudget(0, 1000, 1000).next()).to.equal(undefined);
    expect(new RetryBudget(5, 0, 1000).next()).to.equal(undefined);
  });
});
