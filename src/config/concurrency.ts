// How many requests may be in flight at once: one number, read by the client (its connection
// pool) and by the window runner (how far ahead it fetches). Two readings of the setting that
// disagreed could deadlock the runner waiting for a connection it never gets (docs/DESIGN.md).
import type { Settings } from './load.js';

export function requestConcurrency(settings: Pick<Settings, 'max_concurrent_requests'>): number {
  return Math.max(1, settings.max_concurrent_requests);
}
