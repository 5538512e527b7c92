// A bookmark says "read up to here", but only for the settings that shaped what was read: a
// breakdown added, a package filter dropped or an earlier start_date all ask for rows the
// bookmark never covered. So each stream's entry in the state records those settings, and
// a sync that finds them changed re-reads what the change implies before anything else.
// docs/state.md "When you change settings" is the user's side of this.
import { log } from '../../log.js';
import type { StreamName } from '../../schemas.js';
import { minDay } from '../engine/days.js';
import type { StreamSelection } from '../engine/definitions.js';
import { bookmarkKeys } from '../engine/definitions.js';
import { allValuesReached, fullTable } from '../engine/stream-state.js';
import type { SyncContext } from '../engine/types.js';
import { STREAMS } from '../registry.js';

/** The settings that decide WHICH rows a stream's bookmark covers (not how they are fetched): its declared `coveredBy`. */
function wanted(ctx: SyncContext, stream: StreamName): Record<string, unknown> | undefined {
  const covered = STREAMS[stream].coveredBy;
  if (!covered) return undefined;
  const s = ctx.settings;
  return Object.fromEntries(
    Object.entries(covered).map(([key, setting]) => [key, setting === 'start_date' ? ctx.startDay : (s[setting] ?? null)]),
  );
}

/** The setting a recorded key stands for, as the user knows it. */
function settingName(stream: StreamName, key: string): string {
  return STREAMS[stream].coveredBy?.[key] ?? key;
}

function show(v: unknown): string {
  return v === null || v === undefined ? '(not set)' : JSON.stringify(v);
}

/** What changed, in words; empty when the bookmark still covers what the settings ask for. */
function changes(stream: StreamName, recorded: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(now)) {
    if (key === 'start_date') continue;
    const before = key in recorded ? recorded[key] : now[key];
    // JSON text: list settings (aggregations_package_ids) compare by value.
    if (JSON.stringify(before ?? null) !== JSON.stringify(now[key]))
      out.push(`${settingName(stream, key)} ${show(before)} → ${show(now[key])}`);
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
  for (const selection of selections) {
    const { stream } = selection;
    const now = wanted(ctx, stream);
    if (!now) continue;
    if (fullTable(selection)) {
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
          .map(([k, v]) => `${settingName(stream, k)} ${show(v)}`)
          .join(', ')}).`,
      );
    const changed = recorded && state.hasProgress(stream) ? changes(stream, recorded, now) : [];
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
    const per = STREAMS[stream].bookmarkPer;
    if (per) reconcileBreakdowns(ctx, stream, bookmarkKeys(per, ctx.settings), legacy);
    state.recordSettings(stream, { ...now, start_date: coveredFrom });
  }
}

/**
 * A stream with a bookmark per breakdown (aggregates, `bookmarkPer`): a breakdown added since
 * the last sync is read from start_date while the others go on from theirs (requests for the
 * old range name only the new breakdown). A breakdown removed keeps its bookmark: added back
 * later, it resumes from it, which covers the time it was away.
 */
function reconcileBreakdowns(ctx: SyncContext, stream: StreamName, configured: readonly string[], legacy: boolean): void {
  const state = ctx.state;
  const stored = state.breakdownValues(stream);
  const whole = state.bookmark(stream)?.replication_key_value;
  if (legacy && Object.keys(stored).length === 0 && whole) {
    // One bookmark for all: under the legacy assumption every current breakdown reached it.
    for (const b of configured) state.setBreakdownValue(stream, b, whole);
    return;
  }
  if (!state.hasProgress(stream)) return;
  const added = configured.filter((b) => !(b in stored));
  if (added.length) {
    const kept = configured.filter((b) => b in stored);
    log.warn(
      `${stream}: breakdown(s) ${added.join(', ')} added since the last sync: reading them from start_date ${ctx.startDay}${kept.length ? ` while ${kept.join(', ')} continue from their bookmark` : ''}.`,
    );
  }
  // The stream-wide value means "every configured breakdown is read up to here".
  const reached = allValuesReached(state, STREAMS[stream], ctx.settings);
  if (reached !== undefined) state.setValue(stream, STREAMS[stream].defaultReplicationKey, reached);
  else state.dropValue(stream);
}
