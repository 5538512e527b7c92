// redact() and clip() of src/log.ts: the token in every form a message can carry it, pieces
// of it, and clipping that happens after redaction so no cut can leave its start behind.
import { expect } from 'chai';

import { clip, redact, registerSecret } from '../../src/log.js';

const SECRET = 'zK4-unit-Q9v7RtX2mW8pL5nB3';

describe('log: redaction of the token in every form and piece', () => {
  before(() => registerSecret(SECRET));

  it('masks the token as is, JSON-escaped and URL-encoded', () => {
    expect(redact(`a ${SECRET} b ${SECRET}`)).to.equal('a *** b ***');
    expect(redact(`url ${encodeURIComponent(SECRET + '/')}`)).to.not.include('Q9v7RtX2');
  });

  it('masks base64 of the token and of "Bearer <token>", also inside longer base64 text at any alignment', () => {
    expect(redact(Buffer.from(SECRET).toString('base64'))).to.equal('***');
    expect(redact(Buffer.from(`Bearer ${SECRET}`).toString('base64'))).to.equal('***');
    for (const before of ['', 'x', 'xy', 'Authorization: Bearer ', 'Proxy-Authorization: Basic ']) {
      for (const after of ['', 'z', '\r\nHost: api.scarf.sh\r\n']) {
        const b64 = Buffer.from(before + SECRET + after).toString('base64');
        const out = redact(`dump: ${b64}`);
        expect(out, `${JSON.stringify(before)} … ${JSON.stringify(after)}`).to.include('***');
        // What is left of the base64 decodes to at most a few characters of the token at each end.
        const left = out.slice('dump: '.length).split('***');
        for (const part of left) {
          const decoded = Buffer.from(part, 'base64').toString('latin1');
          for (let i = 0; i + 4 <= SECRET.length; i++) expect(decoded).to.not.include(SECRET.slice(i, i + 4 + 2));
        }
        const url = b64.replace(/\+/g, '-').replace(/\//g, '_');
        expect(redact(url)).to.include('***');
      }
    }
  });

  it('masks any piece of 8 or more characters of the token, wherever it is', () => {
    expect(redact(`Authorization: Bearer ${SECRET.slice(0, 10)}...`)).to.equal('Authorization: Bearer ***...');
    expect(redact(`…${SECRET.slice(9)} ok`)).to.equal('…*** ok');
    expect(redact(`mid ${SECRET.slice(5, 13)} mid`)).to.equal('mid *** mid');
    // Seven characters of it are too few to tell from ordinary text.
    expect(redact(`mid ${SECRET.slice(5, 12)} mid`)).to.equal(`mid ${SECRET.slice(5, 12)} mid`);
  });

  it("masks a start of the token (4+ characters) that someone else's clip left before its '…'", () => {
    expect(redact(`"${'x'.repeat(75)}${SECRET.slice(0, 5)}…"`)).to.equal(`"${'x'.repeat(75)}***…"`);
    expect(redact(`ends ${SECRET.slice(0, 5)}.`)).to.equal(`ends ${SECRET.slice(0, 5)}.`);
  });

  it('clip redacts first, then cuts: no start of the token at the cut, text without it clipped as before', () => {
    expect(clip('x'.repeat(75) + SECRET + 'y'.repeat(20), 80)).to.equal('x'.repeat(75) + '***' + 'y'.repeat(2) + '…');
    expect(clip('x'.repeat(76) + SECRET.slice(0, 6) + 'qqqqqqqqq', 80)).to.equal('x'.repeat(76) + '***…');
    expect(clip('abcdef', 80)).to.equal('abcdef');
    expect(clip('a'.repeat(100), 80)).to.equal('a'.repeat(80) + '…');
  });
});

describe('log: redaction in any letter case', () => {
  const PASSWORD = 'Db-Secret-pw-42xYz';
  before(() => registerSecret(PASSWORD));

  it('masks a database password, its pieces and its start before a clip, whatever the case', () => {
    expect(redact(`pw ${PASSWORD.toUpperCase()} and ${PASSWORD.toLowerCase()}`)).to.equal('pw *** and ***');
    expect(redact(`piece ${PASSWORD.slice(2, 12).toUpperCase()} end`)).to.equal('piece *** end');
    expect(redact(`url postgres://u:${encodeURIComponent(PASSWORD).toLowerCase()}@h/db`)).to.equal('url postgres://u:***@h/db');
    expect(clip('x'.repeat(76) + PASSWORD.slice(0, 6).toUpperCase() + 'qqqqqqqq', 80)).to.equal('x'.repeat(76) + '***…');
    // The rest of the text keeps its case.
    expect(redact(`Kept AS IS ${PASSWORD.toUpperCase()}`)).to.equal('Kept AS IS ***');
  });
});
