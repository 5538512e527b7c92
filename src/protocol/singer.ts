// Singer messages: SCHEMA before a stream's first RECORD, STATE only after the records it
// covers. Logs go to stderr (log.ts default sink).
import type { StreamSelection } from '../catalog.js';
import type { TapError } from '../errors.js';
import { emittedSchema, type StreamName } from '../schemas.js';
import type { StateStore } from '../state.js';
import type { Rec, StreamStats } from '../streams/engine/types.js';
import { STREAMS } from '../streams/registry.js';
import type { ProtocolWriter } from '../sync.js';
import { LineWriter } from './output.js';

export function schemaMessage(selection: StreamSelection): Record<string, unknown> {
  const full = emittedSchema(selection.stream);
  const properties: Record<string, unknown> = {};
  for (const f of selection.fields) properties[f] = full.properties[f];
  const required = (full.required ?? []).filter((f) => selection.fields.includes(f));
  return {
    type: 'SCHEMA',
    stream: selection.stream,
    schema: { ...full, properties, required },
    key_properties: STREAMS[selection.stream].keyProperties,
    bookmark_properties: [selection.replicationKey],
  };
}

export class SingerWriter implements ProtocolWriter {
  readonly out: LineWriter;
  private readonly prefixes = new Map<StreamName, string>();
  private suffix = '';
  /** The same as bytes, for records given as JSON text. */
  private readonly prefixBytes = new Map<StreamName, Buffer>();
  private suffixBytes = Buffer.alloc(0);
  private lastState = '';
  private readonly emittedFor = new Set<StreamName>();

  constructor(out = new LineWriter()) {
    this.out = out;
  }

  outputBytes(): number {
    return this.out.bytes;
  }

  startStream(selection: StreamSelection): void | Promise<void> {
    // One time_extracted per stream: when its extraction began (RFC3339 UTC).
    this.suffix = `,"time_extracted":"${new Date().toISOString()}"}`;
    this.prefixes.set(selection.stream, `{"type":"RECORD","stream":${JSON.stringify(selection.stream)},"record":`);
    this.prefixBytes.set(selection.stream, Buffer.from(this.prefixes.get(selection.stream)!, 'utf8'));
    this.suffixBytes = Buffer.from(this.suffix, 'utf8');
    return this.out.write(JSON.stringify(schemaMessage(selection)));
  }

  record(stream: StreamName, rec: Rec): void | Promise<void> {
    return this.out.write(this.prefixes.get(stream)! + JSON.stringify(rec) + this.suffix);
  }

  recordJson(stream: StreamName, json: Buffer, end: number): void | Promise<void> {
    return this.out.writeRecord(this.prefixBytes.get(stream)!, json, end, this.suffixBytes);
  }

  async checkpoint(stream: StreamName, state: StateStore, final: boolean): Promise<void> {
    const line = JSON.stringify({ type: 'STATE', value: state.snapshot() });
    if (final && line === this.lastState && this.emittedFor.has(stream)) return;
    this.lastState = line;
    this.emittedFor.add(stream);
    await this.out.write(line);
    // A STATE is only useful to whoever reads stdout once it is out of our buffer.
    await this.out.flush();
  }

  endStream(_selection: StreamSelection, _stats: StreamStats, _error?: TapError): void {}

  /** The last state, written on the way out of an interrupted sync. */
  stateLine(state: StateStore): string {
    return JSON.stringify({ type: 'STATE', value: state.snapshot() });
  }
}
