// Stream declarations (each stream module's, src/streams/registry.ts) → both catalogs and the stream order, and
// the per-stream state handle (src/streams/engine/stream-state.ts).
import { expect } from 'chai';

import { airbyteCatalog, selectionFromConfiguredCatalog } from '../../src/airbyte/catalog.js';
import { defaultSelection, selectionFromSingerCatalog, singerCatalog } from '../../src/catalog.js';
import type { Settings } from '../../src/config/load.js';
import { STREAM_NAMES } from '../../src/schemas.js';
import { StateStore } from '../../src/state.js';
import { fullTable, StreamState } from '../../src/streams/engine/stream-state.js';
import { streamOrder, STREAMS } from '../../src/streams/registry.js';

describe('stream declarations → catalogs', () => {
  it('the Singer catalog states each declaration: keys, replication keys, automatic fields', () => {
    const cat = singerCatalog();
    expect(cat.streams.map((s) => s.tap_stream_id)).to.deep.equal([...STREAM_NAMES]);
    for (const s of cat.streams) {
      const decl = STREAMS[s.tap_stream_id as keyof typeof STREAMS];
      expect(s.key_properties).to.deep.equal(decl.keyProperties);
      expect(s.replication_key).to.equal(decl.defaultReplicationKey);
      const top = s.metadata.find((m) => m.breadcrumb.length === 0)!.metadata;
      expect(top['valid-replication-keys']).to.deep.equal(decl.validReplicationKeys);
      const automatic = s.metadata.filter((m) => m.metadata.inclusion === 'automatic').map((m) => m.breadcrumb[1]);
      const wanted = [...decl.keyProperties, ...decl.validReplicationKeys, ...(decl.partitionedBy ? [decl.partitionedBy] : [])];
      expect([...automatic].sort()).to.deep.equal([...new Set(wanted)].sort());
    }
  });

  it('the Airbyte catalog states the same: primary key, cursor, and who chooses it', () => {
    for (const s of airbyteCatalog().streams) {
      const decl = STREAMS[s.name as keyof typeof STREAMS];
      expect(s.source_defined_primary_key).to.deep.equal(decl.keyProperties.map((k) => [k]));
      expect(s.default_cursor_field).to.deep.equal([decl.defaultReplicationKey]);
      expect(s.source_defined_cursor).to.equal(!decl.userChoosableCursor);
    }
    expect(STREAMS.company_rollup.userChoosableCursor).to.equal(true);
  });

  it('company_events runs after company_rollup, its dependency, whatever order a catalog lists them in', () => {
    expect(STREAMS.company_events.dependsOn).to.deep.equal(['company_rollup']);
    expect(streamOrder(['company_events', 'events', 'company_rollup'])).to.deep.equal([
      'events',
      'company_rollup',
      'company_events',
    ]);
    expect(defaultSelection().map((s) => s.stream)).to.deep.equal(['events', 'aggregates', 'company_rollup', 'company_events']);
    const singer = singerCatalog();
    singer.streams.reverse();
    // Without "selected" metadata the opt-in streams (selected-by-default false) stay out, as without a catalog.
    expect(selectionFromSingerCatalog(singer, 'test').map((s) => s.stream)).to.deep.equal(
      defaultSelection().map((s) => s.stream),
    );
    for (const s of singer.streams) s.metadata[0]!.metadata.selected = true;
    expect(selectionFromSingerCatalog(singer, 'test').map((s) => s.stream)).to.deep.equal([...STREAM_NAMES]);
    const configured = {
      streams: airbyteCatalog()
        .streams.reverse()
        .map((stream) => ({ stream, sync_mode: 'incremental', destination_sync_mode: 'append' })),
    };
    expect(selectionFromConfiguredCatalog(configured, 'test').map((s) => s.stream)).to.deep.equal([...STREAM_NAMES]);
  });
});

describe('per-stream state handle', () => {
  const incremental = (stream: keyof typeof STREAMS, replicationKey = STREAMS[stream].defaultReplicationKey) => ({
    stream,
    replicationKey,
    replicationMethod: 'INCREMENTAL' as const,
  });

  it('writes a stream bookmark under its replication key, and reads it back only for that key', () => {
    const store = new StateStore();
    new StreamState(store, STREAMS.company_rollup, incremental('company_rollup', 'first_seen')).commit(
      '2026-10-02T00:00:00.000000Z',
    );
    expect(store.snapshot().bookmarks.company_rollup).to.deep.equal({
      replication_key: 'first_seen',
      replication_key_value: '2026-10-02T00:00:00.000000Z',
    });
    expect(new StreamState(store, STREAMS.company_rollup, incremental('company_rollup', 'first_seen')).bookmark()).to.equal(
      '2026-10-02T00:00:00.000000Z',
    );
    expect(new StreamState(store, STREAMS.company_rollup, incremental('company_rollup', 'last_seen')).bookmark()).to.equal(
      undefined,
    );
  });

  it('keeps a partitioned stream per value of its declared partition field', () => {
    const store = new StateStore();
    const state = new StreamState(store, STREAMS.company_events, incremental('company_events'));
    state.commit('2026-10-02T00:00:00.000000Z', 'a.com');
    state.commit('2026-10-03T00:00:00.000000Z', 'a.com');
    state.commit('2026-10-04T00:00:00.000000Z', 'b.com');
    expect(store.snapshot().bookmarks.company_events).to.deep.equal({
      partitions: [
        { context: { company_domain: 'a.com' }, replication_key: 'time', replication_key_value: '2026-10-03T00:00:00.000000Z' },
        { context: { company_domain: 'b.com' }, replication_key: 'time', replication_key_value: '2026-10-04T00:00:00.000000Z' },
      ],
    });
    expect(state.bookmark('a.com')).to.equal('2026-10-03T00:00:00.000000Z');
    expect(state.bookmark('c.com')).to.equal(undefined);
    expect(() => new StreamState(store, STREAMS.events, incremental('events')).commit('x', 'a.com')).to.throw(/not partitioned/);
  });

  it('FULL_TABLE: no stored bookmark is a starting point, yet what the sync commits is kept', () => {
    const store = new StateStore({
      bookmarks: {
        events: { replication_key: 'time', replication_key_value: '2026-10-05T00:00:00.000000Z' },
        aggregates: { breakdowns: { 'by-total': '2026-10-05' } },
      },
    });
    const events = new StreamState(store, STREAMS.events, { replicationKey: 'time', replicationMethod: 'FULL_TABLE' });
    expect(events.bookmark()).to.equal(undefined);
    events.commit('2026-10-02T00:00:00.000000Z');
    expect(store.value('events', 'time')).to.equal('2026-10-02T00:00:00.000000Z');
    const agg = new StreamState(store, STREAMS.aggregates, { replicationKey: 'date', replicationMethod: 'FULL_TABLE' });
    expect(agg.breakdown('by-total')).to.equal(undefined);
    expect(agg.storedBreakdown('by-total')).to.equal('2026-10-05');
    agg.commitBreakdown('by-country', '2026-10-01');
    expect(store.snapshot().bookmarks.aggregates!.breakdowns).to.deep.equal({
      'by-total': '2026-10-05',
      'by-country': '2026-10-01',
    });
  });

  it('per-value bookmarks: a window moves each asked value, never back, and the stream-wide value once every configured one has one', () => {
    const store = new StateStore({ bookmarks: { aggregates: { breakdowns: { 'by-total': '2026-10-05' } } } });
    const agg = new StreamState(store, STREAMS.aggregates, incremental('aggregates'));
    const settings = { aggregates_breakdowns: ['by-total', 'by-country'] } as unknown as Settings;
    // A window within by-total's lookback: its bookmark stays; the stream-wide value is where both values are read.
    agg.commitValues(['by-total', 'by-country'], '2026-10-03', settings);
    expect(store.snapshot().bookmarks.aggregates).to.deep.equal({
      breakdowns: { 'by-total': '2026-10-05', 'by-country': '2026-10-03' },
      replication_key: 'date',
      replication_key_value: '2026-10-03',
    });
    agg.commitValues(['by-country'], '2026-10-06', settings);
    expect(store.value('aggregates', 'date')).to.equal('2026-10-05');
    expect(store.breakdownValue('aggregates', 'by-country')).to.equal('2026-10-06');
  });

  it('fullTable: the one FULL_TABLE rule; Singer keeps the entry, Airbyte drops it before anything reads it', () => {
    const entry = { replication_key: 'time', replication_key_value: '2026-10-05T00:00:00.000000Z', owner: 'acme-oss', x: 1 };
    const store = () =>
      new StateStore({ bookmarks: { events: { ...entry }, company_rollup: { replication_key_value: '2026-10-01' } } });
    const full = { stream: 'events', replicationMethod: 'FULL_TABLE' } as const;
    const kept = store();
    expect(fullTable(full)).to.equal(true);
    expect(fullTable(full, 'kept')).to.equal(true);
    expect(kept.bookmark('events')).to.deep.equal(entry);
    const dropped = store();
    expect(fullTable(full, { droppedFrom: dropped })).to.equal(true);
    expect(dropped.bookmark('events')).to.equal(undefined);
    // An incremental stream's entry stays, whatever the protocol.
    expect(fullTable({ stream: 'company_rollup', replicationMethod: 'INCREMENTAL' }, { droppedFrom: dropped })).to.equal(false);
    expect(dropped.bookmark('company_rollup')).to.deep.equal({ replication_key_value: '2026-10-01' });
  });

  it('records the settings with the first bookmark it writes', () => {
    const store = new StateStore();
    store.recordSettings('events', { start_date: '2026-10-01', package_query: null });
    new StreamState(store, STREAMS.events, incremental('events')).commit('2026-10-02T00:00:00.000000Z');
    expect(store.snapshot().bookmarks.events).to.deep.equal({
      settings: { start_date: '2026-10-01', package_query: null },
      replication_key: 'time',
      replication_key_value: '2026-10-02T00:00:00.000000Z',
    });
  });
});
