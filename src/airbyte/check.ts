// `check`: one real request that proves the token, the owner and the plan.
//
// Which request: every Scarf API call costs the user Runs, and only the export endpoints
// answer "plan not eligible" (403 not-a-pro-member) — a metadata call such as listing the
// owner's packages would pass for a free plan and then every sync would fail. Among the
// export endpoints:
//   - company-rollup needs no dates, but its body is every identified company (can be MBs);
//   - events for one day is one day of raw downloads (thousands of rows for a busy owner);
//   - aggregates for one day, rollup=daily, breakdown=by-total is one NDJSON line per
//     package: the smallest body an export endpoint can give, and it also validates the
//     package_query setting (400 invalid-package-query) when one is set.
// So check asks aggregates for yesterday (UTC) by-total — one request, one Run — and reads
// at most a few KB of it. Any 2xx is not enough: what it reads must be aggregates rows (or
// an empty NDJSON answer), so a proxy's sign-in page or an empty 200 cannot pass. Retries are capped low so an unreachable host answers in seconds,
// not after a sync's full retry budget.
import type { Settings } from '../config/load.js';
import { asTapError, DataError, NotAnExportError, TransientError } from '../errors.js';
import { log, redact } from '../log.js';
import { type BodySource, openExport, quoteSaid } from '../scarf/body.js';
import type { ResponseInfo } from '../scarf/client.js';
import { aggregatesPath } from '../scarf/endpoints.js';
import { makeClient } from '../scarf/from-settings.js';
import { aggregates } from '../streams/aggregates.js';
import { addDays, dayOf } from '../streams/engine/days.js';

export interface CheckResult {
  ok: boolean;
  message: string;
}

/**
 * Proves the answer is the aggregates export asked for, not merely a 2xx: a proxy's sign-in
 * page, an empty 200 or a JSON error must not pass for "the token is valid". Reads at most
 * `limit` bytes; every complete line read must be an aggregates row.
 */
async function proveExport(answer: BodySource, info: ResponseInfo, limit = 16 * 1024): Promise<number> {
  const body = await openExport(answer, info, 'ndjson', '');
  let rows = 0;
  let text = '';
  let n = 0;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    n += chunk.length;
    text += chunk.toString();
    if (n >= limit) break; // enough to know the export answered; the client closes the rest
  }
  const lines = text.split('\n');
  if (n >= limit) lines.pop(); // the last line may be cut by the read limit
  for (const line of lines) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      row = undefined;
    }
    const r = row as Record<string, unknown> | undefined;
    if (
      !r ||
      typeof r !== 'object' ||
      typeof r.date !== 'string' ||
      typeof r.artifact !== 'string' ||
      typeof r.total !== 'number'
    ) {
      throw new NotAnExportError(`the answer is not Scarf's aggregates export: line ${rows + 1} is ${quoteSaid(line, 120)}`);
    }
    rows++;
  }
  return rows;
}

export async function checkConnection(settings: Settings, now = new Date()): Promise<CheckResult> {
  const day = addDays(dayOf(now), -1);
  const client = makeClient({
    ...settings,
    max_retries: Math.min(settings.max_retries, 2),
    max_retry_wait_seconds: Math.min(settings.max_retry_wait_seconds, 15),
    request_timeout_seconds: Math.min(settings.request_timeout_seconds, 30),
    // A check is no sync: its one request (and retries) are not held to the sync's budget.
    max_requests_per_sync: undefined,
  });
  const label = `check (aggregates ${day}, by-total)`;
  let notExport: NotAnExportError | undefined;
  try {
    const rows = await client.fetch(
      {
        endpoint: aggregates.declaration.endpoint,
        format: aggregates.declaration.format,
        path: aggregatesPath(settings.owner),
        query: { start_date: day, end_date: day, query: settings.package_query, rollup: 'daily', breakdown: ['by-total'] },
        label,
      },
      async (body, info) => {
        notExport = undefined;
        try {
          return await proveExport(body, info);
        } catch (err) {
          if (err instanceof NotAnExportError) notExport = err;
          throw err;
        }
      },
    );
    log.info(
      `check: Scarf accepted the token and exported aggregates of owner '${settings.owner}' for ${day} (${rows} row${rows === 1 ? '' : 's'} read, ${client.requestCount} request${client.requestCount === 1 ? '' : 's'}).`,
    );
    return {
      ok: true,
      message: `Connected to Scarf as owner '${settings.owner}': the token is valid and the plan allows data export.`,
    };
  } catch (err) {
    if (notExport && err instanceof TransientError) {
      return {
        ok: false,
        message: `${redact(err.message)}. The server at ${settings.base_url} answered, but not with a Scarf export, so the token is not proven valid: check the base_url setting and any proxy between this machine and Scarf.`,
      };
    }
    // The body checks word what came; the request they are about is named here.
    if (err instanceof DataError) return { ok: false, message: `${label}: ${redact(err.message)}` };
    return { ok: false, message: failureMessage(settings, err) };
  } finally {
    await client.close();
  }
}

function failureMessage(settings: Settings, err: unknown): string {
  const e = asTapError(err);
  if (err instanceof TransientError) {
    return `Could not reach the Scarf API at ${settings.base_url}: ${e.message}. Check the base_url setting and that this machine can reach it (DNS, proxy, firewall); if Scarf is having an outage, try again later.`;
  }
  // The client already words 401/403/404/400 answers as what the user must change.
  return e.message;
}
