// Every pointer to a section of the documents names a section that exists: `README "…"`,
// `DESIGN "…"` and `docs/X.md "…"` in the code (src/, sim/, test/, bench/, scripts/, the
// Python package's own modules), in the files users read or run beside it (the schemas'
// and spec.json's descriptions, which catalogs and --about print; CI's script; the Meltano
// definitions) and in the documents themselves, and Markdown links (`[…](#anchor)`,
// `[…](docs/x.md#anchor)`) in the README, docs/ and the simulator's and Python package's
// READMEs. Sections move as the documents grow; a pointer that names one that is gone sends a
// reader nowhere, so it fails here instead.
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'chai';

import { repoRoot } from '../helpers/tap.js';

/** Where the code is searched for pointers, relative to the repository. */
const CODE_DIRS = ['src', 'sim', 'test', 'bench', 'scripts', 'python/src'];
const CODE_EXT = /\.(ts|mjs|js|sh|py)$/;
/** Folders no pointer is looked for in: dependencies, recorded outputs, and the bundle (built from src/). */
const SKIP_DIRS = new Set(['node_modules', 'fixtures', 'python/src/tap_scarf/node']);
/** Files beside the code whose text users see or CI runs; JSON ones are read with `\"` as `"`. */
const OTHER_FILES = ['spec.json', '.ci/run', 'Dockerfile', 'meltano/tap-scarf.yml', 'examples/meltano/meltano.yml'];
/** Documents whose pointers and links are checked. */
const DOCS = ['README.md', 'docs', 'src/scarf/README.md', 'sim/README.md', 'python/README.md'];

/** A heading's text as a pointer names it: without Markdown emphasis and backticks. */
function plain(text: string): string {
  return text.replace(/[`*_]/g, '').replace(/\s+/g, ' ').trim();
}

/** GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped, spaces to -. */
function anchorOf(heading: string): string {
  return heading
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The headings of a Markdown file, outside code fences. */
function headingsOf(text: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = /^#{1,6} (.+?)\s*$/.exec(line);
    if (!fenced && m) out.push(m[1]!);
  }
  return out;
}

/** The file a pointer's name means: README → README.md, DESIGN → docs/DESIGN.md, a bare X.md → docs/X.md. */
function targetOf(name: string, exists: (rel: string) => boolean): string {
  if (name === 'README' || name === 'README.md') return 'README.md';
  if (name === 'DESIGN' || name === 'DESIGN.md') return 'docs/DESIGN.md';
  if (!name.includes('/') && exists(`docs/${name}`)) return `docs/${name}`;
  return name;
}

/**
 * A pointer: a document's name, optionally `'s`, `:` or `,`, then a quoted section name. Line
 * breaks and comment markers between its words are taken as spaces (comments wrap).
 */
const POINTER = /(?<![\w/.-])(README(?:\.md)?|DESIGN(?:\.md)?|(?:[\w.-]+\/)*[\w.-]+\.md)(?:'s)?[:,]?\s+"([^"\n]+)"/g;
const LINK = /\]\(([^)\s]*?)(?:#([^)\s]+))?\)/g;

export interface Files {
  /** A file's text; undefined when there is no such file. */
  read(rel: string): string | undefined;
  /** A file or folder of that path exists. */
  exists(rel: string): boolean;
}

/** Every pointer or link in `sources` that names no heading (or no file), as `file: problem`. */
export function brokenPointers(files: Files, sources: string[], docs: string[]): string[] {
  const headings = new Map<string, string[]>();
  const headingsIn = (rel: string): string[] | undefined => {
    if (!headings.has(rel)) {
      const text = files.read(rel);
      if (text === undefined) return undefined;
      headings.set(rel, headingsOf(text));
    }
    return headings.get(rel);
  };
  const exists = (rel: string) => files.read(rel) !== undefined;
  const problems: string[] = [];
  for (const rel of sources) {
    const raw = files.read(rel)!;
    // A description in a JSON file quotes the section name as `\"…\"`.
    const text = rel.endsWith('.json') ? raw.replace(/\\"/g, '"') : raw;
    // Comment lines joined: `// a\n// b` → `a b`, also for `*` and `#` comments.
    const joined = text.replace(/\s*\n\s*(?:\/\/+|\*(?!\/)|#+)?\s*/g, ' ');
    for (const m of joined.matchAll(POINTER)) {
      if (m[2] === '…') continue; // the form itself, as the docs name it
      const target = targetOf(m[1]!, exists);
      const hs = headingsIn(target);
      const wanted = plain(m[2]!);
      if (hs === undefined) problems.push(`${rel}: ${m[1]} "${m[2]}": there is no file ${target}`);
      else if (!hs.some((h) => plain(h) === wanted)) problems.push(`${rel}: ${m[1]} "${m[2]}": ${target} has no such heading`);
    }
    if (!docs.includes(rel)) continue;
    for (const m of text.matchAll(LINK)) {
      const [, file, anchor] = m;
      if (/^[a-z]+:/i.test(file!)) continue; // http:, mailto:
      const target = file ? path.posix.normalize(path.posix.join(path.posix.dirname(rel), file)) : rel;
      if (file && !files.exists(target)) {
        problems.push(`${rel}: link to ${file}: no such file`);
        continue;
      }
      if (anchor === undefined) continue;
      const hs = headingsIn(target);
      if (hs === undefined || !hs.some((h) => anchorOf(h) === anchor))
        problems.push(`${rel}: link to ${file}#${anchor}: ${target} has no heading with that anchor`);
    }
  }
  return problems;
}

function walk(dir: string, keep: (rel: string) => boolean, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(path.join(repoRoot, dir), { withFileTypes: true })) {
    const rel = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !SKIP_DIRS.has(rel)) walk(rel, keep, out);
    } else if (keep(rel)) out.push(rel);
  }
  return out;
}

const repoFiles: Files = {
  read(rel) {
    const full = path.join(repoRoot, rel);
    return fs.existsSync(full) && fs.statSync(full).isFile() ? fs.readFileSync(full, 'utf8') : undefined;
  },
  exists: (rel) => fs.existsSync(path.join(repoRoot, rel)),
};

describe('pointers to sections of the documents', () => {
  it('every README "…", DESIGN "…" and docs/X.md "…" pointer, and every Markdown anchor link, names a heading that exists', () => {
    // This file holds broken pointers on purpose, as the check's own examples.
    const code = CODE_DIRS.flatMap((d) => walk(d, (rel) => CODE_EXT.test(rel) && rel !== 'test/unit/doc-pointers.test.ts'));
    const schemas = walk('schemas', (rel) => rel.endsWith('.json'));
    const docs = DOCS.flatMap((d) => (d.endsWith('.md') ? [d] : walk(d, (rel) => rel.endsWith('.md'))));
    expect(code.length).to.be.greaterThan(100);
    expect(code).to.include('python/src/tap_scarf/__main__.py');
    expect(code.some((rel) => rel.startsWith('python/src/tap_scarf/node/'))).to.equal(false);
    expect(schemas).to.include('schemas/pixel_events.json');
    expect(docs).to.include.members(['README.md', 'docs/DESIGN.md', 'docs/state.md', 'sim/README.md']);
    for (const rel of [...OTHER_FILES, ...docs]) expect(repoFiles.read(rel), rel).to.be.a('string');
    expect(brokenPointers(repoFiles, [...code, ...schemas, ...OTHER_FILES, ...docs], docs)).to.deep.equal([]);
  });

  it('finds a pointer to a heading that does not exist, across wrapped comment lines, and a dead anchor', () => {
    const files: Record<string, string> = {
      'README.md':
        '# tap\n\n## Quick start\n\n```\n## not a heading\n```\n\nSee [the start](#quick-start), [gone](#gone), ' +
        '[docs](docs/state.md#state-throttling), [lost](docs/lost.md).\n',
      'docs/DESIGN.md': '# Design\n\n## Two CSV paths\n\n### The plan: `--plan`\n',
      'docs/state.md': '# State\n\n## State throttling\n',
      'src/a.ts': [
        '// ok: README "Quick start", docs/DESIGN.md "Two CSV paths", DESIGN "The plan: --plan",',
        '// the README\'s "Quick start", state.md "State throttling".',
        '// broken: docs/DESIGN.md "The window',
        '// runner" and README "not a heading", and docs/nope.md "X".',
      ].join('\n'),
      // A schema's description, as the catalog prints it: the quotes are escaped in the JSON text.
      'schemas/s.json': JSON.stringify({ description: 'See README "Quick start"; the README\'s "Gone" is not there.' }),
    };
    const read: Files = { read: (rel) => files[rel], exists: (rel) => rel in files };
    expect(brokenPointers(read, ['src/a.ts', 'schemas/s.json', 'README.md'], ['README.md'])).to.deep.equal([
      'src/a.ts: docs/DESIGN.md "The window runner": docs/DESIGN.md has no such heading',
      'src/a.ts: README "not a heading": README.md has no such heading',
      'src/a.ts: docs/nope.md "X": there is no file docs/nope.md',
      'schemas/s.json: README "Gone": README.md has no such heading',
      'README.md: link to #gone: README.md has no heading with that anchor',
      'README.md: link to docs/lost.md: no such file',
    ]);
  });
});
