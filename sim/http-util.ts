// Small helpers for writing responses with backpressure and for cancellable waits.

import type { ServerResponse } from 'node:http';

/** Writes a chunk, waiting for 'drain' when the socket buffer is full. False once the client is gone. */
export function write(res: ServerResponse, chunk: string | Buffer): Promise<boolean> | boolean {
  if (res.destroyed) return false;
  if (res.write(chunk)) return true;
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed);
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes the last bytes and calls `then` once they have left Node's buffers (so a cut lands exactly there). */
export function flushThen(res: ServerResponse, chunk: string, then: () => void): void {
  const sock = res.socket;
  const after = () => {
    if (!sock || sock.destroyed) return then();
    if (sock.writableLength === 0) return then();
    sock.once('drain', then);
  };
  if (chunk.length > 0) res.write(chunk, after);
  else after();
}

/** Sleeps, waking early (false) when `res` closes. */
export function sleep(ms: number, res?: ServerResponse): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!res?.destroyed);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      res?.off('close', onClose);
      resolve(true);
    }, ms);
    const onClose = () => {
      clearTimeout(t);
      resolve(false);
    };
    res?.once('close', onClose);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
