// One view of a run's output for both protocols (the Airbyte CDK's EntrypointOutput plays this
// part for Python sources): records by stream, states, the last state, logs, errors, the exit code.
// A test asks the same questions of a Singer and an Airbyte run and reads the answers in the
// same shapes; the protocol differences (RECORD.record vs RECORD.record.data, STATE.value vs
// per-stream STATE messages, stderr lines vs LOG messages) are settled here once.
import type { StreamName } from '../../src/schemas.js';
import { STREAMS } from '../../src/streams/registry.js';
import type { TapRun } from './tap.js';

export type Msg = Record<string, any>;
export type Protocol = 'singer' | 'airbyte';

export interface LogLine {
  level: string;
  message: string;
}

/** A record's primary key as one string, from the stream's declaration (owner first). */
export function keyOf(stream: StreamName, record: Msg): string {
  return JSON.stringify(STREAMS[stream].keyProperties.map((k) => record[k] ?? null));
}

/** Records by their declared primary key (a repeated key keeps the last). */
export function keyed(stream: StreamName, records: Msg[]): Map<string, Msg> {
  return new Map(records.map((r) => [keyOf(stream, r), r]));
}

const LOG_LINE = /^(DEBUG|INFO|WARNING|ERROR|CRITICAL|FATAL) (.*)$/s;

/** Singer logs go to stderr as "LEVEL message"; a line without a level continues the one before. */
function stderrLogs(stderr: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of stderr.split('\n')) {
    if (line === '') continue;
    const m = LOG_LINE.exec(line);
    if (m) out.push({ level: m[1]!, message: m[2]! });
    else if (out.length) out[out.length - 1]!.message += `\n${line}`;
    else out.push({ level: '', message: line });
  }
  return out;
}

export class TapOutput {
  constructor(
    readonly run: TapRun,
    readonly protocol: Protocol,
  ) {}

  /** The exit code (null when a signal ended the process). */
  get code(): number | null {
    return this.run.code;
  }

  get stdout(): string {
    return this.run.stdout;
  }

  get stderr(): string {
    return this.run.stderr;
  }

  /** Every stdout line that is JSON, parsed. */
  get messages(): Msg[] {
    return this.run.messages;
  }

  ofType(type: string): Msg[] {
    return this.run.messages.filter((m) => m.type === type);
  }

  private recordStream(m: Msg): string {
    return this.protocol === 'singer' ? m.stream : m.record.stream;
  }

  /** Record data (without the envelope) of one stream, or of all, in output order. */
  records(stream?: StreamName): Msg[] {
    return this.ofType('RECORD')
      .filter((m) => stream === undefined || this.recordStream(m) === stream)
      .map((m) => (this.protocol === 'singer' ? m.record : m.record.data));
  }

  /** Record data by stream, every stream that emitted one. */
  recordsByStream(): Map<StreamName, Msg[]> {
    const out = new Map<StreamName, Msg[]>();
    for (const m of this.ofType('RECORD')) {
      const stream = this.recordStream(m) as StreamName;
      const list = out.get(stream) ?? [];
      list.push(this.protocol === 'singer' ? m.record : m.record.data);
      out.set(stream, list);
    }
    return out;
  }

  /** One stream's records by their declared primary key. */
  keyed(stream: StreamName): Map<string, Msg> {
    return keyed(stream, this.records(stream));
  }

  /** Singer: every STATE's value. Airbyte: every AirbyteStateMessage (of one stream, if given). */
  states(stream?: StreamName): Msg[] {
    const states = this.ofType('STATE');
    if (this.protocol === 'singer') return states.map((m) => m.value);
    return states.map((m) => m.state).filter((s) => stream === undefined || s.stream.stream_descriptor.name === stream);
  }

  /** What the orchestrator stores and passes back with --state: Singer the last value, Airbyte the last STATE of each stream. */
  get storedState(): Msg | Msg[] | undefined {
    if (this.protocol === 'singer') return this.states().at(-1);
    const last = new Map<string, Msg>();
    for (const s of this.states()) last.set(s.stream.stream_descriptor.name, s);
    return last.size ? [...last.values()] : undefined;
  }

  /** The last state in the tap's own shape, {"bookmarks": {stream: bookmark}}, for either protocol. */
  get lastState(): { bookmarks: Record<string, Msg> } | undefined {
    if (this.protocol === 'singer') return this.states().at(-1) as { bookmarks: Record<string, Msg> } | undefined;
    const stored = this.storedState as Msg[] | undefined;
    if (!stored) return undefined;
    return { bookmarks: Object.fromEntries(stored.map((s) => [s.stream.stream_descriptor.name, s.stream.stream_state])) };
  }

  /** One stream's bookmark in the last state. */
  bookmark(stream: StreamName): Msg | undefined {
    return this.lastState?.bookmarks[stream];
  }

  /** Singer: the stderr log lines. Airbyte: the LOG messages. */
  get logs(): LogLine[] {
    if (this.protocol === 'singer') return stderrLogs(this.run.stderr);
    return this.ofType('LOG').map((m) => ({ level: m.log.level, message: m.log.message }));
  }

  /** TRACE messages (Airbyte), of one trace type if given. */
  traces(type?: string): Msg[] {
    return this.ofType('TRACE')
      .map((m) => m.trace)
      .filter((t) => type === undefined || t.type === type);
  }

  /** What failed, as the user is told: Singer ERROR log lines, Airbyte ERROR traces' messages. */
  get errors(): string[] {
    if (this.protocol === 'singer') return this.logs.filter((l) => l.level === 'ERROR').map((l) => l.message);
    return this.traces('ERROR').map((t) => t.error.message);
  }

  /** Airbyte: one stream's statuses in order (STARTED, RUNNING, COMPLETE / INCOMPLETE). */
  streamStatuses(stream: StreamName): string[] {
    return this.traces('STREAM_STATUS')
      .filter((t) => t.stream_status.stream_descriptor.name === stream)
      .map((t) => t.stream_status.status);
  }
}

export const singerOutput = (run: TapRun): TapOutput => new TapOutput(run, 'singer');
export const airbyteOutput = (run: TapRun): TapOutput => new TapOutput(run, 'airbyte');
