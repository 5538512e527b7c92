// What went wrong with the database, in words a database user acts on. Every error the load
// path raises is a TapError: the Scarf client retries a body on a bare network error (a
// socket reset), and a lost database connection must never pass for one, or the window's
// rows already streamed would be skipped on the retry.
import { TapError } from '../../errors.js';

/** A database problem; `retry` marks those a new connection may cure (the window is then read again). */
export class DestinationError extends TapError {
  constructor(
    message: string,
    failureType: TapError['failureType'],
    readonly retry = false,
    readonly sqlstate?: string,
  ) {
    super(message, failureType);
  }
}

interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  schema?: string;
  table?: string;
  column?: string;
}

/** Where the load connects, without the password: user@host:port/database. */
export interface Target {
  user: string;
  host: string;
  port: number;
  database: string;
  schema: string;
}

export function describeTarget(t: Target): string {
  return `${t.user}@${t.host}:${t.port}/${t.database}`;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Classes of SQLSTATE a new connection may cure: connection exceptions, operator intervention (a restart, a terminated backend). */
function connectionLost(code: string | undefined): boolean {
  return code !== undefined && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03');
}

/**
 * A pg or socket error → a DestinationError saying what it means and what to do. `doing` says
 * what the load was doing ("connecting", "loading window events 2026-11-02..2026-11-02").
 */
export function destinationError(err: unknown, target: Target, doing: string): DestinationError {
  if (err instanceof DestinationError) return err;
  if (err instanceof TapError) return new DestinationError(err.message, err.failureType);
  const e = (err ?? {}) as PgErrorLike & NodeJS.ErrnoException;
  const where = describeTarget(target);
  const code = e.code;
  const said = (e.message ?? String(err)).replace(/\s+/g, ' ').trim();
  if (code === 'ENOTFOUND')
    return new DestinationError(
      `Cannot reach PostgreSQL at ${where}: host '${target.host}' does not resolve. Check the host in --to (or PSQL_CONN_STRING).`,
      'config_error',
    );
  if (code === 'ECONNREFUSED')
    return new DestinationError(
      `Cannot reach PostgreSQL at ${where}: connection refused. Is the server running and listening on ${target.host}:${target.port}? Check the host and port in --to (or PSQL_CONN_STRING).`,
      'config_error',
      true,
    );
  if (code !== undefined && NETWORK_CODES.has(code))
    return new DestinationError(
      `Lost the connection to PostgreSQL at ${where} while ${doing} (${code}).`,
      'transient_error',
      true,
    );
  if (code === '28P01' || code === '28000')
    return new DestinationError(
      `PostgreSQL at ${where} refused the login of user '${target.user}' (${said}). Check the user and password in --to (or PSQL_CONN_STRING); the password is not shown.`,
      'config_error',
      false,
      code,
    );
  if (code === '3D000')
    return new DestinationError(
      `PostgreSQL at ${where}: database '${target.database}' does not exist. Create it (CREATE DATABASE ${target.database}) or name another in --to.`,
      'config_error',
      false,
      code,
    );
  if (code === '42501')
    return new DestinationError(
      `PostgreSQL user '${target.user}' lacks a privilege while ${doing}: ${said}. Grant it, e.g. as the owner of the database: GRANT CREATE, USAGE ON SCHEMA "${target.schema}" TO "${target.user}"; GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "${target.schema}" TO "${target.user}"; (or, for a new schema: GRANT CREATE ON DATABASE "${target.database}" TO "${target.user}"; and GRANT TEMPORARY ON DATABASE for the staging tables).`,
      'config_error',
      false,
      code,
    );
  if (code === '53100')
    return new DestinationError(
      `PostgreSQL at ${where} is out of disk space (SQLSTATE 53100, disk full) while ${doing}: the window was rolled back, nothing of it is in the database and its bookmark did not move. Free space on the server's disk and run the load again; it resumes at this window.`,
      'system_error',
      false,
      code,
    );
  if (code === '53200')
    return new DestinationError(
      `PostgreSQL at ${where} ran out of memory (SQLSTATE 53200) while ${doing}: the window was rolled back. Lower events_window_days (smaller transactions) or give the server more memory, and run again.`,
      'system_error',
      false,
      code,
    );
  if (code === '53300')
    return new DestinationError(
      `PostgreSQL at ${where} has no free connection slot (SQLSTATE 53300, too many connections). Close idle sessions or raise max_connections, then run again.`,
      'transient_error',
      true,
      code,
    );
  if (connectionLost(code))
    return new DestinationError(
      `Lost the connection to PostgreSQL at ${where} while ${doing} (SQLSTATE ${code}: ${said}).`,
      'transient_error',
      true,
      code,
    );
  if (code === '57014')
    return new DestinationError(
      `PostgreSQL at ${where} cancelled a statement while ${doing} (${said}): a statement_timeout or an administrator. The window was rolled back; raise statement_timeout for this user or run again.`,
      'transient_error',
      true,
      code,
    );
  if (code === '25P02' || code === '40001' || code === '40P01')
    return new DestinationError(
      `PostgreSQL at ${where} aborted the transaction while ${doing} (SQLSTATE ${code}: ${said}); the window was rolled back.`,
      'transient_error',
      true,
      code,
    );
  if (/Connection terminated|connection.*(closed|ended)|not queryable|socket hang up/i.test(said))
    return new DestinationError(
      `Lost the connection to PostgreSQL at ${where} while ${doing} (${said}).`,
      'transient_error',
      true,
    );
  const extra = [e.detail, e.hint].filter(Boolean).join(' ');
  return new DestinationError(
    `PostgreSQL at ${where} failed while ${doing}: ${said}${code ? ` (SQLSTATE ${code})` : ''}${extra ? `. ${extra}` : ''}`,
    'system_error',
    false,
    code,
  );
}
