// The harness every Postgres test stands on: a real server answers on loopback, and each
// fresh database is empty and separate.
import { expect } from 'chai';
import pg from 'pg';

import { testPostgres } from '../helpers/postgres.js';

describe('test PostgreSQL harness', function () {
  this.timeout(120_000);

  it('starts a real server on 127.0.0.1 and hands out separate, empty databases', async () => {
    const server = await testPostgres();
    const a = await server.freshDatabase('harness');
    const b = await server.freshDatabase('harness');
    expect(a).to.not.equal(b);
    const client = new pg.Client({ connectionString: a });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: string; n: string }>(
        "select current_setting('server_version_num') as v, (select count(*) from pg_tables where schemaname = 'public') as n",
      );
      expect(Number(rows[0]!.v)).to.be.greaterThan(150000);
      expect(Number(rows[0]!.n)).to.equal(0);
      await client.query('create table t (x int)');
    } finally {
      await client.end();
    }
    const other = new pg.Client({ connectionString: b });
    await other.connect();
    try {
      const { rows } = await other.query<{ n: string }>("select count(*) as n from pg_tables where tablename = 't'");
      expect(Number(rows[0]!.n)).to.equal(0);
    } finally {
      await other.end();
    }
  });
});
