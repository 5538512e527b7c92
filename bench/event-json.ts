// One day of the simulator's events as the fast CSV path hands them to a writer: each record's
// JSON text, every column of the events table in schema order (the encoder benches' input).
import { ScarfSimulator } from '../sim/index.js';
import { TABLES } from '../src/destination/postgres/tables.js';

export const EVENT_COLUMNS = TABLES.events.columns.map((c) => c.name);

/** About `events` rows of 2026-11-01 (seed 3, no late events), as JSON text. */
export function eventJsonRows(events: number): Buffer[] {
  const sim = new ScarfSimulator({
    token: 'profile-token-abcdefghijklmnop',
    seed: 3,
    now: new Date('2026-11-03T12:00:00Z'),
    dataStart: '2026-10-25',
    eventsPerDay: events,
    lateRate: 0,
  });
  const rows: Buffer[] = [];
  for (const r of sim.truth.events({ start: '2026-11-01', end: '2026-11-01' }))
    rows.push(
      Buffer.from(JSON.stringify(Object.fromEntries(EVENT_COLUMNS.map((c) => [c, c === 'owner' ? 'acme-oss' : (r[c] ?? null)])))),
    );
  return rows;
}
