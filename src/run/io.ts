// Where a run's output goes. The bins give the process's own streams; a test gives streams
// that keep the text in memory (test/helpers/in-process.ts), so it runs the same code as the
// CLI, from argv to exit code, without starting a process per case.
import { type LogSink } from '../log.js';

export interface Io {
  /** Protocol messages (and the text of --help, --about, --plan, --version). */
  stdout: NodeJS.WritableStream;
  /** Singer logs, and what Airbyte's plan logs. */
  stderr: NodeJS.WritableStream;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr };
}

/** Whether `io` is the process's own streams (the guards that read fd 1 or exit the process apply only then). */
export function isProcessIo(io: Io): boolean {
  return io.stdout === process.stdout;
}

/** The Singer log sink: "LEVEL message" lines on stderr (log.ts's default, on the given stream). */
export function stderrLogSink(stderr: NodeJS.WritableStream): LogSink {
  return (level, message) => void stderr.write(`${level} ${message}\n`);
}
