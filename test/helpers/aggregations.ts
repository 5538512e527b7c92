// The simulator's v3 aggregations rows (sim/aggregations.ts, served as Scarf serves them) as the
// tap must emit them, written out independently of the tap's code: the owner lower-case, the
// arrays as JSON text, last_seen as a canonical timestamp, and the row key of
// schemas/aggregations.json.

const DIMS = [
  'country',
  'company_name',
  'company_domain',
  'cloud_provider_name',
  'cloud_provider_domain',
  'platform',
  'version',
  'client',
  'variable',
  'value',
  'domain',
  'referer',
  'endpoint_id',
  'origin_id',
  'file_extension',
  'user_agent',
  'importance',
  'funnel_stage',
  'company_size',
  'sic_code',
];

/** A served v3 row as the tap must emit it: the owner lower-case, arrays as JSON text, last_seen canonical, its key. */
export function aggregationsRecord(row: Record<string, unknown>, owner: string): Record<string, unknown> {
  const rec: Record<string, unknown> = { owner: owner.toLowerCase() };
  const key = [owner.toLowerCase(), row.date, row.rollup, row.breakdown, row.artifact, ...DIMS.map((d) => row[d] ?? null)];
  rec.row_key = JSON.stringify(key);
  for (const f of ['date', 'artifact', 'artifact_name', 'artifact_type', 'rollup', 'breakdown']) rec[f] = row[f];
  rec.breakdowns = JSON.stringify(row.breakdowns);
  for (const d of DIMS) rec[d] = row[d];
  for (const f of ['total', 'unique_origins', 'unique_endpoints', 'company_count', 'points']) rec[f] = row[f];
  rec.company_sic_codes = row.company_sic_codes === null ? null : JSON.stringify(row.company_sic_codes);
  const seen = row.last_seen as string | null;
  rec.last_seen = seen === null ? null : `${seen.slice(0, 10)}T${seen.slice(11, 19)}.000000Z`;
  rec.extra_fields = null;
  return rec;
}
