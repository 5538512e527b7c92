import { readJsonFile, specPath } from '../paths.js';

export interface SettingSpec {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: { type?: string; enum?: unknown[] };
  airbyte_secret?: boolean;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  [k: string]: unknown;
}

export interface ConnectorSpec {
  documentationUrl: string;
  connectionSpecification: {
    type: 'object';
    required: string[];
    properties: Record<string, SettingSpec>;
    [k: string]: unknown;
  };
}

let cached: ConnectorSpec | undefined;

/** spec.json: the one definition of every setting, for both protocols and the Meltano plugin. */
export function loadSpec(): ConnectorSpec {
  cached ??= readJsonFile<ConnectorSpec>(specPath);
  return cached;
}

/** Environment variable Meltano (and users) set for a setting: TAP_SCARF_<SETTING>. */
export function envVarName(setting: string): string {
  return `TAP_SCARF_${setting.toUpperCase()}`;
}
