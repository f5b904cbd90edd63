// The rollout benchmark at smoke size: every site moved, each server's queue kept busy (duration
// near the serial-queue bound) and never more than one task waiting in it.
import { expect, it } from "vitest";
import { runRolloutBench } from "./rollout.ts";

it("moves every site in about the serial-queue bound, one task waiting per server at most", async () => {
  const r = await runRolloutBench({ sites: 40, servers: 2 });
  expect(r).toMatchObject({ sites: 40, migrated: 40, failed: 0 });
  expect(r.maxQueued).toBeLessThanOrEqual(1);
  expect(r.durationSeconds / r.boundSeconds).toBeGreaterThanOrEqual(1);
  expect(r.durationSeconds / r.boundSeconds).toBeLessThan(1.1);
}, 60_000);
