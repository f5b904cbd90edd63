// Time for the simulator: read and scheduled through one object so tests can swap in vitest's
// fake timers (the default looks the globals up at call time, so fake timers installed after
// the simulator was built still apply).

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Run fn after ms; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * Wait ms on the clock. Zero waits resolve without a timer so unit tests need not advance
 * fake time; an abort rejects with the signal's reason.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      cancel();
      reject(signal?.reason as Error);
    };
    const cancel = clock.schedule(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Unix seconds, as Drupal and Aegir store times. */
export function unixTime(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
