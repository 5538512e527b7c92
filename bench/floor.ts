// The bare floor pipeline the tap is measured against: the same requests to the same
// simulator, papaparse in stream (step) mode, one JSON.stringify per row, written to stdout.
// No typing, no de-duplication, no state, no completeness checks, no ordering: what any
// tap costs at the least with these libraries on this machine.
//
//   node dist/bench/floor.js <base_url> <token> <owner> <start_day> <end_day> [concurrency]
//
// Windows are one UTC day each (the tap's default events_window_days), read in order.
import Papa from 'papaparse';
import { request } from 'undici';

const [baseUrl, token, owner, startDay, endDay] = process.argv.slice(2);
if (!baseUrl || !token || !owner || !startDay || !endDay) {
  process.stderr.write('usage: floor.js <base_url> <token> <owner> <start_day> <end_day>\n');
  process.exit(2);
}

function days(start: string, end: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(start + 'T00:00:00Z'); t <= Date.parse(end + 'T00:00:00Z'); t += 86_400_000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

let rows = 0;
let bytes = 0;

async function readDay(day: string): Promise<void> {
  const url = `${baseUrl}/v2/packages/${encodeURIComponent(owner!)}/events?start_date=${day}&end_date=${day}`;
  const res = await request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } });
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
  res.body.on('data', (c: Buffer) => (bytes += c.length));
  await new Promise<void>((resolve, reject) => {
    Papa.parse(res.body as unknown as NodeJS.ReadableStream as unknown as File, {
      header: true,
      skipEmptyLines: true,
      step(result: Papa.ParseStepResult<Record<string, string>>) {
        rows++;
        process.stdout.write(JSON.stringify({ type: 'RECORD', stream: 'events', record: result.data }) + '\n');
      },
      complete: () => resolve(),
      error: (err: Error) => reject(err),
    });
  });
}

const t0 = performance.now();
for (const day of days(startDay, endDay)) await readDay(day);
const secs = (performance.now() - t0) / 1000;
process.stderr.write(`floor: ${rows} rows, ${bytes} bytes in ${secs.toFixed(2)} s (${Math.round(rows / secs)} rows/s)\n`);
