// The checks every tap should pass, run alike for both protocols (what the Meltano SDK's
// get_tap_test_class gives a Python tap): the catalog is valid, every stream syncs exactly
// the simulator's ground truth, no key repeats, every record fits the schema the tap
// announced for it, and a second sync from the first one's state re-reads only its lookback.
// Airbyte output is also checked message by message against the protocol's own definition,
// which must be present (a missing one fails here, it is never skipped).
// Runs in the test process (helpers/in-process.ts): the same main() as the bins.
import type { ValidateFunction } from 'ajv';
import { expect } from 'chai';

import { newAjv } from '../../src/ajv.js';
import { STREAM_NAMES, type StreamName } from '../../src/schemas.js';
import { STREAMS } from '../../src/streams/registry.js';
import { aggregationsRecord } from '../helpers/aggregations.js';
import { runInProcess } from '../helpers/in-process.js';
import { keyOf, type Msg, type Protocol, TapOutput } from '../helpers/output.js';
import { requiredProtocolValidators } from '../helpers/protocol.js';
import { catalogFor, configuredCatalogFor } from '../helpers/reliability.js';
import { useSimulator } from '../helpers/sim-suite.js';
import { writeJson } from '../helpers/tap.js';

const OWNER = 'acme-oss';
const START = '2026-10-01';
const END = '2026-10-08';
/** Short lookbacks, so a second sync that re-read everything from start_date would show. */
const LOOKBACK = { lookback_days: 1, aggregates_lookback_days: 2, aggregations_rewrite_days: 2 } as const;

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

for (const protocol of ['singer', 'airbyte'] as const satisfies Protocol[]) {
  describe(`standard tests (${protocol})`, function () {
    this.timeout(120_000);
    const suite = useSimulator(
      { seed: 23, dataStart: '2026-09-01', now: new Date('2026-10-10T12:00:00Z'), eventsPerDay: 30, companies: 8 },
      { start_date: START, end_date: END, aggregates_breakdowns: ['by-total', 'by-company'], ...LOOKBACK },
      'tap-scarf-standard-',
    );

    /** Every stream, the opt-in ones too. */
    const catalogFile = () =>
      writeJson(
        suite.dir,
        `catalog-${protocol}.json`,
        protocol === 'singer' ? catalogFor([...STREAM_NAMES]) : configuredCatalogFor([...STREAM_NAMES]),
      );

    async function run(args: string[]): Promise<TapOutput> {
      const out = new TapOutput(await runInProcess(args), protocol);
      // (Singer's --discover prints one indented catalog document, not message lines.)
      if (args[0] !== '--discover') expect(out.run.badLines, 'stdout holds only protocol messages').to.deep.equal([]);
      if (protocol === 'airbyte') {
        const { message } = requiredProtocolValidators();
        out.messages.forEach((m, i) =>
          expect(message(m), `message ${i + 1}: ${JSON.stringify(m).slice(0, 300)}`).to.equal(undefined),
        );
      }
      return out;
    }

    async function sync(state?: Msg | Msg[]): Promise<TapOutput> {
      const args = ['--config', suite.config(), '--catalog', catalogFile()];
      if (state) args.push('--state', writeJson(suite.dir, `state-${protocol}.json`, state));
      const out = await run(protocol === 'singer' ? args : ['read', ...args]);
      expect(out.code, out.stderr.slice(-2000)).to.equal(0);
      expect(out.errors).to.deep.equal([]);
      return out;
    }

    /** The stream schemas the tap announces: Singer's from --discover, Airbyte's from discover. */
    async function discovered(): Promise<Map<StreamName, { schema: Msg; key: string[] }>> {
      const out = await run(protocol === 'singer' ? ['--discover'] : ['discover', '--config', suite.config()]);
      expect(out.code, out.stderr).to.equal(0);
      const found = new Map<StreamName, { schema: Msg; key: string[] }>();
      if (protocol === 'singer') {
        const catalog = JSON.parse(out.stdout);
        for (const s of catalog.streams) found.set(s.tap_stream_id, { schema: s.schema, key: s.key_properties });
      } else {
        expect(out.messages.map((m) => m.type)).to.deep.equal(['CATALOG']);
        for (const s of out.messages[0]!.catalog.streams)
          found.set(s.name, { schema: s.json_schema, key: s.source_defined_primary_key.map((p: string[]) => p.join('.')) });
      }
      return found;
    }

    /** What a correct sync of START..END emits, per stream, from the simulator. */
    function truth(stream: StreamName): Msg[] {
      const { truth: t } = suite.sim;
      const range = { start: START, end: END };
      const owned = (rows: Msg[]) => rows.map((r) => ({ owner: OWNER, ...r, extra_fields: null }));
      switch (stream) {
        case 'events':
          return t.events(range);
        case 'pixel_events':
          return t.pixelEvents(range);
        case 'aggregates':
          return t.aggregates({ ...range, rollup: 'daily', breakdowns: ['by-total', 'by-company'] });
        case 'company_rollup':
          return t.companyRollup();
        case 'company_events':
          return suite.sim.companyDomains().flatMap((d) => t.companyEvents(d, range));
        case 'company_package_rollup':
          return owned(t.companyPackageRollup(range));
        case 'company_pixel_rollup':
          return owned(t.companyPixelRollup(range));
        case 'aggregations':
          // v3 windows end the day after the last one (exclusive).
          return t.aggregations({ start_date: START, end_date: addDays(END, 1) }).map((r) => aggregationsRecord(r, OWNER));
      }
    }

    it('discovery: every stream once, a schema that compiles, its primary key and cursor among its properties', async () => {
      const found = await discovered();
      expect([...found.keys()].sort()).to.deep.equal([...STREAM_NAMES].sort());
      const ajv = newAjv();
      for (const [stream, { schema, key }] of found) {
        expect(() => ajv.compile(schema), stream).not.to.throw();
        expect(key, stream).to.deep.equal(STREAMS[stream].keyProperties);
        for (const p of [...key, ...STREAMS[stream].validReplicationKeys])
          expect(schema.properties, `${stream}: ${p}`).to.have.property(p);
      }
    });

    it('a full sync: every stream equals the ground truth, no key twice, every record valid against its announced schema; a second sync from its state re-reads only the lookback', async () => {
      const ajv = newAjv({ allErrors: true });
      const validators = new Map<StreamName, ValidateFunction>();
      if (protocol === 'airbyte') for (const [s, d] of await discovered()) validators.set(s, ajv.compile(d.schema));

      const first = await sync();
      if (protocol === 'singer')
        // Each stream's SCHEMA message, before its first RECORD, is what its records are checked against.
        for (const m of first.messages) {
          if (m.type === 'SCHEMA') validators.set(m.stream, ajv.compile(m.schema));
          if (m.type === 'RECORD')
            expect(validators.has(m.stream), `SCHEMA before the first RECORD of ${m.stream}`).to.equal(true);
        }
      const byStream = first.recordsByStream();
      for (const stream of STREAM_NAMES) {
        const got = byStream.get(stream) ?? [];
        const want = truth(stream);
        expect(want.length, `${stream}: the simulator has data for this range`).to.be.greaterThan(0);
        const keys = got.map((r) => keyOf(stream, r));
        expect(keys.length - new Set(keys).size, `${stream}: keys emitted twice`).to.equal(0);
        const sorted = (rows: Msg[]) => [...rows].sort((a, b) => (keyOf(stream, a) < keyOf(stream, b) ? -1 : 1));
        expect(sorted(got), `${stream}: records`).to.deep.equal(sorted(want));
        const validate = validators.get(stream)!;
        for (const r of got)
          expect(validate(r) ? undefined : ajv.errorsText(validate.errors), `${stream} ${keyOf(stream, r)}`).to.equal(undefined);
      }

      const second = await sync(first.storedState);
      const again = second.recordsByStream();
      for (const stream of STREAM_NAMES) {
        const { lookback, defaultReplicationKey, window } = STREAMS[stream];
        const rows = again.get(stream) ?? [];
        if (window === 'snapshot') {
          // A snapshot is read whole and filtered by the tap: only rows at or after the bookmark, the latest cursor value emitted.
          const bookmark = (byStream.get(stream) ?? [])
            .map((r) => String(r[defaultReplicationKey]))
            .sort()
            .at(-1)!;
          const known = new Set(truth(stream).map((r) => JSON.stringify(r)));
          for (const r of rows) {
            expect(String(r[defaultReplicationKey]) >= bookmark, `${stream} ${keyOf(stream, r)} is before ${bookmark}`).to.equal(
              true,
            );
            expect(known.has(JSON.stringify(r)), `${stream} ${keyOf(stream, r)} is in the truth`).to.equal(true);
          }
          continue;
        }
        expect(lookback, `${stream} declares a lookback`).to.not.equal(undefined);
        // Late data is picked up: the lookback is read again.
        expect(rows.length, `${stream}: records of the lookback re-read`).to.be.greaterThan(0);
        const from = addDays(END, -LOOKBACK[lookback!]);
        const outside = rows.filter((r) => String(r[defaultReplicationKey]).slice(0, 10) < from);
        expect(outside.length, `${stream}: records before ${from} re-read (first: ${JSON.stringify(outside[0])})`).to.equal(0);
        for (const r of rows) expect(validators.get(stream)!(r), `${stream} ${keyOf(stream, r)}`).to.equal(true);
      }
    });
  });
}
