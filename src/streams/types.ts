import type { StreamSelection } from '../catalog.js';
import type { Settings } from '../config/load.js';
import type { ScarfClient } from '../scarf/client.js';
import type { StateStore } from '../state.js';
import type { Day } from './days.js';

export type Rec = Record<string, unknown>;

/** Where a stream puts its output; the protocol writer sits behind it. */
export interface StreamSink {
  /** Writes one record; a returned promise means output is backed up: await it. */
  record(rec: Rec): void | Promise<void>;
  /** The stream's bookmark moved and every record it covers went to record(): emit STATE. */
  checkpoint(): Promise<void>;
}

export interface StreamStats {
  /** Records written (counted by the sync's sink, after any filtering by the stream). */
  records: number;
  duplicates: number;
  requests: number;
  windows: number;
  /** Windows the stream plans to request, once known (the terminal progress line shows done/total). */
  windowsPlanned?: number;
  /** Largest per-window de-duplication set, the only per-window memory a stream keeps. */
  maxKeySet: number;
  skippedPartitions?: number;
}

/** Everything shared by the streams of one sync run. */
export interface SyncContext {
  settings: Settings;
  /** The sync's start: no bookmark may go past it. */
  signpost: Date;
  signpostTs: string;
  /** Inclusive UTC days the sync may request. */
  startDay: Day;
  endDay: Day;
  client: ScarfClient;
  state: StateStore;
  /** domain → last_seen (canonical timestamp), read at most once per sync. */
  companyActivity: Map<string, string | null> | undefined;
  /** Longest range (days) Scarf accepted after a range-too-long this sync, per endpoint. */
  learnedMaxRange: Map<string, number>;
  /** Endpoints whose first multi-day request has been answered, and the pending first ones. */
  rangeProbed: Set<string>;
  rangeProbes: Map<string, Promise<void>>;
  warnedUnknownColumns: Set<string>;
  /** Set on SIGTERM/SIGINT: streams stop at the next record. */
  aborted: boolean;
}

export type StreamReader = (ctx: SyncContext, selection: StreamSelection, sink: StreamSink, stats: StreamStats) => Promise<void>;
