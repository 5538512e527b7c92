// The load command as a user runs it (a child process) and the tables it wrote, read back in
// the shape of the simulator's ground truth records, so a test compares them as they are.
import { spawn } from 'node:child_process';

import { expect } from 'chai';
import pg from 'pg';

import { TABLES } from '../../src/destination/postgres/tables.js';
import { shebangNodeFlags } from '../../src/node-flags.js';
import type { StreamName } from '../../src/schemas.js';
import { everyRunOutput, tapBin } from './tap.js';

export interface LoadRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface LoadRunOptions {
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Called with the child once it runs (a test that acts on the database meanwhile, or signals the child at a point of its progress). */
  during?: (child: ReturnType<typeof spawn>) => void;
}

/** Runs `tap-scarf <args>`; `secrets` must appear in no output, in any letter case. */
export function runCli(args: string[], opts: LoadRunOptions = {}, secrets: string[] = []): Promise<LoadRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...shebangNodeFlags(tapBin), tapBin, ...args], {
      env: { ...process.env, TAP_SCARF_RETRY_BASE_MS: '5', TAP_SCARF_PG_RETRY_BASE_MS: '20', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tap-scarf ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 60000} ms\n${stderr.slice(-3000)}`));
    }, opts.timeoutMs ?? 60000);
    opts.during?.(child);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      everyRunOutput.push(
        { what: `tap-scarf ${args[0]} (stdout)`, text: stdout },
        { what: `tap-scarf ${args[0]} (stderr)`, text: stderr },
      );
      for (const s of secrets) {
        expect(stdout.toLowerCase(), 'stdout shows a secret').to.not.include(s.toLowerCase());
        expect(stderr.toLowerCase(), 'stderr shows a secret').to.not.include(s.toLowerCase());
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** A column read back as the tap's record value (canonical timestamp text, numbers, JSON text). */
function selectExpr(name: string, type: string): string {
  const c = `"${name}"`;
  switch (type) {
    case 'timestamptz':
      return `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c}`;
    case 'date':
      return `to_char(${c}, 'YYYY-MM-DD') AS ${c}`;
    case 'numeric':
    case 'bigint':
    case 'jsonb':
      return `${c}::text AS ${c}`;
    default:
      return c;
  }
}

/** A stream's rows of one owner (all owners when undefined), as records comparable with sim.truth. */
export async function tableRecords(
  c: pg.Client,
  stream: StreamName,
  owner?: string,
  schema = 'scarf',
): Promise<Record<string, unknown>[]> {
  const spec = TABLES[stream];
  const { rows } = await c.query<Record<string, unknown>>(
    `SELECT ${spec.columns.map((col) => selectExpr(col.name, col.type)).join(', ')} FROM "${schema}"."${stream}"${owner ? ' WHERE owner = $1' : ''}`,
    owner ? [owner] : [],
  );
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const col of spec.columns) {
      const v = r[col.name];
      out[col.name] =
        v === null
          ? null
          : col.type === 'numeric' || col.type === 'bigint'
            ? Number(v)
            : col.type === 'jsonb'
              ? normaliseJson(v as string)
              : v;
    }
    return out;
  });
}

/** JSON text with one spelling (the database's jsonb re-spaces it). */
export function normaliseJson(text: string | null): string | null {
  return text === null ? null : JSON.stringify(JSON.parse(text));
}

/** Truth records with extra_fields spelt as tableRecords spells it, keyed by the stream's key. */
export function keyed(stream: StreamName, recs: Record<string, unknown>[]): Map<string, Record<string, unknown>> {
  const key = TABLES[stream].key;
  const m = new Map<string, Record<string, unknown>>();
  for (const r of recs) {
    const rec: Record<string, unknown> = { ...r, extra_fields: normaliseJson((r.extra_fields as string | null) ?? null) };
    m.set(key.map((k) => String(rec[k])).join('\u0001'), rec);
  }
  return m;
}

/** The table equals the truth: the same keys, each once, and the same values. */
export function expectTable(stream: StreamName, rows: Record<string, unknown>[], truth: Record<string, unknown>[]): void {
  const got = keyed(stream, rows);
  expect(got.size, `${stream}: a key appears twice in the table`).to.equal(rows.length);
  const want = keyed(stream, truth);
  expect(got.size, `${stream}: rows`).to.equal(want.size);
  for (const [k, rec] of want) expect(got.get(k), `${stream} ${k}`).to.deep.equal(rec);
}

export async function stateRows(c: pg.Client, owner: string, schema = 'scarf'): Promise<Map<string, any>> {
  const { rows } = await c.query<{ stream: string; part: string; value: any }>(
    `SELECT stream, part, value FROM "${schema}".tap_scarf_state WHERE owner = $1`,
    [owner],
  );
  return new Map(rows.map((r) => [`${r.stream}/${r.part}`, r.value]));
}
