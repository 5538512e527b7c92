// Download-only comparison of the HTTP clients a tap could use, against the simulator
// serving a cached body: undici (Pool.request, what src/scarf/client.ts uses), undici's
// fetch, and node:http with a keep-alive agent. Each body is read the way the tap reads it
// (async iteration, one chunk at a time) and with 'data' events.
//
//   node dist/bench/http-clients.js <base_url> <token> <owner> <day> [repeats]
//
// Reports MB/s, mean chunk size and the RSS the process ends with (a fresh process per
// client, so module and WebAssembly code are counted).
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export interface ClientResult {
  client: string;
  mbPerSec: number;
  meanChunkKB: number;
  rssMB: number;
}

const CLIENTS = [
  'undici-pool-iterate',
  'undici-pool-data',
  'undici-fetch-iterate',
  'node-http-iterate',
  'node-http-data',
] as const;

async function once(client: string, url: URL, headers: Record<string, string>): Promise<{ bytes: number; chunks: number }> {
  let bytes = 0;
  let chunks = 0;
  const count = (c: Uint8Array) => {
    bytes += c.length;
    chunks++;
  };
  if (client.startsWith('undici-pool')) {
    const { Pool } = await import('undici');
    const g = globalThis as unknown as { benchPool?: InstanceType<typeof Pool> };
    g.benchPool ??= new Pool(url.origin, { connections: 1 });
    const res = await g.benchPool.request({ path: url.pathname + url.search, method: 'GET', headers });
    if (client.endsWith('iterate')) for await (const c of res.body) count(c as Buffer);
    else await new Promise<void>((resolve, reject) => res.body.on('data', count).on('end', resolve).on('error', reject));
  } else if (client === 'undici-fetch-iterate') {
    const { fetch } = await import('undici');
    const res = await fetch(url, { headers });
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) count(c);
  } else {
    const g = globalThis as unknown as { benchAgent?: http.Agent };
    g.benchAgent ??= new http.Agent({ keepAlive: true, maxSockets: 1 });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(url, { headers, agent: g.benchAgent }, resolve).on('error', reject),
    );
    if (client.endsWith('iterate')) for await (const c of res) count(c as Buffer);
    else await new Promise<void>((resolve, reject) => res.on('data', count).on('end', resolve).on('error', reject));
  }
  return { bytes, chunks };
}

async function child(client: string, url: URL, token: string, repeats: number): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, accept: 'text/csv' };
  await once(client, url, headers); // warm-up: connection, JIT
  let bytes = 0;
  let chunks = 0;
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) {
    const r = await once(client, url, headers);
    bytes += r.bytes;
    chunks += r.chunks;
  }
  const secs = (performance.now() - t0) / 1000;
  const res: ClientResult = {
    client,
    mbPerSec: bytes / 1e6 / secs,
    meanChunkKB: bytes / chunks / 1024,
    rssMB: process.memoryUsage().rss / 1e6,
  };
  process.stdout.write(JSON.stringify(res) + '\n');
  process.exit(0);
}

export function compareClients(baseUrl: string, token: string, owner: string, day: string, repeats = 5): ClientResult[] {
  const out: ClientResult[] = [];
  for (const client of CLIENTS) {
    const r = spawnSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', client, baseUrl, token, owner, day, String(repeats)],
      { encoding: 'utf8' },
    );
    const line = r.stdout.trim().split('\n').pop();
    if (r.status !== 0 || !line) throw new Error(`http-clients ${client} failed: ${r.stderr.slice(-500)}`);
    out.push(JSON.parse(line) as ClientResult);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [, client, baseUrl, token, owner, day, repeats] = args;
    const url = new URL(`${baseUrl}/v2/packages/${encodeURIComponent(owner!)}/events?start_date=${day}&end_date=${day}`);
    await child(client!, url, token!, Number(repeats));
  } else {
    const [baseUrl, token, owner, day, repeats] = args;
    if (!baseUrl || !token || !owner || !day) {
      process.stderr.write('usage: http-clients.js <base_url> <token> <owner> <day> [repeats]\n');
      process.exit(2);
    }
    for (const r of compareClients(baseUrl, token, owner, day, Number(repeats ?? 5))) {
      console.log(
        `${r.client.padEnd(22)} ${r.mbPerSec.toFixed(0).padStart(5)} MB/s  chunks ${r.meanChunkKB.toFixed(1).padStart(6)} KB  RSS ${r.rssMB.toFixed(0)} MB`,
      );
    }
  }
}
