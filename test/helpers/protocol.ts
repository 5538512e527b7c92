// Validates Airbyte output against the Airbyte protocol's own definition
// (../shared/airbyte_protocol.yaml, or AIRBYTE_PROTOCOL_YAML), loaded at test time and never
// copied into the project, so the tests follow the protocol rather than our reading of it.
// A user's own clone may not have the file: validation is then skipped, loudly. In CI (env CI
// set) a missing file fails the tests instead: a skipped check must never be reported as a pass.
import fs from 'node:fs';
import path from 'node:path';

import type { Ajv, ValidateFunction } from 'ajv';
import yaml from 'js-yaml';

import { newAjv } from '../../src/ajv.js';
import { repoRoot } from './tap.js';

export const protocolYamlPath =
  process.env.AIRBYTE_PROTOCOL_YAML ?? path.resolve(repoRoot, '..', 'shared', 'airbyte_protocol.yaml');

export interface ProtocolValidators {
  message: (value: unknown) => string | undefined;
  configuredCatalog: (value: unknown) => string | undefined;
}

let cached: ProtocolValidators | null | undefined;

function wrap(ajv: Ajv, v: ValidateFunction): (value: unknown) => string | undefined {
  return (value) => (v(value) ? undefined : ajv.errorsText(v.errors, { dataVar: 'message' }));
}

/** Whether the environment says this is a CI run (CI=true, CI=1, …; unset, empty, "false" and "0" say not). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== 'false' && v !== '0';
}

/**
 * Loads the validators from `file`; when it is absent, throws in CI, and elsewhere returns
 * undefined after one console line saying why.
 */
export function loadProtocolValidators(file: string, env: NodeJS.ProcessEnv = process.env): ProtocolValidators | undefined {
  if (!fs.existsSync(file)) {
    const fix = 'set AIRBYTE_PROTOCOL_YAML to its location';
    if (isCi(env)) throw new Error(`Airbyte protocol validation cannot run in CI: ${file} not found; ${fix}`);
    console.log(`      (Airbyte protocol validation skipped: ${file} not found; ${fix})`);
    return undefined;
  }
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as Record<string, any>;
  // draft-07 is Ajv's default dialect; strict off because the YAML carries Java codegen
  // keywords (existingJavaType) that are not JSON Schema.
  const ajv = newAjv({ allErrors: true });
  const id = 'airbyte_protocol.yaml';
  const { $id: _id, $schema: _schema, ...rest } = doc;
  ajv.addSchema({ ...rest, $id: id });
  return {
    message: wrap(ajv, ajv.getSchema(`${id}#/definitions/AirbyteMessage`)!),
    configuredCatalog: wrap(ajv, ajv.getSchema(`${id}#/definitions/ConfiguredAirbyteCatalog`)!),
  };
}

/** The validators of protocolYamlPath, loaded once (see loadProtocolValidators). */
export function protocolValidators(): ProtocolValidators | undefined {
  if (cached === undefined) cached = loadProtocolValidators(protocolYamlPath) ?? null;
  return cached ?? undefined;
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

/**
 * The validators, or a thrown error naming the missing file: for a suite whose whole point is
 * protocol conformance (test/e2e/standard-tests.test.ts), a missing definition is a failure anywhere.
 */
export function requiredProtocolValidators(): ProtocolValidators {
  const v = protocolValidators();
  if (!v)
    throw new Error(
      `the Airbyte protocol definition is missing (${protocolYamlPath}): set AIRBYTE_PROTOCOL_YAML to its location`,
    );
  return v;
}
