// The load command's ProtocolWriter: records go into PostgreSQL instead of stdout, exactly once.
//
// A window's rows are streamed (COPY text, src/destination/postgres/copy-text.ts) into a
// session-local staging table inside a transaction that opens with the window's first row;
// when the window is committed (its bookmark moved, src/streams/runner.ts) one statement
// merges the staging rows into the stream's table by key, the state rows that changed are
// written, and the transaction commits: the rows and the bookmark that covers them become
// visible together or not at all, whatever kills the process when.
//
// Which rows a commit covers: the state store counts its changes (TrackedStateStore), and a
// window's bookmark only ever moves after its last row was written. So pending rows are
// covered once a change came after the last of them; rows with no change after them belong
// to a window that did not finish, and are rolled back. The runner asks for a checkpoint
// after every commit under load (SyncContext.checkpointEveryCommit); should a checkpoint come
// later, the first row after a change commits the rows before it, so correctness never
// depends on when checkpoints come.
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';

import type { StreamSelection } from '../../catalog.js';
import type { TapError } from '../../errors.js';
import { log } from '../../log.js';
import type { StreamName } from '../../schemas.js';
import type { StateStore } from '../../state.js';
import { STREAMS } from '../../streams/definitions.js';
import type { Rec, StreamStats } from '../../streams/types.js';
import type { ProtocolWriter } from '../../sync.js';
import { type PgTarget } from './connection.js';
import { CopyChunk, JsonEncoder, ObjectEncoder } from './copy-text.js';
import { DestinationError, destinationError } from './errors.js';
import type { TrackedStateStore } from './state-table.js';
import { copySql, createStagingSql, insertSql, mergeSql, qualified, TABLES } from './tables.js';

/** COPY data is sent in chunks of about this size. */
const CHUNK_BYTES = 1 << 18;

type CopyStream = ReturnType<typeof copyStreams.from>;

interface StreamLoad {
  stream: StreamName;
  columns: string[];
  json?: JsonEncoder;
  obj: ObjectEncoder;
  copyText: string;
  mergeText: string;
  insertText: string;
  /** The last window's keys were all new: the next one tries the plain INSERT first. */
  fresh: boolean;
  stagingText: string;
  /** Rows sent, and rows the merges inserted or changed. */
  sent: number;
  merged: number;
  transactions: number;
}

export interface LoadTotals {
  sent: number;
  merged: number;
  transactions: number;
}

export class PostgresWriter implements ProtocolWriter {
  private readonly loads = new Map<StreamName, StreamLoad>();
  /** Streams whose staging table exists on the current connection. */
  private readonly staged = new Set<StreamName>();
  private readonly chunk = new CopyChunk(CHUNK_BYTES + (1 << 16));
  private copy: CopyStream | undefined;
  private copyFailure: unknown;
  private txOpen = false;
  private pendingRows = 0;
  private pendingStream: StreamName | undefined;
  private changesAtLastRow = -1;
  private bytes = 0;
  /** Why the connection is unusable; the next transaction reconnects, or the stream fails when rows were lost with it. */
  private broken: DestinationError | undefined;
  private inFlight: Promise<void> | undefined;
  /** Streams the database failed, and why (a retryable failure makes the load read them again). */
  readonly failures = new Map<StreamName, DestinationError>();

  constructor(
    private client: pg.Client,
    private readonly target: PgTarget,
    private readonly owner: string,
    private state: TrackedStateStore,
    private readonly reconnect: () => Promise<pg.Client>,
  ) {}

  /** The state a new attempt starts from (read again from the database after a lost connection). */
  useState(state: TrackedStateStore): void {
    this.state = state;
  }

  outputBytes(): number {
    return this.bytes;
  }

  totals(stream: StreamName): LoadTotals | undefined {
    const l = this.loads.get(stream);
    return l && { sent: l.sent, merged: l.merged, transactions: l.transactions };
  }

  async startStream(selection: StreamSelection): Promise<void> {
    const stream = selection.stream;
    const spec = TABLES[stream];
    const columns = spec.columns.map((c) => c.name).filter((c) => selection.fields.includes(c));
    this.loads.set(stream, {
      stream,
      columns,
      // Records come as JSON text only with every field (the sink offers it only then).
      json: columns.length === spec.columns.length ? new JsonEncoder(stream, columns) : undefined,
      obj: new ObjectEncoder(stream, columns),
      copyText: copySql(stream, columns),
      mergeText: mergeSql(this.target.schema, spec, columns),
      insertText: insertSql(this.target.schema, spec, columns),
      fresh: true,
      stagingText: createStagingSql(this.target.schema, spec),
      sent: 0,
      merged: 0,
      transactions: 0,
    });
    this.failures.delete(stream);
    if (this.broken) await this.renew();
  }

  record(stream: StreamName, rec: Rec): void | Promise<void> {
    if (this.pendingRows && this.state.changes !== this.changesAtLastRow)
      return this.commitThen(stream, () => this.record(stream, rec));
    const load = this.loads.get(stream)!;
    load.obj.encode(rec, this.chunk);
    return this.added(load);
  }

  recordJson(stream: StreamName, json: Buffer, end: number): void | Promise<void> {
    if (this.pendingRows && this.state.changes !== this.changesAtLastRow)
      return this.commitThen(stream, () => this.recordJson(stream, json, end));
    const load = this.loads.get(stream)!;
    if (!load.json?.encode(json, end, this.chunk)) load.obj.encode(JSON.parse(json.toString('utf8', 0, end)) as Rec, this.chunk);
    return this.added(load);
  }

  private added(load: StreamLoad): void | Promise<void> {
    load.sent++;
    this.pendingRows++;
    this.pendingStream = load.stream;
    this.changesAtLastRow = this.state.changes;
    if (this.chunk.len >= CHUNK_BYTES) return this.flush(load);
  }

  /** Commits the rows before a state change, then writes the row that came after it. */
  private async commitThen(stream: StreamName, write: () => void | Promise<void>): Promise<void> {
    await this.commit(this.pendingStream ?? stream);
    await write();
  }

  private failed(stream: StreamName, err: unknown, doing: string): DestinationError {
    const e = destinationError(err, this.target, doing);
    if (e.retry) this.broken = e;
    this.failures.set(stream, e);
    return e;
  }

  /** Opens the window's transaction and its COPY. */
  private async open(load: StreamLoad): Promise<void> {
    if (this.broken) throw this.broken;
    const c = this.client;
    if (!this.staged.has(load.stream)) {
      await c.query(load.stagingText);
      this.staged.add(load.stream);
    }
    if (!this.txOpen) {
      await c.query('BEGIN');
      this.txOpen = true;
    }
    const copy = c.query(copyStreams.from(load.copyText));
    copy.on('error', (err) => {
      this.copyFailure ??= err;
    });
    this.copy = copy;
  }

  private flush(load: StreamLoad): void | Promise<void> {
    if (!this.copy) {
      // Nothing of this transaction reached the server yet: a connection lost while idle is replaced.
      const ready = this.broken && !this.txOpen ? this.renew().then(() => this.open(load)) : this.open(load);
      return ready.then(
        () => this.flush(load),
        (err: unknown) => {
          throw this.failed(load.stream, err, `loading ${load.stream}`);
        },
      );
    }
    if (this.copyFailure) throw this.failed(load.stream, this.copyFailure, `loading ${load.stream}`);
    const buf = this.chunk.take();
    this.bytes += buf.length;
    if (this.copy!.write(buf)) return;
    const copy = this.copy!;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: unknown) => {
        copy.off('drain', onDrain);
        copy.off('error', onError);
        if (err) reject(this.failed(load.stream, err, `loading ${load.stream}`));
        else resolve();
      };
      const onDrain = () => done();
      const onError = (err: unknown) => done(err ?? new Error('COPY failed'));
      copy.on('drain', onDrain);
      copy.on('error', onError);
    });
  }

  /** Ends the COPY and waits for the server to have every row. */
  private async endCopy(load: StreamLoad): Promise<void> {
    if (this.chunk.len) {
      if (!this.copy) await this.open(load);
      const buf = this.chunk.take();
      this.bytes += buf.length;
      this.copy!.write(buf);
    }
    const copy = this.copy;
    if (!copy) return;
    this.copy = undefined;
    if (this.copyFailure) throw this.copyFailure;
    await new Promise<void>((resolve, reject) => {
      copy.once('finish', resolve);
      copy.once('error', reject);
      copy.end();
    });
  }

  /**
   * One transaction's end: the pending rows merged by key, the changed state rows written,
   * COMMIT. On any failure the transaction is rolled back (by the server, if the connection
   * went), the state rows are marked unwritten again, and the stream fails.
   */
  private commit(stream: StreamName): Promise<void> {
    const run = this.commitNow(stream);
    this.inFlight = run.catch(() => undefined);
    return run;
  }

  private async commitNow(stream: StreamName): Promise<void> {
    const load = this.loads.get(this.pendingStream ?? stream)!;
    const rows = this.pendingRows;
    const { statements, restore } = this.state.takeWrites(this.target.schema, this.owner, stream);
    if (!rows && !statements.length && !this.txOpen) return;
    try {
      if (this.broken && !this.copy && !this.txOpen) await this.renew();
      if (this.broken) throw this.broken;
      const t0 = performance.now();
      let t1 = t0;
      if (rows) {
        await this.endCopy(load);
        t1 = performance.now();
        load.merged += await this.merge(load);
      } else if (!this.txOpen) {
        await this.client.query('BEGIN');
        this.txOpen = true;
      }
      for (const st of statements) await this.client.query(st.text, st.values);
      const t2 = performance.now();
      await this.client.query('COMMIT');
      load.transactions++;
      log.debug(
        `${stream}: committed ${rows} rows: COPY end ${(t1 - t0).toFixed(0)} ms, merge ${(t2 - t1).toFixed(0)} ms, COMMIT ${(performance.now() - t2).toFixed(0)} ms.`,
      );
    } catch (err) {
      restore();
      await this.rollback();
      throw this.failed(stream, err, `committing a window of ${stream}`);
    } finally {
      this.txOpen = false;
      this.pendingRows = 0;
      this.pendingStream = undefined;
    }
  }

  /**
   * The staging rows into the table: a plain INSERT while windows bring only new keys, the
   * merge by key once one does not (and from then on for this stream: a lookback re-read is
   * followed by more of them only at the next load). Returns the rows inserted or changed.
   */
  private async merge(load: StreamLoad): Promise<number> {
    if (load.fresh) {
      await this.client.query('SAVEPOINT tap_scarf_insert');
      try {
        const res = await this.client.query(load.insertText);
        await this.client.query('RELEASE SAVEPOINT tap_scarf_insert');
        return res.rowCount ?? 0;
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
        await this.client.query('ROLLBACK TO SAVEPOINT tap_scarf_insert');
        load.fresh = false;
      }
    }
    return (await this.client.query(load.mergeText)).rowCount ?? 0;
  }

  /** Drops the pending rows: the window they belong to did not finish. */
  private async rollback(): Promise<void> {
    const copy = this.copy;
    this.copy = undefined;
    this.chunk.len = 0;
    this.pendingRows = 0;
    this.pendingStream = undefined;
    if (copy) {
      await new Promise<void>((resolve) => {
        copy.once('error', () => resolve());
        copy.once('finish', () => resolve());
        copy.once('close', () => resolve());
        copy.destroy(new Error('window not complete: rolled back'));
      });
    }
    if (this.txOpen && !this.broken) await this.client.query('ROLLBACK').catch(() => undefined);
    this.txOpen = false;
    this.copyFailure = undefined;
  }

  async checkpoint(stream: StreamName, _state: StateStore, final: boolean): Promise<void> {
    // The stream's end is decided in endStream, which knows whether it failed.
    if (final || this.failures.has(stream)) return;
    if (this.pendingRows && this.state.changes === this.changesAtLastRow) return;
    await this.commit(stream);
  }

  async endStream(selection: StreamSelection, _stats: StreamStats, error?: TapError): Promise<void> {
    const stream = selection.stream;
    const load = this.loads.get(stream);
    // Rows with no state change after them belong to an unfinished window; a snapshot that
    // ended without error is complete even when its bookmark did not move.
    const covered =
      !this.pendingRows ||
      this.state.changes !== this.changesAtLastRow ||
      (STREAMS[stream].window === 'snapshot' && error === undefined);
    if (this.failures.has(stream) || !covered) await this.rollback();
    else {
      try {
        await this.commit(stream);
      } catch (err) {
        // runSync does not expect endStream to fail: the load reads the failure from `failures`.
        log.error(`${stream}: ${(err as Error).message}`);
      }
    }
    if (load && !this.failures.has(stream))
      log.info(
        `${stream}: ${load.sent} rows loaded into ${qualified(this.target.schema, stream)} in ${load.transactions} transaction(s), ${load.merged} inserted or changed.`,
      );
  }

  /** A new connection after a lost one (the staging tables went with the old session). */
  private async renew(): Promise<void> {
    await this.client.end().catch(() => undefined);
    this.replaceConnection(await this.reconnect());
  }

  /** Goes on with another connection (its lock and tables in place); nothing may be pending. */
  replaceConnection(client: pg.Client): void {
    this.client = client;
    this.staged.clear();
    this.broken = undefined;
    this.txOpen = false;
    this.copy = undefined;
    this.copyFailure = undefined;
  }

  /** The commit in flight, if any (a stop signal waits for it before exiting). */
  settled(): Promise<void> {
    return this.inFlight ?? Promise.resolve();
  }

  /** Ends the load: pending rows (of no finished window) rolled back, the connection closed. */
  async close(): Promise<void> {
    await this.rollback().catch(() => undefined);
    await this.client.end().catch(() => undefined);
  }

  /** The connection, for the steps after the sync (verify). */
  connection(): pg.Client {
    return this.client;
  }
}
