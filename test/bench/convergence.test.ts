// Smoke size of the burst and steady-state benchmark: the machinery runs and measures; the
// speed targets are the bench's business (`npm run bench`), not this test's.
import { expect, it } from "vitest";
import { runBurst } from "./convergence.ts";

it("drives a small burst to Ready and counts steady-state commands against the naive baseline", async () => {
  const { burst, steady } = await runBurst({ sites: 8, servers: 2, timeFactor: 0.001, maxConcurrentReconciles: 8, maxConcurrentOperations: 4, steadyPolls: 6, baselinePolls: 2, timeoutMs: 8_000 });
  expect(burst.sitesPerServer).toEqual([4, 4]);
  expect(burst.seconds).toBeGreaterThan(0);
  expect(burst.boundSeconds).toBeGreaterThan(burst.singleSiteSeconds);
  expect(burst.commandsByName["php-eval:create-site"]).toBe(8);
  expect(burst.singleSiteCommands).toBeGreaterThan(0);
  expect(steady.writes).toBe(0);
  expect(steady.statusPerServerPerPoll).toBeGreaterThan(0);
  expect(steady.baseline.totalPerSitePerPoll).toBeGreaterThan(steady.totalPerSitePerPoll);
}, 15_000);
