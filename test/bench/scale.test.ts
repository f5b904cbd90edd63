// Smoke size of the scale benchmark: converged sites in the fake API server and simulators, the
// real controller as a child process, sync, RSS, resync writes and spec-change latency measured.
import { expect, it } from "vitest";
import { runScale } from "./scale.ts";

it("starts a controller over pre-converged sites, measures the sync and times spec changes", async () => {
  const r = await runScale({ sites: 12, servers: 2, maxConcurrentReconciles: 4, maxConcurrentOperations: 2, patches: 3, timeoutMs: 8_000 });
  expect(r.syncSeconds).toBeGreaterThan(0);
  expect(r.rssMB).toBeGreaterThan(0);
  expect(r.resyncWrites).toBe(0);
  expect(r.resyncReads).toBeGreaterThanOrEqual(12);
  expect(r.patchesSeen).toBe(3);
  expect(r.patchP99Ms).toBeGreaterThanOrEqual(r.patchP50Ms);
}, 20_000);
