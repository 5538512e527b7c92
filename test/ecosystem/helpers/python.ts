// The Python side of the ecosystem checks: the environments scripts/python-env.sh makes in
// .pyenvs/, and a way to run their programs. Missing under CI (CI set), that is a failure:
// .ci/run makes them before this suite runs, so their absence means a broken set-up, never a
// reason to pass. On a developer's machine the suites say what to run and skip.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { repoRoot } from '../../helpers/tap.js';

export const PYENVS = path.join(repoRoot, '.pyenvs');

/** The bin folder of .pyenvs/<name>, or: fail under CI, skip elsewhere. */
export function pythonEnv(ctx: Mocha.Context, name: 'meltano' | 'airbyte'): string {
  const bin = path.join(PYENVS, name, 'bin');
  const program = name === 'meltano' ? 'meltano' : 'python';
  if (fs.existsSync(path.join(bin, program))) return bin;
  const message = `.pyenvs/${name} is missing: run \`bash scripts/python-env.sh\` (.ci/run does) before \`npm run test:ecosystem\``;
  if (process.env.CI) throw new Error(message);
  console.warn(`    (skipped: ${message})`);
  ctx.skip();
}

export interface ProgramRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; the environment is this process's plus `env` (undefined removes a variable). */
export function runProgram(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number; input?: string } = {},
): Promise<ProgramRun> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The last `lines` lines of a program's output, for an assertion message. */
export function tail(run: ProgramRun, lines = 40): string {
  // Rich's framed tracebacks (Meltano's) say little; the plugins' own log lines say why.
  const text = (run.stdout + '\n' + run.stderr)
    .trim()
    .split('\n')
    .filter((l) => !/^\s*[│╭╰]/.test(l) && !/INFO METRIC:/.test(l));
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ''}\n${text.slice(-lines).join('\n')}`;
}
