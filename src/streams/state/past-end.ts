// A state whose bookmark is past end_date leaves a stream nothing to read. Under Meltano that
// is legitimate (a finished backfill job with a fixed end_date runs again with its stored
// state), so it is a warning, not an error; but it is said, so an exit 0 without records is
// not a mystery. README "Configuration" describes the date rules.
import { log } from '../../log.js';
import type { StreamSelection } from '../engine/definitions.js';
import { resumeDay } from '../engine/resume.js';
import { allValuesReached, fullTable } from '../engine/stream-state.js';
import type { SyncContext } from '../engine/types.js';
import { STREAMS } from '../registry.js';

export function warnIfBookmarkPastEnd(ctx: SyncContext, selections: StreamSelection[]): void {
  const s = ctx.settings;
  for (const sel of selections) {
    if (fullTable(sel)) continue;
    // A partitioned stream has no one bookmark to speak of, and a snapshot reads no day range.
    const { partitionedBy, window, lookback, bookmarkPer } = STREAMS[sel.stream];
    if (partitionedBy || window === 'snapshot' || !lookback) continue;
    const bookmark = bookmarkPer
      ? allValuesReached(ctx.state, STREAMS[sel.stream], s)
      : ctx.state.value(sel.stream, sel.replicationKey);
    const start = resumeDay(ctx, bookmark, s[lookback]);
    if (bookmark === undefined || start <= ctx.endDay) continue;
    log.warn(
      `${sel.stream}: the state's bookmark (${bookmark}) is past the last day to read (${ctx.endDay}${s.end_date ? `, end_date` : ''}), so there is nothing to read and no request is made. That is expected when a finished backfill runs again with its state; to read later days, raise or remove end_date.`,
    );
  }
}
