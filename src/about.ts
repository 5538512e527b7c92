// --about for Singer (and the source of the README settings table): derived from spec.json.
import { loadSpec } from './config/spec.js';
import { packageJson } from './paths.js';
import { STREAM_NAMES } from './schemas.js';

export const CAPABILITIES = ['catalog', 'discover', 'state', 'about', 'test', 'properties', 'batch', 'schema-flattening'];

/**
 * `--about --format json` in the shape Meltano SDK taps print (name, description, version,
 * capabilities, settings as a JSON schema with `secret`/`writeOnly` on secrets), so tools
 * reading SDK taps read this one. The SDK's sdk_version and supported_python_versions have
 * no meaning for a Node program: supported_node_versions (package.json engines) takes the
 * place of the latter, and env_var_prefix says where `--config ENV` reads settings.
 */
export function aboutInfo(): Record<string, unknown> {
  const spec = loadSpec().connectionSpecification;
  const properties = Object.fromEntries(
    Object.entries(spec.properties).map(([name, p]) => {
      // airbyte_secret and order are Airbyte form hints; the SDK's words for a secret follow.
      const { airbyte_secret, order: _order, airbyte_hidden: _hidden, ...rest } = p;
      return [name, airbyte_secret ? { ...rest, secret: true, writeOnly: true } : rest];
    }),
  );
  return {
    name: packageJson.name,
    description: packageJson.description,
    version: packageJson.version,
    supported_node_versions: packageJson.engines?.node,
    capabilities: CAPABILITIES,
    env_var_prefix: 'TAP_SCARF_',
    streams: [...STREAM_NAMES],
    settings: { type: 'object', properties, required: spec.required },
  };
}

export function aboutMarkdown(): string {
  const spec = loadSpec().connectionSpecification;
  const required = new Set(spec.required);
  const rows = Object.entries(spec.properties).map(([name, p]) => {
    const type = p.type === 'array' ? `array of ${p.items?.type ?? 'any'}` : p.type;
    const def = p.default !== undefined ? `\`${JSON.stringify(p.default)}\`` : '';
    return `| \`${name}\` | ${type}${p.enum ? ` (${p.enum.join(', ')})` : ''} | ${required.has(name) ? 'yes' : ''} | ${def} | \`TAP_SCARF_${name.toUpperCase()}\` | ${(p.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return [
    `# ${packageJson.name} ${packageJson.version}`,
    '',
    packageJson.description,
    '',
    `Capabilities: ${CAPABILITIES.join(', ')}`,
    '',
    '| setting | type | required | default | environment variable | description |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

export function aboutText(): string {
  const spec = loadSpec().connectionSpecification;
  return [
    `${packageJson.name} ${packageJson.version}: ${packageJson.description}`,
    `Capabilities: ${CAPABILITIES.join(', ')}`,
    `Streams: ${STREAM_NAMES.join(', ')}`,
    // Scarf calls v2 aggregates a deprecated legacy export (docs/scarf-api.md "More v2 exports").
    "  aggregates is legacy (Scarf's deprecated v2 export, empty for some organizations); aggregations reads its v3 successor and is opt-in: select it in the catalog.",
    // Not an SDK capability, so not in CAPABILITIES; said here so it can be found.
    'Plan: --plan (or the plan command) prints the API requests (Scarf Runs) the next sync would make; max_requests_per_sync caps a sync.',
    'Settings:',
    ...Object.entries(spec.properties).map(
      ([n, p]) => `  ${n}${spec.required.includes(n) ? ' (required)' : ''}: ${p.description ?? ''}`,
    ),
    '',
  ].join('\n');
}
