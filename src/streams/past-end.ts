// A state whose bookmark is past end_date leaves a stream nothing to read. Under Meltano that
// is legitimate (a finished backfill job with a fixed end_date runs again with its stored
// state), so it is a warning, not an error; but it is said, so an exit 0 without records is
// not a mystery. README "Configuration" describes the date rules.
import type { StreamSelection } from '../catalog.js';
import { log } from '../log.js';
import { minDay } from './days.js';
import { resumeDay } from './resume.js';
import type { SyncContext } from './types.js';

export function warnIfBookmarkPastEnd(ctx: SyncContext, selections: StreamSelection[]): void {
  const s = ctx.settings;
  for (const sel of selections) {
    if (sel.replicationMethod !== 'INCREMENTAL') continue;
    let start: string | undefined;
    let bookmark: string | undefined;
    if (sel.stream === 'events') {
      bookmark = ctx.state.value('events', 'time');
      start = resumeDay(ctx, bookmark, s.lookback_days);
    } else if (sel.stream === 'aggregates') {
      const marks = s.aggregates_breakdowns.map((b) => ctx.state.breakdownValue(b));
      if (marks.some((m) => m === undefined)) continue;
      bookmark = (marks as string[]).reduce(minDay);
      start = resumeDay(ctx, bookmark, s.aggregates_lookback_days);
    }
    if (bookmark === undefined || start === undefined || start <= ctx.endDay) continue;
    log.warn(
      `${sel.stream}: the state's bookmark (${bookmark}) is past the last day to read (${ctx.endDay}${s.end_date ? `, end_date` : ''}), so there is nothing to read and no request is made. That is expected when a finished backfill runs again with its state; to read later days, raise or remove end_date.`,
    );
  }
}
