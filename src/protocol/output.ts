import fs from 'node:fs';

import { viewOf, type Words, wordsOf } from '../util/words.js';

// stdout for protocol messages only. Lines are batched (one write per ~64 KB instead of
// one per record) and a full pipe makes write() return a promise, so a slow target slows
// the tap instead of growing its memory.
//
// Lines are UTF-8-encoded straight into a byte buffer as they come. Measured (bench/stages):
// collecting strings and joining them at flush cost ~10 µs per record line, more than the
// JSON serialisation itself; encoding each line into the buffer costs well under 1 µs.
const NEWLINE = Buffer.from('\n');

export class LineWriter {
  private buf: Buffer;
  /** this.buf as a DataView, for word stores. */
  private view: DataView;
  private used = 0;
  /** The last envelope parts seen, as words (a stream's prefix and suffix are the same Buffers every record). */
  private prefix: Buffer | undefined;
  private prefixWords: Words = wordsOf(Buffer.alloc(0));
  private suffix: Buffer | undefined;
  private suffixWords: Words = wordsOf(Buffer.alloc(0));
  /** Buffers the stream has finished writing, ready to be filled again. */
  private readonly spare: Buffer[] = [];
  private readonly out: NodeJS.WritableStream;
  private readonly limit: number;
  /** Bytes written so far (UTF-8, line breaks included): what the checkpoint throttle weighs STATE against. */
  bytes = 0;

  constructor(out: NodeJS.WritableStream = process.stdout, limit = 64 * 1024) {
    this.out = out;
    this.limit = limit;
    this.buf = Buffer.allocUnsafe(limit + 1024);
    this.view = viewOf(this.buf);
  }

  write(line: string): void | Promise<void> {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit, plus the line break.
    const most = line.length * 3 + 1;
    if (this.used + most > this.buf.length) {
      const flushed = this.flush();
      if (most > this.buf.length) {
        // A line larger than the buffer (a big SCHEMA or CATALOG) goes out on its own.
        this.bytes += Buffer.byteLength(line) + 1;
        const ok = this.out.write(line + '\n');
        return ok ? flushed : this.drained();
      }
      this.put(line);
      return flushed;
    }
    this.put(line);
    if (this.used >= this.limit) return this.flush();
  }

  /**
   * One line made of `prefix`, body[0, bodyEnd) and `suffix` (ASCII when a string): a record
   * given as JSON text inside its protocol envelope. The bytes are copied before it returns.
   */
  writeRecord(prefix: Buffer, body: Buffer, bodyEnd: number, suffix: Buffer | string): void | Promise<void> {
    const most = prefix.length + bodyEnd + suffix.length + 1;
    if (this.used + most > this.buf.length) {
      const flushed = this.flush();
      if (most > this.buf.length) {
        const tail = typeof suffix === 'string' ? Buffer.from(suffix + '\n', 'latin1') : Buffer.concat([suffix, NEWLINE]);
        const line = Buffer.concat([prefix, body.subarray(0, bodyEnd), tail]);
        this.bytes += line.length;
        const ok = this.out.write(line);
        return ok ? flushed : this.drained();
      }
      this.putRecord(prefix, body, bodyEnd, suffix);
      return flushed;
    }
    this.putRecord(prefix, body, bodyEnd, suffix);
    if (this.used >= this.limit) return this.flush();
  }

  private putRecord(prefix: Buffer, body: Buffer, bodyEnd: number, suffix: Buffer | string): void {
    const buf = this.buf;
    const view = this.view;
    let o = this.used;
    if (prefix !== this.prefix) {
      this.prefix = prefix;
      this.prefixWords = wordsOf(prefix);
    }
    // The prefix and the suffix are written alike, a word at a time, inline on purpose: this
    // runs once per RECORD line (docs/DESIGN.md "Repeated shapes").
    const pw = this.prefixWords.words;
    for (let k = 0; k < pw.length; k++) {
      view.setInt32(o, pw[k]!, true);
      o += 4;
    }
    const pt = this.prefixWords.tail;
    for (let k = 0; k < pt.length; k++) buf[o++] = pt[k]!;
    o += body.copy(buf, o, 0, bodyEnd);
    if (typeof suffix === 'string') for (let i = 0; i < suffix.length; i++) buf[o++] = suffix.charCodeAt(i);
    else {
      if (suffix !== this.suffix) {
        this.suffix = suffix;
        this.suffixWords = wordsOf(suffix);
      }
      const sw = this.suffixWords.words;
      for (let k = 0; k < sw.length; k++) {
        view.setInt32(o, sw[k]!, true);
        o += 4;
      }
      const st = this.suffixWords.tail;
      for (let k = 0; k < st.length; k++) buf[o++] = st[k]!;
    }
    buf[o] = 10;
    this.bytes += o + 1 - this.used;
    this.used = o + 1;
  }

  private put(line: string): void {
    const buf = this.buf;
    const n = buf.write(line, this.used);
    buf[this.used + n] = 10;
    this.used += n + 1;
    this.bytes += n + 1;
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => this.out.once('drain', () => resolve()));
  }

  /** Writes what is buffered; resolves when the stream can take more. */
  flush(): void | Promise<void> {
    if (this.used === 0) return;
    // The stream keeps the bytes it was given until they are written: hand it this buffer,
    // fill another, and take it back once written (a fresh 65 KB buffer per flush would only
    // be more garbage, freed at the collector's next pass).
    const full = this.buf;
    const chunk = full.subarray(0, this.used);
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(full.length);
    this.view = viewOf(this.buf);
    this.used = 0;
    const ok = this.out.write(chunk, () => {
      if (this.spare.length < 2) this.spare.push(full);
    });
    if (!ok) return this.drained();
  }

  /** Flushes and waits until the data has been handed to the OS. */
  async end(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }
}

/** The last stderr line of a tap whose stdout failed, by the error's code. */
export function brokenOutputMessage(err: NodeJS.ErrnoException): string {
  const lost = 'nothing after the last STATE was committed';
  if (err.code === 'EPIPE') return `output closed by the reader (EPIPE): the target stopped; ${lost}`;
  if (err.code === 'ENOSPC') return `output could not be written (ENOSPC): the disk is full; ${lost}`;
  return `output could not be written (${err.code ?? 'error'}): ${err.message}; ${lost}`;
}

/** Exit code of a tap whose stdout broke: 141 (128 + SIGPIPE, what a shell shows for `| head`) for a closed pipe, else 1. */
export function brokenOutputCode(err: NodeJS.ErrnoException): number {
  return err.code === 'EPIPE' ? 141 : 1;
}

let guarded = false;

/**
 * A reader that goes away (`| head`, a target that crashed) or a full disk makes every later
 * write to stdout fail, and Node reports it as an 'error' event that, unhandled, ends the
 * process with a stack trace. Nothing written from then on can reach anyone, so the tap stops
 * at once: no further requests (each one costs the user a Scarf Run), one line on stderr
 * saying why — written directly, since under Airbyte the log itself goes to the broken
 * stdout — and a non-zero exit. The target holds what came before the last STATE it got;
 * the next run resumes from that STATE.
 */
export function exitOnBrokenOutput(out: NodeJS.WriteStream = process.stdout): void {
  if (guarded) return;
  guarded = true;
  out.on('error', (err: NodeJS.ErrnoException) => {
    try {
      fs.writeSync(2, `ERROR ${brokenOutputMessage(err)}\n`);
    } catch {
      // stderr is gone too: the exit code is all that is left
    }
    process.exit(brokenOutputCode(err));
  });
  // A closed stderr (a hung-up terminal) must not crash the tap either; its lines are lost.
  process.stderr.on('error', () => undefined);
}

/**
 * Whether stdout was closed when the tap started (`>&-`): Node then opens /dev/null in its
 * place, for reading and writing, and every record would vanish with exit 0. A shell's
 * `> /dev/null` opens it write-only, so discarding the output on purpose still works. Linux
 * only (it reads /proc); elsewhere undefined.
 */
export function stdoutWasClosed(fd = 1): boolean | undefined {
  try {
    if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== '/dev/null') return false;
    const flags = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    // O_ACCMODE 3; O_RDWR 2.
    return flags ? (parseInt(flags[1]!, 8) & 3) === 2 : undefined;
  } catch {
    return undefined;
  }
}
