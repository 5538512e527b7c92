// Tracking-pixel views from their own export (GET /v2/tracking-pixels/{owner}/events): the
// events columns and rules, so the same windows, bookmark and lookback as events. Whether the
// entity-wide events export holds these views too is not documented (docs/scarf-api.md "More
// v2 exports"): the ids are the same either way, so a target keyed by id never double-counts
// within one table, and the README says which of the two streams to select.
import type { StreamSelection } from '../catalog.js';
import { pixelEventsPath } from '../scarf/endpoints.js';
import type { Window } from './days.js';
import { STREAMS } from './definitions.js';
import { eventDayPlan, eventDayStream } from './events.js';
import type { StreamPlanner } from './planned.js';
import { runWindows, type WindowedStream } from './runner.js';
import type { StreamReader, SyncContext } from './types.js';

/** The windows, bookmark and lookback of events, on the pixel export; not verified, so no open days. */
function pixelEventsStream(ctx: SyncContext, selection: StreamSelection): WindowedStream<Window> {
  // No `query`: package_query names packages, and this export holds none.
  return eventDayStream(ctx, selection, STREAMS.pixel_events, (w) => ({
    path: pixelEventsPath(ctx.settings.owner),
    query: { start_date: w.start, end_date: w.end },
    label: `pixel_events ${w.start}..${w.end}`,
  }));
}

export const readPixelEvents: StreamReader = (ctx, selection, sink, stats) =>
  runWindows(ctx, pixelEventsStream(ctx, selection), sink, stats);

export const planPixelEvents: StreamPlanner = (ctx, selection) => eventDayPlan(ctx, pixelEventsStream(ctx, selection));
