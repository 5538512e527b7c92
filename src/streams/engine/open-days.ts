// The open-days ledger: the days whose export could not be proven complete against Scarf's
// counts (src/streams/verify/reconcile.ts), kept in the stream's state until a later read proves
// them or the user accepts count mismatches for the stream (accept_count_mismatches).
// A window's bookmark may move past such a day, so the ledger is what keeps it from being
// "done": every later sync reads these days again first, one day per request, and a sync
// that ends with any of them open fails (docs/state.md "The open-days ledger").
// Shape, in the stream's entry under "bookmarks" (added next to the bookmark, nothing moved):
//   "open_days": [{"day": "2026-10-03", "owner": "acme-oss", "company_domain": "x.com",
//                  "scarf_count": 200, "held": 0, "reads": 3}]
//   "count_mismatches": "accepted"   (only while accept_count_mismatches names the stream)
import { ConfigError } from '../../errors.js';
import type { StreamName } from '../../schemas.js';
import type { StateStore } from '../../state.js';
import type { Day } from './days.js';

export interface OpenDay {
  day: Day;
  /** Whose export: a ledger entry of another owner is kept, never read with this owner's token. */
  owner: string;
  /** company_events: the company whose export was short. */
  company_domain?: string;
  /** Scarf's count of the day (its by-total, or the company's by-company), as last read. */
  scarf_count: number;
  /** Distinct events the export held for the day at its best read. */
  held: number;
  /** Reads of the day's export so far, over every sync. */
  reads: number;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

function isOpenDay(v: unknown): v is OpenDay {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.day === 'string' &&
    DAY_RE.test(o.day) &&
    typeof o.owner === 'string' &&
    (o.company_domain === undefined || typeof o.company_domain === 'string') &&
    typeof o.scarf_count === 'number' &&
    typeof o.held === 'number' &&
    typeof o.reads === 'number'
  );
}

/** Every entry of the stream's ledger (every owner), checked: a hand-edited entry that is not one is refused, naming it. */
export function ledger(state: StateStore, stream: StreamName): OpenDay[] {
  const raw = state.bookmark(stream)?.open_days;
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || !raw.every(isOpenDay))
    throw new ConfigError(
      `State: '${stream}'.open_days must be a list of {"day": "YYYY-MM-DD", "owner", "scarf_count", "held", "reads"} (docs/state.md "The open-days ledger"). Delete the entry to drop it; the days it held are then not read again.`,
    );
  return raw;
}

/** This owner's open days of the stream. */
export function openDays(state: StateStore, stream: StreamName, owner: string): OpenDay[] {
  return ledger(state, stream).filter((e) => e.owner === owner);
}

const same = (a: Pick<OpenDay, 'day' | 'owner' | 'company_domain'>, b: Pick<OpenDay, 'day' | 'owner' | 'company_domain'>) =>
  a.day === b.day && a.owner === b.owner && (a.company_domain ?? '').toLowerCase() === (b.company_domain ?? '').toLowerCase();

/** Records a day as open (replacing its earlier entry). */
export function openDay(state: StateStore, stream: StreamName, entry: OpenDay): void {
  const list = ledger(state, stream).filter((e) => !same(e, entry));
  list.push(entry);
  list.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : (a.company_domain ?? '') < (b.company_domain ?? '') ? -1 : 1));
  state.setExtra(stream, 'open_days', list);
}

/** Takes a day off the ledger: it is proven, or accepted. */
export function closeDay(state: StateStore, stream: StreamName, key: Pick<OpenDay, 'day' | 'owner' | 'company_domain'>): void {
  const list = ledger(state, stream);
  const kept = list.filter((e) => !same(e, key));
  if (kept.length !== list.length) state.setExtra(stream, 'open_days', kept.length ? kept : undefined);
}

/** The earlier entry of a day, if any. */
export function findOpenDay(
  state: StateStore,
  stream: StreamName,
  key: Pick<OpenDay, 'day' | 'owner' | 'company_domain'>,
): OpenDay | undefined {
  return ledger(state, stream).find((e) => same(e, key));
}

/** Whether accept_count_mismatches names the stream; the choice is written into its state entry either way. */
export function acceptsMismatches(
  state: StateStore,
  stream: StreamName,
  settings: { accept_count_mismatches?: string[] },
): boolean {
  const accepted = settings.accept_count_mismatches?.includes(stream) ?? false;
  state.setExtra(stream, 'count_mismatches', accepted ? 'accepted' : undefined);
  return accepted;
}

/** "2026-10-03 (Scarf counts 200, held 0, 3 reads)", for the log and the error. */
export function describe(e: OpenDay): string {
  return `${e.company_domain ? `${e.company_domain} ` : ''}${e.day} (Scarf counts ${e.scarf_count}, the export held ${e.held}, ${e.reads} read${e.reads === 1 ? '' : 's'})`;
}

/** The open days listed, at most `max` of them. */
export function listOpen(entries: readonly OpenDay[], max = 10): string {
  const shown = entries.slice(0, max).map(describe).join('; ');
  return entries.length > max ? `${shown}; and ${entries.length - max} more` : shown;
}
