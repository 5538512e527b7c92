// Moving from Scarf's own Postgres exporter: its table (scarf_events_raw: the events columns,
// `time` as timestamp without time zone holding UTC, no owner, no key, duplicates kept) is
// imported into the events table, de-duplicated by id, and the events bookmark is set to the
// start of its last day, all in one transaction. Why import rather than start after it:
// the history costs no Scarf Run to keep, it may reach back further than a new backfill is
// worth paying for, and queries move to one keyed table. Why the start of the last day: the
// exporter loads through "yesterday" at its run, so its last day may lack late events; the
// days before it are taken as loaded, and `verify` checks them against Scarf's counts.
import type pg from 'pg';

import { ConfigError } from '../../errors.js';
import { log } from '../../log.js';
import type { TrackedStateStore } from './state-table.js';
import { ident, qualified, TABLES } from './tables.js';

export const EXPORTER_TABLE = 'scarf_events_raw';

export interface ImportResult {
  table: string;
  rows: number;
  imported: number;
  withoutId: number;
  firstDay?: string;
  lastDay?: string;
}

/** The relation a name resolves to (search_path for an unqualified one), or undefined. */
async function resolve(client: pg.Client, name: string): Promise<{ oid: number; shown: string } | undefined> {
  const { rows } = await client.query<{ oid: number | null; shown: string | null }>(
    `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS shown
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [name],
  );
  const r = rows[0];
  return r?.oid ? { oid: r.oid, shown: r.shown! } : undefined;
}

/** True when the exporter's table exists (the load imports it on its first run). */
export async function exporterTableExists(client: pg.Client, name = EXPORTER_TABLE): Promise<boolean> {
  return (await resolve(client, name)) !== undefined;
}

/**
 * Imports the exporter's table for `owner` into `schema`.events and moves the events bookmark
 * to the start of its last day, in one transaction (the state rows go with the rows). Only for
 * an owner whose events have no bookmark yet: after that, the load itself is the source.
 */
export async function importExporterTable(
  client: pg.Client,
  schema: string,
  owner: string,
  state: TrackedStateStore,
  name = EXPORTER_TABLE,
): Promise<ImportResult | undefined> {
  const rel = await resolve(client, name);
  if (!rel)
    throw new ConfigError(
      `No table '${name}' to import (the Scarf exporter's table): check the name, or its schema (schema.table).`,
    );
  if (state.hasProgress('events')) {
    log.info(
      `${rel.shown} (Scarf exporter) not imported: events of owner '${owner}' already have a bookmark in ${qualified(schema, 'tap_scarf_state')}, so the load itself is their source now.`,
    );
    return undefined;
  }
  const { rows: cols } = await client.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [rel.oid],
  );
  const have = new Map(cols.map((c) => [c.name, c.type]));
  if (!have.has('id') || !have.has('time'))
    throw new ConfigError(
      `${rel.shown} has no 'id' and 'time' columns: it is not the Scarf exporter's events table, nothing was imported.`,
    );
  const spec = TABLES.events;
  const targetCols = spec.columns.filter((c) => c.name !== 'owner' && c.name !== 'extra_fields');
  const exprs = targetCols.map((c) => {
    const type = have.get(c.name);
    if (type === undefined) return `NULL::${c.type}`;
    const col = `r.${ident(c.name)}`;
    // The exporter's `time` is a timestamp without time zone that holds UTC (Scarf's +00 offset dropped on the way in).
    if (c.type === 'timestamptz' && type === 'timestamp without time zone') return `${col} AT TIME ZONE 'UTC'`;
    return `${col}::${c.type}`;
  });
  const time = have.get('time') === 'timestamp without time zone' ? `r."time" AT TIME ZONE 'UTC'` : `r."time"::timestamptz`;
  await client.query('BEGIN');
  try {
    const { rows: stats } = await client.query<{
      rows: string;
      without_id: string;
      first_day: string | null;
      last_day: string | null;
    }>(
      `SELECT count(*) AS rows, count(*) FILTER (WHERE r.id IS NULL OR r.id = '' OR r."time" IS NULL) AS without_id,
              to_char(min((${time}) AT TIME ZONE 'UTC') FILTER (WHERE r.id <> ''), 'YYYY-MM-DD') AS first_day,
              to_char(max((${time}) AT TIME ZONE 'UTC') FILTER (WHERE r.id <> ''), 'YYYY-MM-DD') AS last_day
         FROM ${rel.shown} r`,
    );
    const s = stats[0]!;
    const inserted = await client.query(
      `INSERT INTO ${qualified(schema, 'events')} (owner, ${targetCols.map((c) => ident(c.name)).join(', ')})
       SELECT DISTINCT ON (r.id) $1, ${exprs.join(', ')} FROM ${rel.shown} r
        WHERE r.id IS NOT NULL AND r.id <> '' AND r."time" IS NOT NULL
        ORDER BY r.id, r."time" DESC
       ON CONFLICT (owner, id) DO NOTHING`,
      [owner],
    );
    const result: ImportResult = {
      table: rel.shown,
      rows: Number(s.rows),
      imported: inserted.rowCount ?? 0,
      withoutId: Number(s.without_id),
      firstDay: s.first_day ?? undefined,
      lastDay: s.last_day ?? undefined,
    };
    if (result.lastDay) {
      state.setValue('events', 'time', `${result.lastDay}T00:00:00.000000Z`);
      // What the bookmark covers: every package (the exporter has no query), from its first day.
      state.recordSettings('events', { start_date: result.firstDay, package_query: null });
    }
    for (const st of state.takeWrites(schema, owner, 'events').statements) await client.query(st.text, st.values);
    await client.query('COMMIT');
    log.info(
      `Imported ${rel.shown} (Scarf exporter) into ${qualified(schema, 'events')} for owner '${owner}': ${result.rows} rows, ${result.imported} distinct events (${result.rows - result.imported - result.withoutId} duplicate rows dropped${result.withoutId ? `, ${result.withoutId} rows without id or time skipped` : ''}), days ${result.firstDay ?? '-'}..${result.lastDay ?? '-'}; events continue from ${result.lastDay ?? 'start_date'} (its last day is read again: it may lack late events). ${rel.shown} is left as it was: drop it once you have checked (tap-scarf verify).`,
    );
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
