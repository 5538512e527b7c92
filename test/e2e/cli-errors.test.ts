// What a user sees when something is wrong: one clear message, non-zero exit, empty stdout,
// and never the token.
import { expect } from 'chai';

import { ScarfSimulator } from '../../sim/index.js';
import { runTap, tmpDir, writeJson } from '../helpers/tap.js';
import { TOKEN } from '../helpers/token.js';

describe('bad configuration and API refusals (Singer)', function () {
  this.timeout(60_000);
  let sim: ScarfSimulator;
  let dir: string;
  before(async () => {
    sim = new ScarfSimulator({
      token: TOKEN,
      dataStart: '2026-09-01',
      dataEnd: '2026-10-31',
      now: new Date('2026-11-01T00:00:00Z'),
    });
    await sim.start();
    dir = tmpDir();
  });
  after(async () => sim.stop());

  const base = () => ({
    api_token: TOKEN,
    owner: 'acme-oss',
    base_url: sim.url,
    start_date: '2026-10-01',
    end_date: '2026-10-01',
  });

  const cases: { name: string; config: () => Record<string, unknown>; message: RegExp }[] = [
    {
      name: 'missing token',
      config: () => ({ ...base(), api_token: undefined }),
      message: /Missing required setting 'api_token'.*TAP_SCARF_API_TOKEN/,
    },
    { name: 'missing owner', config: () => ({ ...base(), owner: undefined }), message: /Missing required setting 'owner'/ },
    {
      name: 'bad start_date',
      config: () => ({ ...base(), start_date: 'last tuesday' }),
      message: /'start_date'.*not a date.*YYYY-MM-DD/,
    },
    {
      name: 'impossible date',
      config: () => ({ ...base(), start_date: '2026-02-30' }),
      message: /'start_date'.*not a calendar date/,
    },
    {
      name: 'start after end',
      config: () => ({ ...base(), start_date: '2026-10-05', end_date: '2026-10-01' }),
      message: /'start_date' \(2026-10-05\) is after 'end_date'/,
    },
    {
      name: 'wrong type',
      config: () => ({ ...base(), events_window_days: 'two' }),
      message: /Setting 'events_window_days'.*must be integer/,
    },
    {
      name: 'out of range',
      config: () => ({ ...base(), max_concurrent_requests: 0 }),
      message: /'max_concurrent_requests'.*between 1 and 32/,
    },
    {
      name: 'bad enum',
      config: () => ({ ...base(), aggregates_rollup: 'hourly' }),
      message: /'aggregates_rollup'.*one of: daily, weekly, monthly, yearly/,
    },
    {
      name: 'plain http to a remote host',
      config: () => ({ ...base(), base_url: 'http://api.scarf.sh' }),
      message: /base_url.*https/,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → clear error, exit 1, nothing on stdout`, async () => {
      const run = await runTap(['--config', writeJson(dir, 'c.json', c.config())]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(c.message);
      expect(run.stderr).not.to.include(TOKEN);
    });
  }

  it('a config file that is not JSON names the file', async () => {
    const file = writeJson(dir, 'broken.json', '{"api_token": ');
    const run = await runTap(['--config', file]);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr)
      .to.include(file)
      .and.to.match(/not valid JSON/);
  });

  it('later --config files win over earlier ones, and ENV reads TAP_SCARF_* with types', async () => {
    const first = writeJson(dir, 'a.json', { ...base(), owner: 'nobody' });
    const run = await runTap(
      [
        '--config',
        first,
        '--config',
        'ENV',
        '--catalog',
        writeJson(dir, 'cat.json', {
          streams: [{ tap_stream_id: 'events', metadata: [{ breadcrumb: [], metadata: { selected: true } }] }],
        }),
      ],
      {
        env: { TAP_SCARF_OWNER: 'acme-oss', TAP_SCARF_EVENTS_WINDOW_DAYS: '1' },
      },
    );
    expect(run.code, run.stderr).to.equal(0);
  });

  const apiCases: { name: string; cfg: () => Record<string, unknown>; simOpts?: object; message: RegExp }[] = [
    {
      name: '401 bad token',
      cfg: () => ({ ...base(), api_token: 'wrong-token-value' }),
      message: /rejected the API token.*api_token/,
    },
    {
      name: '403 bad token variant',
      cfg: () => ({ ...base(), api_token: 'wrong-token-value' }),
      simOpts: { badTokenStatus: 403 },
      message: /api_token/,
    },
    {
      name: '404 unknown owner',
      cfg: () => ({ ...base(), owner: 'no-such-owner' }),
      message: /owner.*no-such-owner|no-such-owner.*owner/,
    },
    { name: '403 plan not eligible', cfg: () => base(), simOpts: { plan: 'free' }, message: /plan|eligible/i },
  ];
  for (const c of apiCases) {
    it(`${c.name} → one clear error naming the likely cause, exit 1`, async () => {
      if (c.simOpts) sim.setOptions(c.simOpts);
      try {
        const run = await runTap(['--config', writeJson(dir, 'api.json', c.cfg())]);
        expect(run.code).to.equal(1);
        expect(run.stderr).to.match(c.message);
        expect(run.messages.filter((m) => m.type === 'RECORD')).to.have.length(0);
        expect(run.stdout + run.stderr).not.to.include(TOKEN);
        // The same cause would fail every stream: the sync stops after the first refusal.
        expect(sim.requests.filter((r) => r.status >= 400).length).to.be.at.most(2);
      } finally {
        sim.setOptions({ badTokenStatus: 401, plan: 'pro' });
        sim.resetRequests();
      }
    });
  }

  it('a wrong token with four streams selected: the last line says the cause once, first, and counts the streams that did not run', async () => {
    const run = await runTap(['--config', writeJson(dir, 'api.json', { ...base(), api_token: 'wrong-token-value' })]);
    expect(run.code).to.equal(1);
    const last = run.stderr.trimEnd().split('\n').at(-1)!;
    expect(last).to.match(/^ERROR Scarf rejected the API token \(HTTP 401\)\. Check the api_token setting/);
    expect(last).to.match(
      /No selected stream could sync: events met this first \(request: aggregates counts \S+ \(read for verify_counts\)\), and 3 other selected stream\(s\) did not run \(aggregates, company_rollup, company_events\): the same cause would fail them\.$/,
    );
    expect(last.match(/api_token/g)).to.have.length(1);
    expect(last).not.to.include('stream(s) failed');
    sim.resetRequests();
  });

  it('a state file that is not JSON, or holds a bad bookmark, fails before any request', async () => {
    sim.resetRequests();
    for (const [content, message] of [
      ['{not json', /not valid JSON.*start again from start_date/],
      [
        JSON.stringify({ bookmarks: { events: { replication_key: 'time', replication_key_value: 'yesterday' } } }),
        /stream 'events'.*not a valid date.*delete its entry/,
      ],
    ] as const) {
      const run = await runTap([
        '--config',
        writeJson(dir, 's-c.json', base()),
        '--state',
        writeJson(dir, 'bad-state.json', content),
      ]);
      expect(run.code).to.equal(1);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(message);
    }
    expect(sim.requests).to.have.length(0);
  });
});
