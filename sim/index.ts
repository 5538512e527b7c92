// The simulator's public surface (README.md): the only module anything outside sim/ imports
// (sim/test/boundary.test.ts checks it).

export {
  COMPANY_SEGMENTS,
  V3_BREAKDOWNS,
  V3_DIMENSIONS,
  V3_FIELDS,
  V3_ROLLUPS,
  type V3Breakdown,
  type V3Rollup,
  type V3Row,
} from './aggregations.js';
export {
  AGGREGATE_EXTRA_KEY,
  AGGREGATE_RECORD_KEYS,
  type ColumnSet,
  COMPANY_EVENT_RECORD_KEYS,
  EVENT_COLUMNS_CURRENT,
  EVENT_COLUMNS_LEGACY,
  EVENT_EXTRA_COLUMN,
  EVENT_RECORD_KEYS,
  eventColumns,
  ROLLUP_COLUMNS_CURRENT,
  ROLLUP_COLUMNS_LEGACY,
  ROLLUP_EXTRA_COLUMN,
  ROLLUP_RECORD_KEYS,
  rollupColumns,
} from './columns.js';
export { type ArtifactType, companyArtifactColumns } from './company-artifacts.js';
export { type Rollup, ROLLUPS } from './dates.js';
export { type Endpoint, ENDPOINTS, FAULT_KINDS, type FaultKind, type FaultSpec, validateFaults } from './faults.js';
export {
  type AggregatesCountScale,
  type AggregatesCountSkew,
  DEFAULT_TOKEN,
  type ResolvedSimOptions,
  type Revision,
  type SimOptions,
} from './options.js';
export { Rng } from './prng.js';
export { type RequestLogEntry, ScarfSimulator } from './server.js';
export type { DailyCounts, GroundTruth, TruthRecord, V3Params } from './truth.js';
export { type Artifact, artifactId, PACKAGES, PIXELS } from './universe.js';
export { type Breakdown, BREAKDOWNS } from './views.js';
export { FORGED_COLUMN } from './writer.js';
