import { expect } from 'chai';

import { selectionFromSingerCatalog, singerCatalog } from '../../src/catalog.js';
import { ConfigError } from '../../src/errors.js';
import { parseState, StateStore } from '../../src/state.js';
import { aggregateRowKey } from '../../src/streams/aggregates.js';
import { addDays, dayWindows, periodEnd, periodStart, periodWindows } from '../../src/streams/engine/days.js';

describe('UTC day windows', () => {
  it('cut a range into windows of N days, the last one shorter', () => {
    expect(dayWindows('2026-10-30', '2026-11-03', 2)).to.deep.equal([
      { start: '2026-10-30', end: '2026-10-31' },
      { start: '2026-11-01', end: '2026-11-02' },
      { start: '2026-11-03', end: '2026-11-03' },
    ]);
    expect(dayWindows('2026-10-05', '2026-10-04', 1)).to.deep.equal([]);
    expect(addDays('2024-02-28', 1)).to.equal('2024-02-29');
  });

  it('align aggregate windows to rollup periods so no period is split', () => {
    expect(periodStart('2026-11-26', 'weekly')).to.equal('2026-11-23'); // a Thursday → its Monday
    expect(periodEnd('2026-02-10', 'monthly')).to.equal('2026-02-28');
    expect(periodWindows('2026-10-15', '2026-12-02', 31, 'monthly')).to.deep.equal([
      { start: '2026-10-01', end: '2026-10-31' },
      { start: '2026-11-01', end: '2026-11-30' },
      { start: '2026-12-01', end: '2026-12-02' },
    ]);
    const weeks = periodWindows('2026-11-04', '2026-11-30', 14, 'weekly');
    expect(weeks[0]).to.deep.equal({ start: '2026-11-02', end: '2026-11-15' });
    expect(weeks.every((w) => periodStart(w.start, 'weekly') === w.start)).to.equal(true);
  });
});

describe('state', () => {
  it('keeps keys it does not understand and accepts the Meltano wrapper', () => {
    const s = parseState(
      {
        bookmarks: { events: { replication_key: 'time', replication_key_value: '2026-10-01T00:00:00Z', extra: 1 } },
        other: true,
      },
      'test',
    );
    const store = new StateStore(s);
    store.setValue('aggregates', 'date', '2026-10-02');
    expect(store.snapshot()).to.deep.equal({
      // bookmark values come back canonical (they are compared as strings); everything else as given
      bookmarks: {
        events: { replication_key: 'time', replication_key_value: '2026-10-01T00:00:00.000000Z', extra: 1 },
        aggregates: { replication_key: 'date', replication_key_value: '2026-10-02' },
      },
      other: true,
    });
    expect(parseState({ singer_state: { bookmarks: {} } }, 'x')).to.deep.equal({ bookmarks: {} });
  });

  it('partitions per company domain', () => {
    const store = new StateStore();
    store.setPartitionValue('company_events', { company_domain: 'a.com' }, 'time', '2026-10-02T00:00:00.000000Z');
    store.setPartitionValue('company_events', { company_domain: 'a.com' }, 'time', '2026-10-03T00:00:00.000000Z');
    expect(store.partitionValue('company_events', { company_domain: 'a.com' }, 'time')).to.equal('2026-10-03T00:00:00.000000Z');
    expect(store.partitionValue('company_events', { company_domain: 'b.com' }, 'time')).to.equal(undefined);
    expect(store.streamState('company_events').partitions).to.have.length(1);
  });

  it('finds a partition whatever the key order of its context, the first of two equal ones, and after owners are adopted', () => {
    const t = (d: number) => `2026-10-0${d}T00:00:00.000000Z`;
    const store = new StateStore({
      bookmarks: {
        company_events: {
          partitions: [
            { context: { company_domain: 'a.com', owner: 'acme' }, replication_key: 'time', replication_key_value: t(1) },
            { context: { owner: 'acme', company_domain: 'a.com' }, replication_key: 'time', replication_key_value: t(2) },
            { context: { company_domain: 'b.com' }, replication_key: 'time', replication_key_value: t(3) },
          ],
        },
      },
    });
    expect(store.partitionValue('company_events', { owner: 'acme', company_domain: 'a.com' }, 'time')).to.equal(t(1));
    store.setPartitionValue('company_events', { owner: 'acme', company_domain: 'a.com' }, 'time', t(4));
    expect(store.partitionValue('company_events', { company_domain: 'a.com', owner: 'acme' }, 'time')).to.equal(t(4));
    expect(store.partitionValue('company_events', { owner: 'acme', company_domain: 'b.com' }, 'time')).to.equal(undefined);
    store.adoptOwnerlessPartitions('company_events', 'acme');
    expect(store.partitionValue('company_events', { owner: 'acme', company_domain: 'b.com' }, 'time')).to.equal(t(3));
    store.setPartitionValue('company_events', { owner: 'acme', company_domain: 'c.com' }, 'time', t(5));
    expect(store.partitionValue('company_events', { owner: 'acme', company_domain: 'c.com' }, 'time')).to.equal(t(5));
    expect(store.streamState('company_events').partitions).to.have.length(4);
  });

  it('ignores a bookmark written for another replication key', () => {
    const store = new StateStore(
      parseState({ bookmarks: { company_rollup: { replication_key: 'first_seen', replication_key_value: '2026-10-01' } } }, 't'),
    );
    expect(store.value('company_rollup', 'last_seen')).to.equal(undefined);
    expect(store.value('company_rollup', 'first_seen')).to.equal('2026-10-01');
  });

  it('rejects bad shapes and bad bookmark values with a reset hint', () => {
    for (const bad of [
      [],
      'x',
      { bookmarks: [] },
      { bookmarks: { events: { replication_key_value: 'soon' } } },
      { bookmarks: { company_events: { partitions: {} } } },
    ]) {
      expect(() => parseState(bad, 'test state')).to.throw(ConfigError, /state|bookmarks|partitions/i);
    }
    expect(() => parseState({ bookmarks: { events: { replication_key_value: 'soon' } } }, 'x')).to.throw(/delete its entry/);
  });
});

describe('catalog selection', () => {
  it('the discovered catalog selects everything (logged) when fed back', () => {
    const sel = selectionFromSingerCatalog(singerCatalog(), 'discovered');
    expect(sel.map((s) => s.stream)).to.deep.equal(['events', 'aggregates', 'company_rollup', 'company_events']);
  });

  it('honours stream and field selection; automatic fields stay', () => {
    const cat = singerCatalog() as any;
    for (const s of cat.streams) {
      s.metadata[0].metadata.selected = s.stream === 'events' || s.stream === 'company_rollup';
      for (const m of s.metadata.slice(1))
        if (m.breadcrumb[1] === 'user_agent' || m.breadcrumb[1] === 'id') m.metadata.selected = false;
    }
    cat.streams[2].metadata[0].metadata['replication-key'] = 'first_seen';
    const sel = selectionFromSingerCatalog(cat, 'c');
    expect(sel.map((s) => s.stream)).to.deep.equal(['events', 'company_rollup']);
    expect(sel[0]!.fields).to.include('id').and.not.include('user_agent');
    expect(sel[1]!.replicationKey).to.equal('first_seen');
  });

  it('rejects a replication key the stream does not offer', () => {
    const cat = singerCatalog() as any;
    cat.streams[0].metadata[0].metadata['replication-key'] = 'origin_id';
    expect(() => selectionFromSingerCatalog(cat, 'cat.json')).to.throw(ConfigError, /cat.json.*'events'.*replication-key.*time/);
  });
});

describe('aggregates row_key', () => {
  it('is stable, never null, and ignores names', () => {
    const a = aggregateRowKey({
      owner: 'acme-oss',
      date: '2026-10-01',
      rollup: 'daily',
      breakdown: 'by-company',
      artifact: 'x',
      company_domain: 'a.com',
      company_name: 'A',
    });
    const b = aggregateRowKey({
      owner: 'acme-oss',
      date: '2026-10-01',
      rollup: 'daily',
      breakdown: 'by-company',
      artifact: 'x',
      company_domain: 'a.com',
      company_name: 'A Inc.',
    });
    expect(a)
      .to.equal(b)
      .and.to.equal('["acme-oss","2026-10-01","daily","by-company","x","a.com",null,null,null,null,null,null,null,null]');
  });

  it('starts with the owner, so two owners never share a row_key', () => {
    const row = { date: '2026-10-01', rollup: 'daily', breakdown: 'by-total', artifact: 'x' };
    expect(aggregateRowKey({ ...row, owner: 'acme-oss' })).to.not.equal(aggregateRowKey({ ...row, owner: 'acme-labs' }));
    expect(JSON.parse(aggregateRowKey({ ...row, owner: 'acme-labs' }))[0]).to.equal('acme-labs');
  });
});

describe('runInOrder', () => {
  it('runs requests concurrently but lets each item write only after the previous one finished', async () => {
    const { runInOrder } = await import('../../src/streams/engine/ordered.js');
    const out: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await runInOrder([0, 1, 2, 3, 4, 5, 6, 7], 3, async (i, waitTurn) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, (8 - i) * 3)); // later items "download" faster
      await waitTurn();
      out.push(i);
      inFlight--;
    });
    expect(out).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(maxInFlight).to.equal(3);
  });

  it('stops at the first failure and never lets a later item write', async () => {
    const { runInOrder } = await import('../../src/streams/engine/ordered.js');
    const out: number[] = [];
    let err: unknown;
    try {
      await runInOrder([0, 1, 2, 3], 2, async (i, waitTurn) => {
        await waitTurn();
        if (i === 1) throw new Error('window 1 failed');
        out.push(i);
      });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.equal('window 1 failed');
    expect(out).to.deep.equal([0]);
  });
});
