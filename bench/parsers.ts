// Parse-only comparison of CSV parsers on one events body in memory: papaparse's core
// parser as src/scarf/csv-rows.ts drives it, papaparse's public step mode, and csv-parse
// (not a dependency: `npm install --no-save csv-parse` first, or it is skipped).
//
//   node dist/bench/parsers.js <events.csv> [passes]
import fs from 'node:fs';
import { Readable } from 'node:stream';

import Papa from 'papaparse';

import { readCsv } from '../src/scarf/csv-rows.js';

const CHUNK = 64 * 1024;

async function* chunks(buf: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += CHUNK) yield buf.subarray(i, i + CHUNK);
}

type Parse = (body: Buffer) => Promise<number>;

const parsers: Record<string, Parse> = {
  'papaparse core Parser (readCsv)': async (body) => (await readCsv(chunks(body), { onHeader() {}, onRow() {} })).rows,
  'papaparse step mode (stream)': (body) =>
    new Promise((resolve, reject) => {
      let n = 0;
      Papa.parse(Readable.from(chunks(body)) as unknown as File, {
        step: () => void n++,
        complete: () => resolve(n - 1),
        error: reject,
      });
    }),
};

async function withCsvParse(): Promise<void> {
  const name = 'csv-parse';
  try {
    const mod = (await import(name)) as { parse: (opts: Record<string, unknown>) => NodeJS.ReadWriteStream };
    parsers['csv-parse (stream)'] = async (body) => {
      let n = 0;
      const p = mod.parse({ relax_column_count: false });
      const done = new Promise<void>((resolve, reject) => p.on('end', resolve).on('error', reject));
      p.on('data', () => void n++);
      Readable.from(chunks(body)).pipe(p as unknown as NodeJS.WritableStream);
      await done;
      return n - 1;
    };
  } catch {
    process.stderr.write('csv-parse is not installed (npm install --no-save csv-parse): skipped\n');
  }
}

export async function compareParsers(body: Buffer, passes = 3): Promise<{ parser: string; rows: number; rowsPerSec: number }[]> {
  await withCsvParse();
  const out: { parser: string; rows: number; rowsPerSec: number }[] = [];
  for (const [parser, parse] of Object.entries(parsers)) {
    let best = Infinity;
    let rows = 0;
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      rows = await parse(body);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    out.push({ parser, rows, rowsPerSec: Math.round(rows / best) });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: parsers.js <events.csv> [passes]\n');
    process.exit(2);
  }
  for (const r of await compareParsers(fs.readFileSync(file), Number(process.argv[3] ?? 3))) {
    console.log(`${r.parser.padEnd(34)} ${String(r.rows).padStart(8)} rows  ${String(r.rowsPerSec).padStart(8)} rows/s`);
  }
}
