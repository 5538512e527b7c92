// Every stream's reader and planner, by name: adding a stream adds its one module here.
import type { StreamName } from '../schemas.js';
import { planAggregates, readAggregates } from './aggregates.js';
import { planAggregations, readAggregations } from './aggregations.js';
import {
  planCompanyPackageRollup,
  planCompanyPixelRollup,
  readCompanyPackageRollup,
  readCompanyPixelRollup,
} from './company-artifact-rollups.js';
import { planCompanyEvents, readCompanyEvents } from './company-events.js';
import { planCompanyRollup, readCompanyRollup } from './company-rollup.js';
import { planEvents, readEvents } from './events.js';
import { planPixelEvents, readPixelEvents } from './pixel-events.js';
import type { StreamPlanner } from './planned.js';
import type { StreamReader } from './types.js';

export const READERS: Record<StreamName, StreamReader> = {
  events: readEvents,
  aggregates: readAggregates,
  company_rollup: readCompanyRollup,
  company_events: readCompanyEvents,
  pixel_events: readPixelEvents,
  company_package_rollup: readCompanyPackageRollup,
  company_pixel_rollup: readCompanyPixelRollup,
  aggregations: readAggregations,
};

/** The requests each reader would make (src/streams/planned.ts), for the plan and the budget. */
export const PLANNERS: Record<StreamName, StreamPlanner> = {
  events: planEvents,
  aggregates: planAggregates,
  company_rollup: planCompanyRollup,
  company_events: planCompanyEvents,
  pixel_events: planPixelEvents,
  company_package_rollup: planCompanyPackageRollup,
  company_pixel_rollup: planCompanyPixelRollup,
  aggregations: planAggregations,
};
