// stdout for protocol messages only. Lines are batched (one write per ~64 KB instead of
// one per record) and a full pipe makes write() return a promise, so a slow target slows
// the tap instead of growing its memory.
//
// Lines are UTF-8-encoded straight into a byte buffer as they come. Measured (bench/stages):
// collecting strings and joining them at flush cost ~10 µs per record line, more than the
// JSON serialisation itself; encoding each line into the buffer costs well under 1 µs.
export class LineWriter {
  private buf: Buffer;
  private used = 0;
  /** Buffers the stream has finished writing, ready to be filled again. */
  private readonly spare: Buffer[] = [];
  private readonly out: NodeJS.WritableStream;
  private readonly limit: number;

  constructor(out: NodeJS.WritableStream = process.stdout, limit = 64 * 1024) {
    this.out = out;
    this.limit = limit;
    this.buf = Buffer.allocUnsafe(limit + 1024);
  }

  write(line: string): void | Promise<void> {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit, plus the line break.
    const most = line.length * 3 + 1;
    if (this.used + most > this.buf.length) {
      const flushed = this.flush();
      if (most > this.buf.length) {
        // A line larger than the buffer (a big SCHEMA or CATALOG) goes out on its own.
        const ok = this.out.write(line + '\n');
        return ok ? flushed : this.drained();
      }
      this.put(line);
      return flushed;
    }
    this.put(line);
    if (this.used >= this.limit) return this.flush();
  }

  private put(line: string): void {
    const buf = this.buf;
    const n = buf.write(line, this.used);
    buf[this.used + n] = 10;
    this.used += n + 1;
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
