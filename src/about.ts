// --about for Singer (and the source of the README settings table): derived from spec.json.
import { loadSpec } from './config/spec.js';
import { packageJson } from './paths.js';
import { STREAM_NAMES } from './schemas.js';

export const CAPABILITIES = ['catalog', 'discover', 'state', 'about', 'test', 'properties'];

export function aboutInfo(): Record<string, unknown> {
  const spec = loadSpec().connectionSpecification;
  return {
    name: packageJson.name,
    description: packageJson.description,
    version: packageJson.version,
    capabilities: CAPABILITIES,
    streams: [...STREAM_NAMES],
    settings: spec,
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
    'Settings:',
    ...Object.entries(spec.properties).map(
      ([n, p]) => `  ${n}${spec.required.includes(n) ? ' (required)' : ''}: ${p.description ?? ''}`,
    ),
    '',
  ].join('\n');
}
