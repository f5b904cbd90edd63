// The pool controller: the size rule, refills one at a time and only on an idle queue, recycling.
import { describe, expect, it } from "vitest";
import { serverPoolSummary } from "../../reconcilers/sitepool/server-summary.ts";
import { holeDistribution, poolSize, RATE_UPPER_Z, sizingRate } from "../../reconcilers/sitepool/size.ts";
import { openAtriumPlatform } from "../harness/aegir/index.ts";
import { PLATFORM, PoolRig, sitePool } from "./rig.ts";

const NEXT = "platform_openatrium2653";

/** A pool (min 0) on a server where 10 sites were ordered just now, installed already (they wait for nothing), after one reconcile. */
async function ordered(installSeconds: number, max = 3): Promise<PoolRig> {
  const rig = new PoolRig([sitePool({ size: { min: 0, max }, installSeconds })]);
  for (let i = 0; i < 10; i++) {
    const store = rig.order(`o${i}`, { server: "aegir-1" });
    await store.updateStatus(store.site, { server: "aegir-1", platform: PLATFORM });
  }
  for (let i = 0; i < 10; i++) await rig.driver.createSite({ uri: `o${i}.sites.example.com`, platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" });
  rig.sim.drainTasks();
  await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
  return rig;
}

describe("poolSize", () => {
  const cycle = { renameSeconds: 45, refillSeconds: 120 };

  it("follows the M/D/1 queue of holes: P(0) = 1 - load, P(1) = (1 - load)(e^load - 1), P(2) in closed form", () => {
    const load = 0.46;
    const p = holeDistribution(load, 20);
    expect(p[0]).toBeCloseTo(1 - load, 10);
    expect(p[1]).toBeCloseTo((1 - load) * (Math.exp(load) - 1), 10);
    expect(p[2]).toBeCloseTo((1 - load) * (Math.exp(2 * load) - Math.exp(load) * (1 + load)), 10);
    expect(p.reduce((sum, x) => sum + x, 0)).toBeCloseTo(1, 6);
  });

  it("keeps the smallest pool in which 99 % of orders find a spare, a hole costing one rename and one refill", () => {
    const bounds = { min: 0, max: 20 };
    expect(poolSize(0, cycle, bounds)).toMatchObject({ target: 0, reason: "Covered" });
    // 2/h: no hole open 90.8 % of the time, at most one 99.5 %.
    expect(poolSize(2, cycle, bounds)).toMatchObject({ target: 2, reason: "Covered" });
    expect(poolSize(10, cycle, bounds)).toMatchObject({ target: 4, reason: "Covered" });
    expect(poolSize(2, { renameSeconds: 45, refillSeconds: 900 }, bounds)).toMatchObject({ target: 5, reason: "Covered" });
    // Shorter refills, fewer spares.
    expect(poolSize(10, { renameSeconds: 45, refillSeconds: 30 }, bounds).target).toBe(3);
  });

  it("stays at min when renames and refills would need more than the queue's time", () => {
    // 30/h x (45 + 120) s = 1.375 of the queue: refills never catch up, every spare only adds a rename.
    expect(poolSize(30, cycle, { min: 1, max: 20 })).toMatchObject({ target: 1, reason: "Overloaded" });
    expect(poolSize(30, cycle, { min: 1, max: 20 }).load).toBeCloseTo(1.375, 10);
  });

  it("clamps to min and max", () => {
    expect(poolSize(0, cycle, { min: 2, max: 4 })).toMatchObject({ target: 2 });
    expect(poolSize(2, { renameSeconds: 45, refillSeconds: 900 }, { min: 0, max: 4 })).toMatchObject({ target: 4, reason: "AtMax" });
  });
});

describe("sizingRate", () => {
  it("no orders, no spares: a rate of 0 stays 0, whatever the window", () => {
    expect(sizingRate(0, 60)).toBe(0);
    expect(sizingRate(0, 15)).toBe(0);
  });

  it("sizes for the upper 90 % bound of the window's count: 10/h over 60 min is 10 + 1.28 √10 + 1.28²/2 per hour", () => {
    expect(RATE_UPPER_Z).toBe(1.28);
    expect(sizingRate(10, 60)).toBeCloseTo(10 + 1.28 * Math.sqrt(10) + (1.28 * 1.28) / 2, 10);
    expect(sizingRate(10, 60)).toBeCloseTo(14.87, 2);
    // The same rate over half the window is half the count, a wider bound relative to it: 5 orders, per hour.
    expect(sizingRate(10, 30)).toBeCloseTo(2 * (5 + 1.28 * Math.sqrt(5) + (1.28 * 1.28) / 2), 10);
    expect(sizingRate(10, 30)).toBeGreaterThan(sizingRate(10, 60));
    // Always above the count itself.
    for (const rate of [0.5, 1, 10, 100]) expect(sizingRate(rate, 60)).toBeGreaterThan(rate);
  });

  it("a pool with 10 orders in its window gets a bigger target than poolSize(10) alone; its status still reports 10/h", async () => {
    const cycle = { renameSeconds: 45, refillSeconds: 100 };
    const bounds = { min: 0, max: 20 };
    const rig = await ordered(100, bounds.max);
    const status = rig.pools.pool("aegir-1-openatrium").status;
    expect(poolSize(10, cycle, bounds).target).toBe(4);
    expect(poolSize(sizingRate(10, 60), cycle, bounds).target).toBe(6);
    expect(status).toMatchObject({ orderRatePerHour: 10, target: 6, installSeconds: 100 });
  });
});

describe("SitePool reconciler", () => {
  it("installs spares one at a time up to min, with the baseline features, then reports them ready", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 2, max: 4 } })]);
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    // The record comes first, one install only.
    expect(rig.spares()).toEqual([expect.objectContaining({ state: "Installing" })]);
    expect(rig.sim.hostmaster.pendingTasks(rig.sim.site(rig.spares()[0]!.domain)!.nid)).toHaveLength(1);
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.spares()).toHaveLength(1);

    await rig.fillPool();
    const status = rig.pools.pool("aegir-1-openatrium").status;
    expect(status).toMatchObject({ target: 2, ready: 2, installing: 0, claimed: 0, refills: 2 });
    expect(status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "Full" });
    for (const spare of rig.spares()) {
      expect(spare.domain).toMatch(/^spare-[0-9a-f]{6}-[0-9a-f]{10}\.pool\.invalid$/);
      expect(rig.sim.site(spare.domain)?.drupal?.modules).toContain("oa_wiki");
      expect(rig.sim.site(spare.domain)?.platform).toBe(rig.sim.hostmaster.context(PLATFORM));
    }
    expect(rig.refills).toBe(2);
  });

  it("waits while a customer's task is queued or an order is about to queue one, and never runs two installs", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 2, max: 2 } })]);
    await rig.driver.createSite({ uri: "busy.example.com", platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" });
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.spares()).toEqual([]);
    expect(rig.pools.pool("aegir-1-openatrium").status?.conditions?.[0]).toMatchObject({ reason: "RefillWaiting", message: "Waiting: the task queue is busy" });
    rig.sim.drainTasks();

    const order = rig.order("acme");
    await order.updateStatus(order.site, { server: "aegir-1" });
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.spares()).toEqual([]);
    expect(rig.pools.pool("aegir-1-openatrium").status?.conditions?.[0]?.message).toMatch(/1 order\(s\) about to queue a task/);
  });

  it("does not refill in front of an order not placed yet, nor of a claim whose rename is not queued yet", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    // Just created: no server in its spec or status yet, but this server serves its profile.
    rig.order("acme");
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.spares()).toEqual([]);
    expect(rig.pools.pool("aegir-1-openatrium").status?.conditions?.[0]?.message).toMatch(/1 order\(s\) about to queue a task/);
    // An order for a profile the server does not serve is not waiting for it.
    rig.sites.delete("acme");
    rig.order("other", { profile: "standard" });
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.spares()).toHaveLength(1);
    rig.sites.delete("other");
    await rig.fillPool();

    // A claim written, the spare's rename not queued: its queue-task comes next, not a refill.
    const [spare] = rig.spares();
    rig.order("globex", { server: "aegir-1" });
    const pool = rig.pools.pool("aegir-1-openatrium");
    await rig.pools.updateStatus(pool, { ...pool.status, spares: [{ ...spare!, state: "Claimed", claimedBy: "customers/globex", claimedAt: rig.now.toISOString() }] });
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.spares().map((s) => s.domain)).toEqual([spare!.domain]);
    expect(rig.pools.pool("aegir-1-openatrium").status?.conditions?.[0]?.message).toMatch(/1 order\(s\) about to queue a task/);
  });

  it("writes spares ready/target into the AegirServer's status.pool, summed over its pools, only when it changes", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 2, max: 2 } }), sitePool({ size: { min: 1, max: 1 }, server: "aegir-2" }, "elsewhere")]);
    await rig.fillPool();
    expect(rig.serverPoolWrites.at(-1)).toEqual({ ready: 2, target: 2, spares: "2/2" });
    expect(rig.servers[0]?.status?.pool?.spares).toBe("2/2");
    const writes = rig.serverPoolWrites.length;
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.serverPoolWrites).toHaveLength(writes);
    // A claim takes one: 1/2 until the refill.
    rig.order("acme");
    await rig.replica().reconcile(rig.site("acme"));
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.servers[0]?.status?.pool).toEqual({ ready: 1, target: 2, spares: "1/2" });
    // Another server's pool does not count, and a server that does not exist gets nothing.
    expect(serverPoolSummary("aegir-1", rig.pools.list(), rig.pools.pool("elsewhere"))?.target).toBe(2);
    expect(serverPoolSummary("aegir-9", rig.pools.list(), rig.pools.pool("elsewhere"))).toBeUndefined();
  });

  it("sizes the pool to the order rate's upper bound within max; an overloaded queue gets no spares", async () => {
    // 10 orders in the hour, 2-minute installs: sized for 14.9/h (load 68 %), more spares than max.
    const rig = await ordered(120);
    expect(rig.pools.pool("aegir-1-openatrium").status).toMatchObject({ orderRatePerHour: 10, target: 3, installSeconds: 120, renameSeconds: 45 });
    // An hour later nobody ordered: back to min.
    rig.advance(61 * 60_000);
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.pools.pool("aegir-1-openatrium").status).toMatchObject({ orderRatePerHour: 0, target: 0 });

    // 5-minute installs: the orders counted keep 96 % of the queue busy; the rate they may hide
    // (14.9/h) would need more than the whole queue: the pool keeps max.
    expect(poolSize(10, { renameSeconds: 45, refillSeconds: 300 }, { min: 0, max: 3 }, 14.9)).toMatchObject({ target: 3, reason: "AtMax" });
    const bounded = (await ordered(300)).pools.pool("aegir-1-openatrium").status;
    expect(bounded).toMatchObject({ orderRatePerHour: 10, target: 3 });

    // 15-minute installs: the orders counted already need more than the queue has (the load of the observed rate).
    const slow = (await ordered(900)).pools.pool("aegir-1-openatrium").status;
    expect(slow).toMatchObject({ orderRatePerHour: 10, target: 0 });
    const ready = slow?.conditions?.find((c) => c.type === "Ready");
    expect(ready?.reason).toBe("Overloaded");
    expect(ready?.message).toMatch(/busy 263 % of the time/);
  });

  it("adopts a spare without a record only when a fresh read still shows it (another replica's claim took it meanwhile)", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    await rig.fillPool();
    const [spare] = rig.spares();
    // A second replica's cached status, read while the spare was still a spare.
    const stale = rig.staleCache();
    await stale.get("aegir-1");
    // Meanwhile the first replica's claim renamed it into a customer's site and dropped its record.
    await rig.driver.queueTask(spare!.domain, "migrate", { targetPlatform: PLATFORM, newUri: "acme.sites.example.com" });
    rig.sim.drainTasks();
    const pool = rig.pools.pool("aegir-1-openatrium");
    await rig.pools.updateStatus(pool, { ...pool.status, spares: [] });
    await rig.newPoolReconciler(stale).reconcile(rig.pools.pool("aegir-1-openatrium"));
    // No record of the renamed spare (it would have waited, "Installing", for a site that is gone).
    expect(rig.spares().map((s) => s.domain)).not.toContain(spare!.domain);
  });

  it("recycles spares of a platform the pool no longer uses (an upgrade), then refills on the new one", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    await rig.fillPool();
    const [old] = rig.spares();
    rig.sim.hostmaster.addPlatform(openAtriumPlatform({ name: NEXT, extraRoles: ["manager"] }));
    const server = rig.servers[0]!;
    rig.servers = [{ ...server, spec: { ...server.spec, platforms: [...server.spec.platforms, { name: NEXT, profile: "openatrium", ownerRole: "manager" }] } }];
    rig.pools.editSpec("aegir-1-openatrium", (spec) => (spec.platform = NEXT));
    await rig.fillPool();
    expect(await rig.liveSpares()).not.toContain(old!.domain);
    expect(rig.spares()).toEqual([expect.objectContaining({ state: "Ready" })]);
    expect(rig.sim.site(rig.spares()[0]!.domain)?.platform).toBe(rig.sim.hostmaster.context(NEXT));
  });

  it("discards a spare whose install failed and installs another; a delete Aegir fails is not retried forever", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    rig.sim.faults.failTask({ type: "install" });
    await rig.fillPool();
    // provision-delete cannot back up a site whose install rolled back: the record stays for a person.
    expect(rig.spares().map((s) => s.state).sort()).toEqual(["Discarding", "Ready"]);
    expect(rig.pools.pool("aegir-1-openatrium").status).toMatchObject({ ready: 1, installing: 0 });
    expect(rig.refills).toBe(2);
    const deletes = [...rig.sim.hostmaster.tasks.values()].filter((t) => t.type === "delete");
    expect(deletes).toHaveLength(1);
  });

  it("adopts a spare whose record was lost (status wiped) instead of leaking it", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    await rig.fillPool();
    const [spare] = rig.spares();
    const pool = rig.pools.pool("aegir-1-openatrium");
    await rig.pools.updateStatus(pool, {});
    await rig.fillPool();
    expect(rig.spares()).toEqual([expect.objectContaining({ domain: spare!.domain, state: "Ready" })]);
    expect(await rig.liveSpares()).toEqual([spare!.domain]);
  });

  it("drops a record whose install never reached Aegir (a crash between record and call), after the settle time", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    const pool = rig.pools.pool("aegir-1-openatrium");
    await rig.pools.updateStatus(pool, { spares: [{ domain: "spare-000000-0000000000.pool.invalid", state: "Installing", createdAt: rig.now.toISOString() }] });
    await rig.pool.reconcile(rig.pools.pool("aegir-1-openatrium"));
    expect(rig.spares()).toHaveLength(1);
    rig.advance(11 * 60_000);
    await rig.fillPool();
    expect(rig.spares()).toEqual([expect.objectContaining({ state: "Ready" })]);
    expect(rig.spares()[0]?.domain).not.toBe("spare-000000-0000000000.pool.invalid");
  });
});
