// SIGTERM/SIGINT: JS runs one thing at a time, so the handler never interrupts a line
// half-written. Whatever is buffered goes out, then the last safe state (the store only
// ever holds bookmarks of windows whose records are already in that buffer), then exit ≠ 0.
import { log } from '../log.js';
import type { SyncContext } from '../streams/types.js';

export function installStopHandlers(ctx: SyncContext, flush: () => void | Promise<void>, finalState: () => string): () => void {
  const handler = (signal: NodeJS.Signals) => {
    ctx.aborted = true;
    void flush();
    process.stdout.write(finalState() + '\n');
    log.error(`Stopped by ${signal}: wrote the last safe state; the next run resumes from it.`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
