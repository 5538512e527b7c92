// The load command's ProtocolWriter: records go into PostgreSQL instead of stdout, exactly once.
//
// A window's rows are streamed (COPY binary, src/destination/postgres/copy-binary.ts) into a
// session-local staging table inside a transaction that opens with the window's first row;
// when the window is committed (its bookmark moved, src/streams/engine/runner.ts) one statement
// merges the staging rows into the stream's table by key, the state rows that changed are
// written, and the transaction commits: the rows and the bookmark that covers them become
// visible together or not at all, whatever kills the process when.
//
// Straight into the table: an `events` window whose keys are new (its day lies past the
// bookmark this stream run started from, or the owner has no events at all yet) is copied
// straight into the table inside its transaction, skipping the staging table and the merge
// (the tap already de-duplicates within a window): the server writes each row once instead of
// twice (docs/postgres.md "Straight into the table"). A window that may hold known keys (the
// lookback re-read, the day the bookmark points into, a load whose table has rows but no
// bookmark) takes the staging table and the merge. Should a direct COPY meet a key the table
// holds anyway (an event whose time Scarf changed), the window's transaction is rolled back
// and the stream fails with a retryable error: the load reads it again from the committed
// state (src/load/main.ts), and windows up to the one that met the key take the merge.
//
// Two sessions take turns: while one merges and commits window k, the next window's rows
// stream into the other's staging table, so the server's merge overlaps the download and
// parsing of the next window instead of stopping them. Commits stay in window order: window
// k+1's merge starts only once window k is committed (and fails if k failed).
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
import type { Rec, StreamStats } from '../../streams/engine/types.js';
import { STREAMS } from '../../streams/registry.js';
import type { ProtocolWriter } from '../../sync.js';
import { type PgTarget } from './connection.js';
import { BINARY_HEADER, BINARY_TRAILER, BinaryEncoder } from './copy-binary.js';
import { CopyChunk } from './copy-chunk.js';
import { DestinationError, destinationError } from './errors.js';
import { rowsInKeyOrder, RowStarts } from './key-order.js';
import type { TrackedStateStore } from './state-table.js';
import { copySql, createStagingSql, directCopySql, emptySql, insertSql, mergeSql, qualified, TABLES } from './tables.js';

/** COPY data is sent in chunks of about this size. */
const CHUNK_BYTES = 1 << 18;
/**
 * A window copied straight into its table is sent in runs of about this size, each sorted by
 * key (src/destination/postgres/key-order.ts): the server's index then takes the keys in order
 * instead of at random, 14-20 % less of the server's CPU in a load (docs/postgres.md "Rows in
 * key order within bounded runs"). Bounded, so memory stays flat: a run is ~10,000 events.
 */
const SORT_BYTES = 1 << 22;

type CopyStream = ReturnType<typeof copyStreams.from>;

interface StreamLoad {
  stream: StreamName;
  columns: string[];
  /** Rows in binary COPY format (src/destination/postgres/copy-binary.ts). */
  enc: BinaryEncoder;
  /** Records come as JSON text only with every field (the sink offers it only then). */
  jsonRows: boolean;
  copyText: string;
  /** COPY straight into the table, for a window whose keys are new; undefined: never (only events). */
  directText: string | undefined;
  /** The key's columns lead the column list: a direct COPY's rows are sent sorted by them. */
  keyColumns: number;
  /** The stream's bookmark when this stream run started (undefined: none). */
  startMark: string | undefined;
  /** The owner had no rows in the table when this stream run started. */
  emptyAtStart: boolean;
  mergeText: string;
  insertText: string;
  /** The last window's keys were all new: the next one tries the plain INSERT first. */
  fresh: boolean;
  stagingText: string;
  /** Rows sent, and rows the merges inserted or changed. */
  sent: number;
  merged: number;
  transactions: number;
  /** Windows copied straight into the table, and windows that took the staging table and the merge. */
  direct: number;
  staged: number;
}

export interface LoadTotals {
  sent: number;
  merged: number;
  transactions: number;
  direct: number;
  staged: number;
}

/** How a window's rows reach the table, decided at its first row. */
interface WindowMode {
  direct: boolean;
  /** The stream's bookmark at the window's first row (where the window starts; '' before any). */
  mark: string;
}

/** One connection and the window transaction on it. */
class Session {
  /** Streams whose staging table exists in this session. */
  readonly staged = new Set<StreamName>();
  copy: CopyStream | undefined;
  copyFailure: unknown;
  /** The mode of the window whose COPY is open on this session. */
  window: WindowMode | undefined;
  txOpen = false;
  /** The commit running on this session, settled (its failure is reported through the writer). */
  busy: Promise<void> = Promise.resolve();
  constructor(readonly client: pg.Client) {}
}

/** Opens session `index` (0 holds the owner's lock; the tables exist by then). */
export type SessionFactory = (index: number) => Promise<pg.Client>;

export class PostgresWriter implements ProtocolWriter {
  private readonly loads = new Map<StreamName, StreamLoad>();
  private sessions: Session[];
  private cur = 0;
  private readonly chunk = new CopyChunk(CHUNK_BYTES + (1 << 16));
  /** Where each row in the chunk starts (a direct COPY's runs are sorted by key). */
  private readonly rowStarts = new RowStarts();
  private pendingRows = 0;
  private pendingStream: StreamName | undefined;
  private pendingMode: WindowMode = { direct: false, mark: '' };
  /**
   * Per stream, the bookmark at the first row of a window whose direct COPY met a known key:
   * windows up to there take the merge for the rest of this load (the retry reads them again).
   */
  private readonly conflicts = new Map<StreamName, string>();
  private changesAtLastRow = -1;
  private bytes = 0;
  /** The last commit handed to a session (the next one waits for it, to keep window order). */
  private lastCommit: Promise<void> = Promise.resolve();
  /** Why the connections are unusable; the next stream reconnects, a window in flight fails. */
  private broken: DestinationError | undefined;
  /** A commit that failed after its window's checkpoint returned: the stream fails at its next step. */
  private asyncFailure: { stream: StreamName; error: DestinationError } | undefined;
  /** Streams the database failed, and why (a retryable failure makes the load read them again). */
  readonly failures = new Map<StreamName, DestinationError>();

  constructor(
    clients: pg.Client[],
    private readonly target: PgTarget,
    private readonly owner: string,
    private state: TrackedStateStore,
    private readonly connectSession: SessionFactory,
  ) {
    this.sessions = clients.map((c) => new Session(c));
  }

  /** The state a new attempt starts from (read again from the database after a lost connection). */
  useState(state: TrackedStateStore): void {
    this.state = state;
  }

  outputBytes(): number {
    return this.bytes;
  }

  totals(stream: StreamName): LoadTotals | undefined {
    const l = this.loads.get(stream);
    return l && { sent: l.sent, merged: l.merged, transactions: l.transactions, direct: l.direct, staged: l.staged };
  }

  private get session(): Session {
    return this.sessions[this.cur]!;
  }

  async startStream(selection: StreamSelection): Promise<void> {
    const stream = selection.stream;
    const spec = TABLES[stream];
    const columns = spec.columns.map((c) => c.name).filter((c) => selection.fields.includes(c));
    this.failures.delete(stream);
    if (this.broken) await this.reset();
    const direct = stream === 'events';
    const startMark = direct ? this.bookmark(stream) : undefined;
    // Without a bookmark, windows are new only if the owner has no rows yet (a state row deleted
    // by hand to read days again leaves rows behind: those windows take the merge).
    const emptyAtStart =
      direct && startMark === undefined
        ? await this.sessions[0]!.client.query<{ held: boolean }>(emptySql(this.target.schema, stream), [this.owner]).then(
            (r) => !r.rows[0]!.held,
            (err: unknown) => {
              throw this.failed(stream, err, `reading ${qualified(this.target.schema, stream)}`);
            },
          )
        : false;
    this.loads.set(stream, {
      stream,
      columns,
      enc: new BinaryEncoder(
        stream,
        columns,
        columns.map((c) => spec.columns.find((sc) => sc.name === c)!.type),
      ),
      jsonRows: columns.length === spec.columns.length,
      copyText: copySql(stream, columns, 'binary'),
      directText: direct ? directCopySql(this.target.schema, stream, columns, 'binary') : undefined,
      keyColumns: spec.key.every((k, i) => columns[i] === k) ? spec.key.length : 0,
      startMark,
      emptyAtStart,
      mergeText: mergeSql(this.target.schema, spec, columns),
      insertText: insertSql(this.target.schema, spec, columns),
      fresh: true,
      stagingText: createStagingSql(this.target.schema, spec),
      sent: 0,
      merged: 0,
      transactions: 0,
      direct: 0,
      staged: 0,
    });
  }

  /** The stream's own bookmark (events: `time`), as the runner moved it so far. */
  private bookmark(stream: StreamName): string | undefined {
    return this.state.value(stream, STREAMS[stream].defaultReplicationKey);
  }

  /**
   * A window opening now (its first row) copies straight into the table when its keys are
   * new: the stream's bookmark, which is where this window starts, moved past the one this
   * stream run started from (the lookback re-read and the day the old bookmark points into do
   * not), or there was no bookmark and no row of the owner; and no direct COPY of this stream
   * met a known key at or after this window's start in this load.
   */
  private modeFor(load: StreamLoad): WindowMode {
    const bm = this.bookmark(load.stream);
    const mark = bm ?? '';
    if (!load.directText) return { direct: false, mark };
    const conflict = this.conflicts.get(load.stream);
    if (conflict !== undefined && mark <= conflict) return { direct: false, mark };
    const direct = load.startMark === undefined ? load.emptyAtStart : bm !== undefined && bm > load.startMark;
    return { direct, mark };
  }

  private throwIfFailed(): void {
    const f = this.asyncFailure;
    if (f) {
      this.asyncFailure = undefined;
      throw f.error;
    }
  }

  record(stream: StreamName, rec: Rec): void | Promise<void> {
    if (this.asyncFailure) this.throwIfFailed();
    if (this.pendingRows && this.state.changes !== this.changesAtLastRow)
      return this.commitThen(stream, () => this.record(stream, rec));
    const load = this.loads.get(stream)!;
    const at = this.chunk.len;
    load.enc.encode(rec, this.chunk);
    return this.added(load, at);
  }

  recordJson(stream: StreamName, json: Buffer, end: number): void | Promise<void> {
    if (this.asyncFailure) this.throwIfFailed();
    if (this.pendingRows && this.state.changes !== this.changesAtLastRow)
      return this.commitThen(stream, () => this.recordJson(stream, json, end));
    const load = this.loads.get(stream)!;
    const at = this.chunk.len;
    if (!(load.jsonRows && load.enc.encodeJson(json, end, this.chunk)))
      load.enc.encode(JSON.parse(json.toString('utf8', 0, end)) as Rec, this.chunk);
    return this.added(load, at);
  }

  /** A row was encoded into the chunk at `at`. */
  private added(load: StreamLoad, at: number): void | Promise<void> {
    if (!this.pendingRows) this.pendingMode = this.modeFor(load);
    this.rowStarts.add(at);
    load.sent++;
    this.pendingRows++;
    this.pendingStream = load.stream;
    this.changesAtLastRow = this.state.changes;
    if (this.chunk.len < CHUNK_BYTES) return;
    if (!(this.pendingMode.direct && load.keyColumns)) return this.flush(load);
    if (this.chunk.len >= SORT_BYTES) return this.flush(load);
    // A run being gathered: the window's transaction and COPY open at its first chunk all the
    // same, and a COPY the server failed meanwhile fails the window at once, as for a window
    // sent as it comes (not a run later).
    const s = this.session;
    if (!s.copy) return this.openCopy(load);
    if (s.copyFailure) throw this.failed(load.stream, s.copyFailure, `loading ${load.stream}`, s.window);
  }

  /** Opens the window's COPY on the current session, nothing sent yet. */
  private openCopy(load: StreamLoad): Promise<void> {
    const mode = this.pendingMode;
    return this.open(this.session, load, mode).catch((err: unknown) => {
      throw this.failed(load.stream, err, `loading ${load.stream}`, mode);
    });
  }

  /** The chunk's rows handed off (a direct COPY's in key order), the chunk emptied. */
  private take(load: StreamLoad, mode: WindowMode): Buffer {
    let out: Buffer;
    if (mode.direct && load.keyColumns && this.rowStarts.rows) {
      out = rowsInKeyOrder(this.chunk.buf, this.rowStarts, this.chunk.len, load.keyColumns, true);
      log.debug(`${load.stream}: ${this.rowStarts.rows} rows sent in key order (${out.length} bytes).`);
    } else out = this.chunk.take();
    this.clearChunk();
    return out;
  }

  /** The chunk emptied, its rows dropped. */
  private clearChunk(): void {
    this.chunk.len = 0;
    this.rowStarts.rows = 0;
  }

  /** Commits the rows before a state change, then writes the row that came after it. */
  private async commitThen(stream: StreamName, write: () => void | Promise<void>): Promise<void> {
    await this.commit(this.pendingStream ?? stream, false);
    await write();
  }

  private failed(stream: StreamName, err: unknown, doing: string, window?: WindowMode): DestinationError {
    if (window?.direct && (err as { code?: string } | undefined)?.code === '23505') return this.conflicted(stream, err, window);
    const e = destinationError(err, this.target, doing);
    if (e.retry) this.broken = e;
    this.failures.set(stream, e);
    return e;
  }

  /**
   * A direct COPY met a key the table holds: the window is rolled back (by the caller) and the
   * stream fails with a retryable error, so the load reads it again from the committed state;
   * this window and the ones before it then take the staging table and the merge. The
   * connections stay usable (the error is the window's, not the session's).
   */
  private conflicted(stream: StreamName, err: unknown, window: WindowMode): DestinationError {
    const prev = this.conflicts.get(stream);
    if (prev === undefined || window.mark > prev) this.conflicts.set(stream, window.mark);
    const detail = ((err as { detail?: string }).detail ?? '').replace(/\s+/g, ' ').trim();
    const e = new DestinationError(
      `${stream}: a window copied straight into ${qualified(this.target.schema, stream)} met a key the table already holds${detail ? ` (${detail})` : ''}, e.g. an event whose time Scarf changed; the window was rolled back and is read again through the staging table and the merge by key.`,
      'transient_error',
      true,
      '23505',
    );
    this.failures.set(stream, e);
    return e;
  }

  /** Opens the window's transaction and its COPY, once the session's previous commit is done. */
  private async open(s: Session, load: StreamLoad, mode: WindowMode): Promise<void> {
    await s.busy;
    await this.begin(s, load, mode);
  }

  /** The transaction and COPY on a session known to be free (inside its own commit). */
  private async begin(s: Session, load: StreamLoad, mode: WindowMode): Promise<void> {
    if (this.broken) throw this.broken;
    s.window = mode;
    if (!mode.direct && !s.staged.has(load.stream)) {
      await s.client.query(load.stagingText);
      s.staged.add(load.stream);
    }
    if (!s.txOpen) {
      await s.client.query('BEGIN');
      s.txOpen = true;
    }
    const copy = s.client.query(copyStreams.from(mode.direct ? load.directText! : load.copyText));
    copy.on('error', (err) => {
      s.copyFailure ??= err;
    });
    copy.write(BINARY_HEADER);
    s.copy = copy;
  }

  private flush(load: StreamLoad): void | Promise<void> {
    const s = this.session;
    if (!s.copy) return this.openCopy(load).then(() => this.flush(load));
    if (s.copyFailure) throw this.failed(load.stream, s.copyFailure, `loading ${load.stream}`, s.window);
    const buf = this.take(load, this.pendingMode);
    this.bytes += buf.length;
    if (s.copy.write(buf)) return;
    const copy = s.copy;
    return new Promise<void>((resolve, reject) => {
      const done = (err?: unknown) => {
        copy.off('drain', onDrain);
        copy.off('error', onError);
        if (err) reject(this.failed(load.stream, err, `loading ${load.stream}`, s.window));
        else resolve();
      };
      const onDrain = () => done();
      const onError = (err: unknown) => done(err ?? new Error('COPY failed'));
      copy.on('drain', onDrain);
      copy.on('error', onError);
    });
  }

  /** Sends the rows still in the chunk and ends the COPY; resolves with the rows the server took. */
  private async endCopy(s: Session, load: StreamLoad, tail: Buffer, mode: WindowMode): Promise<number> {
    // A COPY the server already failed has let go of its connection (pg-copy-streams): writing
    // to it would throw a TypeError instead of the server's error (a unique_violation of a
    // direct COPY must reach the writer as that, to be read again through the merge).
    if (s.copyFailure) throw s.copyFailure;
    if (tail.length) {
      // Inside the session's own commit: waiting for it to be free would wait for itself.
      if (!s.copy) await this.begin(s, load, mode);
      this.bytes += tail.length;
      s.copy!.write(tail);
    }
    const copy = s.copy;
    if (!copy) return 0;
    s.copy = undefined;
    if (s.copyFailure) throw s.copyFailure;
    await new Promise<void>((resolve, reject) => {
      copy.once('finish', resolve);
      // The server's error first: ending a COPY it failed just before fails on its own.
      copy.once('error', (err) => reject(s.copyFailure ?? err));
      copy.end(BINARY_TRAILER);
    });
    return copy.rowCount;
  }

  /**
   * One transaction's end: the pending rows merged by key, the changed state rows written,
   * COMMIT, on the current session, after the previous window's commit; the next window goes
   * to the other session meanwhile. `wait`: return only once committed (and throw its
   * failure); otherwise a failure is thrown at the stream's next record, checkpoint or end. On
   * any failure the transaction is rolled back (by the server, if the connection went), the
   * state rows are marked unwritten again, and the stream fails.
   */
  private commit(stream: StreamName, wait: boolean): Promise<void> {
    const s = this.session;
    const load = this.loads.get(this.pendingStream ?? stream)!;
    const rows = this.pendingRows;
    const { statements, restore } = this.state.takeWrites(this.target.schema, this.owner, stream);
    if (!rows && !statements.length && !s.txOpen) return wait ? this.lastCommit : Promise.resolve();
    const mode = this.pendingMode;
    const tail = this.take(load, mode);
    this.pendingRows = 0;
    this.pendingStream = undefined;
    const previous = this.lastCommit;
    const run = (async () => {
      try {
        await s.busy;
        if (this.broken) throw this.broken;
        const t0 = performance.now();
        const copied = rows ? await this.endCopy(s, load, tail, mode) : 0;
        const t1 = performance.now();
        // Window order: the one before is committed first (its failure fails this one too).
        await previous;
        const t2 = performance.now();
        if (rows && mode.direct) {
          load.merged += copied;
          load.direct++;
        } else if (rows) {
          load.merged += await this.merge(s, load);
          load.staged++;
        } else if (!s.txOpen) {
          await s.client.query('BEGIN');
          s.txOpen = true;
        }
        for (const st of statements) await s.client.query(st.text, st.values);
        const t3 = performance.now();
        await s.client.query('COMMIT');
        s.txOpen = false;
        load.transactions++;
        log.debug(
          `${stream}: committed ${rows} rows (${rows ? (mode.direct ? 'straight into the table' : 'through the merge') : 'state only'}): COPY end ${(t1 - t0).toFixed(0)} ms, wait for the previous window ${(t2 - t1).toFixed(0)} ms, merge ${(t3 - t2).toFixed(0)} ms, COMMIT ${(performance.now() - t3).toFixed(0)} ms.`,
        );
      } catch (err) {
        restore();
        await this.rollback(s);
        throw this.failed(stream, err, `committing a window of ${stream}`, mode);
      }
    })();
    this.lastCommit = run;
    s.busy = run.then(
      () => undefined,
      (err: unknown) => {
        this.asyncFailure ??= { stream, error: err as DestinationError };
      },
    );
    if (this.sessions.length > 1) this.cur = (this.cur + 1) % this.sessions.length;
    if (wait)
      return run.finally(() => {
        if (this.asyncFailure?.stream === stream) this.asyncFailure = undefined;
      });
    return Promise.resolve();
  }

  /**
   * The staging rows into the table: a plain INSERT while windows bring only new keys, the
   * merge by key once one does not (and from then on for this stream: a lookback re-read is
   * followed by more of them only at the next load). Returns the rows inserted or changed.
   */
  private async merge(s: Session, load: StreamLoad): Promise<number> {
    if (load.fresh) {
      await s.client.query('SAVEPOINT tap_scarf_insert');
      try {
        const res = await s.client.query(load.insertText);
        await s.client.query('RELEASE SAVEPOINT tap_scarf_insert');
        return res.rowCount ?? 0;
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
        await s.client.query('ROLLBACK TO SAVEPOINT tap_scarf_insert');
        load.fresh = false;
      }
    }
    return (await s.client.query(load.mergeText)).rowCount ?? 0;
  }

  /** Drops a session's open transaction (the window did not finish). */
  private async rollback(s: Session): Promise<void> {
    const copy = s.copy;
    s.copy = undefined;
    if (copy) {
      await new Promise<void>((resolve) => {
        copy.once('error', () => resolve());
        copy.once('finish', () => resolve());
        copy.once('close', () => resolve());
        copy.destroy(new Error('window not complete: rolled back'));
      });
    }
    if (s.txOpen && !this.broken) await s.client.query('ROLLBACK').catch(() => undefined);
    s.txOpen = false;
    s.copyFailure = undefined;
    s.window = undefined;
  }

  /** Drops the pending rows of the current session: the window they belong to did not finish. */
  private async dropPending(): Promise<void> {
    this.clearChunk();
    this.pendingRows = 0;
    this.pendingStream = undefined;
    const s = this.session;
    await s.busy;
    await this.rollback(s);
  }

  async checkpoint(stream: StreamName, _state: StateStore, final: boolean): Promise<void> {
    if (this.asyncFailure) this.throwIfFailed();
    // The stream's end is decided in endStream, which knows whether it failed.
    if (final || this.failures.has(stream)) return;
    if (this.pendingRows && this.state.changes === this.changesAtLastRow) return;
    await this.commit(stream, false);
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
    if (this.failures.has(stream) || !covered) await this.dropPending();
    else {
      try {
        await this.commit(stream, true);
      } catch (err) {
        // runSync does not expect endStream to fail: the load reads the failure from `failures`.
        log.error(`${stream}: ${(err as Error).message}`);
      }
    }
    await this.settled();
    this.asyncFailure = undefined;
    if (load && !this.failures.has(stream))
      log.info(
        `${stream}: ${load.sent} rows loaded into ${qualified(this.target.schema, stream)} in ${load.transactions} transaction(s), ${load.merged} inserted or changed; ${load.direct} window(s) copied straight into the table, ${load.staged} through the staging table and the merge.`,
      );
  }

  /** New connections for every session (after a lost one: the staging tables went with the old sessions). */
  async reset(): Promise<void> {
    await this.settled();
    for (const s of this.sessions) await s.client.end().catch(() => undefined);
    const clients: pg.Client[] = [];
    // The first holds the owner's lock: it is opened after the old one is gone.
    for (let i = 0; i < this.sessions.length; i++) clients.push(await this.connectSession(i));
    this.sessions = clients.map((c) => new Session(c));
    this.cur = 0;
    this.broken = undefined;
    this.asyncFailure = undefined;
    this.lastCommit = Promise.resolve();
    this.clearChunk();
    this.pendingRows = 0;
    this.pendingStream = undefined;
  }

  /** Every commit handed to a session has ended (a stop signal waits for this before exiting). */
  async settled(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.busy));
  }

  /** Ends the load: pending rows (of no finished window) rolled back, the connections closed. */
  async close(): Promise<void> {
    await this.dropPending().catch(() => undefined);
    for (const s of this.sessions) await s.client.end().catch(() => undefined);
  }

  /** The connection that holds the owner's lock, for the steps after the sync (the state, verify). */
  connection(): pg.Client {
    return this.sessions[0]!.client;
  }
}
