import fs from 'node:fs';
import path from 'node:path';

import { newAjv } from '../../src/ajv.js';
import { STREAM_NAMES } from '../../src/schemas.js';
import { repoRoot } from './tap.js';

export function loadRepoJson(rel: string): any {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, rel), 'utf8'));
}

/** ajv validators for each stream's schema, formats on (date-time, date checked). */
export function recordValidators(): Record<string, (rec: unknown) => string | undefined> {
  const ajv = newAjv({ allErrors: true });
  const out: Record<string, (rec: unknown) => string | undefined> = {};
  for (const stream of STREAM_NAMES) {
    const validate = ajv.compile(loadRepoJson(`schemas/${stream}.json`));
    out[stream] = (rec) => (validate(rec) ? undefined : ajv.errorsText(validate.errors));
  }
  return out;
}
