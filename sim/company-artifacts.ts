// The company rollups per day and artifact (GET /v2/companies/{owner}/package-rollup and
// /pixel-rollup): one row per UTC day, artifact and identified company, counted from the very
// events the company-events export serves.

import { dayText } from './dates.js';
import type { SimEvent } from './generator.js';
import { artifactId } from './universe.js';
import { type View, visibleCompanyDayEvents } from './views.js';

export type ArtifactType = 'package' | 'pixel';

/** Served columns: the pixel header is Scarf's [seen]; the package one follows it [assumed]. */
export function companyArtifactColumns(type: ArtifactType): string[] {
  return ['date', type, `${type}_name`, 'company', 'company_domain', 'total', 'total_unique'];
}

export interface CompanyArtifactRow {
  day: number;
  /** Served text of each column, in companyArtifactColumns order. */
  cells: string[];
}

const ofType = (e: SimEvent, type: ArtifactType) => (e.kind === 'pixel') === (type === 'pixel');

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The rows of one day, ordered by artifact name, then company domain. */
export function companyArtifactDayRows(v: View, type: ArtifactType, day: number): CompanyArtifactRow[] {
  const groups = new Map<string, { artifact: string; name: string; domain: string; total: number; origins: Set<string> }>();
  for (const c of v.gen.companies) {
    for (const e of visibleCompanyDayEvents(v, c, day)) {
      if (!ofType(e, type)) continue;
      const key = e.artifact + '\u0000' + c.domain;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { artifact: e.artifact, name: c.name, domain: c.domain, total: 0, origins: new Set() }));
      g.total++;
      g.origins.add(e.origin_id);
    }
  }
  return [...groups.values()]
    .sort((a, b) => cmp(a.artifact, b.artifact) || cmp(a.domain, b.domain))
    .map((g) => ({
      day,
      cells: [dayText(day), artifactId(g.artifact), g.artifact, g.name, g.domain, String(g.total), String(g.origins.size)],
    }));
}
