// Public surface of the Scarf API simulator (see README.md).

export { ScarfSimulator, type RequestLogEntry } from './server.js';
export type { SimOptions, ResolvedSimOptions } from './options.js';
export { FAULT_KINDS, type FaultSpec, type FaultKind, type Endpoint } from './faults.js';
export type { GroundTruth, TruthRecord } from './truth.js';
export { BREAKDOWNS, type Breakdown } from './views.js';
export { ROLLUPS, type Rollup } from './dates.js';
export {
  EVENT_COLUMNS_CURRENT,
  EVENT_COLUMNS_LEGACY,
  EVENT_EXTRA_COLUMN,
  ROLLUP_COLUMNS_CURRENT,
  ROLLUP_COLUMNS_LEGACY,
  ROLLUP_EXTRA_COLUMN,
  AGGREGATE_EXTRA_KEY,
  EVENT_RECORD_KEYS,
  COMPANY_EVENT_RECORD_KEYS,
  ROLLUP_RECORD_KEYS,
  AGGREGATE_RECORD_KEYS,
  eventColumns,
  rollupColumns,
  type ColumnSet,
} from './columns.js';
