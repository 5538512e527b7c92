// `npm run demo`: the tap against the bundled simulator, no Scarf account needed. A full
// sync, then an incremental one from its state, with a per-stream summary of each.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ScarfSimulator } from '../sim/index.js';
import { packageRoot } from '../src/paths.js';

/** The last Singer STATE value: only the bookmark shapes the summary prints. */
interface DemoState {
  bookmarks?: Record<string, { partitions?: unknown[]; replication_key_value?: string } | undefined>;
}

interface RunResult {
  counts: Map<string, number>;
  state: DemoState | undefined;
  stderr: string;
  code: number | null;
}

function runTap(args: string[], outFile: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(packageRoot, 'bin', 'tap-scarf.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = fs.createWriteStream(outFile);
    const counts = new Map<string, number>();
    let state: DemoState | undefined;
    let rest = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out.write(chunk);
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line) continue;
        const m = JSON.parse(line) as { type: string; stream: string; value: DemoState };
        if (m.type === 'RECORD') counts.set(m.stream, (counts.get(m.stream) ?? 0) + 1);
        if (m.type === 'STATE') state = m.value;
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      out.end();
      resolve({ counts, state, stderr, code });
    });
  });
}

function summary(title: string, run: RunResult, sim: ScarfSimulator): void {
  const requests = new Map<string, number>();
  for (const r of sim.requests) requests.set(r.endpoint, (requests.get(r.endpoint) ?? 0) + 1);
  console.log(`\n${title} (exit ${run.code})`);
  console.log('  stream          records  requests  bookmark');
  const endpointOf: Record<string, string> = {
    events: 'events',
    aggregates: 'aggregates',
    company_rollup: 'company-rollup',
    company_events: 'company-events',
  };
  for (const stream of ['events', 'aggregates', 'company_rollup', 'company_events']) {
    const bm = run.state?.bookmarks?.[stream];
    const mark = bm?.partitions ? `${bm.partitions.length} company partitions` : (bm?.replication_key_value ?? '-');
    console.log(
      `  ${stream.padEnd(15)} ${String(run.counts.get(stream) ?? 0).padStart(7)}  ${String(requests.get(endpointOf[stream]!) ?? 0).padStart(8)}  ${mark}`,
    );
  }
  console.log(`  total API requests (Scarf Runs): ${sim.requests.length}`);
}

async function main(): Promise<void> {
  const dir = path.join(packageRoot, '.tap-scarf-demo');
  fs.mkdirSync(dir, { recursive: true });
  const sim = new ScarfSimulator({ seed: 42 });
  const url = await sim.start();
  console.log(`Scarf API simulator on ${url} (owner acme-oss); files in ${path.relative(process.cwd(), dir) || '.'}/`);
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(
    config,
    JSON.stringify(
      { api_token: 'sim-token', owner: 'acme-oss', base_url: url, aggregates_breakdowns: ['by-total', 'by-country'] },
      null,
      2,
    ),
  );
  try {
    const full = await runTap(['--config', config], path.join(dir, 'full-sync.jsonl'));
    summary('Full sync (default start_date: 31 days ago)', full, sim);
    if (full.code !== 0) throw new Error(full.stderr);
    const state = path.join(dir, 'state.json');
    fs.writeFileSync(state, JSON.stringify(full.state, null, 2));
    sim.resetRequests();
    const inc = await runTap(['--config', config, '--state', state], path.join(dir, 'incremental-sync.jsonl'));
    summary('Incremental sync from that state (re-reads only the lookback)', inc, sim);
    if (inc.code !== 0) throw new Error(inc.stderr);
    fs.writeFileSync(state, JSON.stringify(inc.state, null, 2));
    console.log(`\nSinger output: ${path.join(dir, 'full-sync.jsonl')}, state: ${state}`);
  } finally {
    await sim.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
