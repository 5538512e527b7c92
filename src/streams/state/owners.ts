// A bookmark says how far ONE owner's data was read: another owner's events before it were
// never read. So every stream entry in the state is marked with its owner ("owner"), and a
// sync for another owner on the same state puts the entry aside under "other_owners" and
// takes that owner's own entry from there (or starts from start_date without one). Switching
// back and forth loses nothing and re-reads nothing but the lookback. The whole entry moves
// (bookmark, partitions, per-breakdown bookmarks, recorded settings, and keys other modules
// or versions keep there), because all of it describes what was read for that owner.
// docs/state.md "Owners" is the user's side of this.
import { log } from '../../log.js';
import { STREAM_NAMES, type StreamName } from '../../schemas.js';
import type { Partition, StateStore, StreamBookmark } from '../../state.js';

/** Keys that describe the entry's owners, not one owner's progress. */
const OWNER_KEYS = new Set(['owner', 'other_owners', 'unowned']);

/** Every owner the state records anywhere: entry marks, put-aside entries, partition contexts. */
function recordedOwners(state: StateStore): Set<string> {
  const out = new Set<string>();
  for (const name of STREAM_NAMES) {
    const bm = state.bookmark(name);
    if (!bm) continue;
    if (typeof bm.owner === 'string') out.add(bm.owner);
    for (const o of Object.keys(bm.other_owners ?? {})) out.add(o);
    for (const p of bm.partitions ?? []) if (typeof p.context.owner === 'string') out.add(p.context.owner);
  }
  return out;
}

/** Removes and returns one owner's part of an entry (everything but the owner keys). */
function takeProgress(bm: StreamBookmark): StreamBookmark {
  const out: StreamBookmark = {};
  for (const k of Object.keys(bm)) {
    if (OWNER_KEYS.has(k)) continue;
    out[k] = bm[k];
    delete bm[k];
  }
  return out;
}

function hasContent(bm: StreamBookmark): boolean {
  return Object.keys(bm).length > 0;
}

/** The entry marked for `owner`, its own progress taken from other_owners (or none: start_date). */
function switchTo(stream: StreamName, bm: StreamBookmark, from: string, owner: string): void {
  const others = (bm.other_owners ??= {});
  const away = takeProgress(bm);
  if (hasContent(away)) others[from] = away;
  const mine = others[owner];
  delete others[owner];
  if (mine) Object.assign(bm, mine);
  if (Object.keys(others).length === 0) delete bm.other_owners;
  bm.owner = owner;
  log.info(
    `State of '${stream}' was last written for owner '${from}'; this sync is for owner '${owner}': ${
      mine ? `resuming from its own bookmark` : `no bookmark of '${owner}' yet, so reading from start_date`
    } ('${from}''s bookmark is kept for when it is configured again).`,
  );
}

/**
 * An entry written before owners were recorded (no "owner"). Its partitions that name an
 * owner in their context are that owner's. For the rest the state is evidence only of the
 * owners it records elsewhere: none → taken as the configured owner's (the tap knew only one
 * owner per state, and re-reading everything would bill every upgrading user a backfill);
 * exactly one → that owner's; several → no one can tell, so it is kept under "unowned",
 * never used, and the configured owner starts from start_date.
 */
function adoptLegacy(stream: StreamName, bm: StreamBookmark, owner: string, recorded: Set<string>): void {
  const owned = new Map<string, Partition[]>();
  const ownerless: Partition[] = [];
  for (const p of bm.partitions ?? []) {
    const o = p.context.owner;
    if (typeof o === 'string') owned.set(o, [...(owned.get(o) ?? []), p]);
    else ownerless.push(p);
  }
  const rest = takeProgress(bm);
  delete rest.partitions;
  if (ownerless.length) rest.partitions = ownerless;
  const whose = recorded.size === 0 ? owner : recorded.size === 1 ? [...recorded][0]! : undefined;
  const others: Record<string, StreamBookmark> = { ...(bm.other_owners ?? {}) };
  const mine: StreamBookmark = {};
  const progress = rest.replication_key_value !== undefined || rest.breakdowns !== undefined || ownerless.length > 0;
  // Recorded settings alone say nothing about how far anyone got: they stay with the configured owner.
  if (!progress) Object.assign(mine, rest);
  else {
    if (whose === owner) Object.assign(mine, rest);
    else if (whose !== undefined) others[whose] = { ...rest, ...(others[whose] ?? {}) };
    else bm.unowned = rest;
    const said =
      recorded.size === 0
        ? `taking it as owner '${owner}''s, the one configured (nothing in the state names another owner)`
        : whose === owner
          ? `taking it as owner '${owner}''s, the only owner the state records`
          : whose !== undefined
            ? `taking it as owner '${whose}''s, the only owner the state records: owner '${owner}' reads from start_date`
            : `the state records several owners (${[...recorded].sort().join(', ')}), so it cannot tell whose it is: it is kept under "unowned" and not used, and owner '${owner}' reads from start_date`;
    (whose === undefined ? log.warn : log.info)(
      `State of '${stream}' does not record its owner (an earlier tap-scarf wrote it): ${said}.`,
    );
  }
  for (const [o, parts] of owned) {
    if (o === owner) mine.partitions = [...parts, ...(mine.partitions ?? [])];
    else {
      const other = (others[o] ??= {});
      other.partitions = [...(other.partitions ?? []), ...parts];
    }
  }
  Object.assign(bm, mine);
  if (Object.keys(others).length) bm.other_owners = others;
  else delete bm.other_owners;
  bm.owner = owner;
}

/**
 * The state's owner migrations, run once when a sync (or a plan) first reads the state and
 * before anything reads a bookmark: makes each selected stream's entry the configured
 * owner's, its partitions written without an owner in their context included, and has every
 * entry this sync creates marked with it. So the first STATE the sync writes already has the
 * owner's shape, and a plan sees the very state its sync will read.
 */
export function selectOwner(state: StateStore, streams: readonly StreamName[], owner: string): void {
  const recorded = recordedOwners(state);
  for (const stream of streams) {
    const bm = state.bookmark(stream);
    if (!bm) continue;
    if (bm.owner !== owner) {
      if (typeof bm.owner === 'string') switchTo(stream, bm, bm.owner, owner);
      else adoptLegacy(stream, bm, owner, recorded);
    }
    state.adoptOwnerlessPartitions(stream, owner);
  }
  state.writeFor(owner);
}
