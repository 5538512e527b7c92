// Singer METRIC lines the way the Meltano SDK emits them, so dashboards built on SDK taps work
// here too: `record_count` (a counter: each line counts the records since the stream's
// previous one, every 60 s during a long stream and once at its end), `sync_duration` (a
// timer per stream, with its status) and `http_request_duration` (src/scarf/client.ts).
import { RUNTIME_DEFAULTS, runtimeOptions } from './config/runtime-options.js';
import { log } from './log.js';

/** How often a running stream reports its record count (TAP_SCARF_METRIC_INTERVAL_MS, a testing knob, replaces it). */
export const METRIC_INTERVAL_MS = RUNTIME_DEFAULTS.metricIntervalMs;

export type MetricContext = Record<string, unknown>;

export class RecordCounter<R> {
  private pending = 0;
  private last: number;

  /** `contextOf`: the partition a record belongs to, for a partitioned stream (the `context` tag). */
  constructor(
    private readonly stream: string,
    private readonly contextOf?: (rec: R) => MetricContext,
    private readonly intervalMs: number = runtimeOptions().metricIntervalMs,
    private readonly now: () => number = Date.now,
  ) {
    this.last = now();
  }

  /**
   * One record written. A line that falls due here is tagged with this record's partition, as
   * the SDK tags it with the partition being read (it counts the records since the last line,
   * which may span partitions read concurrently).
   */
  increment(rec: R): void {
    if (this.count()) this.emitFor(rec);
  }

  /**
   * One record written, its line left to the caller: true when a line falls due, to be sent
   * with emitFor(). For records that are not objects yet (JSON text), which are then parsed
   * only once a minute, not per record.
   */
  count(): boolean {
    this.pending++;
    return this.now() - this.last >= this.intervalMs;
  }

  emitFor(rec: R): void {
    this.emit(this.contextOf?.(rec));
  }

  /** The stream's last line: the records since the previous one (all of them if there was none). */
  done(): void {
    this.emit(undefined);
  }

  private emit(context: MetricContext | undefined): void {
    const tags: Record<string, unknown> = { stream: this.stream };
    if (context) tags.context = context;
    log.metric({ type: 'counter', metric: 'record_count', value: this.pending, tags });
    this.pending = 0;
    this.last = this.now();
  }
}

export function syncDuration(stream: string, seconds: number, failed: boolean): void {
  log.metric({
    type: 'timer',
    metric: 'sync_duration',
    value: Math.round(seconds * 1000) / 1000,
    tags: { stream, status: failed ? 'failed' : 'succeeded' },
  });
}
