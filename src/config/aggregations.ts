// The aggregations stream's settings that JSON Schema cannot check on its own: Scarf's v3
// refuses a `query` combined with artifact ids (422), and two spellings of one breakdown set
// would cost two requests a window for the same rows. Refused here, before any request.
import { ConfigError } from '../errors.js';
import type { Settings } from '../generated/settings.js';

/** A breakdown set as Scarf's `breakdown_set` parameter and the bookmark key spell it: `by-referer,by-company`. */
export function breakdownSetKey(set: readonly string[]): string {
  return set.join(',');
}

export function checkAggregationsSettings(settings: Settings, origins: Map<string, string>): void {
  const where = (k: string) => (origins.has(k) ? ` (from ${origins.get(k)})` : '');
  if (settings.aggregations_query !== undefined) {
    const ids = (['aggregations_package_ids', 'aggregations_tracking_pixel_ids'] as const).filter(
      (k) => settings[k] !== undefined,
    );
    if (ids.length)
      throw new ConfigError(
        `Settings 'aggregations_query'${where('aggregations_query')} and '${ids[0]}'${where(ids[0]!)} cannot be used together: Scarf selects artifacts either by a name pattern or by ids. Remove one of them.`,
      );
  }
  const seen = new Map<string, string[]>();
  for (const set of settings.aggregations_breakdown_sets) {
    const sorted = breakdownSetKey([...set].sort());
    const before = seen.get(sorted);
    if (before)
      throw new ConfigError(
        `Setting 'aggregations_breakdown_sets'${where('aggregations_breakdown_sets')} lists the set ${JSON.stringify(set)} twice (as ${JSON.stringify(before)} too; the order of its dimensions does not matter). Remove one.`,
      );
    seen.set(sorted, set);
  }
}
