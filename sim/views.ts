// What a request sees at the sim clock: the visible (arrived) events of a day, aggregate
// rows of a period, company rollup rows. The server writes these as text; the ground truth
// types the very same values, so the two cannot drift apart.

import { AGGREGATE_DIMENSIONS, AGGREGATE_EXTRA_KEY, type AggregateDimension } from './columns.js';
import { dayText, parseDay, periodsIn, type Rollup } from './dates.js';
import { type Cell, timestampText } from './format.js';
import type { Company, EventGenerator, SimEvent } from './generator.js';
import { distortCount, type ResolvedSimOptions } from './options.js';
import { hash32 } from './prng.js';
import { CLOUDS, PLACES } from './universe.js';

export interface View {
  gen: EventGenerator;
  opts: ResolvedSimOptions;
  nowUs: number;
  /** The attribution revisions in force at nowUs, by day (activeRevisions). */
  revisions: ReadonlyMap<number, readonly ActiveRevision[]>;
}

// ---- retroactive attribution ------------------------------------------------------------

export interface ActiveRevision {
  index: number;
  company: Company;
  share: number;
}

/** The revisions whose time has come at `nowUs`, by day; a domain the universe lacks is an error. */
export function activeRevisions(gen: EventGenerator, opts: ResolvedSimOptions, nowUs: number): Map<number, ActiveRevision[]> {
  const out = new Map<number, ActiveRevision[]>();
  opts.revisions.forEach((r, index) => {
    const company = gen.companyByDomain(r.domain);
    if (!company) throw new Error(`SimOptions.revisions[${index}]: ${r.domain} is none of the simulator's companies`);
    if (Date.parse(r.at) * 1000 > nowUs) return;
    const day = parseDay(r.day)!;
    const list = out.get(day) ?? [];
    list.push({ index, company, share: r.share ?? 0.25 });
    out.set(day, list);
  });
  return out;
}

/** The event as attributed at the view's time: an anonymous event a revision took belongs to its company. */
export function revise(v: View, e: SimEvent): SimEvent {
  if (e.company !== -1) return e;
  const revisions = v.revisions.get(e.day);
  if (!revisions) return e;
  for (const r of revisions) {
    if (hash32(v.opts.seed, 'revision', r.index, e.id) / 4294967296 >= r.share) continue;
    return { ...e, origin_company: r.company.name, origin_domain: r.company.domain, company: r.company.index };
  }
  return e;
}

export const BREAKDOWNS = [
  'by-country',
  'by-cloudprovider',
  'by-company',
  'by-variable',
  'by-platform',
  'by-version',
  'by-total',
  'by-total-do-not-track',
  'by-client',
  'by-domain',
  'by-referer',
  'by-educational-organization',
  'by-govermental-organization',
] as const;
export type Breakdown = (typeof BREAKDOWNS)[number];

/** Events of the day that have arrived by the sim clock (as attributed then), optionally only one package's. */
export function* visibleDayEvents(v: View, day: number, query?: string): Generator<SimEvent> {
  for (const e of v.gen.dayEvents(day)) {
    if (e.arrivalUs > v.nowUs) continue;
    if (query !== undefined && e.package !== query) continue;
    yield revise(v, e);
  }
}

/** What /v2/packages/{owner}/events holds of the day: pixel views only when pixelsInEvents says so. */
export function* exportDayEvents(v: View, day: number, query?: string): Generator<SimEvent> {
  for (const e of visibleDayEvents(v, day, query)) if (v.opts.pixelsInEvents || e.kind !== 'pixel') yield e;
}

/** What /v2/tracking-pixels/{owner}/events holds of the day. */
export function* pixelDayEvents(v: View, day: number): Generator<SimEvent> {
  for (const e of visibleDayEvents(v, day)) if (e.kind === 'pixel') yield e;
}

/** The company's arrived events of the day: its own, then the anonymous ones a revision gave it. */
export function visibleCompanyDayEvents(v: View, company: Company | undefined, day: number): SimEvent[] {
  if (!company) return [];
  const own = v.gen.companyEvents(day, company.index).filter((e) => e.arrivalUs <= v.nowUs);
  if (!v.revisions.get(day)?.some((r) => r.company === company)) return own;
  for (const e of v.gen.dayEvents(day)) {
    if (e.company !== -1 || e.arrivalUs > v.nowUs) continue;
    const r = revise(v, e);
    if (r.company === company.index) own.push(r);
  }
  return own;
}

/** Days on which the company can have events: its profile's, and those revisions gave it. */
export function companyDays(v: View, c: Company): number[] {
  const nowDay = Math.floor(v.nowUs / 86_400_000_000);
  const last = Math.min(nowDay, v.gen.cfg.dataEnd ?? Infinity);
  const days: number[] = [];
  for (let day = Math.max(v.gen.cfg.dataStart, c.fromDay); day <= Math.min(last, c.toDay); day++) days.push(day);
  for (const [day, rs] of v.revisions) {
    if (day < v.gen.cfg.dataStart || day > last || days.includes(day)) continue;
    if (rs.some((r) => r.company === c)) days.push(day);
  }
  return days.sort((a, b) => a - b);
}

// ---- aggregates -------------------------------------------------------------------------

type Dims = Partial<Record<AggregateDimension, string>>;

function refererHost(referer: string | null): string | undefined {
  if (!referer) return undefined;
  try {
    return new URL(referer).hostname || undefined;
  } catch {
    return undefined;
  }
}

function registrableDomain(host: string): string {
  return host.split('.').slice(-2).join('.');
}

/** The dimension values an event contributes to under a breakdown (none, one, or several). */
export function eventDims(e: SimEvent, b: Breakdown): Dims[] {
  switch (b) {
    case 'by-total':
      return [{}];
    case 'by-total-do-not-track':
      return e.dnt === true ? [{}] : [];
    case 'by-company':
      return e.origin_domain ? [{ company_name: e.origin_company ?? '', company_domain: e.origin_domain }] : [];
    case 'by-country':
      return e.origin_country ? [{ country: e.origin_country }] : [];
    case 'by-cloudprovider': {
      const c = CLOUDS[e.cloud];
      return c ? [{ cloud_provider_name: c.name, cloud_provider_domain: c.domain }] : [];
    }
    case 'by-platform':
      return e.platform ? [{ platform: e.platform }] : [];
    case 'by-version':
      return e.version ? [{ version: e.version }] : [];
    case 'by-client':
      return [{ client: e.client }];
    case 'by-variable':
      if (!e.variables) return [];
      return e.variables.split('&').map((pair) => {
        const i = pair.indexOf('=');
        return { variable: pair.slice(0, i), value: pair.slice(i + 1) };
      });
    case 'by-domain': {
      const h = refererHost(e.referer);
      return h ? [{ domain: registrableDomain(h) }] : [];
    }
    case 'by-referer': {
      const h = refererHost(e.referer);
      return h ? [{ domain: h }] : [];
    }
    case 'by-educational-organization':
      return e.origin_domain?.endsWith('.edu') ? [{ domain: e.origin_domain }] : [];
    case 'by-govermental-organization':
      return e.origin_domain?.endsWith('.gov') ? [{ domain: e.origin_domain }] : [];
  }
}

const HAS_UNIQUE = new Set<Breakdown>(['by-total', 'by-company']);
/** The breakdowns a reconciliation compares with the exports, and so the ones the count distortions change. */
const SKEWED = new Set<Breakdown>(['by-total', 'by-company']);

export interface AggregateQuery {
  start: number;
  end: number;
  rollups: Rollup[];
  breakdowns: Breakdown[];
  query?: string;
}

/** An aggregates line as served: key order date, artifact, breakdown, rollup, total, … */
export type AggregateLine = Record<string, string | number>;

interface Bucket {
  artifact: string;
  dims: Dims;
  total: number;
  origins: Set<string>;
}

/** Aggregate lines period by period; only one period's counts are held at a time. */
export function* aggregateLines(v: View, q: AggregateQuery): Generator<AggregateLine> {
  for (const rollup of q.rollups) {
    for (const p of periodsIn(q.start, q.end, rollup)) {
      const buckets = q.breakdowns.map(() => new Map<string, Bucket>());
      for (let day = p.from; day <= p.to; day++) {
        for (const e of visibleDayEvents(v, day, q.query)) {
          q.breakdowns.forEach((b, bi) => {
            for (const dims of eventDims(e, b)) {
              const key = e.artifact + '\u0000' + JSON.stringify(dims);
              let bucket = buckets[bi]!.get(key);
              if (!bucket) buckets[bi]!.set(key, (bucket = { artifact: e.artifact, dims, total: 0, origins: new Set() }));
              bucket.total++;
              bucket.origins.add(e.origin_id);
            }
          });
        }
      }
      const date = dayText(p.from);
      for (let bi = 0; bi < q.breakdowns.length; bi++) {
        const b = q.breakdowns[bi]!;
        const rows = [...buckets[bi]!.values()].sort(
          (x, y) => cmp(x.artifact, y.artifact) || y.total - x.total || cmp(JSON.stringify(x.dims), JSON.stringify(y.dims)),
        );
        for (const bucket of rows) {
          const total = SKEWED.has(b) ? distortCount(v.opts, 'v2', date, bucket.total) : bucket.total;
          const line: AggregateLine = { date, artifact: bucket.artifact, breakdown: b, rollup, total };
          if (HAS_UNIQUE.has(b)) line.total_unique = bucket.origins.size;
          for (const d of AGGREGATE_DIMENSIONS) if (bucket.dims[d] !== undefined) line[d] = bucket.dims[d]!;
          if (v.opts.columnSet === 'extra') line[AGGREGATE_EXTRA_KEY] = v.gen.artifactKind(bucket.artifact);
          yield line;
        }
      }
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- company rollup ---------------------------------------------------------------------

export interface RollupRow {
  company: Company;
  /** Served text of every column the server knows (current + extra), keyed by column name. */
  cells: Record<string, Cell>;
}

const INACTIVE_AFTER_DAYS = 60;

/** One row per company with at least one visible event, most active first. */
export function rollupRows(v: View): RollupRow[] {
  const nowDay = Math.floor(v.nowUs / 86_400_000_000);
  const rows: { row: RollupRow; total: number }[] = [];
  for (const c of v.gen.companies) {
    let total = 0,
      downloads = 0,
      views = 0;
    let firstUs = Infinity,
      lastUs = -Infinity;
    const dlOrigins = new Set<string>(),
      viewOrigins = new Set<string>(),
      origins = new Set<string>();
    const pkgTotals = new Map<string, number>(),
      pixTotals = new Map<string, number>();
    const downloadDays: number[] = [];
    for (const day of companyDays(v, c)) {
      for (const e of visibleCompanyDayEvents(v, c, day)) {
        total++;
        origins.add(e.origin_id);
        firstUs = Math.min(firstUs, e.timeUs);
        lastUs = Math.max(lastUs, e.timeUs);
        if (e.kind === 'pixel') {
          views++;
          viewOrigins.add(e.origin_id);
          pixTotals.set(e.artifact, (pixTotals.get(e.artifact) ?? 0) + 1);
        } else {
          downloads++;
          dlOrigins.add(e.origin_id);
          pkgTotals.set(e.artifact, (pkgTotals.get(e.artifact) ?? 0) + 1);
          if (downloadDays[downloadDays.length - 1] !== day) downloadDays.push(day);
        }
      }
    }
    if (total === 0) continue;
    const firstDay = Math.floor(firstUs / 86_400_000_000);
    const lastDay = Math.floor(lastUs / 86_400_000_000);
    const inactive = nowDay - lastDay > INACTIVE_AFTER_DAYS;
    const investigation = downloadDays[0];
    const experimentation = downloadDays[2];
    const ongoing = downloadDays[7];
    const stage = inactive
      ? 'inactive'
      : ongoing !== undefined
        ? 'ongoing usage'
        : experimentation !== undefined
          ? 'experimentation'
          : investigation !== undefined
            ? 'investigation'
            : 'interest';
    const seen = (us: number, day: number) =>
      v.opts.rollupSeenStyle === 'timestamp' ? timestampText(us, v.opts.timestampStyle) : dayText(day);
    const opt = (d: number | undefined): Cell => (d === undefined ? null : dayText(d));
    const place = PLACES[c.place]!;
    const cells: Record<string, Cell> = {
      company_name: c.name,
      company_domain: c.domain,
      funnel_stage: stage,
      total_events: String(total),
      total_downloads: String(downloads),
      total_unique_downloads: String(dlOrigins.size),
      total_views: String(views),
      total_unique_views: String(viewOrigins.size),
      unique_sources: String(origins.size),
      first_seen: seen(firstUs, firstDay),
      last_seen: seen(lastUs, lastDay),
      company_linkedin_url: c.linkedin,
      company_industry: c.industry,
      company_size: c.size,
      company_country: place.country,
      company_state: place.state,
      interest_start_date: dayText(firstDay),
      investigation_start_date: opt(investigation),
      experimentation_start_date: opt(experimentation),
      ongoing_usage_start_date: opt(ongoing),
      inactive_start_date: inactive ? dayText(lastDay + INACTIVE_AFTER_DAYS + 1) : null,
      scarf_url: `https://app.scarf.sh/${encodeURIComponent(v.opts.owner)}/companies/${c.domain}`,
      package_totals: totalsText(pkgTotals),
      tracking_pixel_totals: totalsText(pixTotals),
      company_revenue_range: c.revenue,
    };
    rows.push({ row: { company: c, cells }, total });
  }
  rows.sort((a, b) => b.total - a.total || cmp(a.row.company.domain, b.row.company.domain));
  return rows.map((r) => r.row);
}

function totalsText(m: Map<string, number>): Cell {
  if (m.size === 0) return null;
  return [...m.entries()]
    .sort((a, b) => cmp(a[0], b[0]))
    .map(([k, n]) => `${k}=${n}`)
    .join('&');
}
