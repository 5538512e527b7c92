// The aggregations stream: Scarf's v3 export (GET /v3/insights/{owner}/aggregations/export),
// which Scarf now offers in place of the legacy v2 aggregates
// (docs/scarf-api.md "Scarf's API as it is now (2026)"). What differs from aggregates, on purpose:
// - one request per breakdown set and window (v3 takes one set a request), each set with its
//   own bookmark, so a set added later is backfilled alone;
// - windows of at most 366 days, aligned to the rollup's periods (v3 dates a period by its
//   own start and counts only the window's days: a split period would give two rows with one
//   key), asked for with an exclusive end (days.ts exclusiveEnd, the one conversion);
// - the window Scarf says it answered (X-Scarf-Effective-Start-Date/End-Date) is checked
//   against the one asked: a narrower answer is reported and its set's bookmark goes no
//   further than the days answered;
// - every sync reads aggregations_rewrite_days before the bookmark again (Scarf revises past
//   periods as company attribution improves);
// - the owner is sent as configured (v3 is case-sensitive: src/config/owner-case.ts), and
//   written lower-case into records and keys.
import { breakdownSetKey } from '../config/aggregations.js';
import { ownerAsConfigured } from '../config/owner-case.js';
import type { AggregationsRecord } from '../generated/records.js';
import { log } from '../log.js';
import { aggregationsPath } from '../scarf/endpoints.js';
import { periodRowsDeclaration, SHARED_DIMENSIONS } from './aggregates.js';
import { type Day, dayOf, exclusiveEnd, inclusiveEnd, minDay, periodWindows, type Rollup, type Window } from './engine/days.js';
import type { StreamSelection } from './engine/definitions.js';
import type { StreamDeclaration } from './engine/definitions.js';
import type { FetchSpec } from './engine/fetch.js';
import type { StreamModule } from './engine/module.js';
import { resumeDay } from './engine/resume.js';
import { runWindows, type WindowedStream } from './engine/runner.js';
import { plural, windowsPlan } from './engine/stream-plan.js';
import { StreamState } from './engine/stream-state.js';
import type { Rec, SyncContext } from './engine/types.js';

/** Scarf's longest v3 window: end − start ≤ 366 days, end exclusive (docs/scarf-api.md). */
export const MAX_WINDOW_DAYS = 366;

/** The dimension fields of a v3 row, in the order Scarf sends them: all of them are part of the key. */
const DIMENSIONS = [
  'country',
  'company_name',
  'company_domain',
  'cloud_provider_name',
  'cloud_provider_domain',
  ...SHARED_DIMENSIONS,
  'referer',
  'endpoint_id',
  'origin_id',
  'file_extension',
  'user_agent',
  'importance',
  'funnel_stage',
  'company_size',
  'sic_code',
] as const;

type KeySource = Pick<AggregationsRecord, 'owner' | 'date' | 'rollup' | 'breakdown' | 'artifact'> &
  Partial<Pick<AggregationsRecord, (typeof DIMENSIONS)[number]>>;

/**
 * owner, date, rollup, breakdown set, artifact and every dimension value (null where the set
 * has none). Names are left out (a renamed package or company must not make a second row);
 * company_domain stays in, company_name too (edu/gov rows carry both, and Scarf keys them so).
 */
export function aggregationRowKey(rec: KeySource): string {
  const parts: unknown[] = [rec.owner, rec.date, rec.rollup, rec.breakdown, rec.artifact];
  for (const d of DIMENSIONS) parts.push(rec[d] ?? null);
  return JSON.stringify(parts);
}

/** The window Scarf's headers say it answered, inclusive days; undefined without both headers. */
export function answeredWindow(headers: Record<string, string | string[] | undefined>): Window | undefined {
  const one = (name: string): string | undefined => {
    const v = headers[name];
    const s = Array.isArray(v) ? v[0] : v;
    return s !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(s.trim()) ? s.trim() : undefined;
  };
  const start = one('x-scarf-effective-start-date');
  const end = one('x-scarf-effective-end-date');
  if (start === undefined || end === undefined) return undefined;
  return { start, end: inclusiveEnd(end) };
}

const declaration: StreamDeclaration = {
  name: 'aggregations',
  endpoint: 'aggregations',
  ...periodRowsDeclaration,
  // Its rewrite window: re-read every sync, widened to whole periods (aggregationsStream below).
  lookback: 'aggregations_rewrite_days',
  coveredBy: {
    start_date: 'start_date',
    rollup: 'aggregations_rollup',
    package_ids: 'aggregations_package_ids',
    tracking_pixel_ids: 'aggregations_tracking_pixel_ids',
    query: 'aggregations_query',
    group_by_artifact: 'aggregations_group_by_artifact',
    include_low_confidence: 'aggregations_include_low_confidence',
  },
  bookmarkPer: 'aggregations_breakdown_sets',
  optIn: true,
};

interface SetWindow extends Window {
  /** The breakdown set this request asks for, and its bookmark key. */
  set: readonly string[];
  key: string;
}

function aggregationsStream(
  ctx: SyncContext,
  selection: StreamSelection,
  seenArtifacts?: Set<string>,
): WindowedStream<SetWindow> {
  const s = ctx.settings;
  const rollup = s.aggregations_rollup as Rollup;
  const state = new StreamState(ctx.state, declaration, selection);
  const sets = s.aggregations_breakdown_sets;
  // Sets Scarf answered less than a window asked: their bookmark moves no further in this sync.
  const stopped = new Set<string>();
  // The days each part's headers say were answered, by set and part (parts may be fetched
  // ahead of their commit, so one per part).
  const answered = new Map<string, Window | undefined>();
  const partId = (key: string, w: Window) => `${key} ${w.start} ${w.end}`;
  const windows: SetWindow[] = sets.flatMap((set) => {
    const key = breakdownSetKey(set);
    const from = resumeDay(ctx, state.breakdown(key), s[declaration.lookback!]);
    return periodWindows(from, ctx.endDay, MAX_WINDOW_DAYS, rollup).map((w) => ({ ...w, set, key }));
  });
  const split = (w: Window, max: number) => periodWindows(w.start, w.end, max, rollup);
  return {
    declaration,
    windows,
    split,
    concurrent: true,
    request: ({ set, key }, w) => {
      const spec: Pick<FetchSpec, 'path' | 'query' | 'label' | 'deriveKey' | 'onHeaders'> = {
        path: aggregationsPath(ownerAsConfigured(s.owner)),
        query: {
          start_date: w.start,
          end_date: exclusiveEnd(w.end),
          rollup,
          breakdown_set: breakdownSetKey(set),
          package_id: s.aggregations_package_ids,
          tracking_pixel_id: s.aggregations_tracking_pixel_ids,
          query: s.aggregations_query,
          group_by_artifact: String(s.aggregations_group_by_artifact),
          include_low_confidence: String(s.aggregations_include_low_confidence),
        },
        label: `aggregations ${key} ${w.start}..${w.end}`,
        deriveKey: (rec: Rec) => {
          seenArtifacts?.add(rec.artifact as string);
          // The typer has just built the record from schemas/aggregations.json: it has this shape.
          return aggregationRowKey(rec as unknown as KeySource);
        },
        onHeaders: (headers) => {
          answered.set(partId(key, w), answeredWindow(headers));
        },
      };
      return spec;
    },
    commit: ({ key }, w) => {
      const got = answered.get(partId(key, w));
      answered.delete(partId(key, w));
      if (stopped.has(key)) return;
      let last: Day = w.end;
      if (got && (got.start !== w.start || got.end !== w.end)) {
        // Days at the start not answered leave a gap: the bookmark stays. Days at the end not
        // answered: the bookmark goes up to the last day answered. Either way no later window
        // of this set moves it in this sync, and the next sync asks for the rest again.
        const before = got.start > w.start;
        const until = before ? undefined : minDay(got.end, w.end);
        log.warn(
          `aggregations ${key} ${w.start}..${w.end}: Scarf answered ${got.start}..${got.end} (its X-Scarf-Effective-Start-Date/End-Date headers; end shown inclusive), not the whole window asked. ` +
            (until !== undefined && until >= w.start
              ? `The bookmark of ${key} moves only to ${until}`
              : `The bookmark of ${key} stays where it was`) +
            '; the next sync asks for the rest again.',
        );
        stopped.add(key);
        if (until === undefined || until < w.start) return;
        last = until;
      } else if (!got) {
        log.debug(`aggregations ${key} ${w.start}..${w.end}: no X-Scarf-Effective-* headers; taking the window as answered.`);
      }
      state.commitValues([key], minDay(last, dayOf(ctx.signpost)), s);
    },
  };
}

/**
 * Scarf answers an id it does not know with 200 and no rows, not an error: an id that never
 * appears in a sync's rows is almost always a typo, said once per id.
 */
function warnUnseenIds(ctx: SyncContext, seen: ReadonlySet<string>): void {
  const s = ctx.settings;
  if (!s.aggregations_group_by_artifact) return; // rows name no artifact then
  for (const [setting, ids] of [
    ['aggregations_tracking_pixel_ids', s.aggregations_tracking_pixel_ids],
    ['aggregations_package_ids', s.aggregations_package_ids],
  ] as const) {
    for (const id of ids ?? []) {
      if (seen.has(id.toLowerCase())) continue;
      log.warn(
        `aggregations: no rows for ${setting} '${id}' in ${ctx.startDay}..${ctx.endDay}. Scarf answers an id it does not know with no rows rather than an error, so this is almost always a typo: compare it with the id app.scarf.sh shows (if it is right, that artifact had no events in these days).`,
      );
    }
  }
}

const read: StreamModule['read'] = async (run) => {
  const { ctx, selection } = run;
  const seen = new Set<string>();
  const stream = aggregationsStream(ctx, selection, seen);
  await runWindows(run, stream);
  if (stream.windows.length > 0) warnUnseenIds(ctx, new Set([...seen].map((a) => a.toLowerCase())));
};

const plan: StreamModule['plan'] = (ctx, selection) => {
  const sets = ctx.settings.aggregations_breakdown_sets.length;
  return windowsPlan(
    ctx,
    aggregationsStream(ctx, selection),
    `up to ${MAX_WINDOW_DAYS} days (${ctx.settings.aggregations_rollup}, ${plural(sets, 'breakdown set')})`,
  );
};

export const aggregations: StreamModule = { declaration, read, plan };
