// User agents as registries and browsers really send them: pip's embeds JSON (quotes and
// commas), browsers' carry commas, a few are kilobytes long or hold CR/LF.

import type { Rng } from './prng.js';
import type { ArtifactKind } from './universe.js';

export type Client = 'npm' | 'pip' | 'docker' | 'browser' | 'curl' | 'wget' | 'other';

function npmUa(r: Rng): string {
  const npm = r.pick(['9.8.1', '10.2.4', '10.8.2']);
  const node = r.pick(['v18.19.0', 'v20.11.1', 'v22.3.0']);
  const os = r.pick(['linux x64', 'darwin arm64', 'win32 x64']);
  return `npm/${npm} node/${node} ${os} workspaces/false${r.chance(0.3) ? ' ci/github-actions' : ''}`;
}

function pipUa(r: Rng): string {
  const py = r.pick(['3.10.12', '3.11.4', '3.12.1']);
  const pip = r.pick(['23.3.1', '24.0']);
  return (
    `pip/${pip} {"ci":${r.chance(0.4) ? 'true' : 'null'},"cpu":"${r.pick(['x86_64', 'aarch64'])}",` +
    `"distro":{"name":"Ubuntu","version":"22.04"},"implementation":{"name":"CPython","version":"${py}"},` +
    `"installer":{"name":"pip","version":"${pip}"},"python":"${py}","system":{"name":"Linux","release":"5.15.0"}}`
  );
}

function dockerUa(r: Rng): string {
  const v = r.pick(['24.0.7', '25.0.3', '26.1.1']);
  return `docker/${v} go/go1.21.5 git-commit/${r.pick(['afdd53b', '311b9ff'])} kernel/5.15.0 os/linux arch/${r.pick(['amd64', 'arm64'])} UpstreamClient(Docker-Client/${v} \\(linux\\))`;
}

function browserUa(r: Rng): string {
  return r.pick([
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "GSA/300.0"',
  ]);
}

function fileUa(r: Rng): [string, Client] {
  return r.pick<[string, Client]>([
    ['curl/8.4.0', 'curl'],
    ['curl/7.81.0 "patched"', 'curl'],
    ['Wget/1.21.2', 'wget'],
    ['Go-http-client/1.1', 'other'],
  ]);
}

/** Draws a user agent; always consumes the same number of draws so later fields stay stable. */
export function userAgent(r: Rng, kind: ArtifactKind): { ua: string; client: Client } {
  const special = r.next();
  const padLen = 2048 + r.int(6144);
  let ua: string;
  let client: Client;
  switch (kind) {
    case 'npm':
      ua = npmUa(r);
      client = 'npm';
      break;
    case 'pypi':
      ua = pipUa(r);
      client = 'pip';
      break;
    case 'docker':
      ua = dockerUa(r);
      client = 'docker';
      break;
    case 'file':
      [ua, client] = fileUa(r);
      break;
    default:
      ua = browserUa(r);
      client = 'browser';
  }
  if (special < 0.005) {
    // Multi-kilobyte agents exist (bots appending whole config blobs); keep a comma and quotes in.
    let blob = ` (extensions: "a,b"; `;
    while (blob.length < padLen) blob += `ext-${blob.length.toString(36)}=enabled; `;
    ua = ua + blob + ')';
  } else if (special < 0.008) {
    ua = `${ua}\r\nX-Forwarded-Client: "proxy, inc"`;
  } else if (special < 0.011) {
    ua = `${ua}\nsecond line`;
  }
  return { ua, client };
}
