// Buckets a V8 .cpuprofile (node --cpu-prof) of a tap run by pipeline stage, by self time.
//
//   node dist/bench/profile.js <file.cpuprofile> [--top N]
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface StageShare {
  stage: string;
  ms: number;
  percent: number;
}

/** Which stage a function's self time belongs to, by its file (and name for shared files). */
function stageOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(idle)') return 'idle (waiting for data or output)';
  if (fn === '(program)') return 'other';
  if (fn === 'runMicrotasks' || url.includes('task_queues')) return 'promises and ticks';
  if (url.includes('papaparse')) return 'CSV parse';
  if (url.endsWith('/scarf/csv-rows.js')) return 'CSV parse';
  if (url.endsWith('/scarf/csv-fast/values.js')) return 'typing';
  if (url.includes('/scarf/csv-fast/')) return 'CSV → JSON text (fast path)';
  if (url.endsWith('/scarf/convert.js') || url.endsWith('/scarf/row-typer.js')) return 'typing';
  if (url.endsWith('/streams/engine/fetch.js')) return fn === 'onRow' ? 'typing' : 'de-duplication';
  if (url.endsWith('/protocol/singer.js') || url.endsWith('/protocol/airbyte.js')) return 'serialisation';
  if (url.endsWith('/sync.js') && fn === 'sink.record') return 'serialisation';
  if (
    url.endsWith('/protocol/output.js') ||
    ['writeBuffer', 'writeUtf8String', 'utf8Write', 'createUnsafeBuffer', 'FastBuffer', 'writeSync'].includes(fn) ||
    url === 'node:buffer' ||
    url.startsWith('node:fs') ||
    url.includes('internal/fs/')
  ) {
    return 'write';
  }
  if (url.includes('string_decoder')) return 'download (HTTP, body, UTF-8 decode)';
  if (
    url.includes('undici') ||
    url.includes('streams/readable') ||
    url.includes('node:net') ||
    url.includes('body.js') ||
    fn === 'onStreamRead'
  )
    return 'download (HTTP, body, UTF-8 decode)';
  if (
    url.includes('modules/') ||
    url.includes('loader') ||
    url.includes('bootstrap/') ||
    fn === 'compileSourceTextModule' ||
    fn === 'internalModuleStat' ||
    fn === 'readFileUtf8'
  )
    return 'start-up (module loading)';
  return 'other';
}

export function summarizeProfile(
  file: string,
  top = 15,
): {
  totalMs: number;
  stages: StageShare[];
  functions: { fn: string; ms: number; percent: number }[];
  other: { fn: string; ms: number; percent: number }[];
} {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const stages = new Map<string, number>();
  const fns = new Map<string, number>();
  const other = new Map<string, number>();
  let total = 0;
  for (const n of p.nodes) {
    const ms = (selfUs.get(n.id) ?? 0) / 1000;
    if (ms === 0) continue;
    total += ms;
    const { functionName, url, lineNumber } = n.callFrame;
    const stage = stageOf(functionName, url);
    stages.set(stage, (stages.get(stage) ?? 0) + ms);
    const name = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|dist)\//, '').replace(/^file:\/\//, '')}:${lineNumber + 1}`;
    fns.set(name, (fns.get(name) ?? 0) + ms);
    if (stage === 'other') other.set(name, (other.get(name) ?? 0) + ms);
  }
  const pct = (ms: number) => Math.round((ms / total) * 1000) / 10;
  return {
    totalMs: Math.round(total),
    stages: [...stages].sort((a, b) => b[1] - a[1]).map(([stage, ms]) => ({ stage, ms: Math.round(ms), percent: pct(ms) })),
    functions: [...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, ms]) => ({ fn, ms: Math.round(ms), percent: pct(ms) })),
    other: [...other]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([fn, ms]) => ({ fn, ms: Math.round(ms), percent: pct(ms) })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: profile.js <file.cpuprofile> [--top N]\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  const s = summarizeProfile(file, i > 0 ? Number(process.argv[i + 1]) : 15);
  console.log(`total ${s.totalMs} ms sampled`);
  for (const x of s.stages) console.log(`${x.percent.toFixed(1).padStart(5)} %  ${String(x.ms).padStart(6)} ms  ${x.stage}`);
  console.log('--- top functions (self time)');
  for (const x of s.functions) console.log(`${x.percent.toFixed(1).padStart(5)} %  ${String(x.ms).padStart(6)} ms  ${x.fn}`);
  console.log('--- largest in "other"');
  for (const x of s.other) console.log(`${x.percent.toFixed(1).padStart(5)} %  ${String(x.ms).padStart(6)} ms  ${x.fn}`);
}
