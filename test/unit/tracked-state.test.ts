// The Postgres state store (src/destination/postgres/state-table.ts) writes only what changed:
// each StateStore operation that changes an entry must mark it, or the window's transaction
// would commit rows whose state row still says otherwise.
import { expect } from 'chai';

import { TrackedStateStore } from '../../src/destination/postgres/state-table.js';

const OWNER = 'acme-oss';

function store(): TrackedStateStore {
  const s = new TrackedStateStore();
  s.setValue('events', 'time', '2026-10-05T00:00:00.000000Z');
  s.setPartitionValue('company_events', { owner: OWNER, company_domain: 'a.example' }, 'time', '2026-10-05T00:00:00.000000Z');
  s.takeWrites('scarf', OWNER, 'events');
  s.takeWrites('scarf', OWNER, 'company_events');
  return s;
}

describe('TrackedStateStore: what a window transaction writes', () => {
  it('nothing changed: no statement', () => {
    expect(store().takeWrites('scarf', OWNER, 'events').statements).to.deep.equal([]);
  });

  it('dropValue: the entry row without its value', () => {
    const s = store();
    s.dropValue('events');
    const { statements } = s.takeWrites('scarf', OWNER, 'events');
    expect(statements).to.have.length(1);
    expect(statements[0]!.values).to.deep.equal([OWNER, 'events', [''], [JSON.stringify({ replication_key: 'time' })]]);
  });

  it('dropEntry: the partition rows deleted and the entry row emptied; nothing for a stream without an entry', () => {
    const s = store();
    s.dropEntry('company_events');
    const { statements } = s.takeWrites('scarf', OWNER, 'company_events');
    expect(statements.map((st) => st.text.split(' ')[0])).to.deep.equal(['DELETE', 'INSERT']);
    expect(statements[0]!.values).to.deep.equal([OWNER, 'company_events']);
    expect(statements[1]!.values).to.deep.equal([OWNER, 'company_events', [''], ['{}']]);
    s.dropEntry('aggregates');
    expect(s.isDirty('aggregates')).to.equal(false);
  });
});
