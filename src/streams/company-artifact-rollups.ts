// company_package_rollup and company_pixel_rollup: one row per UTC day, artifact and company
// (GET /v2/companies/{owner}/package-rollup and /pixel-rollup). Two exports of one shape, so
// one module; each stream has its own declaration, state and requests.
// Incremental by date like aggregates: the bookmark is the last day read (today's rows are
// partial, so that day is read again), and every sync re-reads aggregates_lookback_days
// before it, because Scarf revises past company attribution (docs/scarf-api.md, "v3
// aggregations export: `GET /v3/insights/{owner}/aggregations/export`", the revisions row);
// the target replaces the revised rows by their key.
import { companyArtifactRollupPath } from '../scarf/endpoints.js';
import { dayOf, dayWindows, minDay, type Window } from './engine/days.js';
import type { StreamSelection } from './engine/definitions.js';
import type { StreamDeclaration } from './engine/definitions.js';
import type { StreamModule } from './engine/module.js';
import { splitByDays } from './engine/ranges.js';
import { resumeDay } from './engine/resume.js';
import { runWindows, type WindowedStream } from './engine/runner.js';
import { plural, windowsPlan } from './engine/stream-plan.js';
import { StreamState } from './engine/stream-state.js';
import type { Rec, SyncContext } from './engine/types.js';

/** The company package or pixel rollup: one row per UTC day, artifact and company, the two alike but for the artifact. */
function declare(artifact: 'package' | 'pixel'): StreamDeclaration {
  return {
    name: `company_${artifact}_rollup`,
    endpoint: `company-${artifact}-rollup`,
    format: 'csv',
    keyProperties: ['owner', 'date', artifact, 'company_domain'],
    validReplicationKeys: ['date'],
    defaultReplicationKey: 'date',
    userChoosableCursor: false,
    dependsOn: [],
    window: 'days',
    // Scarf revises past company attribution, as for aggregates: the same trailing days are re-read.
    lookback: 'aggregates_lookback_days',
    coveredBy: { start_date: 'start_date' },
    pastSignpost: 'signpost-day',
    optIn: true,
  };
}

/** The key without the owner (one request is one owner's): day, artifact id, company domain, as typed by the schema. */
function keyOf(declaration: StreamDeclaration): (rec: Rec) => string {
  const [, ...fields] = declaration.keyProperties;
  return (rec) => JSON.stringify(fields.map((f) => rec[f]));
}

/** Windows of aggregates_window_days from the bookmark's day minus the lookback. */
function rollupStream(
  ctx: SyncContext,
  selection: StreamSelection,
  declaration: StreamDeclaration,
  artifact: 'package' | 'pixel',
): WindowedStream<Window> {
  const s = ctx.settings;
  const state = new StreamState(ctx.state, declaration, selection);
  const start = resumeDay(ctx, state.bookmark(), s.aggregates_lookback_days);
  const key = keyOf(declaration);
  return {
    declaration,
    windows: dayWindows(start, ctx.endDay, s.aggregates_window_days),
    split: splitByDays,
    concurrent: true,
    request: (_window, w) => ({
      path: companyArtifactRollupPath(s.owner, artifact),
      query: { start_date: w.start, end_date: w.end },
      label: `${declaration.name} ${w.start}..${w.end}`,
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

function companyArtifactRollup(artifact: 'package' | 'pixel'): StreamModule {
  const declaration = declare(artifact);
  return {
    declaration,
    read: (run) => runWindows(run, rollupStream(run.ctx, run.selection, declaration, artifact)),
    plan: (ctx, selection) => {
      const stream = rollupStream(ctx, selection, declaration, artifact);
      return windowsPlan(ctx, stream, `up to ${plural(ctx.settings.aggregates_window_days, 'day')}`);
    },
  };
}

export const companyPackageRollup = companyArtifactRollup('package');
export const companyPixelRollup = companyArtifactRollup('pixel');
