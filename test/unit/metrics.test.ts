// src/metrics.ts with a fake clock: record_count every interval (60 s by default) and at the end.
import { expect } from 'chai';

import { readRuntimeOptions } from '../../src/config/runtime-options.js';
import { getLogSink, setLogSink } from '../../src/log.js';
import { METRIC_INTERVAL_MS, RecordCounter } from '../../src/metrics.js';

describe('record_count metric', () => {
  const lines: unknown[] = [];
  const saved = getLogSink();
  before(() => setLogSink((_level, message) => lines.push(JSON.parse(message.replace(/^METRIC: /, '')))));
  after(() => setLogSink(saved));
  beforeEach(() => (lines.length = 0));

  it('counts the records since its last line, once a minute while records flow, tagged with the partition of the record that made it due', () => {
    const clock = { t: 0 };
    const counter = new RecordCounter<{ d: string }>(
      'company_events',
      (r) => ({ company_domain: r.d }),
      60_000,
      () => clock.t,
    );
    for (let i = 0; i < 5; i++) counter.increment({ d: 'a.com' });
    clock.t = 59_999;
    counter.increment({ d: 'a.com' });
    expect(lines, 'nothing within the minute').to.deep.equal([]);
    clock.t = 60_000;
    counter.increment({ d: 'b.com' });
    clock.t = 61_000;
    counter.increment({ d: 'b.com' });
    counter.done();
    expect(lines).to.deep.equal([
      {
        type: 'counter',
        metric: 'record_count',
        value: 7,
        tags: { stream: 'company_events', context: { company_domain: 'b.com' } },
      },
      { type: 'counter', metric: 'record_count', value: 1, tags: { stream: 'company_events' } },
    ]);
  });

  it('a stream without records still ends with a line of 0; the interval is 60 s unless the testing knob says otherwise', () => {
    new RecordCounter('events').done();
    expect(lines).to.deep.equal([{ type: 'counter', metric: 'record_count', value: 0, tags: { stream: 'events' } }]);
    expect(readRuntimeOptions({}).metricIntervalMs).to.equal(METRIC_INTERVAL_MS).and.to.equal(60_000);
    expect(readRuntimeOptions({ TAP_SCARF_METRIC_INTERVAL_MS: '250' }).metricIntervalMs).to.equal(250);
  });
});
