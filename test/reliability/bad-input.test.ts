// The bad-input corpus. Bad configs, states, catalogs and API payloads, each with
// the message the user must see (stderr), the exit code, and what stdout may hold: nothing
// at all when the tap stops before syncing; no RECORD when the API's first answer is bad.
// Cases run a few at a time (each is a process start) and are checked one `it` each.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { expect } from 'chai';

import { catalogFor, runCheckedInProcess, TOKEN } from '../helpers/reliability.js';
import { type TapRun, tmpDir, writeJson } from '../helpers/tap.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A stand-in for Scarf answering exactly what a case says, routed by the owner in the path. */
class StubScarf {
  private server: Server | undefined;
  readonly handlers = new Map<string, Handler>();
  readonly requests: { owner: string; path: string; authorization: string | undefined }[] = [];
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://stub').pathname;
      const owner = decodeURIComponent(path.split('/')[3] ?? '');
      this.requests.push({ owner, path: req.url ?? '', authorization: req.headers.authorization });
      const h = this.handlers.get(owner);
      if (!h) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no such owner","code":"not-found"}');
        return;
      }
      h(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  count(owner: string): number {
    return this.requests.filter((r) => r.owner === owner).length;
  }
}

const CSV =
  (text: string): Handler =>
  (_req, res) =>
    res.writeHead(200, { 'content-type': 'text/csv' }).end(text);
const JSONL =
  (text: string): Handler =>
  (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(text);
const STATUS =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) =>
    res
      .writeHead(status, { 'content-type': 'application/json', ...headers })
      .end(typeof body === 'string' ? body : JSON.stringify(body));

const EVENTS_HEADER =
  'id,type,package,pixel,version,time,referer,user_agent,platform,variables,origin_id,origin_latitude,origin_longitude,origin_country,origin_city,origin_postal,origin_connection_type,origin_company,origin_domain,dnt,confidence,endpoint_id,origin_state,mtc_quota_exceeded';
const row = (over: Record<string, string>): string => {
  const cols = EVENTS_HEADER.split(',');
  const base: Record<string, string> = {
    id: 'e-1',
    type: 'pixel-fetch',
    pixel: 'docs-pixel',
    time: '2026-10-01 10:00:00.123456+00',
    dnt: 'f',
    origin_latitude: '52.52',
  };
  return cols.map((c) => over[c] ?? base[c] ?? '').join(',');
};

/** What stdout may hold: 'empty' (stopped before syncing) or only SCHEMA/STATE messages. */
type StdoutRule = 'empty' | 'no-records';

interface Case {
  group: 'config' | 'state' | 'catalog' | 'api payload';
  name: string;
  /** Config overrides (null removes a setting), or a raw file text. */
  config?: Record<string, unknown> | string;
  state?: unknown;
  catalog?: unknown;
  /** Extra CLI args replacing the defaults (e.g. no --config). */
  args?: (files: { config: string; dir: string }) => string[];
  env?: Record<string, string>;
  /** The stub's answer to this case's requests (api payload cases). */
  api?: Handler;
  code: number;
  message: RegExp;
  stdout: StdoutRule;
  /** Requests the case must make (default 0 for config/state/catalog). */
  requests?: number;
  /** Keys of the (complete) records expected before the failure; default none. */
  records?: string[];
}

const RESET = /delete its entry under "bookmarks"|start again from start_date|meltano state clear/;

const CASES: Case[] = [
  // ---- configs
  {
    group: 'config',
    name: 'not JSON',
    config: '{"api_token": "x", ',
    code: 1,
    stdout: 'empty',
    message: /Config file .*config-\d+\.json is not valid JSON .* Fix the file/,
  },
  {
    group: 'config',
    name: 'a JSON array',
    config: '[1,2]',
    code: 1,
    stdout: 'empty',
    message: /must hold a JSON object of settings, not an array/,
  },
  {
    group: 'config',
    name: 'file does not exist',
    args: ({ dir }) => ['--config', `${dir}/nope.json`],
    code: 1,
    stdout: 'empty',
    message: /Cannot read config file .*nope\.json: ENOENT/,
  },
  {
    group: 'config',
    name: 'no --config at all',
    args: () => [],
    code: 1,
    stdout: 'empty',
    message: /No configuration: pass --config FILE/,
  },
  {
    group: 'config',
    name: 'missing api_token',
    config: { api_token: null },
    code: 1,
    stdout: 'empty',
    message: /Missing required setting 'api_token': set it in the config file or as TAP_SCARF_API_TOKEN/,
  },
  {
    group: 'config',
    name: 'empty owner',
    config: { owner: '' },
    code: 1,
    stdout: 'empty',
    message: /Setting 'owner' .*must not be empty/,
  },
  {
    group: 'config',
    name: 'owner not a string',
    config: { owner: 42 },
    code: 1,
    stdout: 'empty',
    message: /Setting 'owner' .*must be string/,
  },
  {
    group: 'config',
    name: 'start_date not a date',
    config: { start_date: 'last tuesday' },
    code: 1,
    stdout: 'empty',
    message: /'start_date' .*is not a date: use YYYY-MM-DD or RFC3339/,
  },
  {
    group: 'config',
    name: 'start_date impossible',
    config: { start_date: '2026-02-30' },
    code: 1,
    stdout: 'empty',
    message: /'start_date'.*'2026-02-30' is not a calendar date/,
  },
  {
    group: 'config',
    name: 'start_date after end_date',
    config: { start_date: '2026-10-05', end_date: '2026-10-01' },
    code: 1,
    stdout: 'empty',
    message: /'start_date' \(2026-10-05\) is after 'end_date' \(2026-10-01\)/,
  },
  {
    group: 'config',
    name: 'window of 0 days',
    config: { events_window_days: 0 },
    code: 1,
    stdout: 'empty',
    message: /Setting 'events_window_days' .*must be between 1 and/,
  },
  {
    group: 'config',
    name: 'negative max_retries',
    config: { max_retries: -1 },
    code: 1,
    stdout: 'empty',
    message: /Setting 'max_retries' .*must be between 0 and 50/,
  },
  {
    group: 'config',
    name: 'request_timeout_seconds 0',
    config: { request_timeout_seconds: 0 },
    code: 1,
    stdout: 'empty',
    message: /Setting 'request_timeout_seconds' .*must be between 1 and 3600/,
  },
  {
    group: 'config',
    name: 'unknown breakdown',
    config: { aggregates_breakdowns: ['by-planet'] },
    code: 1,
    stdout: 'empty',
    message: /Setting 'aggregates_breakdowns' .*item 0 must be one of: .*by-country/,
  },
  {
    group: 'config',
    name: 'unknown rollup',
    config: { aggregates_rollup: 'hourly' },
    code: 1,
    stdout: 'empty',
    message: /'aggregates_rollup'.*must be one of: daily, weekly, monthly, yearly/,
  },
  {
    group: 'config',
    name: 'plain http base_url to a remote host',
    config: { base_url: 'http://api.scarf.sh' },
    code: 1,
    stdout: 'empty',
    message:
      /base_url setting "http:\/\/api\.scarf\.sh" uses plain http, which would send the API token unencrypted\. Use https .*loopback address/,
  },
  {
    group: 'config',
    name: 'plain http base_url to a private address',
    config: { base_url: 'http://10.0.0.5:8080' },
    code: 1,
    stdout: 'empty',
    message: /uses plain http, which would send the API token unencrypted/,
  },
  {
    group: 'config',
    name: 'plain http base_url to a look-alike of localhost',
    config: { base_url: 'http://localhost.evil.example' },
    code: 1,
    stdout: 'empty',
    message: /uses plain http/,
  },
  {
    group: 'config',
    name: 'base_url with credentials',
    config: { base_url: 'https://me:pw@api.scarf.sh' },
    code: 1,
    stdout: 'empty',
    message: /must not contain a user name or password; the API token goes in the api_token setting/,
  },
  {
    group: 'config',
    name: 'base_url with a query string',
    config: { base_url: 'https://api.scarf.sh/?token=x' },
    code: 1,
    stdout: 'empty',
    message: /must not have a query string or fragment/,
  },
  {
    group: 'config',
    name: 'base_url not http(s)',
    config: { base_url: 'ftp://api.scarf.sh' },
    code: 1,
    stdout: 'empty',
    message: /Setting 'base_url' .*must be an http\(s\) URL such as https:\/\/api\.scarf\.sh/,
  },
  {
    group: 'config',
    name: 'TAP_SCARF_* value of the wrong type',
    args: () => ['--config', 'ENV'],
    env: { TAP_SCARF_API_TOKEN: TOKEN, TAP_SCARF_OWNER: 'x', TAP_SCARF_MAX_RETRIES: 'lots' },
    code: 1,
    stdout: 'empty',
    message: /TAP_SCARF_MAX_RETRIES: 'lots' is not a number; setting 'max_retries' needs a whole number/,
  },
  // ---- states
  {
    group: 'state',
    name: 'not JSON',
    state: '{"bookmarks": {',
    code: 1,
    stdout: 'empty',
    message: /State file .* is not valid JSON .*start again from start_date/,
  },
  {
    group: 'state',
    name: 'a JSON array',
    state: [],
    code: 1,
    stdout: 'empty',
    message: /must be a JSON object like \{"bookmarks": \{\.\.\.\}\}, not an array/,
  },
  {
    group: 'state',
    name: 'bookmarks not an object',
    state: { bookmarks: 'events' },
    code: 1,
    stdout: 'empty',
    message: /"bookmarks" must be an object/,
  },
  {
    group: 'state',
    name: 'a stream bookmark not an object',
    state: { bookmarks: { events: '2026-10-01' } },
    code: 1,
    stdout: 'empty',
    message: /bookmark of stream 'events' must be an object/,
  },
  {
    group: 'state',
    name: 'bookmark not a timestamp',
    state: { bookmarks: { events: { replication_key: 'time', replication_key_value: 'yesterday' } } },
    code: 1,
    stdout: 'empty',
    message: /stream 'events': replication_key_value "yesterday" is not a valid date or RFC3339 timestamp/,
  },
  {
    group: 'state',
    name: 'bookmark a number',
    state: { bookmarks: { aggregates: { replication_key: 'date', replication_key_value: 20261001 } } },
    code: 1,
    stdout: 'empty',
    message: /stream 'aggregates': replication_key_value 20261001 is not a valid date/,
  },
  {
    group: 'state',
    name: 'bookmark an impossible date',
    state: { bookmarks: { events: { replication_key: 'time', replication_key_value: '2026-02-30T00:00:00Z' } } },
    code: 1,
    stdout: 'empty',
    message: /"2026-02-30T00:00:00Z" is not a valid date or RFC3339 timestamp/,
  },
  {
    group: 'state',
    name: 'bookmark an impossible time',
    state: { bookmarks: { events: { replication_key: 'time', replication_key_value: '2026-10-01T25:00:00Z' } } },
    code: 1,
    stdout: 'empty',
    message: /"2026-10-01T25:00:00Z" is not a valid date/,
  },
  {
    group: 'state',
    name: 'partitions not an array',
    state: { bookmarks: { company_events: { partitions: {} } } },
    code: 1,
    stdout: 'empty',
    message: /'company_events'\.partitions must be an array/,
  },
  {
    group: 'state',
    name: 'a partition without context',
    state: { bookmarks: { company_events: { partitions: [{ replication_key_value: '2026-10-01T00:00:00Z' }] } } },
    code: 1,
    stdout: 'empty',
    message: /partitions\[0\] must be an object with a "context"/,
  },
  {
    group: 'state',
    name: 'a partition bookmark not a timestamp',
    state: {
      bookmarks: {
        company_events: {
          partitions: [{ context: { company_domain: 'a.com' }, replication_key: 'time', replication_key_value: 'soon' }],
        },
      },
    },
    code: 1,
    stdout: 'empty',
    message: /partition \{"company_domain":"a\.com"\}: replication_key_value "soon" is not a valid date/,
  },
  {
    group: 'state',
    name: 'file does not exist',
    args: ({ config, dir }) => ['--config', config, '--state', `${dir}/no-state.json`],
    code: 1,
    stdout: 'empty',
    message: /Cannot read state file .*no-state\.json: ENOENT/,
  },
  // ---- catalogs
  {
    group: 'catalog',
    name: 'not JSON',
    catalog: '{"streams": [',
    code: 1,
    stdout: 'empty',
    message: /Catalog file .* is not valid JSON .*Regenerate it with tap-scarf --discover/,
  },
  {
    group: 'catalog',
    name: 'no streams array',
    catalog: {},
    code: 1,
    stdout: 'empty',
    message: /must be a JSON object with a "streams" array \(run tap-scarf --discover to get one\)/,
  },
  {
    group: 'catalog',
    name: 'streams not an array',
    catalog: { streams: { events: {} } },
    code: 1,
    stdout: 'empty',
    message: /"streams" array/,
  },
  {
    group: 'catalog',
    name: 'a stream entry not an object',
    catalog: { streams: [42] },
    code: 1,
    stdout: 'empty',
    message: /streams\[0\] is not an object/,
  },
  {
    group: 'catalog',
    name: 'a stream without tap_stream_id',
    catalog: { streams: [{ metadata: [] }] },
    code: 1,
    stdout: 'empty',
    message: /streams\[0\] has no tap_stream_id/,
  },
  {
    group: 'catalog',
    name: 'unknown replication-key',
    catalog: {
      streams: [
        {
          tap_stream_id: 'company_rollup',
          metadata: [{ breadcrumb: [], metadata: { selected: true, 'replication-key': 'updated_at' } }],
        },
      ],
    },
    code: 1,
    stdout: 'empty',
    message: /stream 'company_rollup' replication-key "updated_at" is not valid; use one of last_seen, first_seen/,
  },
  {
    group: 'catalog',
    name: 'bad replication-method',
    catalog: {
      streams: [
        {
          tap_stream_id: 'events',
          metadata: [{ breadcrumb: [], metadata: { selected: true, 'replication-method': 'LOG_BASED' } }],
        },
      ],
    },
    code: 1,
    stdout: 'empty',
    message: /stream 'events' replication-method "LOG_BASED" is not supported; use INCREMENTAL or FULL_TABLE/,
  },
  {
    group: 'catalog',
    name: 'metadata not an array',
    catalog: { streams: [{ tap_stream_id: 'events', metadata: {} }] },
    code: 1,
    stdout: 'empty',
    message: /stream 'events' metadata must be an array/,
  },
  {
    group: 'catalog',
    name: 'a metadata entry without breadcrumb',
    catalog: { streams: [{ tap_stream_id: 'events', metadata: [{ metadata: { selected: true } }] }] },
    code: 1,
    stdout: 'empty',
    message: /metadata entry without breadcrumb\/metadata/,
  },
  {
    group: 'catalog',
    name: 'file does not exist',
    args: ({ config, dir }) => ['--config', config, '--catalog', `${dir}/no-catalog.json`],
    code: 1,
    stdout: 'empty',
    message: /Cannot read catalog file .*no-catalog\.json: ENOENT/,
  },
  // ---- API payloads (events stream unless said otherwise; the bad answer is the first one)
  {
    group: 'api payload',
    name: '422: another 4xx is not retried',
    api: STATUS(422, { message: 'Unprocessable', code: 'weird' }),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /events \S+: Scarf answered HTTP 422 weird\. Scarf said: "Unprocessable"/,
  },
  {
    group: 'api payload',
    name: '400 invalid-package-query',
    config: { package_query: 'x y' },
    api: STATUS(400, { message: 'bad query', code: 'invalid-package-query' }),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /400 invalid-package-query: check the package_query setting/,
  },
  {
    group: 'api payload',
    name: 'a redirect is not followed (the token stays with base_url)',
    api: STATUS(302, '', { location: 'http://127.0.0.1:9/elsewhere' }),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message:
      /the server answered HTTP 302, a redirect to http:\/\/127\.0\.0\.1:9, instead of an export\. tap-scarf does not follow redirects .*check the base_url setting/,
  },
  {
    group: 'api payload',
    name: '401 is not retried',
    api: STATUS(401, { message: 'Invalid or missing API token', code: 'unauthorized' }),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /Scarf rejected the API token \(HTTP 401\)\. Check the api_token setting/,
  },
  {
    group: 'api payload',
    name: '500 every time: retries run out',
    config: { max_retries: 2 },
    api: STATUS(500, { message: 'boom' }),
    code: 1,
    stdout: 'no-records',
    requests: 3,
    message: /giving up after 3 attempts \(max_retries 2, .*\); last failure: HTTP 500/,
  },
  {
    group: 'api payload',
    name: 'a body cut mid-row every time: retries run out; the complete row is emitted once, the cut one never',
    config: { max_retries: 1 },
    records: ['e-1'],
    api: CSV(`${EVENTS_HEADER}\n${row({ id: 'e-1' })}\ne-2,pixel-fetch,,docs-pi`),
    code: 1,
    stdout: 'no-records',
    requests: 2,
    message:
      /giving up after 2 attempts .*last failure: incomplete body: the CSV body ended without a line break in the middle of row 2 \(4 of 24 fields\)/,
  },
  {
    group: 'api payload',
    name: 'an HTML page instead of CSV',
    api: (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>\n'),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /window events \S+: the server answered an HTML page with Content-Type "text\/html" instead of a CSV export/,
  },
  {
    group: 'api payload',
    name: 'a header naming a column twice',
    api: CSV(`${EVENTS_HEADER},time\n${row({})},x\n`),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /names column "time" twice/,
  },
  {
    group: 'api payload',
    name: 'an empty key',
    api: CSV(`${EVENTS_HEADER}\n${row({ id: '' })}\n`),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /Stream events, window events \S+, row 1: column "id" is empty, but every events record needs it/,
  },
  {
    group: 'api payload',
    name: 'a malformed quoted field',
    api: CSV(`${EVENTS_HEADER}\n${row({ referer: '"https://a"b' })}\n`),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /Stream events, window events \S+: CSV data row 1 has a malformed quoted field/,
  },
  {
    group: 'api payload',
    name: 'a timestamp with an impossible offset',
    api: CSV(`${EVENTS_HEADER}\n${row({ time: '2026-10-01 10:00:00+25' })}\n`),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /row 1: column "time": invalid timestamp "2026-10-01 10:00:00\+25"/,
  },
  {
    group: 'api payload',
    name: 'a number that is not one',
    api: CSV(`${EVENTS_HEADER}\n${row({ origin_latitude: 'NaN' })}\n`),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /row 1: column "origin_latitude": invalid number "NaN"/,
  },
  {
    group: 'api payload',
    name: 'aggregates: a line that is a JSON array',
    catalog: catalogFor(['aggregates']),
    api: JSONL('[1,2,3]\n'),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /Stream aggregates, window aggregates \S+: NDJSON line 1 is not a JSON object: "\[1,2,3\]"/,
  },
  {
    group: 'api payload',
    name: 'aggregates: a row without its date',
    catalog: catalogFor(['aggregates']),
    api: JSONL('{"artifact":"a","breakdown":"by-total","rollup":"daily","total":3}\n'),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /Stream aggregates, window aggregates \S+, line 1: field "date" is empty, but every aggregates record needs it/,
  },
  {
    group: 'api payload',
    name: 'aggregates: a fractional count',
    catalog: catalogFor(['aggregates']),
    api: JSONL('{"date":"2026-10-01","artifact":"a","breakdown":"by-total","rollup":"daily","total":2.5}\n'),
    code: 1,
    stdout: 'no-records',
    requests: 1,
    message: /line 1: field "total": invalid integer 2\.5/,
  },
];

describe('bad input corpus: configs, states, catalogs, API payloads', function () {
  this.timeout(120_000);
  const stub = new StubScarf();
  let dir: string;
  const results = new Map<Case, TapRun>();

  const ownerOf = (i: number) => `case-${i}`;

  before(async function () {
    await stub.start();
    dir = tmpDir('tap-scarf-bad-input-');
    const base = (i: number) => ({
      api_token: TOKEN,
      owner: ownerOf(i),
      base_url: stub.url,
      start_date: '2026-10-01',
      end_date: '2026-10-01',
      max_concurrent_requests: 1,
      // The stub answers every request with the case's payload, Scarf's counts included: the
      // cases are about the export's answer, so its request is the only one.
      verify_counts: false,
    });
    const runCase = async (c: Case, i: number): Promise<void> => {
      if (c.api) stub.handlers.set(ownerOf(i), c.api);
      let config: string;
      if (typeof c.config === 'string') config = writeJson(dir, `config-${i}.json`, c.config);
      else {
        const merged: Record<string, unknown> = { ...base(i), ...(c.config ?? {}) };
        for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
        config = writeJson(dir, `config-${i}.json`, merged);
      }
      const args = c.args
        ? c.args({ config, dir })
        : [
            '--config',
            config,
            '--catalog',
            writeJson(
              dir,
              `catalog-${i}.json`,
              typeof c.catalog === 'string' ? c.catalog : (c.catalog ?? catalogFor(['events'])),
            ),
            ...(c.state !== undefined
              ? ['--state', writeJson(dir, `state-${i}.json`, typeof c.state === 'string' ? c.state : JSON.stringify(c.state))]
              : []),
          ];
      results.set(c, await runCheckedInProcess(args, { env: c.env }));
    };
    // A few processes at a time: each case is mostly process start-up.
    let next = 0;
    const worker = async () => {
      while (next < CASES.length) {
        const i = next++;
        await runCase(CASES[i]!, i);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  });
  after(async () => stub.stop());

  CASES.forEach((c, i) => {
    it(`${c.group}: ${c.name} → exit ${c.code}, ${c.message}`, () => {
      const run = results.get(c)!;
      expect(run.code, run.stderr).to.equal(c.code);
      expect(run.stderr, 'the message').to.match(c.message);
      // The reason is the last message (its continuation lines are indented): nothing after it buries it.
      const last = run.stderr
        .trim()
        .split('\n')
        .filter((l) => !/^\s/.test(l))
        .pop()!;
      expect(last, 'the last stderr message').to.match(/^ERROR /);
      if (c.stdout === 'empty') expect(run.stdout, 'stdout').to.equal('');
      else {
        expect(run.badLines).to.deep.equal([]);
        const keys = run.messages.filter((m) => m.type === 'RECORD').map((m) => m.record.id ?? m.record.row_key);
        expect(keys, 'records before the failure (complete ones only, each once)').to.deep.equal(c.records ?? []);
        expect(
          run.messages.filter((m) => m.type === 'STATE').every((m) => JSON.stringify(m.value) === '{"bookmarks":{}}'),
          'no bookmark moved',
        ).to.equal(true);
        expect(run.messages.every((m) => ['SCHEMA', 'RECORD', 'STATE'].includes(m.type))).to.equal(true);
      }
      expect(stub.count(ownerOf(i)), 'requests made').to.equal(c.requests ?? 0);
      if (c.group === 'state' && c.state !== undefined) expect(run.stderr, 'how to reset').to.match(RESET);
    });
  });
});
