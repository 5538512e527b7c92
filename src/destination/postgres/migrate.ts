// Makes the target schema hold what the load writes: the schema, a table per selected stream
// (columns and key from tables.ts) and the state table. A column this version has and the table
// lacks is added (nullable: older rows simply have no value); a column with another type, or a
// table keyed otherwise, is never changed silently: the load stops before any Scarf request,
// naming the column and the statement that migrates it.
import type pg from 'pg';

import { ConfigError } from '../../errors.js';
import { log } from '../../log.js';
import type { StreamName } from '../../schemas.js';
import {
  type Column,
  createStateTableSql,
  createTableSql,
  FORMAT_TYPE,
  ident,
  type PgType,
  qualified,
  STATE_TABLE,
  TABLES,
  type TableSpec,
} from './tables.js';

interface ExistingColumn {
  name: string;
  type: string;
}

async function existingColumns(client: pg.Client, schema: string, table: string): Promise<ExistingColumn[] | undefined> {
  const { rows } = await client.query<{ name: string; type: string; present: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
      ORDER BY a.attnum`,
    [schema, table],
  );
  if (rows.length) return rows;
  const exists = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, table],
  );
  if (exists.rowCount)
    throw new ConfigError(
      `${qualified(schema, table)} exists but is not a table (a view or another kind of relation): tap-scarf loads into a table of that name. Rename or drop it, or load into another schema (--schema).`,
    );
  return undefined;
}

async function primaryKey(client: pg.Client, schema: string, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
      WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary`,
    [schema, table],
  );
  return rows.map((r) => r.name);
}

/** The statement that turns a column into the type tap-scarf writes. */
export function migrationFor(schema: string, table: string, column: string, from: string, to: PgType): string {
  const col = ident(column);
  const using = from === 'timestamp without time zone' && to === 'timestamptz' ? `${col} AT TIME ZONE 'UTC'` : `${col}::${to}`;
  return `ALTER TABLE ${qualified(schema, table)} ALTER COLUMN ${col} TYPE ${to} USING ${using};`;
}

async function ensureColumns(
  client: pg.Client,
  schema: string,
  table: string,
  wanted: Column[],
  key: string[],
): Promise<boolean> {
  const existing = await existingColumns(client, schema, table);
  if (!existing) return false;
  const have = new Map(existing.map((c) => [c.name, c.type]));
  const problems: string[] = [];
  const migrations: string[] = [];
  for (const c of wanted) {
    const type = have.get(c.name);
    if (type === undefined || type === FORMAT_TYPE[c.type]) continue;
    problems.push(`column ${ident(c.name)} is ${type}, tap-scarf writes ${FORMAT_TYPE[c.type]}`);
    migrations.push(migrationFor(schema, table, c.name, type, c.type));
  }
  const pk = await primaryKey(client, schema, table);
  if ([...pk].sort().join(',') !== [...key].sort().join(',')) {
    problems.push(
      pk.length
        ? `its primary key is (${pk.join(', ')}), tap-scarf merges on (${key.join(', ')})`
        : `it has no primary key; tap-scarf merges on (${key.join(', ')})`,
    );
    migrations.push(
      `${pk.length ? `ALTER TABLE ${qualified(schema, table)} DROP CONSTRAINT <its primary key constraint>; ` : ''}ALTER TABLE ${qualified(schema, table)} ADD PRIMARY KEY (${key.map(ident).join(', ')});  -- after removing duplicate keys`,
    );
  }
  if (problems.length)
    throw new ConfigError(
      `Table ${qualified(schema, table)} exists with other column types than tap-scarf writes: ${problems.join('; ')}. Nothing was changed or loaded. Migrate it (review first, then run): ${migrations.join(' ')} Or load into another schema (--schema).`,
    );
  const missing = wanted.filter((c) => !have.has(c.name));
  for (const c of missing) {
    await client.query(`ALTER TABLE ${qualified(schema, table)} ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${c.type}`);
    log.info(
      `PostgreSQL: added column ${ident(c.name)} ${c.type} to ${qualified(schema, table)} (new in this version of tap-scarf).`,
    );
  }
  return true;
}

async function schemaExists(client: pg.Client, schema: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return !!rowCount;
}

/**
 * Creates or checks the schema, the tables of `streams` and the state table, in one
 * transaction under a lock per schema (two loads of different owners starting together must
 * not both create a table).
 */
export async function ensureTables(client: pg.Client, schema: string, streams: StreamName[]): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tap-scarf ddl ${schema}`]);
    if (!(await schemaExists(client, schema))) {
      await client.query(`CREATE SCHEMA ${ident(schema)}`);
      log.info(`PostgreSQL: created schema ${ident(schema)}.`);
    }
    for (const stream of streams) {
      const spec: TableSpec = TABLES[stream];
      if (!(await ensureColumns(client, schema, stream, spec.columns, spec.key))) {
        await client.query(createTableSql(schema, spec));
        log.info(`PostgreSQL: created table ${qualified(schema, stream)}.`);
      }
    }
    const stateCols: Column[] = [
      { name: 'owner', type: 'text' },
      { name: 'stream', type: 'text' },
      { name: 'part', type: 'text' },
      { name: 'value', type: 'jsonb' },
    ];
    if (!(await ensureColumns(client, schema, STATE_TABLE, stateCols, ['owner', 'stream', 'part'])))
      await client.query(createStateTableSql(schema));
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
