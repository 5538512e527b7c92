// Config comes from files (--config FILE, repeatable) and the environment (--config ENV),
// merged in the order given (later wins), then validated against spec.json. Every error
// names the setting, what is wrong and where the value came from, and nothing here ever
// prints the token.

import type { ErrorObject } from 'ajv';

import { newAjv } from '../ajv.js';
import { ConfigError } from '../errors.js';
import type { Settings } from '../generated/settings.js';
import { log, registerSecret } from '../log.js';
import { toTimestamp } from '../scarf/convert.js';
import { readJsonFile } from '../util/json.js';
import { checkAggregationsSettings } from './aggregations.js';
import { checkBaseUrl } from './base-url.js';
import { rememberOwnerSpelling } from './owner-case.js';
import { batchSettings, checkFlattening, refuseStreamMaps } from './sdk-settings.js';
import { envVarName, loadSpec, type SettingSpec } from './spec.js';

export type RawConfig = Record<string, unknown>;

// Settings (the config after validation: every setting with a default is present) is typed
// from spec.json at build time, so the spec stays the one definition of the settings.
export type { Settings };

export type ConfigSource = { kind: 'file'; path: string } | { kind: 'env' } | { kind: 'object'; value: RawConfig; label: string };

function readConfigFile(file: string, envHint: boolean): RawConfig {
  const value = readJsonFile(file, {
    kind: 'config',
    unreadableHint: `Pass an existing JSON file with --config${envHint ? ', or --config ENV to read TAP_SCARF_* variables' : ''}.`,
    invalidHint: 'Fix the file; it must hold one JSON object of settings.',
  });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      `Config file ${file} must hold a JSON object of settings, not ${Array.isArray(value) ? 'an array' : typeof value}.`,
    );
  }
  return value as RawConfig;
}

function castEnv(setting: string, spec: SettingSpec, raw: string): unknown {
  const name = envVarName(setting);
  switch (spec.type) {
    case 'integer':
    case 'number': {
      const n = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(n))
        throw new ConfigError(
          `${name}: '${raw}' is not a number; setting '${setting}' needs ${spec.type === 'integer' ? 'a whole number' : 'a number'}.`,
        );
      return n;
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 't'].includes(v)) return true;
      if (['false', '0', 'no', 'f'].includes(v)) return false;
      throw new ConfigError(`${name}: '${raw}' is not a boolean; use true or false.`);
    }
    case 'array': {
      const t = raw.trim();
      if (t.startsWith('[')) {
        try {
          return JSON.parse(t);
        } catch {
          throw new ConfigError(`${name}: not a valid JSON array; use ["a","b"] or a comma-separated list.`);
        }
      }
      return t === ''
        ? []
        : t
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
    }
    case 'object':
      try {
        return JSON.parse(raw);
      } catch {
        throw new ConfigError(`${name}: not a valid JSON object.`);
      }
    default:
      return raw;
  }
}

function readEnv(): RawConfig {
  const props = loadSpec().connectionSpecification.properties;
  const out: RawConfig = {};
  for (const [setting, spec] of Object.entries(props)) {
    const raw = process.env[envVarName(setting)];
    if (raw !== undefined) out[setting] = castEnv(setting, spec, raw);
  }
  // Not a setting, but read so that it is refused (sdk-settings.ts) rather than missed.
  const maps = process.env[envVarName('stream_maps')];
  if (maps !== undefined) out.stream_maps = castEnv('stream_maps', { type: 'object' }, maps);
  return out;
}

function describe(source: ConfigSource): string {
  return source.kind === 'file'
    ? `config file ${source.path}`
    : source.kind === 'env'
      ? 'TAP_SCARF_* environment variables'
      : source.label;
}

function formatAjvError(e: ErrorObject, origins: Map<string, string>, envHint: boolean): string {
  if (e.keyword === 'required') return requiredText(e, envHint);
  const setting = e.instancePath.split('/')[1] ?? '(config)';
  const from = origins.get(setting);
  return keywordText(e, setting, from ? ` (from ${from})` : '');
}

function requiredText(e: ErrorObject, envHint: boolean): string {
  const props = loadSpec().connectionSpecification.properties;
  const missing = (e.params as { missingProperty: string }).missingProperty;
  if (e.instancePath !== '')
    return `Setting '${e.instancePath.slice(1).replace(/\//g, '.')}' is missing '${missing}'. ${props[e.instancePath.split('/')[1]!]?.description ?? ''}`.trim();
  return `Missing required setting '${missing}': set it in the config file${envHint ? ` or as ${envVarName(missing)}` : ''}. ${props[missing]?.description ?? ''}`.trim();
}

/** `where`: " (from …)" naming the source of the setting, or empty. */
function keywordText(e: ErrorObject, setting: string, where: string): string {
  const spec = loadSpec().connectionSpecification.properties[setting];
  switch (e.keyword) {
    case 'type':
      return `Setting '${setting}'${where} must be ${(e.params as { type: string }).type}${e.instancePath.split('/').length > 2 ? ` at ${e.instancePath}` : ''}.`;
    case 'pattern':
      if (setting === 'start_date' || setting === 'end_date')
        return `Setting '${setting}'${where} is not a date: use YYYY-MM-DD or RFC3339 (e.g. 2026-10-01 or 2026-10-01T00:00:00Z; a datetime without an offset, 2026-10-01T00:00:00, is UTC).`;
      if (setting === 'base_url') return `Setting 'base_url'${where} must be an http(s) URL such as https://api.scarf.sh.`;
      return `Setting '${setting}'${where} has an invalid format.`;
    case 'enum':
      return `Setting '${setting}'${where}${e.instancePath.split('/').length > 2 ? ` item ${e.instancePath.split('/')[2]}` : ''} must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).join(', ')}.`;
    case 'minimum':
    case 'maximum':
      return `Setting '${setting}'${where} must be between ${spec?.minimum ?? '-∞'} and ${spec?.maximum ?? '∞'}.`;
    case 'minLength':
      return `Setting '${setting}'${where} must not be empty.`;
    case 'minItems':
      return `Setting '${setting}'${where} must list at least one value.`;
    case 'uniqueItems':
      return `Setting '${setting}'${where} lists a value twice.`;
    default:
      return `Setting '${setting}'${where} ${e.message ?? 'is invalid'}.`;
  }
}

let validator: (((v: unknown) => boolean) & { errors?: ErrorObject[] | null }) | undefined;

function getValidator() {
  if (!validator) {
    const ajv = newAjv({ allErrors: true, useDefaults: true });
    validator = ajv.compile(loadSpec().connectionSpecification);
  }
  return validator;
}

/**
 * The UTC day a start_date/end_date names, or undefined when it is no real date or time. A
 * datetime without an offset (what Meltano makes of an unquoted YAML datetime) is UTC; the
 * time of day and any offset are ignored, because Scarf exports whole UTC days: the date as
 * written is the day (README "Configuration").
 */
export function settingDay(text: string): string | undefined {
  try {
    toTimestamp(text);
  } catch {
    return undefined;
  }
  return text.slice(0, 10);
}

/**
 * A range that can hold no data is refused before any request: start_date after end_date,
 * or after today (UTC), would otherwise end in exit 0 having read nothing.
 */
export function checkDateRange(
  settings: Pick<Settings, 'start_date' | 'end_date'>,
  origins: Map<string, string>,
  today: string,
): void {
  const from = (key: string) => (origins.has(key) ? ` (from ${origins.get(key)})` : '');
  const start = settings.start_date?.slice(0, 10);
  const end = settings.end_date?.slice(0, 10);
  if (start && end && start > end)
    throw new ConfigError(`Setting 'start_date' (${start}) is after 'end_date' (${end}); swap them or remove end_date.`);
  if (start && start > today)
    throw new ConfigError(
      `Setting 'start_date'${from('start_date')} (${start}) is after today (${today}, UTC): there is no data to export yet. Set start_date to today or an earlier day, or remove it (default: 31 days before today).`,
    );
}

/** Scarf accepts an owner in any case; one spelling keeps records, keys and state partitions equal. */
function normaliseOwner(owner: string, origins: Map<string, string>): string {
  const lower = owner.trim().toLowerCase();
  rememberOwnerSpelling(owner.trim());
  if (lower === '')
    throw new ConfigError(`Setting 'owner'${origins.has('owner') ? ` (from ${origins.get('owner')})` : ''} must not be empty.`);
  if (lower !== owner)
    log.info(
      `Setting 'owner': using '${owner}' as '${lower}' (Scarf's v2 exports match owners in any case; the aggregations stream asks v3, which does not, for '${owner.trim()}' as given).`,
    );
  return lower;
}

/**
 * Domain names are case-insensitive, so 'Acme.com' and 'acme.com' are one company: asking
 * for both would cost two Runs for the same rows. An empty list is read as "not set", the
 * form an empty TAP_SCARF_COMPANY_DOMAINS takes; selecting no companies is done by not
 * selecting the stream.
 */
function normaliseDomains(domains: string[], origins: Map<string, string>): string[] | undefined {
  const where = origins.has('company_domains') ? ` (from ${origins.get('company_domains')})` : '';
  if (domains.length === 0) {
    log.warn(
      `Setting 'company_domains'${where} is an empty list: treating it as not set, so company_events reads its domains from company_rollup. To sync no company events, leave company_events out of the catalog.`,
    );
    return undefined;
  }
  const out: string[] = [];
  for (const d of domains) {
    const lower = d.trim().toLowerCase();
    if (out.includes(lower)) {
      log.warn(
        `Setting 'company_domains'${where}: '${d}' is the same domain as one listed before (case is ignored); requesting '${lower}' once.`,
      );
      continue;
    }
    if (lower !== d) log.info(`Setting 'company_domains'${where}: using '${d}' as '${lower}' (domains are case-insensitive).`);
    out.push(lower);
  }
  return out;
}

/**
 * The token goes out as `Authorization: Bearer <token>` exactly as given: spaces around it
 * (a copy from a web page) make every request a 401, and a character outside Latin-1 (a
 * typographic quote or dash) makes the HTTP client fail mid-sync. Both are refused here,
 * naming the setting, never showing the value.
 */
function checkToken(token: string, origins: Map<string, string>): void {
  const where = origins.has('api_token') ? ` (from ${origins.get('api_token')})` : '';
  if (token.trim() !== token) {
    throw new ConfigError(
      `Setting 'api_token'${where} has spaces at its start or end; Scarf would refuse the token as sent. Remove them (the value is not shown).`,
    );
  }
  for (let i = 0; i < token.length; i++) {
    if (token.charCodeAt(i) > 0xff) {
      throw new ConfigError(
        `Setting 'api_token'${where} has a character that cannot be sent in an HTTP header at character ${i + 1} of ${token.length} (outside Latin-1, such as a typographic quote or dash from a copied text); a Scarf token is plain ASCII. Copy it again from app.scarf.sh (the value is not shown).`,
      );
    }
  }
}

/** Validates merged settings against spec.json and applies its defaults. */
export function validateSettings(merged: RawConfig, origins = new Map<string, string>(), envHint = true): Settings {
  const value = structuredClone(merged);
  registerSecret(typeof value.api_token === 'string' ? value.api_token : undefined);
  refuseStreamMaps(value, origins);
  const validate = getValidator();
  if (!validate(value)) {
    const messages = [...new Set((validate.errors ?? []).map((e) => formatAjvError(e, origins, envHint)))];
    // One line: a log line cannot hold a line break (log.ts shows it as a visible \n).
    throw new ConfigError(
      messages.length === 1
        ? `Invalid configuration: ${messages[0]}`
        : `Invalid configuration (${messages.length} problems): ${messages.map((m, i) => `(${i + 1}) ${m}`).join(' ')}`,
    );
  }
  const settings = value as unknown as Settings;
  for (const key of ['start_date', 'end_date'] as const) {
    const v = settings[key];
    if (v !== undefined && settingDay(v) === undefined)
      throw new ConfigError(
        `Setting '${key}'${origins.has(key) ? ` (from ${origins.get(key)})` : ''}: '${v}' is not a calendar date${v.length > 10 ? ' and time' : ''}; use YYYY-MM-DD or RFC3339.`,
      );
  }
  checkDateRange(settings, origins, new Date().toISOString().slice(0, 10));
  settings.owner = normaliseOwner(settings.owner, origins);
  for (const key of ['api_token', 'user_agent'] as const) {
    const v = settings[key];
    // A newline in a header value is refused by the HTTP client mid-sync (or, worse, splits
    // the header); `$(cat token.txt)` and copy-paste leave one more often than not.
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    const at = v === undefined ? -1 : v.search(/[\u0000-\u001f\u007f]/);
    if (at >= 0) {
      const what =
        v!.charCodeAt(at) === 10 ? 'a newline' : v!.charCodeAt(at) === 13 ? 'a carriage return' : 'a control character';
      throw new ConfigError(
        `Setting '${key}'${origins.has(key) ? ` (from ${origins.get(key)})` : ''} contains ${what} at character ${at + 1} of ${v!.length}; it is sent as an HTTP header, which cannot hold one. Remove it (a trailing newline from a file or \`$(cat …)\` is the usual cause). The value is not shown.`,
      );
    }
  }
  checkToken(settings.api_token, origins);
  if (settings.company_domains !== undefined) settings.company_domains = normaliseDomains(settings.company_domains, origins);
  checkBaseUrl(settings.base_url);
  checkAggregationsSettings(settings, origins);
  checkFlattening(settings);
  batchSettings(settings);
  const known = new Set(Object.keys(loadSpec().connectionSpecification.properties));
  for (const key of Object.keys(settings)) {
    if (!known.has(key))
      log.warn(
        `Ignoring unknown setting '${key}'${origins.has(key) ? ` (from ${origins.get(key)})` : ''}; known settings: ${[...known].join(', ')}.`,
      );
  }
  return settings;
}

/**
 * Reads and merges the sources in order (later wins), then validates. envHint: whether
 * errors may suggest TAP_SCARF_* variables (not under Airbyte, whose platform writes the file).
 */
export function loadConfig(sources: ConfigSource[], { envHint = true }: { envHint?: boolean } = {}): Settings {
  const merged: RawConfig = {};
  const origins = new Map<string, string>();
  for (const source of sources) {
    const value =
      source.kind === 'file' ? readConfigFile(source.path, envHint) : source.kind === 'env' ? readEnv() : source.value;
    for (const [k, v] of Object.entries(value)) {
      merged[k] = v;
      origins.set(k, describe(source));
    }
  }
  return validateSettings(merged, origins, envHint);
}
