// stdout for protocol messages only. Lines are batched (one write per ~64 KB instead of
// one per record) and a full pipe makes write() return a promise, so a slow target slows
// the tap instead of growing its memory.
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly out: NodeJS.WritableStream;
  private readonly limit: number;

  constructor(out: NodeJS.WritableStream = process.stdout, limit = 64 * 1024) {
    this.out = out;
    this.limit = limit;
  }

  write(line: string): void | Promise<void> {
    this.parts.push(line);
    this.size += line.length + 1;
    if (this.size >= this.limit) return this.flush();
  }

  /** Writes what is buffered; resolves when the stream can take more. */
  flush(): void | Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join('\n') + '\n';
    this.parts = [];
    this.size = 0;
    if (!this.out.write(text)) return new Promise((resolve) => this.out.once('drain', () => resolve()));
  }

  /** Flushes and waits until the data has been handed to the OS. */
  async end(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }
}
