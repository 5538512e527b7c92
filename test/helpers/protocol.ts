// Validates Airbyte output against the Airbyte protocol's own definition
// (../shared/airbyte_protocol.yaml, or AIRBYTE_PROTOCOL_YAML), loaded at test time and never
// copied into the project, so the tests follow the protocol rather than our reading of it.
// A user's own clone may not have the file: validation is then skipped, loudly.
import fs from 'node:fs';
import path from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import { newAjv } from '../../src/ajv.js';
import yaml from 'js-yaml';
import { repoRoot } from './tap.js';

export const protocolYamlPath =
  process.env.AIRBYTE_PROTOCOL_YAML ?? path.resolve(repoRoot, '..', 'shared', 'airbyte_protocol.yaml');

export interface ProtocolValidators {
  message: (value: unknown) => string | undefined;
  configuredCatalog: (value: unknown) => string | undefined;
}

let cached: ProtocolValidators | null | undefined;
let warned = false;

function wrap(ajv: Ajv, v: ValidateFunction): (value: unknown) => string | undefined {
  return (value) => (v(value) ? undefined : ajv.errorsText(v.errors, { dataVar: 'message' }));
}

/** The validators, or undefined (with one console line saying why) when the YAML is absent. */
export function protocolValidators(): ProtocolValidators | undefined {
  if (cached !== undefined) return cached ?? undefined;
  if (!fs.existsSync(protocolYamlPath)) {
    if (!warned) {
      console.log(
        `      (Airbyte protocol validation skipped: ${protocolYamlPath} not found; set AIRBYTE_PROTOCOL_YAML to its location)`,
      );
      warned = true;
    }
    cached = null;
    return undefined;
  }
  const doc = yaml.load(fs.readFileSync(protocolYamlPath, 'utf8')) as Record<string, any>;
  // draft-07 is Ajv's default dialect; strict off because the YAML carries Java codegen
  // keywords (existingJavaType) that are not JSON Schema.
  const ajv = newAjv({ allErrors: true });
  const id = 'airbyte_protocol.yaml';
  const { $id: _id, $schema: _schema, ...rest } = doc;
  ajv.addSchema({ ...rest, $id: id });
  cached = {
    message: wrap(ajv, ajv.getSchema(`${id}#/definitions/AirbyteMessage`)!),
    configuredCatalog: wrap(ajv, ajv.getSchema(`${id}#/definitions/ConfiguredAirbyteCatalog`)!),
  };
  return cached;
}

/** Every stdout line must be one JSON AirbyteMessage: returns the problems found (empty = fine). */
export function protocolProblems(stdout: string): string[] {
  const problems: string[] = [];
  const v = protocolValidators();
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1} is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    if (v) {
      const err = v.message(msg);
      if (err) problems.push(`line ${i + 1} is not a valid AirbyteMessage (${err}): ${line.slice(0, 300)}`);
    } else if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') {
      problems.push(`line ${i + 1} has no message type: ${line.slice(0, 200)}`);
    }
  });
  return problems;
}
