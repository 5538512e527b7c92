// Scarf's daily counts from its v3 export, for verify_counts when the legacy v2 aggregates
// export has none: it answers no rows for some organizations, and will one day answer 404 or
// 410 (docs/reliability.md "Counts when v2 aggregates has none" says why v2 stays first).
// The rows carry the fields the v2 count reader tallies (date, rollup, breakdown, total,
// company_domain), so src/streams/verify/counts.ts feeds them to the same tally.
import { ownerAsConfigured } from '../../config/owner-case.js';
import { ApiError, TapError } from '../../errors.js';
import { aggregationsPath } from '../../scarf/endpoints.js';
import { aggregates } from '../aggregates.js';
import { aggregations, answeredWindow } from '../aggregations.js';
import { exclusiveEnd, type Window } from '../engine/days.js';
import { fetchRecords, fetchSpec } from '../engine/fetch.js';
import { KeySet } from '../engine/key-set.js';
import { recordsTo } from '../engine/stream-run.js';
import type { Rec, StreamStats, SyncContext } from '../engine/types.js';

export type CountKindRead = 'total' | 'company';

/** A v2 aggregates answer that says the endpoint is gone (not a refusal of this request). */
export function v2CountsGone(err: unknown): boolean {
  return (
    err instanceof ApiError && err.endpoint === aggregates.declaration.endpoint && (err.status === 404 || err.status === 410)
  );
}

/**
 * Reads the daily by-total (with `query`, the package filter) and by-company counts of `w`
 * from v3, one request per kind (v3 takes one breakdown set a request), into `onRecord`.
 * A narrower answer than asked (X-Scarf-Effective-*) fails the read: a day without its
 * counts cannot prove a window complete, so the window's bookmark stays.
 */
export async function readV3Counts(
  ctx: SyncContext,
  kinds: readonly CountKindRead[],
  w: Window,
  query: string | undefined,
  why: string,
  onRecord: (rec: Rec) => void,
): Promise<void> {
  for (const kind of kinds) {
    const stats: StreamStats = { records: 0, duplicates: 0, requests: 0, windows: 0, maxKeySet: 0 };
    let answered: Window | undefined;
    const label = `aggregations counts ${kind === 'total' ? 'by-total' : 'by-company'} ${w.start}..${w.end} (${why} for verify_counts, v3)`;
    await fetchRecords(
      recordsTo({ ctx, stats }, onRecord),
      fetchSpec(aggregations.declaration, {
        path: aggregationsPath(ownerAsConfigured(ctx.settings.owner)),
        query: {
          start_date: w.start,
          end_date: exclusiveEnd(w.end),
          rollup: 'daily',
          breakdown_set: kind === 'total' ? 'by-total' : 'by-company',
          ...(kind === 'total' && query !== undefined ? { query } : {}),
        },
        label,
        deriveKey: (rec: Rec) => JSON.stringify([rec.date, rec.breakdown, rec.artifact, rec.company_domain ?? null]),
        onHeaders: (headers) => {
          answered = answeredWindow(headers);
        },
      }),
      new KeySet(),
    );
    const got = answered as Window | undefined;
    if (got && (got.start !== w.start || got.end !== w.end))
      throw new TapError(
        `${label}: Scarf answered only ${got.start}..${got.end}, so the days it left out have no counts to verify the exports against; their windows keep their bookmark and the next sync asks again.`,
        'transient_error',
      ).at({ window: label });
  }
}
