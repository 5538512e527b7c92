// The one mapping from settings to a Scarf client, shared by sync and the Airbyte check.
import { requestConcurrency } from '../config/concurrency.js';
import type { Settings } from '../config/load.js';
import { runtimeOptions } from '../config/runtime-options.js';
import { packageJson } from '../paths.js';
import { ScarfClient } from './client.js';

export function makeClient(settings: Settings): ScarfClient {
  return new ScarfClient({
    baseUrl: settings.base_url,
    token: settings.api_token,
    userAgent: settings.user_agent ?? `tap-scarf/${packageJson.version}`,
    timeoutMs: settings.request_timeout_seconds * 1000,
    deadlineMs: settings.request_deadline_seconds * 1000,
    maxRetries: settings.max_retries,
    maxRetryWaitMs: settings.max_retry_wait_seconds * 1000,
    maxConcurrent: requestConcurrency(settings),
    owner: settings.owner,
    maxRequests: settings.max_requests_per_sync,
    retryBaseMs: runtimeOptions().retryBaseMs,
  });
}
