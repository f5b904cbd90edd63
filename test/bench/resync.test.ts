// The re-sync benchmark at smoke size: every drifted order repaired, within the request bound.
import { expect, it } from "vitest";
import { runResyncBench } from "./resync.ts";

it("runs the re-sync benchmark as a function", async () => {
  const r = await runResyncBench({ orders: 40, drift: 2, readRate: 100 });
  expect(r.drifted.repaired).toBe(4);
  expect(r.drifted.reviews).toBe(4);
  expect(r.drifted.requests).toBeLessThanOrEqual(r.drifted.boundRequests);
  expect(r.steady).toMatchObject({ reviews: 0, requests: 1 });
}, 60_000);
