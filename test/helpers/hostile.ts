// Strings made of the pieces that break text formats: quotes, backslashes (and COPY's `\N`
// and `\.`), tabs, line breaks, control characters, non-ASCII and astral characters, JSON
// look-alikes. The COPY encoders' tests build their records from them.
import type { Rng } from './rng.js';

const PIECES = [
  'a',
  'Zürich',
  'é',
  '株式会社',
  '😀',
  '"',
  '\\',
  '\t',
  '\n',
  '\r\n',
  '\u0001',
  '\u001f',
  '\u007f',
  ',',
  '\\N',
  '\\.',
  '/',
  '\u2028',
  '\b',
  '\f',
  'x'.repeat(40),
  '{}',
];

/** Up to `most` pieces (0 to most − 1), drawn with `r`. */
export function hostileString(r: Rng, most = 10): string {
  let s = '';
  const n = Math.floor(r() * most);
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s;
}
