// Stream facts both protocols derive their catalogs from. Record shapes live in schemas/.
// Every key starts with the owner: one warehouse table may hold several Scarf owners, and
// Scarf documents no id as unique beyond one owner's export (README "Streams").
import type { StreamName } from '../schemas.js';

export interface StreamInfo {
  name: StreamName;
  keyProperties: string[];
  validReplicationKeys: string[];
  defaultReplicationKey: string;
  /** The user may pick the cursor among validReplicationKeys (Airbyte: source_defined_cursor false). */
  userChoosableCursor: boolean;
  /** Bookmarks are kept per partition (company domain) rather than once per stream. */
  partitionedBy?: string;
}

export const STREAMS: Record<StreamName, StreamInfo> = {
  events: {
    name: 'events',
    keyProperties: ['owner', 'id'],
    validReplicationKeys: ['time'],
    defaultReplicationKey: 'time',
    userChoosableCursor: false,
  },
  aggregates: {
    name: 'aggregates',
    keyProperties: ['owner', 'row_key'],
    validReplicationKeys: ['date'],
    defaultReplicationKey: 'date',
    userChoosableCursor: false,
  },
  company_rollup: {
    name: 'company_rollup',
    keyProperties: ['owner', 'company_domain'],
    validReplicationKeys: ['last_seen', 'first_seen'],
    defaultReplicationKey: 'last_seen',
    userChoosableCursor: true,
  },
  company_events: {
    name: 'company_events',
    keyProperties: ['owner', 'id'],
    validReplicationKeys: ['time'],
    defaultReplicationKey: 'time',
    userChoosableCursor: false,
    partitionedBy: 'company_domain',
  },
};
