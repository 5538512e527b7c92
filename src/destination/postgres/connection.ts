// Where the load connects (the connection string, read once, its password registered as a
// secret before anything can print it) and how: a connection per load, retried while the
// server may come back, holding a lock per schema and owner so two loads of one owner never
// interleave their windows.
import pg from 'pg';

import { ConfigError } from '../../errors.js';
import { log, registerSecret } from '../../log.js';
import { describeTarget, DestinationError, destinationError, type Target } from './errors.js';

export interface PgTarget extends Target {
  connectionString: string;
}

/** Parses the connection string (URL, or PostgreSQL's key=value form) and registers its password as a secret. */
export function parseTarget(connectionString: string, schema: string): PgTarget {
  const text = connectionString.trim();
  if (text === '')
    throw new ConfigError(
      'No PostgreSQL connection string: pass --to postgres://USER:PASSWORD@HOST:PORT/DATABASE or set PSQL_CONN_STRING.',
    );
  // A password in a URL may be percent-encoded; both forms are secrets.
  const m = /^[a-z]+:\/\/[^:@/]*:([^@]*)@/i.exec(text);
  if (m?.[1]) {
    registerSecret(m[1]);
    try {
      registerSecret(decodeURIComponent(m[1]));
    } catch {
      // not valid percent-encoding: the raw form is registered
    }
  }
  const kv = /(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/i.exec(text);
  if (kv?.[1]) registerSecret(kv[1].replace(/^'|'$/g, ''));
  if (!/^postgres(ql)?:\/\//i.test(text) && !/=/.test(text))
    throw new ConfigError(
      `The PostgreSQL connection string is not a postgres:// URL or key=value list (it is not shown, it may hold a password). Use postgres://USER:PASSWORD@HOST:PORT/DATABASE.`,
    );
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: text });
  } catch (err) {
    throw new ConfigError(
      `The PostgreSQL connection string cannot be read (${(err as Error).message}). Use postgres://USER:PASSWORD@HOST:PORT/DATABASE.`,
    );
  }
  const c = client as unknown as { user?: string; host?: string; port?: number; database?: string; password?: string };
  if (typeof c.password === 'string') registerSecret(c.password);
  if (!schema || /\0/.test(schema)) throw new ConfigError(`--schema must name a schema, e.g. scarf.`);
  return {
    connectionString: text,
    user: c.user ?? 'postgres',
    host: c.host ?? 'localhost',
    port: c.port ?? 5432,
    database: c.database ?? c.user ?? 'postgres',
    schema,
  };
}

/** Waits before each new attempt at a connection (ms); a test shortens them. */
function backoff(attempt: number): number {
  const base = Number(process.env.TAP_SCARF_PG_RETRY_BASE_MS ?? 1000);
  return Math.min(30_000, base * 2 ** attempt);
}

export const CONNECT_ATTEMPTS = 5;

/**
 * A new connection, retried (up to CONNECT_ATTEMPTS, waits doubling from 1 s) while the
 * failure may pass (refused, reset, the server starting or shutting down, no free slot);
 * a login refused or a database missing fails at once.
 */
export async function connect(target: PgTarget, doing = 'connecting'): Promise<pg.Client> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({
      connectionString: target.connectionString,
      application_name: 'tap-scarf',
      keepAlive: true,
      connectionTimeoutMillis: 30_000,
    });
    // A socket that fails while no query runs must not crash the process: the writer finds out at its next query.
    client.on('error', () => undefined);
    try {
      await client.connect();
      // Staging tables hold one window: give them memory before they spill to temporary files.
      await client.query("SET temp_buffers = '64MB'");
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      const e = destinationError(err, target, doing);
      if (!e.retry || attempt + 1 >= CONNECT_ATTEMPTS) throw e;
      const wait = backoff(attempt);
      log.warn(`${e.message} Trying again in ${(wait / 1000).toFixed(1)} s (attempt ${attempt + 2} of ${CONNECT_ATTEMPTS}).`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** How long a load waits for the owner's lock (a load killed a moment ago may hold it until its server process notices). */
const LOCK_WAIT_MS = 15_000;

/** The lock that keeps two loads of one owner into one schema apart; held as long as the connection. */
export async function lockOwner(client: pg.Client, target: PgTarget, owner: string): Promise<void> {
  const started = Date.now();
  for (let said = false; ;) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok', [
      `tap-scarf load ${target.schema}`,
      owner,
    ]);
    if (rows[0]?.ok) return;
    if (Date.now() - started >= LOCK_WAIT_MS)
      throw new DestinationError(
        `Another tap-scarf load of owner '${owner}' into schema "${target.schema}" at ${describeTarget(target)} is running: two loads of one owner would read the same windows twice. Wait for it to finish (or stop it) and run again.`,
        'config_error',
      );
    if (!said)
      log.info(
        `Waiting for another load of owner '${owner}' into schema "${target.schema}" to end (up to ${LOCK_WAIT_MS / 1000} s).`,
      );
    said = true;
    await new Promise((r) => setTimeout(r, 250));
  }
}
