// The Airbyte protocol messages this connector writes, typed once from the protocol's schema
// (airbyte_protocol.yaml, the AirbyteMessage definitions), with only the fields it uses.
// Property order in these literals is the order on the wire: the writers build objects in
// that order and JSON.stringify keeps it.

export type AirbyteLogLevel = 'FATAL' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
export type AirbyteFailureType = 'system_error' | 'config_error' | 'transient_error';
export type AirbyteStreamStatus = 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';

export interface StreamDescriptor {
  name: string;
  namespace?: string;
}

export interface AirbyteLogMessage {
  type: 'LOG';
  log: { level: AirbyteLogLevel; message: string; stack_trace?: string };
}

export interface AirbyteErrorTraceMessage {
  message: string;
  failure_type: AirbyteFailureType;
  internal_message?: string;
  stack_trace?: string;
  stream_descriptor?: StreamDescriptor;
}

export interface AirbyteStreamStatusTraceMessage {
  stream_descriptor: StreamDescriptor;
  status: AirbyteStreamStatus;
}

export interface AirbyteTraceMessage {
  type: 'TRACE';
  trace:
    | { type: 'ERROR'; emitted_at: number; error: AirbyteErrorTraceMessage }
    | { type: 'STREAM_STATUS'; emitted_at: number; stream_status: AirbyteStreamStatusTraceMessage };
}

export interface AirbyteRecordMessage {
  type: 'RECORD';
  /** emitted_at: milliseconds since the epoch. */
  record: { stream: string; data: Record<string, unknown>; emitted_at: number };
}

/** Only per-stream state is written; sourceStats.recordCount is a double (see stateMessage). */
export interface AirbyteStateMessage {
  type: 'STATE';
  state: {
    type: 'STREAM';
    stream: { stream_descriptor: StreamDescriptor; stream_state: Record<string, unknown> };
    sourceStats: { recordCount: number };
  };
}

export interface AirbyteConnectionStatusMessage {
  type: 'CONNECTION_STATUS';
  connectionStatus: { status: 'SUCCEEDED' | 'FAILED'; message?: string };
}

export interface AirbyteSpecMessage {
  type: 'SPEC';
  spec: { documentationUrl?: unknown; connectionSpecification: unknown; supportsIncremental?: boolean };
}

export interface AirbyteCatalogMessage {
  type: 'CATALOG';
  catalog: { streams: unknown[] };
}

export type AirbyteMessage =
  | AirbyteLogMessage
  | AirbyteTraceMessage
  | AirbyteRecordMessage
  | AirbyteStateMessage
  | AirbyteConnectionStatusMessage
  | AirbyteSpecMessage
  | AirbyteCatalogMessage;

/** One message as one line of JSON (no newline). */
export function serialize(message: AirbyteMessage): string {
  return JSON.stringify(message);
}
