// Loads a compiled module of dist/ for the bins. A clone that has not been built has no
// dist/: say the one thing to do instead of Node's ERR_MODULE_NOT_FOUND stack.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `rel` is relative to the package root, e.g. 'dist/src/cli.js'. */
export async function load(rel) {
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
