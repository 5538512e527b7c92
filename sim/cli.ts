#!/usr/bin/env node
// `tap-scarf-sim [options]` (or `npm run sim -- [options]` in a checkout): the simulator as a
// standalone server for manual runs and the bench.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Command, InvalidArgumentError } from 'commander';

import { type FaultSpec, validateFaults } from './faults.js';
import { DEFAULT_TOKEN, type SimOptions } from './options.js';
import { ScarfSimulator } from './server.js';

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const rate = (v: string) => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be within 0..1');
  return n;
};

// Not JSON → passed on as text, so the option check names the problem and exits 2 like the others.
const json = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

const program = new Command('tap-scarf-sim')
  .description('Scarf export API simulator on 127.0.0.1, with ground truth and fault injection')
  .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', int('port'), 8787)
  .option('--seed <n>', 'data seed', int('seed'), 1)
  .option('--token <token>', 'accepted bearer token', DEFAULT_TOKEN)
  .option('--owner <name>', 'the only known owner (v2: in any case; v3: exactly as given)', 'acme-oss')
  .option('--plan <plan>', 'pro | free (free → 403 not-a-pro-member)', 'pro')
  .option('--bad-token-status <n>', '401 | 403 for a bad or missing token', int('bad-token-status'), 401)
  .option('--now <iso>', 'fix the sim clock (default: real time)')
  .option('--data-start <day>', 'first day with events (YYYY-MM-DD)')
  .option('--data-end <day>', 'last day with events (YYYY-MM-DD; default: open-ended)')
  .option('--events-per-day <n>', 'anonymous events per day', int('events-per-day'), 40)
  .option('--companies <n>', 'identifiable companies', int('companies'), 12)
  .option('--timestamp-style <style>', 'pg | iso', 'pg')
  .option('--boolean-style <style>', 'tf | truefalse', 'tf')
  .option('--column-set <set>', 'current | legacy | shuffled | extra', 'current')
  .option('--rollup-seen-style <style>', 'date | timestamp', 'date')
  .option('--max-range-days <n>', 'longest inclusive date range before 400 range-too-long', int('max-range-days'), 31)
  .option('--duplicate-rate <r>', 'share of events sent twice', rate, 0.03)
  .option('--late-rate <r>', 'share of events arriving 6–40 h late', rate, 0.05)
  .option('--latency-ms <n>', 'delay before every response', int('latency-ms'), 0)
  .option('--cache-bodies', 'render each body once and replay it (for throughput benchmarks; use with --now)', false)
  .option('--faults <json>', 'JSON array of FaultSpec to arm at start')
  .option(
    '--aggregates-count-skew <n|json>',
    'add n to every by-total/by-company aggregates total (or JSON {"YYYY-MM-DD": n, …})',
    json,
  )
  .option('--aggregates-count-scale <x|json>', 'multiply those totals by x (or JSON {"YYYY-MM-DD": x, …})', json)
  .option('--count-distortion-on <api>', 'both | v2 | v3: which counts the skew and scale change', 'both')
  .option('--no-pixels-in-events', '/v2/packages/{owner}/events leaves pixel views out')
  .option('--v2-aggregates <answer>', 'rows | empty | 404 | 410: what v2 aggregates answers', 'rows')
  .option('--no-final-newline', 'every body ends without a line break after its last row')
  .option('--aggregations-max-days <n>', 'longest v3 window (end exclusive)', int('aggregations-max-days'), 366)
  .option('--aggregations-narrow <json>', 'v3 answers a narrower window: JSON {"start": days, "end": days}', json)
  .option('--no-plan-includes-aggregations', 'v3 answers 403: the plan does not include aggregation exports')
  .option(
    '--revisions <json>',
    'retroactive attribution: JSON [{"at": ISO, "day": YYYY-MM-DD, "domain": …, "share": 0.25}]',
    json,
  )
  .option('--artifact-lag-days <json>', 'events of these artifacts arrive days late: JSON {"name": days}', json);

// This file runs as dist/sim/cli.js of a checkout or of the installed package; both hold the
// README at sim/README.md (package.json "files").
const readme = fileURLToPath(new URL('../../sim/README.md', import.meta.url));
program.addHelpText(
  'after',
  `\nOptions, faults, ground truth and the control API (/_sim/…): ${existsSync(readme) ? readme : 'sim/README.md of tap-scarf'}`,
);

program.parse();
const o = program.opts();

function fail(message: string): never {
  process.stderr.write(`tap-scarf-sim: ${message}\n`);
  process.exit(2);
}
const why = (err: unknown) => (err instanceof Error ? err.message : String(err));

let faults: FaultSpec[] = [];
try {
  if (o.faults) faults = validateFaults(JSON.parse(o.faults));
} catch (err) {
  fail(`--faults: ${why(err)}`);
}

const opts: SimOptions = {
  seed: o.seed,
  token: o.token,
  owner: o.owner,
  plan: o.plan,
  badTokenStatus: o.badTokenStatus,
  now: o.now ? new Date(o.now) : undefined,
  dataStart: o.dataStart,
  dataEnd: o.dataEnd,
  eventsPerDay: o.eventsPerDay,
  companies: o.companies,
  timestampStyle: o.timestampStyle,
  booleanStyle: o.booleanStyle,
  columnSet: o.columnSet,
  rollupSeenStyle: o.rollupSeenStyle,
  maxRangeDays: o.maxRangeDays,
  duplicateRate: o.duplicateRate,
  lateRate: o.lateRate,
  latencyMs: o.latencyMs,
  cacheBodies: o.cacheBodies,
  aggregatesCountSkew: o.aggregatesCountSkew,
  aggregatesCountScale: o.aggregatesCountScale,
  countDistortionOn: o.countDistortionOn,
  pixelsInEvents: o.pixelsInEvents,
  v2Aggregates: o.v2Aggregates,
  finalNewline: o.finalNewline,
  aggregationsMaxDays: o.aggregationsMaxDays,
  aggregationsNarrow: o.aggregationsNarrow,
  planIncludesAggregations: o.planIncludesAggregations,
  revisions: o.revisions,
  artifactLagDays: o.artifactLagDays,
};
for (const k of Object.keys(opts) as (keyof SimOptions)[]) if (opts[k] === undefined) delete opts[k];

let sim: ScarfSimulator;
try {
  if (opts.now && Number.isNaN(opts.now.getTime())) throw new Error(`--now: not a date: ${o.now}`);
  sim = new ScarfSimulator(opts);
} catch (err) {
  fail(why(err));
}
sim.setFaults(faults);
const url = await sim.start(o.port);
process.stdout.write(`Scarf simulator listening on ${url} (owner ${sim.options.owner}, token ${sim.options.token})\n`);

const shutdown = () => {
  sim.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
