import type { StreamName } from '../schemas.js';
import { readAggregates } from './aggregates.js';
import { readCompanyEvents } from './company-events.js';
import { readCompanyRollup } from './company-rollup.js';
import { readEvents } from './events.js';
import type { StreamReader } from './types.js';

export const READERS: Record<StreamName, StreamReader> = {
  events: readEvents,
  aggregates: readAggregates,
  company_rollup: readCompanyRollup,
  company_events: readCompanyEvents,
};
