// The warm-pool model by hand: single orders whose times are sums of the documented steps, the
// serial queue's order, the delay charged to refills, and the scenario's rows.
import { describe, expect, it } from "vitest";
import { desTimes, sitePoolRows, SITEPOOL_BENCH } from "./sitepool.ts";
import { type DesPolicy, runDesModel } from "./sitepool-model.ts";

const times = desTimes("fast", 45_000);
const policy: DesPolicy = { bounds: { min: 1, max: 1 }, rateWindowMinutes: 60, seesPendingOrders: true, claimsInstallingSpares: false };
const run = (arrivals: number[], p: Partial<DesPolicy> = {}) => runDesModel(arrivals, times, { ...policy, ...p }, () => 0.5);
/** The first progress poll at or after `ms` past the task's queueing. */
const poll = (ms: number) => Math.ceil(ms / times.progressPollMs) * times.progressPollMs;

describe("the warm-pool model", () => {
  it("times a lone order as the sum of its steps, with and without a spare", () => {
    const [off] = run([0], { poolOff: true }).orders;
    expect(off?.queueWaitMs).toBe(times.taskStartDelayMs);
    expect(off?.welcomeMs).toBe(times.placeMs + poll(times.taskStartDelayMs + times.installMs) + times.convergeAfterInstallMs);
    const [on] = run([0], { initialSpares: 1 }).orders;
    expect(on?.claimed).toBe(true);
    expect(on?.welcomeMs).toBe(times.placeMs + poll(times.taskStartDelayMs + 45_000) + times.convergeAfterRenameMs);
    expect(on?.poolDelayMs).toBe(0);
  });

  it("runs one task at a time, oldest first: the n-th order of a burst waits n-1 installs", () => {
    const orders = run([0, 0, 0], { poolOff: true }).orders;
    const step = times.taskStartDelayMs + times.installMs;
    expect(orders.map((o) => o.queueWaitMs)).toEqual([1, 2, 3].map((n) => (n - 1) * step + times.taskStartDelayMs));
  });

  it("charges an order the time a refill held the queue ahead of it", () => {
    // The pool refills at once (empty, target 1); an order arriving 10 s later waits out that install.
    const result = run([10_000], { initialSpares: 0 });
    const [order] = result.orders;
    expect(result.refills).toBeGreaterThanOrEqual(1);
    expect(order?.claimed).toBe(false);
    const refillEnds = times.spareCreateMs + times.taskStartDelayMs + times.installMs;
    expect(order?.poolDelayMs).toBe(refillEnds - (10_000 + times.placeMs));
    expect(order?.queueWaitMs).toBe(order!.poolDelayMs + times.taskStartDelayMs);
  });

  it("with refills suppressed, spends the initial spares and refills nothing", () => {
    const result = run([0, 600_000, 1_200_000], { initialSpares: 1, refillsUntilMs: 0 });
    expect(result.refills).toBe(0);
    expect(result.orders.map((o) => o.claimed)).toEqual([true, false, false]);
  });
});

it("prints the scenario's rows with references and notes", () => {
  const rows = sitePoolRows({ ...SITEPOOL_BENCH, orders: 60, burst: 6, sensitivityMs: [45_000] });
  expect(rows.length).toBe(6 * 3 + 2 + 2 + 4 + 1);
  for (const row of rows) {
    expect(row.scenario).toMatch(/^8 pool/);
    expect(Number.isFinite(row.measured) && Number.isFinite(row.reference)).toBe(true);
  }
}, 20_000);
