// Bookmarks as the tap writes them: besides the value, a stream's entry records the settings
// that decided which data it covers (docs/state.md "When you change settings"), and aggregates keeps
// one bookmark per breakdown, and every entry names the owner it belongs to (docs/state.md
// "Owners"). Tests that assert "the bookmark stays" compare whole entries.

export function eventsBookmark(value: string, startDate: string, packageQuery: string | null = null, owner = 'acme-oss') {
  return {
    owner,
    replication_key: 'time',
    replication_key_value: value,
    settings: { start_date: startDate, package_query: packageQuery },
  };
}

export function aggregatesBookmark(
  value: string,
  startDate: string,
  breakdowns: string[],
  opts: { rollup?: string; packageQuery?: string | null; owner?: string } = {},
) {
  return {
    owner: opts.owner ?? 'acme-oss',
    replication_key: 'date',
    replication_key_value: value,
    settings: { start_date: startDate, package_query: opts.packageQuery ?? null, rollup: opts.rollup ?? 'daily' },
    breakdowns: Object.fromEntries(breakdowns.map((b) => [b, value])),
  };
}
