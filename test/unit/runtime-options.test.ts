// The environment knobs are read once into one object (src/config/runtime-options.ts); a value
// the tap cannot use is a configuration error that names the variable and what it takes.
import { expect } from 'chai';

import { readRuntimeOptions, RUNTIME_DEFAULTS, runtimeOptions, setRuntimeOptions } from '../../src/config/runtime-options.js';
import { ConfigError } from '../../src/errors.js';
import { maxRowChars } from '../../src/scarf/body.js';
import { csvPath } from '../../src/streams/engine/fetch.js';
import { throttleOptions } from '../../src/streams/engine/runner.js';

describe('config/runtime-options: the environment knobs, read once and checked', () => {
  it('nothing set (or set empty): the defaults', () => {
    const defaults = {
      retryBaseMs: 1000,
      maxRowChars: 8 * 1024 * 1024,
      csvPath: 'fast',
      metricIntervalMs: 60_000,
      stateIntervalMs: 10_000,
      debug: false,
      progress: true,
    };
    expect(readRuntimeOptions({})).to.deep.equal(defaults).and.to.deep.equal(RUNTIME_DEFAULTS);
    const empty = Object.fromEntries(
      [
        'TAP_SCARF_RETRY_BASE_MS',
        'TAP_SCARF_MAX_ROW_BYTES',
        'TAP_SCARF_CSV_PATH',
        'TAP_SCARF_METRIC_INTERVAL_MS',
        'TAP_SCARF_STATE_INTERVAL_MS',
        'TAP_SCARF_DEBUG',
        'TAP_SCARF_PROGRESS',
      ].map((k) => [k, '']),
    );
    expect(readRuntimeOptions(empty)).to.deep.equal(defaults);
  });

  it('each variable sets its option', () => {
    expect(
      readRuntimeOptions({
        TAP_SCARF_RETRY_BASE_MS: '5',
        TAP_SCARF_MAX_ROW_BYTES: '1048576',
        TAP_SCARF_CSV_PATH: ' Reference ',
        TAP_SCARF_METRIC_INTERVAL_MS: '250',
        TAP_SCARF_STATE_INTERVAL_MS: '0',
        TAP_SCARF_DEBUG: '1',
        TAP_SCARF_PROGRESS: '0',
      }),
    ).to.deep.equal({
      retryBaseMs: 5,
      maxRowChars: 1048576,
      csvPath: 'reference',
      metricIntervalMs: 250,
      stateIntervalMs: 0,
      debug: true,
      progress: false,
    });
    expect(readRuntimeOptions({ TAP_SCARF_CSV_PATH: 'fast', TAP_SCARF_PROGRESS: '1' })).to.include({
      csvPath: 'fast',
      progress: true,
    });
  });

  const bad: [string, string, RegExp][] = [
    [
      'TAP_SCARF_RETRY_BASE_MS',
      'soon',
      /^The environment variable TAP_SCARF_RETRY_BASE_MS is "soon": use a number of milliseconds, 0 or more \(the default is 1000\), or unset it\.$/,
    ],
    ['TAP_SCARF_RETRY_BASE_MS', '-5', /TAP_SCARF_RETRY_BASE_MS is "-5": use a number of milliseconds, 0 or more/],
    [
      'TAP_SCARF_METRIC_INTERVAL_MS',
      'x',
      /TAP_SCARF_METRIC_INTERVAL_MS is "x": use a number of milliseconds, 0 or more \(the default is 60000\)/,
    ],
    [
      'TAP_SCARF_STATE_INTERVAL_MS',
      '-1',
      /TAP_SCARF_STATE_INTERVAL_MS is "-1": use a number of milliseconds, 0 or more \(the default is 10000\)/,
    ],
    ['TAP_SCARF_STATE_INTERVAL_MS', ' ', /TAP_SCARF_STATE_INTERVAL_MS is " "/],
    [
      'TAP_SCARF_MAX_ROW_BYTES',
      '0',
      /TAP_SCARF_MAX_ROW_BYTES is "0": use a whole number of bytes above 0 \(the default is 8388608, 8 MiB\)/,
    ],
    ['TAP_SCARF_MAX_ROW_BYTES', '1.5', /TAP_SCARF_MAX_ROW_BYTES is "1\.5": use a whole number of bytes above 0/],
    [
      'TAP_SCARF_CSV_PATH',
      'papaparse',
      /^The environment variable TAP_SCARF_CSV_PATH is "papaparse": use 'fast' \(the default\) or 'reference' \(papaparse and the row typer for every row\), or unset it\.$/,
    ],
  ];
  for (const [name, value, message] of bad) {
    it(`${name}=${JSON.stringify(value)}: a configuration error naming the variable`, () => {
      expect(() => readRuntimeOptions({ [name]: value })).to.throw(ConfigError, message);
    });
  }

  it('a long bad value is clipped in the message', () => {
    expect(() => readRuntimeOptions({ TAP_SCARF_CSV_PATH: 'x'.repeat(100) })).to.throw(
      ConfigError,
      new RegExp(`is "${'x'.repeat(40)}…"`),
    );
  });

  it("the modules take this process's options, not the environment", () => {
    const before = runtimeOptions();
    const restore = setRuntimeOptions({ maxRowChars: 1234, csvPath: 'reference', stateIntervalMs: 7 });
    try {
      expect(maxRowChars()).to.equal(1234);
      expect(csvPath(), 'TAP_SCARF_CSV_PATH=reference is the papaparse path').to.equal('papaparse');
      expect(throttleOptions().minIntervalMs).to.equal(7);
    } finally {
      restore();
    }
    expect(runtimeOptions()).to.equal(before);
  });
});
