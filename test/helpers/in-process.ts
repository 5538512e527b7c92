// Runs the CLI inside the test process: the same main() the bin calls (src/cli.ts), with
// stdout and stderr kept in memory, answering in the TapRun shape runTap gives (helpers/tap.ts),
// so the output helpers (helpers/output.ts) read both alike. A case takes milliseconds instead
// of a Node start-up. What needs a real process stays on runTap: exit by signal, a broken or
// closed stdout, the bins' own checks (Node version, unbuilt dist/), install and Docker.
//
// The tap keeps a little process-wide state (the log sink, the environment it reads), so runs
// here take turns: one at a time, each with its own environment, restored afterwards.
import { Writable } from 'node:stream';

import { main } from '../../src/cli.js';
import { forgetRuntimeOptions } from '../../src/config/runtime-options.js';
import type { ProgramName } from '../../src/help.js';
import { forgetSecrets, getLogSink, log, setLogSink } from '../../src/log.js';
import { everyRunOutput, parseLines, type RunOptions, suiteEnv, type TapRun } from './tap.js';

/** Text written to it, kept in memory. */
class MemoryStream extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer | string, encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.from(chunk));
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** Sets `env` in process.env (undefined deletes); returns what restores the previous values. */
function withEnv(env: Record<string, string | undefined>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(env)) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

let queue: Promise<unknown> = Promise.resolve();

async function runOnce(args: string[], opts: RunOptions, prog: ProgramName): Promise<TapRun> {
  if (opts.killAfterLines) throw new Error('killAfterLines needs a process: use runTap');
  // As runTap: fast retries; and no progress line (it is drawn only on a terminal, which the
  // test runner's stderr may be).
  const restore = withEnv({ TAP_SCARF_RETRY_BASE_MS: '5', TAP_SCARF_PROGRESS: '0', ...suiteEnv, ...opts.env });
  // A process reads its environment knobs at start: so does each run here.
  forgetRuntimeOptions();
  // log.ts reads TAP_SCARF_DEBUG when it loads, which a process does at every start; and a
  // token registered by an earlier run must not mask one this run fails to register.
  log.setDebug(!!process.env.TAP_SCARF_DEBUG);
  forgetSecrets();
  const stdout = new MemoryStream();
  const stderr = new MemoryStream();
  // main() points the log at this run's stderr; a test that logs afterwards gets its own sink back.
  const sink = getLogSink();
  let code: number;
  try {
    code = await main(args, prog, { stdout, stderr });
  } finally {
    setLogSink(sink);
    restore();
    forgetRuntimeOptions();
    log.setDebug(!!process.env.TAP_SCARF_DEBUG);
  }
  const out = stdout.text();
  const err = stderr.text();
  everyRunOutput.push(
    { what: `${prog} ${args.join(' ')} (stdout, in process)`, text: out },
    { what: `${prog} ${args.join(' ')} (stderr, in process)`, text: err },
  );
  return { code, signal: null, stdout: out, stderr: err, ...parseLines(out) };
}

/** runTap's answer, from main() in this process (see the top of this file for what it cannot run). */
export function runInProcess(args: string[], opts: RunOptions = {}, prog: ProgramName = 'tap-scarf'): Promise<TapRun> {
  const run = queue.then(() => runOnce(args, opts, prog));
  queue = run.catch(() => undefined);
  return run;
}
