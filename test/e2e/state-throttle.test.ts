// Throttled checkpoints (src/streams/engine/runner.ts throttledCheckpoints): the state output stays
// linear in the number of partitions, Airbyte's recordCount still adds up across throttled
// states, and the last STATE of every stream still holds every bookmark.
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { runInProcess } from '../helpers/in-process.js';
import { catalogFor, configuredCatalogFor, expectSameRecords, TOKEN } from '../helpers/reliability.js';
import { lastState, records, type TapRun, tmpDir, writeJson } from '../helpers/tap.js';

const SIM_NOW = new Date('2026-10-10T12:00:00Z');
const START = '2026-10-03';
const END = '2026-10-09';

const byteLength = (m: Record<string, any>) => Buffer.byteLength(JSON.stringify(m)) + 1;

interface Measured {
  run: TapRun;
  stateBytes: number;
  states: number;
  recordBytes: number;
  companies: number;
}

async function syncCompanies(companies: number, env: Record<string, string>, protocol: 'singer' | 'airbyte' = 'singer') {
  const sim = new ScarfSimulator({ token: TOKEN, now: SIM_NOW, dataStart: '2026-10-01', eventsPerDay: 5, companies, seed: 3 });
  await sim.start();
  try {
    const dir = tmpDir('tap-scarf-throttle-');
    const config = writeJson(dir, 'config.json', {
      api_token: TOKEN,
      owner: 'acme-oss',
      base_url: sim.url,
      start_date: START,
      end_date: END,
      max_concurrent_requests: 4,
    });
    const streams = ['company_rollup', 'company_events'];
    const args =
      protocol === 'singer'
        ? ['--config', config, '--catalog', writeJson(dir, 'catalog.json', catalogFor(streams))]
        : ['read', '--config', config, '--catalog', writeJson(dir, 'catalog.json', configuredCatalogFor(streams))];
    const run = await runInProcess(args, { env, timeoutMs: 120_000 });
    expect(run.code, run.stderr.slice(-2000)).to.equal(0);
    const states = run.messages.filter((m) => m.type === 'STATE');
    const measured: Measured = {
      run,
      states: states.length,
      stateBytes: states.reduce((n, m) => n + byteLength(m), 0),
      recordBytes: run.messages.filter((m) => m.type === 'RECORD').reduce((n, m) => n + byteLength(m), 0),
      companies: sim.companyDomains().length,
    };
    const truth = sim.companyDomains().flatMap((d) => sim.truth.companyEvents(d, { start: START, end: END }));
    const requested = new Set(sim.requests.filter((r) => r.endpoint === 'company-events').map((r) => r.domain));
    return { measured, truth, requested };
  } finally {
    await sim.stop();
  }
}

describe('throttled checkpoints: state output linear in partitions', function () {
  this.timeout(240_000);

  it('STATE bytes for 2,000 companies are within 2× of linear from 200 (the byte rule alone, no time limit)', async () => {
    // Interval 0: only the rule "work since the last STATE ≥ 10 × its size" throttles, the one
    // that keeps the bytes linear; with one STATE per company the ratio would be ~100.
    const env = { TAP_SCARF_STATE_INTERVAL_MS: '0' };
    const small = await syncCompanies(200, env);
    const large = await syncCompanies(2000, env);
    expectSameRecords(records(large.measured.run, 'company_events'), large.truth, 'id', 'company_events (2,000 companies)');
    const scale = large.measured.companies / small.measured.companies;
    const growth = large.measured.stateBytes / small.measured.stateBytes;
    console.log(
      `      STATE bytes: ${small.measured.companies} companies ${small.measured.stateBytes} (${small.measured.states} STATEs), ${large.measured.companies} companies ${large.measured.stateBytes} (${large.measured.states} STATEs): ${growth.toFixed(1)}× for ${scale.toFixed(1)}× the companies`,
    );
    expect(growth / scale, 'STATE bytes growth over linear').to.be.within(0.5, 2);
    // More than the one final STATE per stream: the byte rule lets intermediate ones through.
    expect(large.measured.states).to.be.greaterThan(3);
    expect(large.measured.stateBytes).to.be.below(large.measured.recordBytes / 2);
    // The last STATE holds every company's bookmark.
    const partitions = lastState(large.measured.run)!.bookmarks.company_events.partitions;
    expect(partitions.length).to.equal(large.requested.size);
  });
});

describe('throttled checkpoints under Airbyte: one per-stream state holds every partition', function () {
  this.timeout(120_000);

  it('recordCount adds up across throttled states, and the last state of company_events has every company', async () => {
    const { measured, truth, requested } = await syncCompanies(400, { TAP_SCARF_STATE_INTERVAL_MS: '0' }, 'airbyte');
    const mine = measured.run.messages.filter(
      (m) =>
        (m.type === 'RECORD' && m.record.stream === 'company_events') ||
        (m.type === 'STATE' && m.state.stream.stream_descriptor.name === 'company_events'),
    );
    const states = mine.filter((m) => m.type === 'STATE');
    expect(states.length, 'intermediate states went out').to.be.greaterThan(1);
    // Fewer than one per company: that is the throttle.
    expect(states.length).to.be.below(40);
    let since = 0;
    for (const m of mine) {
      if (m.type === 'RECORD') since++;
      else {
        expect(m.state.sourceStats.recordCount, 'records since the previous state').to.equal(since);
        since = 0;
      }
    }
    expect(since, 'no record after the last state').to.equal(0);
    const last = states.at(-1)!.state.stream.stream_state;
    expect(last.partitions.length).to.equal(requested.size);
    const data = measured.run.messages.filter((m) => m.type === 'RECORD' && m.record.stream === 'company_events');
    expectSameRecords(
      data.map((m) => m.record.data),
      truth,
      'id',
      'company_events (Airbyte)',
    );
  });
});
