// The warm-pool model by hand: single orders whose times are sums of the documented steps, the
// serial queue's order, the delay charged to refills, and the scenario's rows.
import { describe, expect, it } from "vitest";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import type { AegirSimulator } from "../harness/aegir/index.ts";
import type { CommandRecord } from "../harness/aegir/stats.ts";
import { PoolRig, sitePool } from "../sitepool/rig.ts";
import { calibrationRows, CONVERGE_AFTER_INSTALL, CONVERGE_AFTER_RENAME, desTimes, sitePoolRows, SITEPOOL_BENCH, type Step } from "./sitepool.ts";
import { type DesPolicy, runDesModel } from "./sitepool-model.ts";

const times = desTimes("fast", 45_000);
const policy: DesPolicy = { bounds: { min: 1, max: 1 }, rateWindowMinutes: 60, seesPendingOrders: true, claimReadsFresh: false };
const run = (arrivals: number[], p: Partial<DesPolicy> = {}) => runDesModel(arrivals, times, { ...policy, ...p }, () => 0.5);
/**
 * When a lone order's task, queued at `queuedAt` and done at `done`, is seen: the status is read a
 * command after the queueing write, then every cache age; the waiter looks at its next poll after.
 */
function seen(queuedAt: number, done: number): number {
  let fetch = queuedAt + times.statusReadMs;
  while (fetch < done) fetch += times.statusCacheMaxAgeMs;
  return queuedAt + Math.ceil((fetch - queuedAt) / times.progressPollMs) * times.progressPollMs;
}

describe("the warm-pool model", () => {
  it("times a lone order as the sum of its steps, with and without a spare", () => {
    const [off] = run([0], { poolOff: true }).orders;
    expect(off?.queueWaitMs).toBe(times.taskStartDelayMs);
    expect(off?.welcomeMs).toBe(seen(times.placeMs, times.placeMs + times.taskStartDelayMs + times.installMs) + times.convergeAfterInstallMs);
    // Seen at the read of 123 s (3 s + 4 x 30 s), at the poll of 127 s.
    expect(seen(times.placeMs, times.placeMs + times.taskStartDelayMs + times.installMs)).toBe(127_000);
    const [on] = run([0], { initialSpares: 1, refillsUntilMs: 0 }).orders;
    expect(on?.claimed).toBe(true);
    expect(on?.welcomeMs).toBe(seen(times.placeMs, times.placeMs + times.taskStartDelayMs + 45_000) + times.convergeAfterRenameMs);
    expect(on?.poolDelayMs).toBe(0);
  });

  it("a claim that looks when its rename is due sees it at that look, or a second-by-second look after", () => {
    // Queued at 2 s (placed), started after the 1 s pause: looks at 7, 13, ..., 43 s (each a 1 s
    // read, the next look timed from its end), then at the due time 2 + 46 s, whose read sees the end at 48 s.
    const due = runDesModel([0], times, { ...policy, claimLooksWhenDue: true, initialSpares: 1, refillsUntilMs: 0 }, () => 0.5);
    expect(due.orders[0]?.welcomeMs).toBe(48_000 + times.convergeAfterRenameMs);
    expect(due.renameReads).toEqual([8]);
    expect(due.renameReadsEveryPoll).toEqual([8]);
    // A 50 s rename ends at 53 s: after the due look, looks at 50 and 52 s (a read each) and the
    // second sees it; looking every poll only, 43 s, 49 s and 55 s.
    const slow = runDesModel([0], desTimes("fast", 50_000), { ...policy, claimLooksWhenDue: true, initialSpares: 1, refillsUntilMs: 0 }, () => 0.5);
    expect(slow.orders[0]?.welcomeMs).toBe(52_000 + times.convergeAfterRenameMs);
    expect(slow.renameReads).toEqual([10]);
    expect(slow.renameReadsEveryPoll).toEqual([9]);
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

/** The commands the simulator runs from now on, as steps: a command that starts while the step's last is still running joins it. */
function recordSteps(sim: AegirSimulator): () => Step[] {
  const groups: CommandRecord[][] = [];
  const stop = sim.stats.onCommand((record) => {
    const current = groups.at(-1);
    if (current !== undefined && current.some((r) => r.outcome === "running")) current.push(record);
    else groups.push([record]);
  });
  return () => {
    stop();
    return groups.map((g) => (g.length === 1 ? (g[0] as CommandRecord).name : g.map((r) => r.name)));
  };
}

/** Steps up to and including the welcome mail. */
const untilWelcome = (steps: Step[]) => steps.slice(0, steps.indexOf("php-eval:welcome-mail") + 1);

describe("the convergence lists the model sums are what the controllers run", () => {
  // The order of the calibration, on the controllers with the manager's 30 s status cache; the
  // rig runs Aegir's tasks when told, so the look after the task ended is the one that sees it.
  const order = { owner: { email: "owner@order-0.sites.example.com", name: "owner" }, features: ["oa_wiki"] };

  it("after an install: the status read, the deep and tracker reads at once, one pass to the welcome mail", async () => {
    const rig = new PoolRig([]);
    const cache = new ServerStatusCache({ fetch: () => rig.driver.serverStatus(), now: () => rig.now.getTime(), maxAgeMs: 30_000 });
    const replica = rig.replica(cache);
    rig.order("order-0", order);
    await replica.reconcile(rig.site("order-0"));
    expect(rig.sim.stats.count("php-eval:create-site")).toBe(1);
    rig.sim.drainTasks();
    rig.advance(5_000);
    const steps = recordSteps(rig.sim);
    await replica.reconcile(rig.site("order-0"));
    expect(untilWelcome(steps())).toEqual(CONVERGE_AFTER_INSTALL);
  });

  it("after a rename: the claim's status read (handed on), the scrub, then the same", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    await rig.fillPool();
    const cache = new ServerStatusCache({ fetch: () => rig.driver.serverStatus(), now: () => rig.now.getTime(), maxAgeMs: 30_000 });
    const replica = rig.replica(cache);
    rig.order("order-0", order);
    await replica.reconcile(rig.site("order-0"));
    expect(rig.spares()[0]?.claimedBy).toBe("customers/order-0");
    rig.sim.drainTasks();
    rig.advance(5_000);
    const steps = recordSteps(rig.sim);
    await replica.reconcile(rig.site("order-0"));
    expect(untilWelcome(steps())).toEqual(CONVERGE_AFTER_RENAME);
  });
});

describe("refills by clone in the model", () => {
  const clonePolicy: Partial<DesPolicy> = { bounds: { min: 1, max: 2 }, refill: "Clone" };

  const classic = desTimes("classic", 45_000);
  const runClassic = (arrivals: number[], p: Partial<DesPolicy>) => runDesModel(arrivals, classic, { ...policy, ...clonePolicy, ...p }, () => 0.5);

  it("copies a ready spare while two others stay ready; with fewer it installs, unless an install takes over two clones", () => {
    // Four spares kept: one order takes the first, the refill copies the newest of the other three.
    expect(run([0], { ...clonePolicy, bounds: { min: 4, max: 4 }, initialSpares: 4 })).toMatchObject({ refills: 1, clones: 1 });
    // Three kept: two are left ready, and a second order during the copy would have to take its source.
    const three = run([0], { ...clonePolicy, bounds: { min: 3, max: 3 }, initialSpares: 3 });
    expect([three.refills, three.clones]).toEqual([1, 0]);
    // Two kept (the clone floor): one is left ready, its copy would block the next order's rename.
    const two = run([0], { ...clonePolicy, initialSpares: 2 });
    expect([two.refills, two.clones, two.targets]).toEqual([1, 0, [2]]);
    // With 15-minute installs the copy of the last one is still far sooner.
    expect(runClassic([0], { initialSpares: 2 })).toMatchObject({ refills: 1, clones: 1 });
    const installs = run([0], { ...clonePolicy, initialSpares: 1, refill: "Install" });
    expect([installs.refills, installs.clones]).toEqual([1, 0]);
  });

  it("a claim takes the source of a clone under way only when no other spare is ready, and its rename waits for the clone", () => {
    // 15-minute installs: order 0 takes spare 0; once its rename is done the refill copies spare 1,
    // the only one ready; order 1 comes during that clone and has to take spare 1: its rename is
    // refused until the clone ends.
    const result = runClassic([0, 60_000], { initialSpares: 2 });
    const [first, second] = result.orders;
    // Both refills clone: spare 1 first, then the copy of it.
    expect([first?.claimed, second?.claimed, result.clones]).toEqual([true, true, 2]);
    expect(first?.poolDelayMs).toBe(0);
    // Charged to the pool: the time from the refused rename to the clone's end (and the next poll).
    expect(second!.poolDelayMs).toBeGreaterThan(0);
    expect(second!.poolDelayMs).toBeLessThanOrEqual(classic.spareCloneMs(0.5) + classic.progressPollMs);
    expect(second!.welcomeMs).toBeGreaterThan(first!.welcomeMs);
  });

  /**
   * Four spares, refills clone: order 0's claim leaves three ready, the refill copies the newest;
   * orders 1 and 2 come while that clone runs and take the other two. `p` on top of that policy.
   */
  const duringAClone = (p: Partial<DesPolicy> = {}) => run([0, 60_000, 61_000], { ...clonePolicy, bounds: { min: 4, max: 4 }, initialSpares: 4, ...p });

  it("beside refills: a claim's rename queued behind a refill starts at once, one at a time; contention slows both", () => {
    const behind = duringAClone();
    const beside = duringAClone({ besideRefills: true });
    const slowed = duringAClone({ besideRefills: true, besideSlowdown: 2 });
    expect(behind.orders[1]!.poolDelayMs).toBeGreaterThan(0);
    expect(beside.orders[1]).toMatchObject({ claimed: true, poolDelayMs: 0 });
    // Its queue-task, then run-task-beside (one command) starts it.
    expect(beside.orders[1]!.queueWaitMs).toBe(times.statusReadMs);
    expect(beside.orders[1]!.welcomeMs).toBeLessThan(behind.orders[1]!.welcomeMs);
    // Order 2 waits for order 1's rename (a customer's), not for the refill: never two claims beside one refill.
    expect(beside.orders[2]!.queueWaitMs).toBeGreaterThan(40_000);
    expect(beside.orders[2]!.poolDelayMs).toBe(0);
    expect(beside.orders[2]!.welcomeMs).toBeLessThan(behind.orders[2]!.welcomeMs);
    // Both run at half speed while they overlap: the rename takes longer, and so does the clone.
    expect(slowed.orders[1]!.welcomeMs).toBeGreaterThan(beside.orders[1]!.welcomeMs);
    expect(slowed.orders[1]!.poolDelayMs).toBe(0);
  });

  it("refills in the background: hosting-queued stays the customers'; a rename queued during a refill starts at the daemon's pause, slowed, not delayed", () => {
    // Without run-task-beside.
    const daemon = duringAClone();
    const background = duringAClone({ refillsInBackground: true });
    const contended = duringAClone({ refillsInBackground: true, besideSlowdown: 2 });
    expect(daemon.orders[1]!.poolDelayMs).toBeGreaterThan(0);
    for (const order of background.orders) expect(order.poolDelayMs).toBe(0);
    // Its queue-task returns, then hosting-queued's pause; order 2 waits for order 1's rename only.
    expect(background.orders[1]!.queueWaitMs).toBe(times.taskStartDelayMs);
    expect(background.orders[2]!.queueWaitMs).toBeLessThan(times.spareMigrateMs(0.5) + 2 * times.taskStartDelayMs);
    expect(background.orders[2]!.welcomeMs).toBeLessThan(daemon.orders[2]!.welcomeMs);
    // The refill and order 1's rename share the server: under contention the rename takes longer, which shows as slowed, not waited.
    expect(background.orders[1]!.slowedMs).toBe(0);
    expect(contended.orders[1]!.slowedMs).toBeGreaterThan(0);
    expect(contended.orders[1]!.queueWaitMs).toBe(times.taskStartDelayMs);
    expect(contended.orders[1]!.poolDelayMs).toBe(0);
    expect(contended.orders[1]!.welcomeMs).toBeGreaterThan(background.orders[1]!.welcomeMs);
  });
});

it("calibrates the model against the real controllers on the simulated Aegir", async () => {
  const rows = await calibrationRows(SITEPOOL_BENCH, { timeFactor: 0.01, timeoutMs: 60_000 });
  expect(rows.map((r) => r.scenario)).toEqual([
    expect.stringMatching(/calibration.*pool on:/),
    expect.stringMatching(/calibration.*pool off/),
    expect.stringMatching(/calibration.*pool on, 15 min installs/),
    expect.stringMatching(/burst, real controllers/),
  ]);
  // Loose here (a loaded machine stretches the real run); the bench holds it to the tolerance.
  for (const row of rows.slice(0, 3)) expect(row.measured).toBeLessThan(0.5);
  expect(rows[3]?.measured).toBeGreaterThan(0);
}, 180_000);

it("prints the scenario's rows with references and notes", () => {
  const rows = sitePoolRows({ ...SITEPOOL_BENCH, orders: 60, burst: 6, sensitivityMs: [45_000] });
  // The matrix, the three targets, the status reads, the bursts, refill by clone vs install (2 rates x 2 installers x 3), the steps, the contention and migrate sensitivity.
  expect(rows.length).toBe(6 * 3 + 3 + 1 + 2 + 12 + 10 + 2 + 1);
  for (const row of rows) {
    expect(row.scenario).toMatch(/^8 pool/);
    expect(Number.isFinite(row.measured) && Number.isFinite(row.reference)).toBe(true);
  }
}, 20_000);
