// Which streams a request budget starved, kept in their state entries ("starved_since") so
// the next sync serves them first (src/streams/plan/budget.ts has the rule; src/streams/plan/sync-plan.ts
// models it for the budget forecast).
import type { StreamName } from '../../schemas.js';
import type { StateStore } from '../../state.js';
import type { StreamSelection } from '../engine/definitions.js';
import { STREAMS } from '../registry.js';

/** A stream's progress as its state shows it (its bookmarks and ledger, not the marks around them). */
export function progressOf(state: StateStore, stream: StreamName): string {
  return JSON.stringify(state.bookmark(stream) ?? {}, (key, value: unknown) =>
    key === 'settings' || key === 'starved_since' || key === 'count_mismatches' ? undefined : value,
  );
}

/** The streams in the order this sync reads them: the starved ones first, the dependencies of each kept before it. */
export function serveStarvedFirst(state: StateStore, selections: StreamSelection[]): StreamSelection[] {
  const since = (s: StreamSelection) => state.bookmark(s.stream)?.starved_since;
  const starved = selections
    .filter((s) => typeof since(s) === 'string')
    .sort((a, b) => ((since(a) as string) < (since(b) as string) ? -1 : (since(a) as string) > (since(b) as string) ? 1 : 0));
  if (starved.length === 0) return selections;
  const out: StreamSelection[] = [];
  const add = (s: StreamSelection) => {
    if (out.includes(s)) return;
    for (const dep of STREAMS[s.stream].dependsOn) {
      const d = selections.find((x) => x.stream === dep);
      if (d) add(d);
    }
    out.push(s);
  };
  for (const s of [...starved, ...selections]) add(s);
  return out;
}

/** Marks or unmarks a stream after the sync read it (or did not). */
export function markStarved(state: StateStore, stream: StreamName, starved: boolean, since: string): void {
  const prev = state.bookmark(stream)?.starved_since;
  if (!starved) state.setExtra(stream, 'starved_since', undefined);
  else if (typeof prev !== 'string') state.setExtra(stream, 'starved_since', since);
}
