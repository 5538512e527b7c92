// Child processes for the bench and the perf tests: the tap (and the floor pipeline) run as
// a user runs them, as their own process, with their peak RSS taken from the kernel's
// high-water mark (/proc/<pid>/status VmHWM, polled; Linux only).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { shebangNodeFlags } from '../src/node-flags.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const tapBin = path.join(repoRoot, 'bin', 'tap-scarf.js');
export const sourceBin = path.join(repoRoot, 'bin', 'source-scarf.js');
export const simCli = path.join(repoRoot, 'dist', 'sim', 'cli.js');
export const floorJs = path.join(repoRoot, 'dist', 'bench', 'floor.js');
export const pythonTap = path.join(repoRoot, 'bench', 'python-tap.py');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallSec: number;
  /** Peak resident set (VmHWM) in MB; NaN where /proc is not available. */
  peakRssMB: number;
  /** CPU seconds (user + system) of the child, from /proc/<pid>/stat; NaN without /proc. */
  cpuSec: number;
  stderr: string;
  /** Bytes the child wrote to stdout (only counted when stdout is 'count', 'protocol' or 'slow'). */
  stdoutBytes: number;
  /** What the child wrote to stdout, with `capture` (and stdout 'count'). */
  stdoutText: string;
  /** stdout 'protocol': the STATE lines and what came between them. */
  protocol?: ProtocolCounts;
}

export interface ProtocolCounts {
  states: number;
  stateBytes: number;
  recordBytes: number;
  records: number;
  /** Most RECORD lines between two STATEs (or before the first): what a SIGKILL at the worst moment redoes. */
  maxRecordsBetweenStates: number;
  /** Longest time without a STATE, from the start to the last one: the same in seconds. */
  maxSecondsBetweenStates: number;
}

export interface RunOptions {
  /**
   * Where stdout goes: '/dev/null' (default), 'count' (read as fast as possible, counted), or
   * { slowBytesPerSec } — read through a pipe at most that fast (a slow target).
   */
  stdout?: '/dev/null' | 'count' | 'protocol' | { slowBytesPerSec: number };
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Extra node flags for the child (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Run the script with this program instead of node (the Python baseline). */
  executable?: string;
  /** Keep stdout's text (stdout 'count' only; for a child that reports on stdout). */
  capture?: boolean;
}

const CLK_TCK = 100;

function readProc(pid: number): { hwmKB: number; cpuTicks: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name "(...)": state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(rest[11]) + Number(rest[12]);
    return { hwmKB: m ? Number(m[1]) : NaN, cpuTicks };
  } catch {
    return undefined;
  }
}

/** Runs `node <script> ...args` and measures it. */
export function runNode(script: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const out = opts.stdout ?? '/dev/null';
    const devnull = out === '/dev/null' ? fs.openSync('/dev/null', 'w') : undefined;
    const t0 = performance.now();
    // A bin runs with the flags of its #! line, as it does from a shell.
    const child: ChildProcess = spawn(
      opts.executable ?? process.execPath,
      opts.executable ? [script, ...args] : [...shebangNodeFlags(script), ...(opts.nodeFlags ?? []), script, ...args],
      {
        env: { ...process.env, ...opts.env },
        stdio: ['ignore', devnull ?? 'pipe', 'pipe'],
      },
    );
    if (devnull !== undefined) fs.closeSync(devnull);
    let stderr = '';
    let stdoutBytes = 0;
    let stdoutText = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      stderr += d;
      // Keep only the tail of a chatty child (the summary lines come last).
      if (stderr.length > 4_000_000) stderr = stderr.slice(-1_000_000);
    });
    let slowTimer: NodeJS.Timeout | undefined;
    let protocol: ProtocolCounts | undefined;
    if (out === 'count') {
      child.stdout!.on('data', (c: Buffer) => {
        stdoutBytes += c.length;
        if (opts.capture) stdoutText += c.toString('utf8');
      });
    } else if (out === 'protocol') {
      protocol = countProtocol(child.stdout!, t0, (n) => (stdoutBytes += n));
    } else if (typeof out === 'object') {
      // A slow target: read, then stay paused as long as the budget is overdrawn.
      const rate = out.slowBytesPerSec;
      const started = performance.now();
      const stdout = child.stdout!;
      stdout.on('data', (c: Buffer) => {
        stdoutBytes += c.length;
        const due = (stdoutBytes / rate) * 1000 - (performance.now() - started);
        if (due > 5) {
          stdout.pause();
          slowTimer = setTimeout(() => stdout.resume(), due);
        }
      });
    }
    let peakKB = NaN;
    let cpuTicks = NaN;
    const poll = () => {
      const p = child.pid !== undefined ? readProc(child.pid) : undefined;
      // A process that has exited (a zombie) has no VmHWM line any more: keep the last reading.
      if (p && Number.isFinite(p.hwmKB)) {
        if (!(p.hwmKB <= peakKB)) peakKB = p.hwmKB;
        if (Number.isFinite(p.cpuTicks)) cpuTicks = p.cpuTicks;
      }
    };
    const poller = setInterval(poll, 20);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${path.basename(script)} ${args.join(' ')} did not finish in ${opts.timeoutMs} ms\n${stderr.slice(-2000)}`),
      );
    }, opts.timeoutMs ?? 600_000);
    child.on('error', reject);
    // 'exit' comes before the stdio streams close: take the last reading as late as possible.
    child.on('exit', () => poll());
    child.on('close', (code, signal) => {
      clearInterval(poller);
      clearTimeout(timer);
      if (slowTimer) clearTimeout(slowTimer);
      resolve({
        code,
        signal,
        wallSec: (performance.now() - t0) / 1000,
        peakRssMB: (peakKB * 1024) / 1e6,
        cpuSec: cpuTicks / CLK_TCK,
        stderr,
        stdoutBytes,
        ...(protocol ? { protocol } : {}),
        stdoutText,
      });
    });
  });
}

/** Per-stream summary the tap logs at the end of each stream. */
export interface StreamSummary {
  stream: string;
  records: number;
  duplicates: number;
  requests: number;
  windows: number;
  largestKeySet: number;
}

export function parseSummaries(stderr: string): StreamSummary[] {
  const out: StreamSummary[] = [];
  const re =
    /(\w+): (\d+) records, (\d+) duplicate rows dropped, (\d+) API requests \(Scarf Runs\), (\d+) windows.*?largest key set (\d+)/g;
  for (const m of stderr.matchAll(re)) {
    out.push({ stream: m[1]!, records: +m[2]!, duplicates: +m[3]!, requests: +m[4]!, windows: +m[5]!, largestKeySet: +m[6]! });
  }
  return out;
}

export function tmpDir(prefix = 'tap-scarf-bench-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A Singer catalog (from the repository's catalog.json) with only `streams` selected. */
export function catalogSelecting(streams: string[]): unknown {
  const cat = JSON.parse(fs.readFileSync(path.join(repoRoot, 'catalog.json'), 'utf8')) as {
    streams: { tap_stream_id: string; metadata: { breadcrumb: string[]; metadata: Record<string, unknown> }[] }[];
  };
  for (const s of cat.streams) {
    for (const m of s.metadata) if (m.breadcrumb.length === 0) m.metadata.selected = streams.includes(s.tap_stream_id);
  }
  return cat;
}

/** An Airbyte configured catalog syncing `streams` incrementally, from the connector's catalog.json. */
export function airbyteCatalogSelecting(streams: string[]): unknown {
  const cat = JSON.parse(fs.readFileSync(path.join(repoRoot, 'catalog.json'), 'utf8')) as {
    streams: { tap_stream_id: string; schema: unknown; key_properties: string[]; replication_key?: string; metadata: unknown }[];
  };
  return {
    streams: cat.streams
      .filter((s) => streams.includes(s.tap_stream_id))
      .map((s) => ({
        stream: {
          name: s.tap_stream_id,
          json_schema: s.schema,
          supported_sync_modes: ['full_refresh', 'incremental'],
          source_defined_cursor: true,
        },
        sync_mode: 'incremental',
        destination_sync_mode: 'append_dedup',
        primary_key: s.key_properties.map((k) => [k]),
      })),
  };
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

/** The simulator as its own process (so its CPU is not the tap's). */
/** Counts STATE and RECORD lines as they arrive, without parsing the records. */
function countProtocol(stdout: NodeJS.ReadableStream, t0: number, onBytes: (n: number) => void): ProtocolCounts {
  const c: ProtocolCounts = {
    states: 0,
    stateBytes: 0,
    recordBytes: 0,
    records: 0,
    maxRecordsBetweenStates: 0,
    maxSecondsBetweenStates: 0,
  };
  let rest = '';
  let since = 0;
  let lastStateAt = t0;
  stdout.setEncoding('utf8');
  stdout.on('data', (d: string) => {
    onBytes(Buffer.byteLength(d));
    const lines = (rest + d).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{"type":"RECORD"')) {
        c.records++;
        c.recordBytes += Buffer.byteLength(line) + 1;
        since++;
      } else if (line.startsWith('{"type":"STATE"')) {
        const now = performance.now();
        c.states++;
        c.stateBytes += Buffer.byteLength(line) + 1;
        c.maxRecordsBetweenStates = Math.max(c.maxRecordsBetweenStates, since);
        c.maxSecondsBetweenStates = Math.max(c.maxSecondsBetweenStates, (now - lastStateAt) / 1000);
        since = 0;
        lastStateAt = now;
      }
    }
  });
  return c;
}

export class SimProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static start(args: string[]): Promise<SimProcess> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [simCli, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const fail = (why: string) => {
        child.kill('SIGKILL');
        reject(new Error(`simulator did not start: ${why}\n${err}`));
      };
      const timer = setTimeout(() => fail('no listening line within 20 s'), 20_000);
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          child.stdout!.removeAllListeners('data');
          child.stdout!.resume();
          resolve(new SimProcess(child, m[1]!));
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (!out.includes('listening')) reject(new Error(`simulator exited with ${code}: ${err}`));
      });
    });
  }

  /** GET a control or API path; returns the body text. */
  async get(
    pathAndQuery: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string; bytes: number }> {
    const res = await fetch(this.url + pathAndQuery, { headers });
    const buf = Buffer.from(await res.arrayBuffer());
    return { status: res.status, text: buf.length < 50_000_000 ? buf.toString('utf8') : '', bytes: buf.length };
  }

  async put(pathName: string, body: unknown): Promise<void> {
    const res = await fetch(this.url + pathName, {
      method: 'PUT',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    if (res.status >= 300) throw new Error(`PUT ${pathName}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }

  /** The simulator's request log entries with status 200+, by endpoint. */
  async requestsByEndpoint(): Promise<Record<string, number>> {
    const log = JSON.parse((await this.get('/_sim/requests')).text) as { endpoint: string }[];
    const by: Record<string, number> = {};
    for (const e of log) by[e.endpoint] = (by[e.endpoint] ?? 0) + 1;
    return by;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
