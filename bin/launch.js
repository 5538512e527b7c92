// Loads a compiled module of dist/ for the bins. A clone that has not been built has no
// dist/: say the one thing to do instead of Node's ERR_MODULE_NOT_FOUND stack.
// An older Node than package.json's engines fails deep inside a dependency instead (Node 18:
// "ReferenceError: File is not defined" from undici, with a trace): checked here first, in
// syntax any Node can parse, so the user reads which version is needed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The message for a Node older than `engines.node` (">=X.Y.Z"), or undefined when it is new enough. */
export function nodeVersionProblem(version = process.versions.node) {
  let range;
  try {
    range = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node;
  } catch {
    return undefined;
  }
  const m = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(String(range).trim());
  if (!m) return undefined;
  const need = m.slice(1).map(Number);
  const have = version.split('.').map((p) => parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > need[i]) return undefined;
    if ((have[i] ?? 0) < need[i])
      return (
        `tap-scarf needs Node.js ${need.join('.')} or later (package.json "engines": "${range}"); this is Node.js ${version} (${process.execPath}). ` +
        'Install a current Node.js (20 LTS or 22 LTS, from nodejs.org or your package manager, or with nvm: nvm install 22), or run the Docker image.'
      );
  }
  return undefined;
}

/** `rel` is relative to the package root, e.g. 'dist/src/cli.js'. */
export async function load(rel) {
  const problem = nodeVersionProblem();
  if (problem) {
    process.stderr.write(`ERROR ${problem}\n`);
    process.exit(1);
  }
  const file = path.join(root, rel);
  try {
    return await import(new URL(`../${rel}`, import.meta.url).href);
  } catch (e) {
    // Only the missing entry module itself: a missing dependency or a broken build must
    // still show its own error.
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(file)) {
      process.stderr.write(
        `tap-scarf is not built (${rel} is missing): run \`npm ci && npm run build\` in ${root}, then try again.\n`,
      );
      process.exit(1);
    }
    throw e;
  }
}
