// What a stream's plan is made of. Each reader module exports a planner next to its reader,
// built from the same windows and bookmark rule, so the plan cannot drift from what the
// reader requests (src/streams/plan/sync-plan.ts adds the plans up; docs/DESIGN.md "Adding a stream").
import type { StreamName } from '../../schemas.js';
import type { Window } from './days.js';
import type { StreamSelection } from './definitions.js';
import { ledgerWindows, type WindowedStream } from './runner.js';
import type { SyncContext } from './types.js';

/** One request the next sync makes, in the order it makes them. */
export interface PlannedRequest {
  label: string;
  /** Moves the (plan's copy of the) state as the sync would once this request's records are written. */
  commit?: () => void;
  /** The days a window request covers (verify_counts reads Scarf's counts for them: src/streams/plan/sync-plan.ts). */
  window?: Window;
  /** The company-rollup snapshot, which verify_counts checks against the company counts. */
  snapshot?: true;
  /** A request for Scarf's daily counts (verify_counts), made on the aggregates endpoint for this stream. */
  counts?: true;
  /** The days a request for Scarf's counts covers. */
  range?: Window;
  /** A day of the open-days ledger read again before the stream's windows (src/streams/engine/open-days.ts); moves no bookmark. */
  ledger?: true;
  /** The window's rows are the counts verify_counts reads (WindowedStream.fromCounts): no request where they are read. */
  fromCounts?: 'total';
}

export interface StreamPlan {
  stream: StreamName;
  requests: PlannedRequest[];
  /** How the count comes about, in words: "12 windows of 1 day from 2026-10-01". */
  detail: string;
  /**
   * How the count falls short of the truth, when it does: 'unknown' (requests that cannot be
   * counted without the company-rollup snapshot are missing), 'upper' (counted without the
   * snapshot's activity filter: at most this many).
   */
  bound?: 'unknown' | 'upper';
  /** Windows served from Scarf's counts (no request): their bookmark moves when the stream runs. */
  served?: (() => void)[];
}

/**
 * A stream's planner: the requests its reader would make from this context (settings, days,
 * state, and the company-rollup snapshot when it was read). `selected` names every stream
 * of the sync, for a stream whose requests depend on another being read (company_events).
 */
export type StreamPlanner = (ctx: SyncContext, selection: StreamSelection, selected: readonly StreamName[]) => StreamPlan;

/** The plan of a windowed stream: one request per window (Scarf refusing no range). */
export function windowedPlan<W extends Window>(stream: WindowedStream<W>, detail: string, ctx?: SyncContext): StreamPlan {
  const open = ctx ? ledgerWindows(ctx, stream) : [];
  return {
    stream: stream.declaration.name,
    detail: open.length ? `${plural(open.length, 'open day')} of earlier syncs read again first, then ${detail}` : detail,
    requests: [
      ...open.map((w): PlannedRequest => ({ label: `${stream.request(w, w).label} (open day)`, window: w, ledger: true })),
      ...stream.windows.map((w): PlannedRequest => ({
        label: stream.request(w, w).label,
        commit: () => stream.commit(w, w),
        window: w,
        ...(stream.fromCounts?.(w) ? { fromCounts: stream.fromCounts(w) } : {}),
      })),
    ],
  };
}

/**
 * The planner of a stream of windows `size` long ("1 day", "up to 7 days (daily)"), the same
 * for every windowed stream: "3 windows of 2 days, 2026-10-01..2026-10-06", after the open
 * days of earlier syncs it reads first.
 */
export function windowsPlan<W extends Window>(ctx: SyncContext, stream: WindowedStream<W>, size: string): StreamPlan {
  const first = stream.windows.reduce<string | undefined>((m, w) => (m === undefined || w.start < m ? w.start : m), undefined);
  return windowedPlan(
    stream,
    first !== undefined ? `${plural(stream.windows.length, 'window')} of ${size}, ${first}..${ctx.endDay}` : 'nothing to read',
    ctx,
  );
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
