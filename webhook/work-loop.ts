// Runs a unit of work over and over on N lanes: immediately again while there is work, else
// after a poll interval or an in-process wake-up. Errors (database down...) are logged and the
// lane pauses; the loop itself never dies.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../common/logger.ts";

export interface WorkLoop {
  /** Work just arrived in this process: stop waiting for the poll interval. */
  wake(): void;
  /** Finishes the units in progress, then resolves. */
  stop(): Promise<void>;
}

export interface WorkLoopOptions {
  name: string;
  concurrency: number;
  pollMs: number;
  errorPauseMs: number;
  logger: Logger;
  /** Does one unit of work; resolves false when there was none. */
  step: () => Promise<boolean>;
}

export function startWorkLoop(options: WorkLoopOptions): WorkLoop {
  let stopping = false;
  const stopController = new AbortController();
  let wakers: (() => void)[] = [];

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      // stop() may have run while the step was in progress: its abort event is already gone.
      if (stopController.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakers = wakers.filter((w) => w !== done);
        resolve();
      }
      wakers.push(done);
      stopController.signal.addEventListener("abort", done, { once: true });
    });

  const lane = async () => {
    while (!stopping) {
      let worked: boolean;
      try {
        worked = await options.step();
      } catch (error) {
        options.logger.warn({ loop: options.name, err: error instanceof Error ? error.message : String(error) }, "work loop step failed");
        await sleep(options.errorPauseMs, undefined, { signal: stopController.signal }).catch(() => undefined);
        continue;
      }
      if (!worked) await idle(options.pollMs);
    }
  };
  const lanes = Array.from({ length: options.concurrency }, () => lane());

  return {
    wake() {
      for (const w of wakers) w();
    },
    async stop() {
      stopping = true;
      stopController.abort();
      await Promise.all(lanes);
    },
  };
}
