// The one table of Scarf's non-2xx answers: for each HTTP status (and Scarf error code), what
// the client does (retry the request, have the caller split its window, or fail), the failure
// type the user's orchestrator sees, and the words that tell the user what to fix. The first
// row that matches wins. Retried answers are matched on their status alone: their body is
// never read.
import { ApiError, type FailureType, RangeTooLongError } from '../errors.js';
import type { Endpoint } from './endpoints.js';

export type AnswerAction =
  /** The answer may pass: the client retries the request (TransientError when retries run out). */
  | 'retry'
  /** The window is too long for one request: RangeTooLongError, which the caller answers by splitting it. */
  | 'split'
  /** A retry cannot change the answer: ApiError. */
  | 'fail';

/** A non-2xx answer: its status, and the code and message of Scarf's JSON error body when it was read. */
export interface Answer {
  status: number;
  code?: string;
  message?: string;
  /** A redirect's target, as `scheme://host` (never its path or query), when it had a usable Location. */
  location?: string;
  /** The body was FastAPI's `{"detail": …}`: Scarf's v3 answered. */
  detail?: boolean;
}

/** What the words of a hint may name about the request. */
/** The 2026 exports of their own (docs/scarf-api.md): a 404 may say the account lacks the export. */
const SEPARATE_EXPORTS: ReadonlySet<Endpoint> = new Set(['pixel-events', 'company-package-rollup', 'company-pixel-rollup']);

export interface AnswerContext {
  endpoint: Endpoint;
  /** `'acme'`, or `(the owner setting)` when the client was not told the owner. */
  owner: string;
  /** Company domain of a company-events request. */
  domain?: string;
  /** Whether the request carried package_query. */
  packageQuery: boolean;
}

export interface AnswerRule {
  /** Which answers the row is for, in words (for readers of the table and for tests). */
  when: string;
  matches(answer: Answer): boolean;
  action: AnswerAction;
  /** The failure type once the tap gives up on it ('retry': when retries run out). */
  failureType: FailureType;
  /** The retry reason ('retry') or the user's message before Scarf's own words (otherwise). */
  hint(answer: Answer, ctx: AnswerContext): string;
}

const withCode = (a: Answer) => (a.code ? ' ' + a.code : '');

export const ANSWER_RULES: readonly AnswerRule[] = [
  {
    when: '429 Too Many Requests',
    matches: (a) => a.status === 429,
    action: 'retry',
    failureType: 'transient_error',
    hint: (a) => `HTTP ${a.status}`,
  },
  {
    when: '5xx server error',
    matches: (a) => a.status >= 500,
    action: 'retry',
    failureType: 'transient_error',
    hint: (a) => `HTTP ${a.status}`,
  },
  {
    when: '400 range-too-long',
    matches: (a) => a.status === 400 && a.code === 'range-too-long',
    action: 'split',
    failureType: 'system_error',
    hint: () => 'Scarf answered 400 range-too-long: the date range is longer than Scarf allows in one request.',
  },
  {
    when: '400 invalid-package-query',
    matches: (a) => a.status === 400 && a.code === 'invalid-package-query',
    action: 'fail',
    failureType: 'config_error',
    hint: () => 'Scarf answered 400 invalid-package-query: check the package_query setting.',
  },
  {
    when: '403 not-a-pro-member (or a message saying "not eligible")',
    matches: (a) =>
      a.status === 403 && (a.code === 'not-a-pro-member' || (a.message !== undefined && /not eligible/i.test(a.message))),
    action: 'fail',
    failureType: 'config_error',
    hint: (a, c) =>
      `Scarf refused the export (HTTP 403${withCode(a)}): the plan of owner ${c.owner} is not eligible for data export. ` +
      'Exports need a paid Scarf plan: upgrade it at app.scarf.sh, or set owner to an account whose plan includes exports.',
  },
  {
    when: '403 "does not include aggregation exports" (v3)',
    matches: (a) => a.status === 403 && a.message !== undefined && /does not include aggregation exports/i.test(a.message),
    action: 'fail',
    failureType: 'config_error',
    hint: (_a, c) =>
      `Scarf refused the v3 aggregations export (HTTP 403): the plan of owner ${c.owner} does not include aggregation exports. ` +
      'Upgrade the plan at app.scarf.sh, or leave the aggregations stream out of the catalog.',
  },
  {
    when: '404 "Organization not found" (v3: the owner is case-sensitive)',
    matches: (a) => a.status === 404 && a.message !== undefined && /organization not found/i.test(a.message),
    action: 'fail',
    failureType: 'config_error',
    hint: (_a, c) =>
      `Scarf answered 404 on v3: organization ${c.owner} not found. Scarf's v3 matches the owner's exact spelling, ` +
      'upper and lower case included (v2 takes any case): set owner exactly as app.scarf.sh shows the organization.',
  },
  {
    when: '422 with a {"detail"} body: parameters refused (v3)',
    matches: (a) => a.status === 422 && a.detail === true,
    action: 'fail',
    failureType: 'config_error',
    hint: () =>
      "Scarf refused the request's parameters (HTTP 422): check the aggregations_* settings (breakdown sets, rollup, artifact ids or query).",
  },
  {
    when: '401 or 403: the token',
    matches: (a) => a.status === 401 || a.status === 403,
    action: 'fail',
    failureType: 'config_error',
    hint: (a, c) =>
      `Scarf rejected the API token (HTTP ${a.status}). Check the api_token setting: it must be a current Scarf API token ` +
      `(app.scarf.sh → account settings → API tokens) of a user who can access owner ${c.owner}.`,
  },
  {
    when: '404: the owner, package or company domain',
    matches: (a) => a.status === 404,
    action: 'fail',
    failureType: 'config_error',
    hint: (a, c) =>
      `Scarf answered 404${withCode(a)}: ` +
      (c.endpoint === 'company-events'
        ? `owner ${c.owner} or company domain '${c.domain ?? '?'}' not found: check the owner setting (Scarf user or organization name) and the company_domains setting.`
        : SEPARATE_EXPORTS.has(c.endpoint)
          ? // The 2026 exports may not exist for every account: the owner is only one reason.
            `owner ${c.owner} not found, or Scarf has no ${c.endpoint} export for it: check the owner setting (Scarf user or organization name); if the events stream works for this owner, leave this stream out of the catalog.`
          : `owner ${c.owner} or package not found: check the owner setting (Scarf user or organization name)` +
            (c.packageQuery ? ' and the package_query setting.' : '.')),
  },
  {
    when: '3xx redirect',
    matches: (a) => a.status >= 300 && a.status < 400,
    action: 'fail',
    failureType: 'config_error',
    // Not followed: the token would go wherever the Location points.
    hint: (a) =>
      `the server answered HTTP ${a.status}, a redirect ${a.location ? `to ${a.location}` : 'without a usable Location'}, instead of an export. ` +
      "tap-scarf does not follow redirects (the token would go to wherever it points): check the base_url setting; it must be Scarf's API itself (https://api.scarf.sh), not a sign-in page, a web address or a proxy that redirects.",
  },
  {
    when: 'any other answer',
    matches: () => true,
    action: 'fail',
    failureType: 'system_error',
    hint: (a) => `Scarf answered HTTP ${a.status}${withCode(a)}.`,
  },
];

/** Scarf's JSON error body: v2's `{"code", "message"}` (some answers say `error`), v3's (FastAPI) `{"detail"}`. */
export interface ErrorBody {
  code?: string;
  /** `message`, else `error`. */
  message?: string;
  /** FastAPI's `detail`: a text, or pydantic's list of {loc, msg} for a malformed value. */
  detail?: unknown;
}

/** The error body in `text`, or undefined when it is not a JSON object. */
export function parseErrorBody(text: string): ErrorBody | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const message = typeof o.message === 'string' ? o.message : typeof o.error === 'string' ? o.error : undefined;
  return {
    ...(typeof o.code === 'string' ? { code: o.code } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(o.detail !== undefined ? { detail: o.detail } : {}),
  };
}

/** FastAPI's detail as words: its text, or each entry of its validation list as `start_date: Input should be a valid date`. */
export function detailText(detail: unknown): string | undefined {
  if (typeof detail === 'string') return detail;
  return Array.isArray(detail) ? detail.map(detailEntry).join('; ') : undefined;
}

function detailEntry(d: unknown): string {
  if (!d || typeof d !== 'object') return String(d);
  const o = d as { loc?: unknown; msg?: unknown };
  const loc = Array.isArray(o.loc) ? o.loc.filter((x) => x !== 'query').join('.') : '';
  const msg = typeof o.msg === 'string' ? o.msg : JSON.stringify(d);
  return loc ? `${loc}: ${msg}` : msg;
}

export function answerRule(answer: Answer): AnswerRule {
  // The last row matches everything.
  return ANSWER_RULES.find((r) => r.matches(answer))!;
}

/** The error for an answer whose row does not retry; `word` turns the row's hint into the full message. */
export function answerError(answer: Answer, ctx: AnswerContext, word: (hint: string) => string): ApiError {
  const rule = answerRule(answer);
  const opts = { status: answer.status, code: answer.code, endpoint: ctx.endpoint, failureType: rule.failureType };
  const message = word(rule.hint(answer, ctx));
  return rule.action === 'split' ? new RangeTooLongError(message, opts) : new ApiError(message, opts);
}
