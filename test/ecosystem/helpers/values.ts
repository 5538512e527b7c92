// Values as a warehouse or cache hands them back, in the form of the tap's own values, so a
// loaded row can be compared with the simulator's ground truth field by field.

/**
 * `got` (text from Postgres, or JSON from a DuckDB cache) in the form of the tap's value
 * `want`: timestamps with 6 fraction digits and a Z, numbers as numbers.
 */
export function asTapValue(got: unknown, want: unknown): unknown {
  if (got === null || got === undefined || typeof got !== 'string') return got ?? null;
  if (typeof want === 'number') return Number(got);
  const ts = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?(?:\+00(?::?00)?|Z)?$/.exec(got);
  if (ts && typeof want === 'string' && want.length > 10) return `${ts[1]}T${ts[2]}.${(ts[3] ?? '').padEnd(6, '0')}Z`;
  return got;
}
