// Deterministic event universe. The events of day D are a pure function of (seed, D,
// configuration): anonymous traffic from (seed, D, slot), each company's traffic from
// (seed, D, company, slot). Nothing is remembered between days, so a response of any length
// is generated one day at a time.

import { type Client, userAgent } from './agents.js';
import { DAY_US } from './dates.js';
import { hash32, hex, Rng } from './prng.js';
import {
  type Artifact,
  type ArtifactKind,
  CLOUDS,
  type CompanyTemplate,
  companyTemplate,
  PACKAGES,
  PIXELS,
  PLACES,
  PLATFORMS,
  REFERERS,
  VARIABLE_SETS,
} from './universe.js';

/** One event, as the text columns Scarf serves (null = empty cell, '' = quoted empty string) plus hidden facts. */
export interface SimEvent {
  id: string;
  type: string;
  package: string | null;
  pixel: string | null;
  version: string | null;
  timeUs: number;
  referer: string | null;
  user_agent: string;
  platform: string | null;
  variables: string | null;
  origin_id: string;
  origin_latitude: string | null;
  origin_longitude: string | null;
  origin_country: string | null;
  origin_city: string | null;
  origin_postal: string | null;
  origin_connection_type: string | null;
  origin_company: string | null;
  origin_domain: string | null;
  dnt: boolean | null;
  confidence: string | null;
  endpoint_id: string;
  origin_state: string | null;
  mtc_quota_exceeded: boolean | null;
  origin_asn: string | null;
  // Hidden facts: not served as columns, but aggregates and rollups derive from them.
  day: number;
  arrivalUs: number;
  company: number; // -1 = anonymous
  cloud: number; // index into CLOUDS, -1 when not a hosting connection
  client: Client;
  artifact: string;
  kind: ArtifactKind;
  dupRoll: number;
  dupFar: boolean;
}

export interface GenConfig {
  seed: number;
  eventsPerDay: number;
  companies: number;
  lateRate: number;
  dataStart: number; // first day with events
  dataEnd: number | null; // last day with events; null = open-ended (follows the clock)
  anchor: number; // day the company profiles are laid out against
  artifactLagDays?: Readonly<Record<string, number>>; // whole days added to the arrival of an artifact's events
}

export interface Company extends CompanyTemplate {
  index: number;
  fromDay: number;
  toDay: number; // Infinity when open
  originPool: number;
}

const ANON_STREAM = 0;
/** Slots per stream and day (the id encodes 24 bits of slot). */
const SLOTS = 0x1000000;

export class EventGenerator {
  readonly companies: Company[];
  private readonly byDomain = new Map<string, Company>();

  constructor(readonly cfg: GenConfig) {
    this.companies = [];
    for (let i = 0; i < cfg.companies; i++) {
      const t = companyTemplate(i);
      const at = (b: { base: 'S' | 'A'; offset: number }) => (b.base === 'S' ? cfg.dataStart : cfg.anchor) + b.offset;
      const c: Company = {
        ...t,
        index: i,
        fromDay: at(t.profile.from),
        toDay: t.profile.to === 'open' ? Infinity : at(t.profile.to),
        originPool: 2 + (i % 5),
      };
      this.companies.push(c);
      this.byDomain.set(c.domain.toLowerCase(), c);
    }
  }

  companyByDomain(domain: string): Company | undefined {
    return this.byDomain.get(domain.toLowerCase());
  }

  artifactKind(name: string): ArtifactKind {
    return [...PACKAGES, ...PIXELS].find((a) => a.name === name)?.kind ?? 'pixel';
  }

  isPackage(name: string): boolean {
    return PACKAGES.some((a) => a.name === name);
  }

  hasData(day: number): boolean {
    return day >= this.cfg.dataStart && (this.cfg.dataEnd === null || day <= this.cfg.dataEnd);
  }

  /**
   * Every event of the day (anonymous and companies'), in the order the server sends them.
   * Only the shuffled slot numbers are held; each event is built when it is reached, so a
   * huge day costs a typed array, not a day of live objects.
   */
  *dayEvents(day: number): Generator<SimEvent> {
    const order = this.dayOrder(day);
    for (let i = 0; i < order.length; i++) {
      const code = order[i]!;
      const stream = Math.floor(code / SLOTS);
      const slot = code % SLOTS;
      yield this.makeEvent(day, stream, slot, stream === ANON_STREAM ? undefined : this.companies[stream - 1]);
    }
  }

  /** (stream × SLOTS + slot) of every event of the day, shuffled. */
  dayOrder(day: number): Float64Array {
    if (!this.hasData(day)) return new Float64Array(0);
    const n = this.anonCount(day);
    const counts = this.companies.map((c) => this.companyEventCount(day, c.index));
    const order = new Float64Array(n + counts.reduce((a, b) => a + b, 0));
    let k = 0;
    for (let i = 0; i < n; i++) order[k++] = i;
    counts.forEach((m, ci) => {
      for (let i = 0; i < m; i++) order[k++] = (ci + 1) * SLOTS + i;
    });
    const r = Rng.of(this.cfg.seed, day, 'order');
    for (let i = order.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  }

  private anonCount(day: number): number {
    const r = Rng.of(this.cfg.seed, day, 'count');
    return Math.max(0, Math.round(this.cfg.eventsPerDay * (0.8 + 0.4 * r.next())));
  }

  companyEventCount(day: number, index: number): number {
    const c = this.companies[index];
    if (!c || !this.hasData(day) || day < c.fromDay || day > c.toDay) return 0;
    const r = Rng.of(this.cfg.seed, day, 'company', index);
    // Profile edges always have activity so first/last_seen land exactly where the profile says.
    const edge = day === c.fromDay || day === c.toDay;
    if (!r.chance(c.profile.p) && !edge) return 0;
    return 1 + r.int(c.profile.maxPerDay);
  }

  /** The company's events of the day, in slot order (not the server's shuffled order). */
  companyEvents(day: number, index: number): SimEvent[] {
    const n = this.companyEventCount(day, index);
    const out: SimEvent[] = [];
    for (let i = 0; i < n; i++) out.push(this.makeEvent(day, index + 1, i, this.companies[index]));
    return out;
  }

  private readonly origins = new Map<number, string>();

  /** Device ids repeat across days (that is what makes unique counts smaller than totals). */
  private originId(stream: number, slot: number): string {
    const key = stream * 0x4000000 + slot;
    let id = this.origins.get(key);
    if (id === undefined) {
      id = hex(hash32(this.cfg.seed, 0x0519, stream, slot), 8) + hex(hash32(this.cfg.seed, 0x0520, stream, slot), 8);
      if (this.origins.size < 1_000_000) this.origins.set(key, id);
    }
    return id;
  }

  private eventId(day: number, stream: number, slot: number): string {
    const s = this.cfg.seed;
    // The tail encodes (day, stream, slot) bijectively (xor with seed masks), so ids never collide.
    const mask = hash32(s, 'idmask');
    // The stream has 8 bits of the tail; a company stream past 255 puts its high bits above the
    // slot (a company's slots stay below 2^16: a handful of events a day), so streams up to
    // MAX_COMPANIES stay one-to-one and the ids of the first 255 streams are unchanged (an
    // anonymous day past 2^16 events shares tail values with streams 256, 512, …; the hashed
    // head of the id still tells them apart).
    const wideSlot = slot + (stream >>> 8) * 0x10000;
    // Multiplying by an odd constant is a bijection modulo 2^k, so this only scrambles the look.
    const tail =
      hex((Math.imul(day, 0x2f6b) ^ mask) & 0xffff, 4) +
      hex((Math.imul(stream, 0x9d) ^ (mask >>> 16)) & 0xff, 2) +
      hex((Math.imul(wideSlot, 0x5bd1e995) ^ hash32(s, 'slotmask')) & 0xffffff, 6);
    const a = hash32(s, day, stream, slot, 0xa);
    const b = hash32(s, day, stream, slot, 0xb);
    return `${hex(a, 8)}-${hex(b, 4)}-4${hex(b >>> 16, 3)}-${'89ab'[a & 3]}${hex(a >>> 8, 3)}-${tail}`;
  }

  private makeEvent(day: number, stream: number, slot: number, company: Company | undefined): SimEvent {
    const seed = this.cfg.seed;
    const r = Rng.of(seed, day, stream, slot);
    // Draw order is fixed: adding fields must append draws, never reorder them.
    const isPackage = r.chance(company ? 0.6 : 0.48);
    const art: Artifact = isPackage ? r.pick(PACKAGES) : r.pick(PIXELS);
    const typeRoll = r.next();
    const type =
      art.kind === 'pixel'
        ? 'pixel-fetch'
        : art.kind === 'file'
          ? 'binary-download'
          : art.kind === 'docker'
            ? typeRoll < 0.7
              ? 'manifest-fetch'
              : 'binary-download'
            : typeRoll < 0.4
              ? 'manifest-fetch'
              : 'binary-download';
    const version = art.versions.length ? r.pick(art.versions) : null;

    let usOfDay = r.int(86_400) * 1_000_000 + r.int(1_000_000);
    const precision = r.next();
    if (precision < 0.01)
      usOfDay -= usOfDay % 1_000_000; // whole seconds: Postgres prints no fraction
    else if (precision < 0.03) usOfDay -= usOfDay % 1_000; // whole milliseconds: trailing zeros trimmed
    const timeUs = day * DAY_US + usOfDay;

    const refRoll = r.next();
    const refPick = r.pick(REFERERS);
    const referer =
      art.kind === 'pixel' ? (refRoll < 0.1 ? null : refPick) : refRoll < 0.85 ? null : refRoll < 0.9 ? '' : refPick;
    const { ua, client } = userAgent(r, art.kind);
    const platPick = r.pick(PLATFORMS);
    const platform = art.kind === 'pixel' ? null : art.kind === 'npm' && r.chance(0.5) ? '' : platPick;
    const varPick = r.pick(VARIABLE_SETS);
    const variables = art.kind === 'file' ? varPick : null;

    const originSlot = company ? r.int(company.originPool) : r.int(Math.max(8, this.cfg.eventsPerDay * 3));
    const origin_id = this.originId(company ? company.index + 1 : 0, originSlot);

    const place = company ? PLACES[company.place]! : r.pick(PLACES);
    const latJ = r.range(-0.05, 0.05);
    const lonJ = r.range(-0.05, 0.05);
    const noGeo = !company && r.chance(0.03);
    const connRoll = r.next();
    const conn = company
      ? 'business'
      : connRoll < 0.55
        ? 'isp'
        : connRoll < 0.75
          ? 'hosting'
          : connRoll < 0.85
            ? 'business'
            : connRoll < 0.95
              ? 'cellular'
              : null;
    const cloudPick = r.int(CLOUDS.length);
    const dntRoll = r.next();
    const dnt = dntRoll < 0.03 ? null : client === 'browser' ? dntRoll < 0.28 : dntRoll < 0.06;
    const confRoll = r.next();
    const confidence = company
      ? confRoll < 0.1
        ? '1'
        : confRoll < 0.2
          ? (0.5 + confRoll).toFixed(4)
          : (0.5 + 0.5 * r.next()).toFixed(2)
      : confRoll < 0.8
        ? null
        : (confRoll - 0.8).toFixed(3);
    const endpoint_id = r.pick(art.endpoints);
    const mtcRoll = r.next();
    const mtc = mtcRoll < 0.01 ? null : !company && conn === 'business' && mtcRoll < 0.5;
    const asnRoll = r.next();
    const origin_asn = asnRoll < 0.1 ? null : 'AS' + r.pick([15169, 16509, 8075, 3320, 7922, 24940, 2516]);
    const lateRoll = r.next();
    const lateDelay = r.range(6 * 3600, 40 * 3600);
    const smallDelay = r.range(0.05, 900);
    const dupRoll = r.next();
    const dupFar = r.chance(0.5);

    const lagUs = (this.cfg.artifactLagDays?.[art.name] ?? 0) * DAY_US;
    const delayUs = Math.round((lateRoll < this.cfg.lateRate ? lateDelay : smallDelay) * 1_000_000) + lagUs;
    return {
      id: this.eventId(day, stream, slot),
      type,
      package: isPackage ? art.name : '',
      pixel: isPackage ? null : art.name,
      version,
      timeUs,
      referer,
      user_agent: ua,
      platform,
      variables,
      origin_id,
      origin_latitude: noGeo ? null : (place.lat + latJ).toFixed(4),
      origin_longitude: noGeo ? null : (place.lon + lonJ).toFixed(4),
      origin_country: noGeo ? null : place.country,
      origin_city: noGeo ? null : place.city,
      origin_postal: noGeo ? null : place.postal,
      origin_connection_type: conn,
      origin_company: company ? company.name : null,
      origin_domain: company ? company.domain : null,
      dnt,
      confidence,
      endpoint_id,
      origin_state: noGeo ? null : place.state,
      mtc_quota_exceeded: mtc,
      origin_asn,
      day,
      arrivalUs: timeUs + delayUs,
      company: company ? company.index : -1,
      cloud: conn === 'hosting' ? cloudPick : -1,
      client,
      artifact: art.name,
      kind: art.kind,
      dupRoll,
      dupFar,
    };
  }
}
