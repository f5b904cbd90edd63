// The work loop stops promptly even when stop() arrives while a step is running.
import { describe, expect, it } from "vitest";
import { startWorkLoop } from "../../webhook/work-loop.ts";
import { quietLogger } from "./support.ts";

describe("startWorkLoop", () => {
  it("does not wait out its poll interval when stopped during a step", async () => {
    let steps = 0;
    const loop = startWorkLoop({
      name: "test",
      concurrency: 2,
      pollMs: 3_600_000,
      errorPauseMs: 3_600_000,
      logger: quietLogger(),
      step: async () => {
        steps++;
        await new Promise((r) => setTimeout(r, 30));
        return false;
      },
    });
    await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await loop.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(steps).toBe(2);
  });

  it("runs again at once while there is work, and on wake() after idling", async () => {
    let queue = 3;
    let steps = 0;
    const loop = startWorkLoop({
      name: "test",
      concurrency: 1,
      pollMs: 3_600_000,
      errorPauseMs: 3_600_000,
      logger: quietLogger(),
      step: () => {
        steps++;
        return Promise.resolve(queue-- > 0);
      },
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(steps).toBe(4);
    loop.wake();
    await new Promise((r) => setTimeout(r, 20));
    expect(steps).toBe(5);
    await loop.stop();
  });
});
