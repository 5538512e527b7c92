// company_package_rollup and company_pixel_rollup: one row per UTC day, artifact and company
// (GET /v2/companies/{owner}/package-rollup and /pixel-rollup). Two exports of one shape, so
// one module; each stream has its own declaration, state and requests.
// Incremental by date like aggregates: the bookmark is the last day read (today's rows are
// partial, so that day is read again), and every sync re-reads aggregates_lookback_days
// before it, because Scarf revises past company attribution (docs/scarf-api.md, "v3
// aggregations export: `GET /v3/insights/{owner}/aggregations/export`", the revisions row);
// the target replaces the revised rows by their key.
import type { StreamSelection } from '../catalog.js';
import { companyArtifactRollupPath } from '../scarf/endpoints.js';
import { dayOf, dayWindows, minDay, type Window } from './days.js';
import { STREAMS } from './definitions.js';
import { plural, type StreamPlanner, windowedPlan } from './planned.js';
import { splitByDays } from './ranges.js';
import { resumeDay } from './resume.js';
import { runWindows, type WindowedStream } from './runner.js';
import { StreamState } from './stream-state.js';
import type { Rec, StreamReader, SyncContext } from './types.js';

type RollupStream = 'company_package_rollup' | 'company_pixel_rollup';

const ARTIFACT: Record<RollupStream, 'package' | 'pixel'> = {
  company_package_rollup: 'package',
  company_pixel_rollup: 'pixel',
};

/** The key without the owner (one request is one owner's): day, artifact id, company domain, as typed by the schema. */
function keyOf(stream: RollupStream): (rec: Rec) => string {
  const [, ...fields] = STREAMS[stream].keyProperties;
  return (rec) => JSON.stringify(fields.map((f) => rec[f]));
}

/** Windows of aggregates_window_days from the bookmark's day minus the lookback. */
function rollupStream(ctx: SyncContext, selection: StreamSelection, name: RollupStream): WindowedStream<Window> {
  const s = ctx.settings;
  const state = new StreamState(ctx.state, selection);
  const start = resumeDay(ctx, state.bookmark(), s.aggregates_lookback_days);
  const key = keyOf(name);
  return {
    declaration: STREAMS[name],
    windows: dayWindows(start, ctx.endDay, s.aggregates_window_days),
    split: splitByDays,
    concurrent: true,
    request: (_window, w) => ({
      path: companyArtifactRollupPath(s.owner, ARTIFACT[name]),
      query: { start_date: w.start, end_date: w.end },
      label: `${name} ${w.start}..${w.end}`,
      keyOf: key,
    }),
    // The last day read, never after the sync's start day (its rows were partial then).
    commit: (_window, w) => {
      const mark = minDay(w.end, dayOf(ctx.signpost));
      const prev = state.bookmark();
      state.commit(prev && prev > mark ? prev : mark);
    },
  };
}

function reader(name: RollupStream): StreamReader {
  return (ctx, selection, sink, stats) => runWindows(ctx, rollupStream(ctx, selection, name), sink, stats);
}

function planner(name: RollupStream): StreamPlanner {
  return (ctx, selection) => {
    const stream = rollupStream(ctx, selection, name);
    const first = stream.windows[0];
    return windowedPlan(
      stream,
      first
        ? `${plural(stream.windows.length, 'window')} of up to ${plural(ctx.settings.aggregates_window_days, 'day')}, ${first.start}..${ctx.endDay}`
        : 'nothing to read',
    );
  };
}

export const readCompanyPackageRollup = reader('company_package_rollup');
export const planCompanyPackageRollup = planner('company_package_rollup');
export const readCompanyPixelRollup = reader('company_pixel_rollup');
export const planCompanyPixelRollup = planner('company_pixel_rollup');
