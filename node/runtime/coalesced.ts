/**
 * One run of `run` at a time, each call answered by a run that started after it was made: calls made
 * while a run is under way share the next one. So N callers during a slow run cost one more run, not
 * N queued behind each other — the embedded chain's state write, whose time grows with the chain,
 * is asked for after every relayed transaction and must never fall further and further behind.
 * (Written here: a dozen lines, and the libraries that debounce or serialize calls either drop
 * calls or run each one.)
 */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let waiting: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const p: Promise<void> = run().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };
  return () => {
    if (waiting) return waiting;
    if (!running) return start();
    const w = running.catch(() => undefined).then(() => {
      waiting = undefined;
      return start();
    });
    waiting = w;
    return w;
  };
}
