// verify_counts' hooks (src/streams/engine/types.ts) made of Scarf's counts (counts.ts), the
// reconciliation of day tallies (reconcile.ts) and the aggregates check (aggregates-check.ts),
// by what each declaration says it is verified against. The sync plugs them in (makeContext).
import type { Day } from '../engine/days.js';
import type { Verification } from '../engine/types.js';
import { checkAggregatesPart, TotalsTally } from './aggregates-check.js';
import { countsRead } from './counts.js';
import { partVerifier, verifyRollup } from './reconcile.js';

export const countsVerification: Verification = {
  parts(run, windows, ledger) {
    if (run.declaration.verifiedAgainst !== 'by-total-rows') return partVerifier(run, windows, ledger);
    return {
      prepare: async () => undefined,
      tally: () => new TotalsTally(),
      reconcile: (part, spec, seen, totals) => checkAggregatesPart(run, part, spec, seen, totals as TotalsTally),
    };
  },
  snapshot: verifyRollup,
  sharedRows: (ctx, kind, part) => countsRead(ctx)?.shared(kind, part),
  lastCountedDays(ctx) {
    const out = new Map<string, Day>();
    const ref = countsRead(ctx);
    if (!ref) return out;
    for (const day of [...ref.coveredDays('company')].sort())
      for (const domain of ref.activeDomains({ start: day, end: day })) out.set(domain, day);
    return out;
  },
};
