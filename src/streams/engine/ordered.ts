// Requests run concurrently, output stays in order. Up to `concurrency` windows are in
// flight; each window's body waits (unread, so TCP backpressure holds it at the kernel's
// socket buffer, not in our memory) until every earlier window has written its records and
// its checkpoint. So STATE only ever covers completed windows, and a sync's output is the
// same whatever the concurrency.

export type Turn = () => Promise<void>;

export async function runInOrder<W>(
  items: W[],
  concurrency: number,
  run: (item: W, waitTurn: Turn) => Promise<void>,
): Promise<void> {
  if (items.length === 0) return;
  const limit = Math.max(1, concurrency);
  // turns[i] resolves when item i may write output; failed[] lets waiting items give up.
  const gates = items.map(() => {
    let open!: () => void;
    let fail!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      open = res;
      fail = rej;
    });
    promise.catch(() => undefined); // a gate nobody awaited must not become an unhandled rejection
    return { promise, open, fail };
  });
  gates[0]!.open();
  let next = 0;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && firstError === undefined) {
      const i = next++;
      try {
        await run(items[i]!, () => gates[i]!.promise);
        // Finishing without having waited for its turn is still only allowed in order.
        await gates[i]!.promise;
        gates[i + 1]?.open();
      } catch (err) {
        if (firstError === undefined) firstError = err;
        for (let j = i + 1; j < gates.length; j++) gates[j]!.fail(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}
