// Smoke size of the spaces benchmark: the machinery runs and counts; the target is the bench's.
import { expect, it } from "vitest";
import { runSpacesBench } from "./spaces.ts";

it("converges spaces on one shared site and counts the steady commands per space per poll", async () => {
  const r = await runSpacesBench({ spaces: 12, polls: 3 });
  expect(r.steadyWrites).toBe(0);
  expect(r.perSpacePerPoll).toBeCloseTo(1 / 12, 6);
  expect(r.commandsPerNewSpace).toBeGreaterThan(0);
}, 15_000);
