// The one table of Scarf's non-2xx answers: what the client does with each, the failure type
// the user's orchestrator sees, and the class of the error. The words are asserted end to end
// (bad-input, scarf-client); here, the decisions.
import { expect } from 'chai';

import {
  AbortedError,
  ApiError,
  ConfigError,
  IncompleteBodyError,
  NotAnExportError,
  RangeTooLongError,
  Signal,
  TapError,
} from '../../src/errors.js';
import { type Answer, answerError, answerRule } from '../../src/scarf/answers.js';

const ctx = { endpoint: 'events' as const, owner: "'acme'", packageQuery: false };

describe('scarf/answers: one table from an HTTP answer to action, failure type and error', () => {
  const cases: [Answer, string, string][] = [
    [{ status: 429 }, 'retry', 'transient_error'],
    [{ status: 500 }, 'retry', 'transient_error'],
    [{ status: 503 }, 'retry', 'transient_error'],
    [{ status: 400, code: 'range-too-long' }, 'split', 'system_error'],
    [{ status: 400, code: 'invalid-package-query' }, 'fail', 'config_error'],
    [{ status: 403, code: 'not-a-pro-member' }, 'fail', 'config_error'],
    [{ status: 403, message: 'Your plan is not eligible for exports' }, 'fail', 'config_error'],
    [{ status: 401 }, 'fail', 'config_error'],
    [{ status: 403 }, 'fail', 'config_error'],
    [{ status: 404 }, 'fail', 'config_error'],
    [{ status: 400, code: 'something-else' }, 'fail', 'system_error'],
    [{ status: 418 }, 'fail', 'system_error'],
  ];
  for (const [answer, action, failureType] of cases) {
    it(`${answer.status}${answer.code ? ' ' + answer.code : ''}${answer.message ? ' "' + answer.message + '"' : ''} → ${action}, ${failureType}`, () => {
      const rule = answerRule(answer);
      expect(rule.action).to.equal(action);
      expect(rule.failureType).to.equal(failureType);
      if (action === 'retry') return;
      const err = answerError(answer, ctx, (hint) => `label: ${hint}`);
      expect(err).to.be.instanceOf(action === 'split' ? RangeTooLongError : ApiError);
      expect(err.failureType).to.equal(failureType);
      expect(err.status).to.equal(answer.status);
      expect(err.code).to.equal(answer.code);
      expect(err.message).to.match(/^label: /);
    });
  }

  it('a 404 names what was not found: the package for events, the company domain, the export for the 2026 ones', () => {
    expect(answerError({ status: 404 }, ctx, (h) => h).message).to.match(/owner 'acme' or package not found/);
    const company = { ...ctx, endpoint: 'company-events' as const, domain: 'globex.com' };
    expect(answerError({ status: 404 }, company, (h) => h).message).to.match(/company domain 'globex\.com' not found/);
    for (const endpoint of ['pixel-events', 'company-package-rollup', 'company-pixel-rollup'] as const) {
      const message = answerError({ status: 404 }, { ...ctx, endpoint }, (h) => h).message;
      expect(message).to.include(`owner 'acme' not found, or Scarf has no ${endpoint} export for it`);
      expect(message).to.not.include('package not found');
    }
  });

  it('the 403 rows tell a plan that cannot export from a rejected token', () => {
    expect(answerError({ status: 403, code: 'not-a-pro-member' }, ctx, (h) => h).message).to.match(
      /not eligible for data export/,
    );
    expect(answerError({ status: 403 }, ctx, (h) => h).message).to.match(/rejected the API token \(HTTP 403\)/);
  });
});

describe('errors: two families, failures and signals', () => {
  it('signals (retry the request, stop the sync) are not failures, and failures are not signals', () => {
    for (const s of [new IncompleteBodyError('cut'), new NotAnExportError('html'), new AbortedError()]) {
      expect(s).to.be.instanceOf(Signal);
      expect(s).to.not.be.instanceOf(TapError);
    }
    expect(new NotAnExportError('x')).to.be.instanceOf(IncompleteBodyError);
    expect(new NotAnExportError('x').name).to.equal('NotAnExportError');
    expect(new ConfigError('x')).to.not.be.instanceOf(Signal);
    expect(new ConfigError('x').failureType).to.equal('config_error');
  });
});
