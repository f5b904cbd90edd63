// Refills by clone: a ready spare is copied instead of installing a new one, its source is handed
// out last, the copy is claimed as clean as an installed spare, and where Aegir refuses clones
// (hosting_clone off) the pool installs and says so.
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { SitePoolMetrics } from "../../controller/sitepool-metrics.ts";
import type { Spare } from "../../crds/sitepool.ts";
import type { HostedSiteReconciler } from "../../reconcilers/hostedsite/reconciler.ts";
import { keepsTemplate } from "../../reconcilers/sitepool/claim.ts";
import { planPool } from "../../reconcilers/sitepool/plan.ts";
import type { SpareView } from "../../reconcilers/sitepool/spares.ts";
import { PoolRig, sitePool } from "./rig.ts";

const POOL = "aegir-1-openatrium";

/**
 * Timings as observed on a server with the classic installer: an install takes over two clones, so
 * a refill may copy the only ready spare (keepsTemplate → the planner's cloneLastSpare) and a claim
 * of the last spare gets a copy of it. The zero-latency simulator shows no durations of its own
 * (its tasks take 0 s), so what is written stays.
 */
const SLOW_INSTALLS = { installSeconds: 900, cloneSeconds: 100 };

/** Write observed timings into the pool's status, as the pool reconciler keeps them. */
async function observed(rig: PoolRig, timings: { installSeconds: number; cloneSeconds?: number }): Promise<void> {
  const pool = rig.pools.pool(POOL);
  await rig.pools.updateStatus(pool, { ...pool.status, ...timings });
}

/** A pool filled to `size` ready spares; `timings` are written into its status before the first refill. */
async function filled(size: number, refill: "Clone" | "Install" = "Clone", timings?: { installSeconds: number; cloneSeconds?: number }): Promise<PoolRig> {
  const rig = new PoolRig([sitePool({ size: { min: size, max: size }, refill })]);
  if (timings !== undefined) await observed(rig, timings);
  await rig.fillPool();
  expect(rig.spares().filter((s) => s.state === "Ready")).toHaveLength(size);
  return rig;
}

/** Every spare domain of the zone the site still names: node aliases, variables, accounts, contexts. */
function zoneTraces(rig: PoolRig, domain: string): string[] {
  const node = rig.sim.site(domain);
  const drupal = node?.drupal;
  const spare = /spare-[0-9a-f]+-[0-9a-f]+\.pool\.invalid/;
  return [
    ...(node?.aliases.filter((a) => spare.test(a)) ?? []),
    ...[...(drupal?.variables ?? [])].filter(([, v]) => spare.test(JSON.stringify(v))).map(([k]) => `variable ${k}`),
    ...[...(drupal?.users.values() ?? [])].filter((u) => spare.test(u.name) || spare.test(u.mail)).map((u) => `user ${u.name}`),
  ];
}

/**
 * An order takes the oldest spare and the pool starts copying a ready one (the newest: beside
 * another ready spare, or the only one where an install takes over two clones); then the `orders`
 * come together (one reconcile each). `ready`: the ready spares when they come, the copy's source
 * among them. `copyMade`: the clone has run before they come, and the pool has not looked since, so
 * the copy's record still says Installing.
 */
async function ordersDuringACopy(rig: PoolRig, orders: readonly string[], copyMade = false): Promise<{ copy: Spare | undefined; ready: string[]; replica: HostedSiteReconciler }> {
  rig.order("first");
  await rig.converge("first");
  await rig.pool.reconcile(rig.pools.pool(POOL));
  if (copyMade) rig.sim.drainTasks();
  const copy = rig.spares().find((s) => s.state === "Installing");
  expect(copy?.source).toBeDefined();
  const ready = rig.spares().filter((s) => s.state === "Ready").map((s) => s.domain);
  expect(ready).toContain(copy?.source);
  for (const name of orders) rig.order(name);
  const replica = rig.replica();
  for (const name of orders) await replica.reconcile(rig.site(name));
  return { copy, ready, replica };
}

describe("refill by clone", () => {
  it("where an install takes over two clones, installs the first spare, then copies the newest ready one: the copy has the baseline, the source stays a spare", async () => {
    // Slow installs: the only ready spare may be copied, so every refill after the first clones.
    const rig = await filled(3, "Clone", SLOW_INSTALLS);
    const [a, b, c] = rig.spares();
    expect(rig.tasksOf(a!.domain)).toEqual(["install", "clone"]);
    // The newest ready spare is the source: the second clone copies the first clone.
    expect(rig.tasksOf(b!.domain)).toEqual(["clone"]);
    expect(rig.tasksOf(c!.domain)).toEqual([]);
    expect([b!.source, c!.source]).toEqual([a!.domain, b!.domain]);
    // Enabling the baseline on a copy finds it enabled already.
    expect(rig.sim.site(c!.domain)?.drupal?.modules).toEqual(rig.sim.site(a!.domain)?.drupal?.modules);
    expect(rig.refillKinds).toEqual(["Install", "Clone", "Clone"]);
    const status = rig.pools.pool(POOL).status;
    expect(status).toMatchObject({ refills: 3, clones: 2, ready: 3 });
    expect(status?.conditions?.find((c) => c.type === "RefillByClone")).toMatchObject({ status: "True", reason: "Cloning" });
  });

  it("at fast installs, copies a ready spare only while two others are ready: fills by three Installs, then a Clone of the newest", async () => {
    const rig = await filled(4);
    // The zero-latency simulator shows no durations: the spec's 120 s install takes less than two assumed 300 s clones, so the last ready spare is never copied.
    expect(keepsTemplate(rig.pools.pool(POOL))).toBe(false);
    const [a, b, c, d] = rig.spares();
    expect(rig.refillKinds).toEqual(["Install", "Install", "Install", "Clone"]);
    expect([a, b, c, d].map((s) => s!.source)).toEqual([undefined, undefined, undefined, c!.domain]);
    expect([a, b, c, d].map((s) => rig.tasksOf(s!.domain))).toEqual([["install"], ["install"], ["install", "clone"], []]);
    expect(rig.pools.pool(POOL).status).toMatchObject({ refills: 4, clones: 1, ready: 4 });
    // A claim leaves three ready: the refill copies the newest of them, two stay for the next orders.
    rig.order("acme");
    await rig.converge("acme");
    await rig.fillPool();
    const e = rig.spares().at(-1);
    expect(rig.refillKinds).toEqual(["Install", "Install", "Install", "Clone", "Clone"]);
    expect(e?.source).toBe(d!.domain);
    // Two more claims before the pool looks again leave two ready spares: neither is copied.
    for (const name of ["beta", "gamma"]) {
      rig.order(name);
      await rig.converge(name);
    }
    expect(rig.spares().filter((s) => s.state === "Ready")).toHaveLength(2);
    await rig.pool.reconcile(rig.pools.pool(POOL));
    expect(rig.refillKinds.at(-1)).toBe("Install");
    expect(rig.spares().at(-1)?.source).toBeUndefined();
    expect(rig.claims).toHaveLength(3);
  });

  it("refill: Install never clones", async () => {
    const rig = await filled(2, "Install");
    expect(rig.spares().map((s) => rig.tasksOf(s.domain))).toEqual([["install"], ["install"]]);
    expect(rig.pools.pool(POOL).status?.conditions?.find((c) => c.type === "RefillByClone")).toMatchObject({ status: "False", reason: "InstallRequested" });
  });

  it("keeps a second spare to copy from when it clones (within max); one when it installs", async () => {
    const cloning = new PoolRig([sitePool({ size: { min: 1, max: 2 } })]);
    await cloning.fillPool();
    expect(cloning.pools.pool(POOL).status).toMatchObject({ target: 2, ready: 2 });
    const installing = new PoolRig([sitePool({ size: { min: 1, max: 2 }, refill: "Install" })]);
    await installing.fillPool();
    expect(installing.pools.pool(POOL).status).toMatchObject({ target: 1, ready: 1 });
    const capped = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    await capped.fillPool();
    expect(capped.pools.pool(POOL).status).toMatchObject({ target: 1, ready: 1 });
  });

  it("on a hostmaster without hosting_clone: the clone is refused, the condition says so, and the pool installs", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 2, max: 2 } })]);
    rig.disableClone();
    // Slow installs: the second refill would copy the first spare.
    await observed(rig, SLOW_INSTALLS);
    await rig.fillPool();
    expect(rig.spares().map((s) => rig.tasksOf(s.domain))).toEqual([["install"], ["install"]]);
    expect(rig.spares().every((s) => s.source === undefined)).toBe(true);
    const status = rig.pools.pool(POOL).status;
    const condition = status?.conditions?.find((c) => c.type === "RefillByClone");
    expect(condition).toMatchObject({ status: "False", reason: "CloneRefused" });
    expect(condition?.message).toMatch(/hosting_clone/);
    // The refused clone is not counted as a refill.
    expect(status).toMatchObject({ refills: 2, clones: 0, ready: 2 });
    expect(rig.refillKinds).toEqual(["Install", "Install"]);
  });

  it("a clone that fails leaves nothing half-made: its record goes and the next refill clones again", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 2, max: 2 } })]);
    rig.sim.faults.failTask({ type: "clone" });
    // Slow installs: the second refill copies the first spare (the first copy fails).
    await observed(rig, SLOW_INSTALLS);
    await rig.fillPool();
    const [a, b] = rig.spares();
    expect(rig.spares()).toHaveLength(2);
    expect(rig.tasksOf(a!.domain)).toEqual(["install", "clone", "clone"]);
    expect(b!.source).toBe(a!.domain);
    expect((await rig.liveSpares()).sort()).toEqual([a!.domain, b!.domain].sort());
    expect(rig.refillKinds).toEqual(["Install", "Clone", "Clone"]);
  });
});

describe("claims and clones", () => {
  it("a claim takes another ready spare than the source of a clone under way", async () => {
    const rig = await filled(2);
    const [first, second] = rig.spares();
    // A clone of the first (oldest) spare under way, as the pool records it before queueing it.
    const copy = "spare-aaaaaa-0000000000.pool.invalid";
    const pool = rig.pools.pool(POOL);
    await rig.pools.updateStatus(pool, { ...pool.status, spares: [...rig.spares(), { domain: copy, state: "Installing", createdAt: rig.now.toISOString(), source: first!.domain }] });
    await rig.driver.queueTask(first!.domain, "clone", { targetPlatform: sitePool().spec.platform, newUri: copy });
    rig.order("acme");
    await rig.replica().reconcile(rig.site("acme"));
    expect(rig.spares().find((s) => s.claimedBy !== undefined)?.domain).toBe(second!.domain);
  });

  it("when the source is the only ready spare, the claim takes it and its rename follows the clone", async () => {
    // Slow installs: the second spare is a copy of the first, and a refill may copy the one spare left.
    const rig = await filled(2, "Clone", SLOW_INSTALLS);
    const [, second] = rig.spares();
    rig.order("first");
    await rig.converge("first");
    // The pool refills by copying the one spare left.
    await rig.pool.reconcile(rig.pools.pool(POOL));
    const clone = rig.spares().find((s) => s.state === "Installing");
    expect(clone?.source).toBe(second!.domain);
    rig.order("acme");
    const replica = rig.replica();
    await replica.reconcile(rig.site("acme"));
    expect(rig.spares().find((s) => s.claimedBy?.endsWith("/acme"))?.domain).toBe(second!.domain);
    await rig.converge("acme", replica);
    // The spare was a copy itself (no install of its own); the clone of it ran first, then the rename.
    expect(rig.tasksOf("acme.sites.example.com")).toEqual(["clone", "migrate"]);
    expect(zoneTraces(rig, "acme.sites.example.com")).toEqual([]);
  });

  it("with no spare ready, an order takes the copy Aegir is making and waits for it instead of installing", async () => {
    // The copy is made beside two other ready spares: four orders during it leave none ready for the fourth.
    const rig = await filled(4);
    const orders = ["beta", "gamma", "delta", "epsilon"];
    const { copy, ready, replica } = await ordersDuringACopy(rig, orders);
    const others = ready.filter((d) => d !== copy?.source);
    // beta and gamma have the spares that are no source, delta the source, epsilon the copy still being made.
    const taken = (name: string) => rig.spares().find((s) => s.claimedBy?.endsWith(`/${name}`))?.domain;
    expect(orders.map(taken)).toEqual([...others, copy?.source, copy?.domain]);
    expect(rig.site("epsilon").status?.conditions?.find((c) => c.type === "Installed")).toMatchObject({ reason: "ClaimingSpare", message: expect.stringMatching(/clone task/) as unknown });
    for (const name of orders) await rig.converge(name, replica);
    // Nothing was installed for any of them: beta's spare is an install, gamma's the install a copy
    // was made of (delta's), delta's rename followed the copy made of it, epsilon's copy has its rename alone.
    expect(orders.map((n) => rig.tasksOf(`${n}.sites.example.com`))).toEqual([["install", "migrate"], ["install", "clone", "migrate"], ["clone", "migrate"], ["migrate"]]);
    for (const name of orders) expect(zoneTraces(rig, `${name}.sites.example.com`)).toEqual([]);
    expect(rig.claims).toHaveLength(5);
  });

  it("a copy made but not given its baseline yet is claimed as a spare, not passed over for an install", async () => {
    const rig = await filled(4);
    const orders = ["beta", "gamma", "delta", "epsilon"];
    const { copy, ready, replica } = await ordersDuringACopy(rig, orders, true);
    expect(rig.spares().filter((s) => s.claimedBy !== undefined).map((s) => s.domain).sort()).toEqual([...ready, copy!.domain].sort());
    const taker = rig.spares().find((s) => s.domain === copy!.domain)?.claimedBy?.split("/")[1];
    expect(orders).toContain(taker);
    for (const name of orders) await rig.converge(name, replica);
    for (const name of orders) {
      expect(rig.tasksOf(`${name}.sites.example.com`)).toContain("migrate");
      expect(zoneTraces(rig, `${name}.sites.example.com`)).toEqual([]);
    }
    // The copy carries the baseline from its source, although the pool never enabled it on the copy.
    expect(rig.sim.site(`${taker}.sites.example.com`)?.drupal?.modules).toContain("oa_wiki");
  });

  it("a claim on a copy whose clone fails is void: the site installs as usual", async () => {
    const rig = await filled(2);
    rig.order("first");
    await rig.converge("first");
    await rig.pool.reconcile(rig.pools.pool(POOL));
    rig.order("beta");
    rig.order("gamma");
    const replica = rig.replica();
    await replica.reconcile(rig.site("beta"));
    await replica.reconcile(rig.site("gamma"));
    rig.sim.faults.failTask({ type: "clone" });
    await rig.converge("gamma", replica);
    expect(rig.tasksOf("gamma.sites.example.com")).toEqual(["install"]);
    expect(rig.spares().some((s) => s.claimedBy?.endsWith("/gamma"))).toBe(false);
  });

  it("where an install takes far longer than a clone, the last spare stays: the order gets a copy of it", async () => {
    const rig = await filled(1);
    const [last] = rig.spares();
    // As observed on a server with the classic installer.
    const pool = rig.pools.pool(POOL);
    await rig.pools.updateStatus(pool, { ...pool.status, installSeconds: 900, cloneSeconds: 100 });
    rig.order("acme");
    const replica = rig.replica();
    await replica.reconcile(rig.site("acme"));
    const copy = rig.spares().find((s) => s.claimedBy?.endsWith("/acme"));
    expect(copy).toMatchObject({ state: "Claimed", source: last!.domain });
    // The order's own clone task, on the spare that stays.
    expect(rig.tasksOf(last!.domain)).toEqual(["install", "clone"]);
    await rig.converge("acme", replica);
    expect(rig.tasksOf("acme.sites.example.com")).toEqual(["migrate"]);
    expect(zoneTraces(rig, "acme.sites.example.com")).toEqual([]);
    expect(rig.spares()).toEqual([expect.objectContaining({ domain: last!.domain, state: "Ready" })]);
    expect(await rig.liveSpares()).toEqual([last!.domain]);
  });

  it("the last spare still being made is kept too: the order gets a copy of the copy once it exists", async () => {
    const rig = await filled(2);
    const pool = rig.pools.pool(POOL);
    await rig.pools.updateStatus(pool, { ...pool.status, installSeconds: 900, cloneSeconds: 100 });
    const { copy: underWay, replica } = await ordersDuringACopy(rig, ["beta", "gamma"]);
    // beta took the ready source; gamma, with only the copy under way left, waits for a copy of it.
    expect(rig.spares().find((s) => s.claimedBy?.endsWith("/beta"))?.domain).toBe(underWay?.source);
    expect(rig.spares().find((s) => s.claimedBy?.endsWith("/gamma"))).toMatchObject({ source: underWay?.domain });
    await rig.converge("beta", replica);
    await rig.converge("gamma", replica);
    expect(rig.tasksOf(underWay!.domain)).toEqual(["clone"]);
    expect(rig.tasksOf("gamma.sites.example.com")).toEqual(["migrate"]);
    expect(zoneTraces(rig, "gamma.sites.example.com")).toEqual([]);
    expect(await rig.liveSpares()).toEqual([underWay!.domain]);
  });

  it("where a clone is not much shorter than an install (as seen, or assumed before one was), the last spare is handed out", async () => {
    // Before any clone was seen, one is assumed to take ASSUMED_CLONE_SECONDS (300 s): 500 s installs are not worth it.
    for (const timing of [{ installSeconds: 120, cloneSeconds: 100 }, { installSeconds: 500 }]) {
      const rig = await filled(1);
      const [last] = rig.spares();
      const pool = rig.pools.pool(POOL);
      await rig.pools.updateStatus(pool, { ...pool.status, ...timing });
      rig.order("acme");
      await rig.converge("acme");
      // The spare itself was renamed (its install and the rename), nothing was cloned.
      expect(rig.tasksOf("acme.sites.example.com")).toEqual(["install", "migrate"]);
      expect(await rig.liveSpares()).not.toContain(last!.domain);
    }
  });

  it("a claimed clone, and a claimed clone of a clone, keep no trace of any placeholder", async () => {
    const rig = await filled(1, "Install");
    const [a] = rig.spares();
    // What a spare's own pages leave in its database (a page cache naming it): a copy carries it on.
    rig.sim.site(a!.domain)?.drupal?.variables.set("cache_page_front", `http://${a!.domain}/node`);
    rig.pools.editSpec(POOL, (spec) => {
      spec.refill = "Clone";
    });
    // The pool takes the switch in (RefillByClone True) before it grows: the next refill may clone.
    await rig.fillPool();
    expect(rig.pools.pool(POOL).status?.conditions?.find((c) => c.type === "RefillByClone")).toMatchObject({ status: "True" });
    // Slow installs: a refill copies the newest ready spare, the only one too.
    await observed(rig, SLOW_INSTALLS);
    rig.pools.editSpec(POOL, (spec) => {
      spec.size = { min: 2, max: 2 };
    });
    await rig.fillPool();
    const b = rig.spares()[1];
    expect(b!.source).toBe(a!.domain);
    rig.sim.site(b!.domain)?.drupal?.variables.set("cache_page_front", `http://${b!.domain}/node`);
    rig.pools.editSpec(POOL, (spec) => {
      spec.size = { min: 3, max: 3 };
    });
    await rig.fillPool();
    const c = rig.spares()[2];
    expect(c!.source).toBe(b!.domain);
    // The clone of a clone names both spares before it: a's (site_name) and b's (its cached page).
    const named = JSON.stringify([...(rig.sim.site(c!.domain)?.drupal?.variables ?? [])]);
    expect([named.includes(a!.domain), named.includes(b!.domain)]).toEqual([true, true]);

    const nodes = [a, b, c].map((s) => rig.sim.site(s!.domain)?.nid);
    const orders = ["acme", "beta", "gamma"];
    for (const name of orders) {
      rig.order(name);
      await rig.converge(name);
      // The pool refills between orders (copies of its newest spare), so no order finds the last
      // spare, which slow installs keep (it would get a copy): each takes the oldest itself.
      await rig.fillPool();
    }
    // Each took a spare (no install): the installed one, the clone, the clone of a clone, in that order.
    expect(orders.map((n) => rig.sim.site(`${n}.sites.example.com`)?.nid)).toEqual(nodes);
    expect(orders.map((n) => rig.tasksOf(`${n}.sites.example.com`).includes("migrate"))).toEqual([true, true, true]);
    // None names any spare of the zone.
    for (const name of orders) expect(zoneTraces(rig, `${name}.sites.example.com`)).toEqual([]);
    expect(rig.claims).toHaveLength(3);
  });
});

describe("planPool: Clone or Install", () => {
  const at = "2027-03-01T09:00:00.000Z";
  const view = (domain: string, createdAt: string, condition: SpareView["condition"] = "ready"): SpareView => ({ record: { domain, state: "Ready", createdAt }, site: undefined, condition });
  const base = { features: [], platformUsable: true, queueBusy: false, customersWaiting: 0, nextDomain: "next.pool.invalid", now: new Date(at), maxSpares: 3 };

  it("clones the newest ready spare, installs when none is ready or clones are not allowed", () => {
    const views = [view("old.pool.invalid", "2027-03-01T08:00:00Z"), view("new.pool.invalid", "2027-03-01T08:30:00Z"), view("mid.pool.invalid", "2027-03-01T08:15:00Z")];
    expect(planPool({ ...base, views, target: 4, maxSpares: 4, cloneAllowed: true }).action).toEqual({ kind: "Clone", domain: "next.pool.invalid", source: "new.pool.invalid" });
    expect(planPool({ ...base, views, target: 4, maxSpares: 4, cloneAllowed: false }).action).toEqual({ kind: "Install", domain: "next.pool.invalid" });
    expect(planPool({ ...base, views: [], target: 1, cloneAllowed: true }).action).toEqual({ kind: "Install", domain: "next.pool.invalid" });
    // A claimed spare is no source.
    expect(planPool({ ...base, views: [view("c.pool.invalid", at, "claimed")], target: 1, cloneAllowed: true }).action).toEqual({ kind: "Install", domain: "next.pool.invalid" });
  });

  it("records the clone with its source before it is queued, and keeps a floor of two spares while cloning", () => {
    // The floor's refill beside the one spare: a copy of it where it may be copied, else an install.
    const plan = planPool({ ...base, views: [view("a.pool.invalid", at)], target: 1, cloneAllowed: true, cloneLastSpare: true });
    expect(plan.target).toBe(2);
    expect(plan.spares.at(-1)).toEqual({ domain: "next.pool.invalid", state: "Installing", createdAt: at, source: "a.pool.invalid" });
    const installing = planPool({ ...base, views: [view("a.pool.invalid", at)], target: 1, cloneAllowed: true });
    expect(installing.target).toBe(2);
    expect(installing.spares.at(-1)).toEqual({ domain: "next.pool.invalid", state: "Installing", createdAt: at });
    expect(planPool({ ...base, views: [view("a.pool.invalid", at)], target: 1, cloneAllowed: false })).toMatchObject({ target: 1, action: undefined });
    expect(planPool({ ...base, views: [], target: 0, cloneAllowed: true }).target).toBe(0);
  });

  it("copies a ready spare only while two others are ready: one or two ready install, three clone the newest, one clones where cloneLastSpare says an install takes over two clones", () => {
    const old = view("old.pool.invalid", "2027-03-01T08:00:00Z");
    const mid = view("mid.pool.invalid", "2027-03-01T08:15:00Z");
    const recent = view("new.pool.invalid", "2027-03-01T08:30:00Z");
    const plan = (views: SpareView[], cloneLastSpare?: boolean) => planPool({ ...base, views, target: 4, maxSpares: 4, cloneAllowed: true, ...(cloneLastSpare === undefined ? {} : { cloneLastSpare }) }).action;
    expect(plan([recent])).toEqual({ kind: "Install", domain: "next.pool.invalid" });
    expect(plan([recent], false)).toEqual({ kind: "Install", domain: "next.pool.invalid" });
    // Two ready: a second order during the copy would have to take its source.
    expect(plan([old, recent])).toEqual({ kind: "Install", domain: "next.pool.invalid" });
    expect(plan([old, mid, recent])).toEqual({ kind: "Clone", domain: "next.pool.invalid", source: "new.pool.invalid" });
    expect(plan([recent, old, mid])).toEqual({ kind: "Clone", domain: "next.pool.invalid", source: "new.pool.invalid" });
    expect(plan([recent], true)).toEqual({ kind: "Clone", domain: "next.pool.invalid", source: "new.pool.invalid" });
    // Only ready, unclaimed spares count: beside a claimed one or an install under way, the two ready spares are not copied.
    expect(plan([old, recent, view("c.pool.invalid", at, "claimed")])).toEqual({ kind: "Install", domain: "next.pool.invalid" });
    // cloneLastSpare copies nothing where no spare is ready.
    expect(plan([], true)).toEqual({ kind: "Install", domain: "next.pool.invalid" });
  });
});

describe("refill metrics", () => {
  it("counts refills by kind: install or clone", async () => {
    const registry = new Registry();
    const metrics = new SitePoolMetrics(registry);
    metrics.refill(POOL, "Install");
    metrics.refill(POOL, "Clone");
    metrics.refill(POOL, "Clone");
    const text = await registry.getSingleMetricAsString("aegir_sitepool_refills_total");
    expect(text).toContain(`aegir_sitepool_refills_total{sitepool="${POOL}",kind="install"} 1`);
    expect(text).toContain(`aegir_sitepool_refills_total{sitepool="${POOL}",kind="clone"} 2`);
  });
});
