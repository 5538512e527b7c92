// SIGTERM/SIGINT/SIGHUP/SIGQUIT: JS runs one thing at a time, so the handler never interrupts a line
// half-written. Whatever is buffered goes out, then the last safe state (the store only
// ever holds bookmarks of windows whose records are already in that buffer), then exit ≠ 0.
//
// stdout to a pipe is asynchronous in Node: with a slow target, earlier lines may still sit
// in the stream's buffer when the signal comes, and exiting at once would cut them (and the
// STATE after them) mid-line. So the exit waits until the STATE line has been handed to the
// OS, and nothing else is written after it while the sync winds down.
import { log } from '../log.js';
import type { SyncContext } from '../streams/engine/types.js';

/** How long a stopped tap waits for a target that does not read its stdout. */
const DRAIN_GRACE_MS = 10_000;

/**
 * The signals that stop a sync cleanly, with the exit code of each (128 + its number, what a
 * shell reports for a process the signal killed). SIGHUP (the terminal or session went away)
 * and SIGQUIT (Ctrl-\) would otherwise kill the tap at once — SIGQUIT with a core dump —
 * cutting a line in half and losing the last safe state.
 */
const STOP_SIGNALS: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGQUIT: 131, SIGTERM: 143 };

export function installStopHandlers(ctx: SyncContext, flush: () => void | Promise<void>, finalState: () => string): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = STOP_SIGNALS[signal] ?? 143;
    if (stopping) process.exit(code); // a second signal: stop waiting for the pipe
    stopping = true;
    process.exitCode = code;
    ctx.aborted = true;
    // Logged first: with Airbyte the log is a stdout message, and nothing may follow the final state.
    log.error(`Stopped by ${signal}: writing the last safe state; the next run resumes from it.`);
    void flush();
    const out = process.stdout;
    const exit = () => process.exit(code);
    out.write(finalState() + '\n', exit);
    out.write = (() => true) as typeof out.write;
    setTimeout(exit, DRAIN_GRACE_MS);
  };
  for (const signal of Object.keys(STOP_SIGNALS)) process.on(signal, handler);
  return () => {
    for (const signal of Object.keys(STOP_SIGNALS)) process.off(signal, handler);
  };
}
