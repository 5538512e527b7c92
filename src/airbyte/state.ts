// Airbyte `--state` → the one bookmark store both protocols share. Per-stream
// `stream_state` is exactly that stream's Singer bookmark object, so the translation is a
// re-keying. Accepted, because each is what some platform version or user will pass:
//   - the platform's form: a JSON array of STREAM state messages (or GLOBAL ones);
//   - those messages wrapped as AirbyteMessages ({"type":"STATE","state":{…}}), e.g. copied
//     from a read's stdout;
//   - a single state message object;
//   - legacy: a single object, either Singer-shaped ({"bookmarks": …}) or a data blob keyed
//     by stream name ({"events": {…}, …}), or a LEGACY message holding one in "data";
//   - mistakes with one obvious meaning: a Singer STATE message ({"type":"STATE","value":…}),
//     and the inner stream object of a STREAM message ({"stream_descriptor":…,"stream_state":…}),
//     alone or in the array.

import { ConfigError } from '../errors.js';
import { log } from '../log.js';
import { parseState, type StreamBookmark, type TapState } from '../state.js';
import { isObj, readJsonFile } from '../util/json.js';

const HINT =
  'Pass the JSON array of STATE messages the platform stored, or reset the connection in Airbyte to start from start_date.';

function isStateMessage(v: Record<string, unknown>): boolean {
  return (
    v.type === 'STREAM' ||
    v.type === 'GLOBAL' ||
    v.type === 'LEGACY' ||
    isObj(v.stream) ||
    isObj(v.global) ||
    (isObj(v.data) && Object.keys(v).every((k) => ['type', 'data', 'sourceStats', 'destinationStats'].includes(k)))
  );
}

function addStreamState(into: TapState, entry: unknown, where: string): void {
  if (!isObj(entry) || !isObj(entry.stream_descriptor) || typeof entry.stream_descriptor.name !== 'string') {
    throw new ConfigError(`State ${where}: a stream state needs "stream_descriptor": {"name": …}. ${HINT}`);
  }
  const name = entry.stream_descriptor.name;
  const blob = entry.stream_state;
  if (blob === undefined || blob === null) return;
  if (!isObj(blob)) throw new ConfigError(`State ${where}: stream_state of '${name}' must be an object. ${HINT}`);
  into.bookmarks[name] = blob as StreamBookmark;
}

function addLegacy(into: TapState, data: unknown, where: string): void {
  if (!isObj(data)) throw new ConfigError(`State ${where}: legacy state data must be an object. ${HINT}`);
  if ('bookmarks' in data || 'singer_state' in data) {
    const singer = parseState(data, where);
    Object.assign(into.bookmarks, singer.bookmarks);
    for (const [k, v] of Object.entries(singer)) if (k !== 'bookmarks') into[k] = v;
    return;
  }
  for (const [name, blob] of Object.entries(data)) {
    if (!isObj(blob)) throw new ConfigError(`State ${where}: legacy state of stream '${name}' must be an object. ${HINT}`);
    into.bookmarks[name] = blob as StreamBookmark;
  }
}

function addMessage(into: TapState, raw: unknown, where: string): void {
  let msg = raw;
  if (isObj(msg) && msg.type === 'STATE' && isObj(msg.state)) msg = msg.state;
  if (!isObj(msg)) throw new ConfigError(`State ${where} must be a state message object. ${HINT}`);
  if (msg.type === 'STATE' && isObj(msg.value)) {
    // A Singer STATE message (parseState says so in the log).
    addLegacy(into, { bookmarks: parseState(msg, where).bookmarks }, where);
    return;
  }
  if (isObj(msg.stream_descriptor) && !('type' in msg)) {
    log.info(
      `State ${where} is a bare stream state ({"stream_descriptor", "stream_state"}) without its {"type":"STREAM","stream":…} wrapper: using it as that stream's state.`,
    );
    addStreamState(into, msg, where);
    return;
  }
  if (msg.type === 'GLOBAL' || isObj(msg.global)) {
    const g = msg.global;
    if (!isObj(g) || !Array.isArray(g.stream_states))
      throw new ConfigError(`State ${where}: a GLOBAL state needs global.stream_states. ${HINT}`);
    g.stream_states.forEach((s, i) => addStreamState(into, s, `${where}.global.stream_states[${i}]`));
    return;
  }
  if (msg.type === 'STREAM' || isObj(msg.stream)) {
    addStreamState(into, msg.stream, where);
    return;
  }
  addLegacy(into, msg.data, where);
}

/** Any accepted form of Airbyte state → validated Singer-shaped state. */
export function airbyteStateToTapState(value: unknown, source: string): TapState {
  const state: TapState = { bookmarks: {} };
  if (value === undefined || value === null) return state;
  if (Array.isArray(value)) {
    value.forEach((m, i) => addMessage(state, m, `${source}[${i}]`));
  } else if (
    isObj(value) &&
    (isStateMessage(value) ||
      (value.type === 'STATE' && (isObj(value.state) || isObj(value.value))) ||
      (isObj(value.stream_descriptor) && !('type' in value)))
  ) {
    addMessage(state, value, source);
  } else if (isObj(value)) {
    addLegacy(state, value, source);
  } else {
    throw new ConfigError(`State ${source} must be a JSON array of state messages or an object, not ${typeof value}. ${HINT}`);
  }
  // The same checks as Singer state: a corrupt bookmark fails here, not halfway through a read.
  return parseState(state, source);
}

export function readAirbyteStateFile(file: string): TapState {
  const value = readJsonFile(file, { kind: 'state', invalidHint: HINT, blankIsEmpty: true });
  if (value === undefined) return { bookmarks: {} };
  return airbyteStateToTapState(value, `state file ${file}`);
}
