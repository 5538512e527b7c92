// The Airbyte protocol validation may be skipped on a user's clone that lacks the protocol
// file, but never in CI: there a missing file must fail the run, not pass it unchecked.
import path from 'node:path';

import { expect } from 'chai';

import { isCi, loadProtocolValidators } from '../helpers/protocol.js';
import { tmpDir } from '../helpers/tap.js';

describe('Airbyte protocol file lookup (test helper)', () => {
  const missing = path.join(tmpDir('tap-scarf-protocol-'), 'no-such-airbyte_protocol.yaml');

  it('throws in CI when the protocol file is missing, naming the file and the variable to set', () => {
    expect(() => loadProtocolValidators(missing, { CI: 'true' })).to.throw(
      `Airbyte protocol validation cannot run in CI: ${missing} not found; set AIRBYTE_PROTOCOL_YAML to its location`,
    );
    expect(() => loadProtocolValidators(missing, { CI: '1' })).to.throw(/cannot run in CI/);
  });

  it('skips (returns no validators) outside CI when the protocol file is missing', () => {
    const logged: unknown[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void logged.push(args.join(' '));
    try {
      expect(loadProtocolValidators(missing, {})).to.equal(undefined);
      expect(loadProtocolValidators(missing, { CI: 'false' })).to.equal(undefined);
    } finally {
      console.log = original;
    }
    expect(logged).to.deep.equal([
      `      (Airbyte protocol validation skipped: ${missing} not found; set AIRBYTE_PROTOCOL_YAML to its location)`,
      `      (Airbyte protocol validation skipped: ${missing} not found; set AIRBYTE_PROTOCOL_YAML to its location)`,
    ]);
  });

  it('reads CI the way CI services set it', () => {
    expect([isCi({ CI: 'true' }), isCi({ CI: '1' }), isCi({ CI: 'TRUE' }), isCi({ CI: 'woodpecker' })]).to.deep.equal([
      true,
      true,
      true,
      true,
    ]);
    expect([isCi({}), isCi({ CI: '' }), isCi({ CI: 'false' }), isCi({ CI: '0' })]).to.deep.equal([false, false, false, false]);
  });
});
