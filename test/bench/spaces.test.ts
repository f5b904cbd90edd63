// Smoke size of the spaces benchmark: the machinery runs and counts; the target is the bench's.
import { expect, it } from "vitest";
import { runSpacesBench } from "./spaces.ts";

it("converges spaces on one shared site and counts the steady commands per space per poll", async () => {
  const r = await runSpacesBench({ spaces: 12, polls: 3 });
  expect(r.steadyWrites).toBe(0);
  expect(r.perSpacePerPoll).toBeCloseTo(1 / 12, 6);
  // Writes update the cached list instead of dropping it: converging N spaces reads it once per
  // half poll (here: within one), not once per space after the previous space's writes.
  expect(r.convergeListReads).toBe(1);
  // Per space: the deep read, create, owner, welcome; once per site: the list and the quota module.
  expect(r.commandsPerNewSpace).toBeCloseTo(4 + 2 / 12, 6);
}, 15_000);
