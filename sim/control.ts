// Control API for out-of-process users (bench, `npm run sim`): request log, faults, clock,
// options and ground truth. Unauthenticated and not logged as API requests.

import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FaultSpec } from './faults.js';
import { sendJson } from './http-util.js';
import type { ResolvedSimOptions, SimOptions } from './options.js';
import type { DailyCounts, GroundTruth, TruthRecord } from './truth.js';

/**
 * What the control API reads and changes: the simulator (server.ts) as this module sees it,
 * declared here so that the server imports the control API and not the other way round.
 */
export interface ControlTarget {
  readonly requests: readonly unknown[];
  resetRequests(): void;
  readonly activeFaults: FaultSpec[];
  setFaults(faults: FaultSpec[]): void;
  clearFaults(): void;
  setNow(d: Date | undefined): void;
  nowMs(): number;
  readonly options: Readonly<ResolvedSimOptions>;
  setOptions(partial: Partial<SimOptions>): void;
  companyDomains(): string[];
  readonly truth: GroundTruth;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? null : JSON.parse(text);
}

function ndjson(res: ServerResponse, rows: readonly unknown[]): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  for (const r of rows) res.write(JSON.stringify(r) + '\n');
  res.end();
}

function range(url: URL): { start: string; end: string } {
  const start = url.searchParams.get('start_date');
  const end = url.searchParams.get('end_date');
  if (!start || !end) throw new Error('start_date and end_date are required');
  return { start, end };
}

function truth(sim: ControlTarget, what: string, url: URL): unknown[] {
  const p = url.searchParams;
  switch (what) {
    case 'events':
      return sim.truth.events({ ...range(url), query: p.get('query') ?? undefined });
    case 'pixel-events':
      return sim.truth.pixelEvents(range(url));
    case 'pixel-daily-counts':
      return perDay(sim.truth.pixelDailyCounts(range(url)));
    case 'aggregations':
      return sim.truth.aggregations(paramsOf(url));
    case 'aggregations-window':
      return [sim.truth.aggregationsWindow(paramsOf(url))];
    case 'company-package-rollup':
      return sim.truth.companyPackageRollup(range(url));
    case 'company-pixel-rollup':
      return sim.truth.companyPixelRollup(range(url));
    case 'company-events': {
      const domain = p.get('domain');
      if (!domain) throw new Error('domain is required');
      return sim.truth.companyEvents(domain, range(url));
    }
    case 'aggregates':
      return sim.truth.aggregates({
        ...range(url),
        rollup: p.getAll('rollup').join(',') || undefined,
        breakdowns: p.getAll('breakdown'),
        query: p.get('query') ?? undefined,
      });
    case 'company-rollup':
      return sim.truth.companyRollup();
    case 'active-domains':
      return sim.truth.activeDomains(range(url));
    case 'daily-counts':
      return perDay(sim.truth.dailyCounts({ ...range(url), query: p.get('query') ?? undefined }));
    case 'company-daily-counts': {
      const domain = p.get('domain');
      if (!domain) throw new Error('domain is required');
      return perDay(sim.truth.companyDailyCounts(domain, { ...range(url), query: p.get('query') ?? undefined }));
    }
    case 'aggregates-daily-totals':
      return perDay(
        sim.truth.aggregatesDailyTotals({
          ...range(url),
          query: p.get('query') ?? undefined,
          domain: p.get('domain') ?? undefined,
          api: oneOf(p.get('api'), ['v2', 'v3'] as const, 'api'),
          type: oneOf(p.get('type'), ['package', 'pixel'] as const, 'type'),
        }),
      );
    default:
      throw Object.assign(new Error(`unknown truth stream ${what}`), { status: 404 });
  }
}

/** The v3 query as given to the control route, repeated parameters kept. */
function paramsOf(url: URL): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, val] of url.searchParams) (out[k] ??= []).push(val);
  return out;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[], name: string): T | undefined {
  if (value === null) return undefined;
  if (!allowed.includes(value as T)) throw new Error(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

function perDay(counts: DailyCounts): TruthRecord[] {
  return Object.entries(counts).map(([date, count]) => ({ date, count }));
}

/** Options arrive as JSON: `now` is an ISO string or null. */
function optionsFromJson(body: unknown): Partial<SimOptions> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('options must be a JSON object');
  const o = { ...(body as Record<string, unknown>) };
  if ('now' in o) o.now = o.now === null ? undefined : new Date(String(o.now));
  for (const k of Object.keys(o)) if (o[k] === null) o[k] = undefined;
  return o as Partial<SimOptions>;
}

export async function handleControl(sim: ControlTarget, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
  try {
    if (route === 'GET /_sim/requests') return sendJson(res, 200, sim.requests);
    if (route === 'DELETE /_sim/requests') {
      sim.resetRequests();
      res.writeHead(204).end();
      return;
    }
    if (route === 'GET /_sim/faults') return sendJson(res, 200, sim.activeFaults);
    if (route === 'PUT /_sim/faults') {
      sim.setFaults(((await readJson(req)) ?? []) as FaultSpec[]);
      res.writeHead(204).end();
      return;
    }
    if (route === 'DELETE /_sim/faults') {
      sim.clearFaults();
      res.writeHead(204).end();
      return;
    }
    if (route === 'PUT /_sim/now') {
      const body = (await readJson(req)) as { now?: string | null } | null;
      const now = body?.now;
      if (now !== undefined && now !== null && Number.isNaN(Date.parse(now))) throw new Error(`bad now: ${now}`);
      sim.setNow(now ? new Date(now) : undefined);
      return sendJson(res, 200, { now: new Date(sim.nowMs()).toISOString(), fixed: sim.options.now !== null });
    }
    if (route === 'GET /_sim/options') return sendJson(res, 200, sim.options);
    if (route === 'PUT /_sim/options') {
      sim.setOptions(optionsFromJson(await readJson(req)));
      return sendJson(res, 200, sim.options);
    }
    if (route === 'GET /_sim/companies') return sendJson(res, 200, sim.companyDomains());
    const m = /^GET \/_sim\/truth\/([a-z-]+)$/.exec(route);
    if (m) {
      const rows = truth(sim, m[1]!, url);
      return ndjson(res, rows);
    }
    return sendJson(res, 404, { message: `unknown control route ${route}`, code: 'not-found' });
  } catch (err) {
    const status = (err as { status?: number }).status ?? 400;
    return sendJson(res, status, { message: err instanceof Error ? err.message : String(err), code: 'bad-request' });
  }
}
