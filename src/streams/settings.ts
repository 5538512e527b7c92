// A bookmark says "read up to here", but only for the settings that shaped what was read: a
// breakdown added, a package filter dropped or an earlier start_date all ask for rows the
// bookmark never covered. So each stream's entry in the state records those settings, and
// a sync that finds them changed re-reads what the change implies before anything else.
// README "When you change settings" is the user's side of this.
import type { StreamSelection } from '../catalog.js';
import { log } from '../log.js';
import type { StreamName } from '../schemas.js';
import { minDay } from './days.js';
import type { SyncContext } from './types.js';

/** The settings that decide WHICH rows a stream's bookmark covers (not how they are fetched). */
function wanted(ctx: SyncContext, stream: StreamName): Record<string, unknown> | undefined {
  const s = ctx.settings;
  switch (stream) {
    case 'events':
      return { start_date: ctx.startDay, package_query: s.package_query ?? null };
    case 'aggregates':
      return { start_date: ctx.startDay, package_query: s.package_query ?? null, rollup: s.aggregates_rollup };
    case 'company_events':
      // Each domain has its own bookmark, so a changed company_domains needs nothing here.
      return { start_date: ctx.startDay };
    case 'company_rollup':
      // One request reads the whole snapshot: no setting narrows it.
      return undefined;
  }
}

function show(v: unknown): string {
  return v === null || v === undefined ? '(not set)' : JSON.stringify(v);
}

/** What changed, in words; empty when the bookmark still covers what the settings ask for. */
function changes(recorded: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of ['package_query', 'rollup'] as const) {
    if (!(key in now)) continue;
    const before = key in recorded ? recorded[key] : now[key];
    if ((before ?? null) !== now[key])
      out.push(`${key === 'rollup' ? 'aggregates_rollup' : key} ${show(before)} → ${show(now[key])}`);
  }
  const start = recorded.start_date;
  if (typeof start === 'string' && (now.start_date as string) < start)
    out.push(`start_date earlier than the state covers (${start} → ${now.start_date as string})`);
  return out;
}

/**
 * Brings every selected stream's bookmark in line with the current settings and records
 * them in the state. State from a version that recorded nothing is taken as made with the
 * current settings (there is no way to know better, and re-reading everything on upgrade
 * would cost every user a full backfill); that is logged once per stream.
 */
export function reconcileSettings(ctx: SyncContext, selections: StreamSelection[]): void {
  const state = ctx.state;
  for (const { stream, replicationMethod } of selections) {
    const now = wanted(ctx, stream);
    if (!now) continue;
    if (replicationMethod === 'FULL_TABLE') {
      // Read from start_date whatever the state says: it then covers the current settings.
      state.recordSettings(stream, now);
      continue;
    }
    const recorded = state.recordedSettings(stream);
    const legacy = state.hasProgress(stream) && !recorded;
    if (legacy)
      log.info(
        `State of '${stream}' does not record the settings it was made with (an earlier tap-scarf wrote it): assuming the current ones (${Object.entries(
          now,
        )
          .map(([k, v]) => `${k === 'rollup' ? 'aggregates_rollup' : k} ${show(v)}`)
          .join(', ')}).`,
      );
    const changed = recorded && state.hasProgress(stream) ? changes(recorded, now) : [];
    if (changed.length) {
      log.warn(
        `${stream}: ${changed.join('; ')} since its bookmark was written, so the bookmark does not cover what the settings now ask for: reading ${stream} again from start_date ${ctx.startDay}.`,
      );
      state.resetProgress(stream);
    }
    // The earliest start ever covered stays: a later start_date narrows the range, and
    // moving it back within what was read before needs no re-read.
    const coveredFrom =
      !changed.length && recorded && typeof recorded.start_date === 'string' && state.hasProgress(stream)
        ? minDay(recorded.start_date, ctx.startDay)
        : ctx.startDay;
    if (stream === 'aggregates') reconcileBreakdowns(ctx, legacy);
    state.recordSettings(stream, { ...now, start_date: coveredFrom });
  }
}

/**
 * aggregates keeps a bookmark per breakdown: a breakdown added since the last sync is read
 * from start_date while the others go on from theirs (requests for the old range name only
 * the new breakdown). A breakdown removed keeps its bookmark: added back later, it resumes
 * from it, which covers the time it was away.
 */
function reconcileBreakdowns(ctx: SyncContext, legacy: boolean): void {
  const state = ctx.state;
  const configured = ctx.settings.aggregates_breakdowns;
  const bm = state.bookmark('aggregates');
  const stored = { ...(bm?.breakdowns ?? {}) };
  if (legacy && Object.keys(stored).length === 0 && bm?.replication_key_value) {
    // One bookmark for all: under the legacy assumption every current breakdown reached it.
    for (const b of configured) state.setBreakdownValue(b, bm.replication_key_value);
    return;
  }
  if (!state.hasProgress('aggregates')) return;
  const added = configured.filter((b) => !(b in stored));
  if (added.length) {
    const kept = configured.filter((b) => b in stored);
    log.warn(
      `aggregates: breakdown(s) ${added.join(', ')} added since the last sync: reading them from start_date ${ctx.startDay}${kept.length ? ` while ${kept.join(', ')} continue from their bookmark` : ''}.`,
    );
  }
  // The stream-wide value means "every configured breakdown is read up to here".
  const values = configured.map((b) => state.breakdownValue(b));
  if (values.every((v): v is string => v !== undefined)) state.setValue('aggregates', 'date', values.reduce(minDay));
  else if (bm) delete bm.replication_key_value;
}
