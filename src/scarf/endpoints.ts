// Paths and URLs of the Scarf export endpoints (docs/scarf-api.md). Path segments
// taken from config (owner, company domain) are percent-encoded here, once.

export type Endpoint =
  | 'events'
  | 'aggregates'
  | 'company-rollup'
  | 'company-events'
  | 'pixel-events'
  | 'company-package-rollup'
  | 'company-pixel-rollup'
  | 'aggregations';

export type Query = Record<string, string | string[] | undefined>;

const seg = encodeURIComponent;

/** `GET …/events?start_date&end_date[&query]` → CSV. */
export function eventsPath(owner: string): string {
  return `/v2/packages/${seg(owner)}/events`;
}

/** `GET …/aggregates?start_date&end_date[&query][&rollup…][&breakdown…]` → NDJSON. */
export function aggregatesPath(owner: string): string {
  return `/v2/packages/${seg(owner)}/aggregates`;
}

/** `GET …/company-rollup` → CSV. */
export function companyRollupPath(owner: string): string {
  return `/v2/packages/${seg(owner)}/company-rollup`;
}

/** `GET /v2/companies/{owner}/{domain}/events?start_date&end_date` → CSV. */
export function companyEventsPath(owner: string, domain: string): string {
  return `/v2/companies/${seg(owner)}/${seg(domain)}/events`;
}

/** `GET /v2/tracking-pixels/{owner}/events?start_date&end_date` → CSV, the columns of events. */
export function pixelEventsPath(owner: string): string {
  return `/v2/tracking-pixels/${seg(owner)}/events`;
}

/** `GET /v2/companies/{owner}/package-rollup?start_date&end_date` or `…/pixel-rollup` → CSV, a row per day, artifact and company. */
export function companyArtifactRollupPath(owner: string, artifact: 'package' | 'pixel'): string {
  return `/v2/companies/${seg(owner)}/${artifact}-rollup`;
}

/**
 * `GET /v3/insights/{owner}/aggregations/export?start_date&end_date(exclusive)&rollup&breakdown_set…` → NDJSON.
 * v3 matches the owner case-sensitively: give it as the user configured it (src/config/owner-case.ts).
 */
export function aggregationsPath(owner: string): string {
  return `/v3/insights/${seg(owner)}/aggregations/export`;
}

/** `a=1&b=x&b=y` — undefined values left out, arrays repeated in order. */
export function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    const key = encodeURIComponent(k);
    if (Array.isArray(v)) for (const item of v) parts.push(`${key}=${encodeURIComponent(item)}`);
    else parts.push(`${key}=${encodeURIComponent(v)}`);
  }
  return parts.join('&');
}

/** Base URL (its path kept as a prefix) + endpoint path + query. */
export function buildUrl(baseUrl: string, path: string, query?: Query): string {
  const base = baseUrl.replace(/\/+$/, '');
  const qs = encodeQuery(query);
  return base + (path.startsWith('/') ? path : '/' + path) + (qs ? '?' + qs : '');
}
