// Singer with batch_config (the Meltano SDK's BATCH messages): records go into local JSON
// Lines files (one record object per line, gzip by default) and stdout carries a BATCH message
// naming each finished file instead of its RECORD messages. SCHEMA and STATE are the Singer
// writer's own lines, and the order rules are Singer's: a file is announced (BATCH) before any
// STATE that covers its records, because every checkpoint first closes and announces the file
// being filled. Files are also closed at batch_size records. docs/meltano.md "Batch
// messages" has the message shapes.
//
// The files are written synchronously, a compressed chunk at a time (each chunk a gzip member:
// a multi-member gzip file is one valid gzip stream to every reader, Python's included), so a
// stop signal can close and announce the open file before the last safe STATE goes out.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

import type { StreamSelection } from '../catalog.js';
import type { BatchSettings } from '../config/sdk-settings.js';
import type { TapError } from '../errors.js';
import { ConfigError } from '../errors.js';
import type { StreamName } from '../schemas.js';
import type { StateStore } from '../state.js';
import type { Rec, StreamStats } from '../streams/engine/types.js';
import type { ProtocolWriter } from '../sync.js';
import { SingerWriter } from './singer.js';

/** Uncompressed bytes gathered before a chunk is compressed and written. */
const CHUNK = 256 * 1024;
/**
 * gzip level 1: the files are read once, by a target on the same machine, and level 6 costs
 * several times the CPU for ~15 % smaller files (zlib's figures; the bench's batch scenario).
 */
const GZIP_LEVEL = 1;
const NEWLINE = 10;

interface OpenFile {
  stream: StreamName;
  path: string;
  fd: number;
  records: number;
}

export class SingerBatchWriter implements ProtocolWriter {
  readonly inner: SingerWriter;
  private readonly cfg: BatchSettings;
  private file: OpenFile | undefined;
  private chunk = Buffer.allocUnsafe(CHUNK + 64 * 1024);
  private used = 0;
  /** Uncompressed record bytes written to files: the checkpoint throttle weighs a STATE against them. */
  private fileBytes = 0;
  private readonly sync = randomUUID();
  private seq = 0;
  /** Files written and announced, for the log. */
  files = 0;

  constructor(cfg: BatchSettings, inner = new SingerWriter()) {
    this.cfg = cfg;
    this.inner = inner;
    try {
      fs.mkdirSync(cfg.root, { recursive: true });
    } catch (err) {
      throw new ConfigError(
        `Setting 'batch_config': cannot create storage.root folder ${cfg.root}: ${(err as Error).message}. Use a folder the tap can write.`,
      );
    }
  }

  get out() {
    return this.inner.out;
  }

  outputBytes(): number {
    return this.inner.outputBytes() + this.fileBytes;
  }

  async startStream(selection: StreamSelection): Promise<void> {
    // A file holds one stream's records (each stream ends with a checkpoint, which closes it).
    await this.announce();
    await this.inner.startStream(selection);
  }

  record(stream: StreamName, rec: Rec): void | Promise<void> {
    const text = JSON.stringify(rec);
    const most = text.length * 3 + 1;
    if (this.used + most > this.chunk.length) this.writeChunk(most);
    const n = this.chunk.write(text, this.used);
    this.added(stream, n);
    return this.full();
  }

  recordJson(stream: StreamName, json: Buffer, end: number): void | Promise<void> {
    if (this.used + end + 1 > this.chunk.length) this.writeChunk(end + 1);
    json.copy(this.chunk, this.used, 0, end);
    this.added(stream, end);
    return this.full();
  }

  async checkpoint(stream: StreamName, state: StateStore, final: boolean): Promise<void> {
    // The STATE covers records that may still be in the open file: announce it first.
    await this.announce();
    await this.inner.checkpoint(stream, state, final);
  }

  endStream(selection: StreamSelection, stats: StreamStats, error?: TapError): void | Promise<void> {
    return this.inner.endStream(selection, stats, error);
  }

  /**
   * For a stop signal: closes and announces the open file at once (the BATCH line goes into
   * the output buffer), so the last safe state written after it covers only announced records.
   */
  announceNow(): void {
    const line = this.close();
    if (line !== undefined) void this.inner.out.write(line);
  }

  /** The last state, written on the way out of an interrupted sync (after announceNow). */
  stateLine(state: StateStore): string {
    return this.inner.stateLine(state);
  }

  private added(stream: StreamName, n: number): void {
    this.chunk[this.used + n] = NEWLINE;
    this.used += n + 1;
    this.fileBytes += n + 1;
    const file = (this.file ??= this.open(stream));
    file.records++;
  }

  private full(): void | Promise<void> {
    if (this.file!.records >= this.cfg.batchSize) return this.announce();
    if (this.used >= CHUNK) this.writeChunk(0);
  }

  private open(stream: StreamName): OpenFile {
    const name = `${this.cfg.prefix}tap-scarf--${stream}-${this.sync}-${++this.seq}.json${this.cfg.gzip ? '.gz' : ''}`;
    const file = path.join(this.cfg.root, name);
    let fd: number;
    try {
      fd = fs.openSync(file, 'wx');
    } catch (err) {
      throw new ConfigError(
        `Setting 'batch_config': cannot create batch file ${file}: ${(err as Error).message}. Check storage.root and the free space there.`,
      );
    }
    return { stream, path: file, fd, records: 0 };
  }

  /** Compresses and writes the gathered lines; makes room for `need` more bytes. */
  private writeChunk(need: number): void {
    if (this.used > 0) {
      const data = this.chunk.subarray(0, this.used);
      const bytes = this.cfg.gzip ? zlib.gzipSync(data, { level: GZIP_LEVEL }) : data;
      fs.writeSync(this.file!.fd, bytes);
      this.used = 0;
    }
    if (need > this.chunk.length) this.chunk = Buffer.allocUnsafe(need + CHUNK);
  }

  /** Closes the open file; returns its BATCH line (undefined when no file is open). */
  private close(): string | undefined {
    const file = this.file;
    if (!file) return undefined;
    this.writeChunk(0);
    fs.closeSync(file.fd);
    this.file = undefined;
    this.files++;
    return JSON.stringify({
      type: 'BATCH',
      stream: file.stream,
      encoding: { format: 'jsonl', compression: this.cfg.gzip ? 'gzip' : null },
      manifest: [pathToFileURL(file.path).href],
    });
  }

  private async announce(): Promise<void> {
    const line = this.close();
    if (line === undefined) return;
    await this.inner.out.write(line);
  }
}
