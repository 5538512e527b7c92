// Runs the built CLI as a user (or Meltano/Airbyte) would: a child process, files for
// config/state/catalog, stdout parsed line by line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { shebangNodeFlags } from '../../src/node-flags.js';
import type { StreamName } from '../../src/schemas.js';
import { singerOutput } from './output.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const tapBin = path.join(repoRoot, 'bin', 'tap-scarf.js');

export interface TapRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Every complete stdout line that is JSON, parsed. */
  messages: Record<string, any>[];
  /** Complete stdout lines that are not JSON (must be none in protocol output). */
  badLines: string[];
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Kill the process with this signal once stdout has printed this many lines. */
  killAfterLines?: { lines: number; signal: NodeJS.Signals };
}

export function tmpDir(prefix = 'tap-scarf-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

/** stdout and stderr of every run made through runTap in this process, for the security sweep. */
export const everyRunOutput: { what: string; text: string }[] = [];

/** Environment variables every tap runTap spawns gets (a suite sets them in before(), clears them in after()). */
export const suiteEnv: Record<string, string> = {};

export function runTap(args: string[], opts: RunOptions = {}): Promise<TapRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...shebangNodeFlags(tapBin), tapBin, ...args], {
      env: { ...process.env, TAP_SCARF_RETRY_BASE_MS: '5', ...suiteEnv, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let lines = 0;
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (opts.killAfterLines && !killed) {
        lines += d.split('\n').length - 1;
        if (lines >= opts.killAfterLines.lines) {
          killed = true;
          child.kill(opts.killAfterLines.signal);
        }
      }
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tap-scarf ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 60000} ms\n${stderr.slice(-2000)}`));
    }, opts.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      everyRunOutput.push(
        { what: `tap-scarf ${args.join(' ')} (stdout)`, text: stdout },
        { what: `tap-scarf ${args.join(' ')} (stderr)`, text: stderr },
      );
      resolve({ code, signal, stdout, stderr, ...parseLines(stdout) });
    });
  });
}

/** Complete lines only: a process killed mid-write may leave a partial last line. */
export function parseLines(stdout: string): { messages: Record<string, any>[]; badLines: string[] } {
  const complete = stdout.endsWith('\n') ? stdout : stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  const messages: Record<string, any>[] = [];
  const badLines: string[] = [];
  for (const line of complete.split('\n')) {
    if (line.trim() === '') continue;
    try {
      messages.push(JSON.parse(line));
    } catch {
      badLines.push(line);
    }
  }
  return { messages, badLines };
}

/** A Singer run's records of one stream (shorthand for singerOutput(run).records, helpers/output.ts). */
export function records(run: TapRun, stream: string): Record<string, any>[] {
  return singerOutput(run).records(stream as StreamName);
}

/** A Singer run's last STATE value (shorthand for singerOutput(run).lastState). */
export function lastState(run: TapRun): Record<string, any> | undefined {
  return singerOutput(run).lastState;
}

export function byKey<T extends Record<string, any>>(rows: T[], key: string): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of rows) m.set(r[key], r);
  return m;
}
