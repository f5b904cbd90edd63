// Claiming: a new HostedSite takes a ready spare exactly once, renamed and scrubbed before the
// usual convergence, through racing replicas, crashes and failed renames.
import { describe, expect, it } from "vitest";
import { liveSite } from "../../reconcilers/hostedsite/observe.ts";
import { PLATFORM, PoolRig, sitePool } from "./rig.ts";

async function filled(spares = 1): Promise<PoolRig> {
  const rig = new PoolRig([sitePool({ size: { min: spares, max: spares } })]);
  await rig.fillPool();
  expect(rig.spares().filter((s) => s.state === "Ready")).toHaveLength(spares);
  return rig;
}

/** Every place the placeholder could still show: Aegir's node, the site's variables and accounts. */
function traces(rig: PoolRig, domain: string, placeholder: string): string[] {
  const node = rig.sim.site(domain);
  const drupal = node?.drupal;
  return [
    ...(node?.aliases.filter((a) => a.includes(placeholder)) ?? []),
    ...[...(drupal?.variables ?? [])].filter(([, v]) => JSON.stringify(v).includes(placeholder)).map(([k]) => `variable ${k}`),
    ...[...(drupal?.users.values() ?? [])].filter((u) => u.name.includes(placeholder) || u.mail.includes(placeholder)).map((u) => `user ${u.name}`),
    ...(rig.sim.hostmaster.context(placeholder) === undefined ? [] : ["hosting_context"]),
  ];
}

describe("claiming a spare", () => {
  it("renames the spare into the new site, leaves no trace of the placeholder, and converges without an install", async () => {
    const rig = await filled();
    const [spare] = rig.spares();
    const nid = rig.sim.site(spare!.domain)?.nid;
    rig.order("acme", { aliases: ["www.acme.example.com"], features: ["oa_wiki", "oa_events"] });
    // The queue runs at once here; Aegir records how long a task took: say 47 s for the rename.
    const drain = rig.sim.drainTasks.bind(rig.sim);
    rig.sim.drainTasks = () => {
      drain();
      for (const task of rig.sim.hostmaster.tasks.values()) if (task.type === "migrate") task.delta = 47;
    };
    await rig.converge("acme");

    const domain = "acme.sites.example.com";
    expect(rig.sim.site(domain)?.nid).toBe(nid);
    expect([...rig.sim.hostmaster.tasks.values()].filter((t) => t.rid === nid).map((t) => t.type)).toEqual(["install", "migrate", "verify"]);
    expect(traces(rig, domain, spare!.domain)).toEqual([]);
    expect(rig.sim.site(domain)?.drupal?.variables.get("site_name")).toBe(domain);
    expect(rig.sim.site(domain)?.aliases).toEqual(["www.acme.example.com"]);
    expect(rig.sim.site(domain)?.drupal?.modules).toEqual(expect.arrayContaining(["oa_wiki", "oa_events"]));
    const welcome = rig.sim.site(domain)?.drupal?.outbox.filter((m) => m.kind === "register_admin_created");
    expect(welcome).toHaveLength(1);
    expect(rig.site("acme").status?.owner?.welcomedAt).toBeDefined();
    // The record is gone once the site is the customer's; the latency was observed.
    expect(rig.spares()).toEqual([]);
    expect(rig.claims).toHaveLength(1);
    // The rename's duration as Aegir recorded it is what the size rule now uses.
    expect(rig.pools.pool("aegir-1-openatrium").status?.renameSeconds).toBe(47);
  });

  it("shows the claim on the HostedSite while the rename runs", async () => {
    const rig = await filled();
    rig.order("acme");
    const replica = rig.replica();
    await replica.reconcile(rig.site("acme"));
    expect(rig.spares()[0]).toMatchObject({ state: "Claimed", claimedBy: "customers/acme" });
    expect(rig.site("acme").status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "ClaimingSpare" });
    expect(rig.site("acme").status?.server).toBe("aegir-1");
  });

  it("two replicas racing for two orders and one spare: one claims it, the other installs as usual", async () => {
    const rig = await filled();
    const [spare] = rig.spares();
    const nid = rig.sim.site(spare!.domain)?.nid;
    rig.order("a");
    rig.order("b");
    const [one, two] = [rig.replica(), rig.replica()];
    // Both read the pool before either writes: the second write is refused (409) and re-read.
    await Promise.all([one.reconcile(rig.site("a")), two.reconcile(rig.site("b"))]);
    const claimedBy = rig.spares().filter((s) => s.claimedBy !== undefined).map((s) => s.claimedBy);
    expect(claimedBy).toHaveLength(1);
    await Promise.all([rig.converge("a", one), rig.converge("b", two)]);
    const winner = claimedBy[0] === "customers/a" ? "a" : "b";
    const loser = winner === "a" ? "b" : "a";
    expect(rig.sim.site(`${winner}.sites.example.com`)?.nid).toBe(nid);
    expect(traces(rig, `${winner}.sites.example.com`, spare!.domain)).toEqual([]);
    const loserNode = rig.sim.site(`${loser}.sites.example.com`);
    expect([...rig.sim.hostmaster.tasks.values()].filter((t) => t.rid === loserNode?.nid).map((t) => t.type)[0]).toBe("install");
    expect(rig.claims).toHaveLength(1);
  });

  it("two replicas racing on the same order claim one spare once", async () => {
    const rig = await filled(2);
    rig.order("acme");
    const [one, two] = [rig.replica(), rig.replica()];
    await Promise.all([one.reconcile(rig.site("acme")), two.reconcile(rig.site("acme"))]);
    expect(rig.spares().filter((s) => s.claimedBy === "customers/acme")).toHaveLength(1);
    await rig.converge("acme", two);
    expect(rig.spares()).toEqual([expect.objectContaining({ state: "Ready" })]);
    expect(await rig.liveSpares()).toEqual([rig.spares()[0]!.domain]);
  });

  it("a replica that saw the spare before another renamed it neither discards it nor scrubs the finished site again", async () => {
    const rig = await filled();
    const [spare] = rig.spares();
    rig.order("acme");
    // The second replica's status is read before the rename and kept (a cache not yet expired).
    const stale = rig.staleCache();
    await stale.get("aegir-1");
    const late = rig.replica(stale);
    const first = rig.replica();
    await rig.converge("acme", first);
    const owner = [...(rig.sim.site("acme.sites.example.com")?.drupal?.users.values() ?? [])].find((u) => u.uid > 1);
    expect(owner).toBeDefined();
    // The late replica resumes the claim it still holds in its copy of the pool: the rename is refused
    // (the placeholder is gone), which is no reason to discard; nor is the owner scrubbed away.
    const claim = rig.spareClaims(stale, () => [{ ...rig.pools.pool("aegir-1-openatrium"), status: { spares: [{ ...spare!, state: "Claimed", claimedBy: "customers/acme", claimedAt: rig.now.toISOString() }] } }]);
    expect(await claim.step(rig.site("acme"), "aegir-1")).toEqual({ kind: "waiting", message: `Spare ${spare!.domain} was renamed or removed meanwhile` });
    expect(await claim.step(rig.site("acme"), "aegir-1")).toEqual({ kind: "none" });
    await late.reconcile(rig.site("acme"));
    expect(rig.spares().filter((s) => s.state === "Discarding")).toEqual([]);
    expect(rig.sim.site("acme.sites.example.com")?.drupal?.users.get(owner!.uid)).toBeDefined();
  });

  it("while its rename runs, a claim reads the server afresh at each look instead of a cached status", async () => {
    const rig = await filled();
    rig.order("acme");
    let reads = 0;
    const claim = rig.spareClaims(rig.staleCache(() => reads++));
    expect((await claim.step(rig.site("acme"), "aegir-1")).kind).toBe("waiting");
    const waiting = await claim.step(rig.site("acme"), "aegir-1");
    expect(waiting.kind === "waiting" ? waiting.message : "").toMatch(/running its migrate task/);
    const before = reads;
    // The rename ends: the next look sees it at once, not when the cached status expires.
    rig.sim.drainTasks();
    const done = await claim.step(rig.site("acme"), "aegir-1");
    expect(done.kind).toBe("none");
    expect(reads).toBe(before + 1);
    // That read is handed on: the convergence starts from it instead of reading the server again.
    expect(done.kind === "none" ? done.status?.sites.some((s) => s.uri === "acme.sites.example.com") : false).toBe(true);
    expect(rig.sim.site("acme.sites.example.com")).toBeDefined();
  });

  it("a crash after the claim was recorded: a new replica resumes it and no other order gets that spare", async () => {
    const rig = await filled();
    const [spare] = rig.spares();
    const nid = rig.sim.site(spare!.domain)?.nid;
    rig.order("acme");
    rig.order("other");
    // The claim is written, then the process dies before queueing the rename.
    const dying = rig.replica();
    const migrate = rig.driver.queueTask.bind(rig.driver);
    rig.driver.queueTask = () => Promise.reject(new Error("SIGKILL"));
    await expect(dying.reconcile(rig.site("acme"))).rejects.toThrow("SIGKILL");
    rig.driver.queueTask = migrate;
    expect(rig.spares()[0]).toMatchObject({ domain: spare!.domain, claimedBy: "customers/acme" });

    const fresh = rig.replica();
    await rig.converge("other", fresh);
    await rig.converge("acme", fresh);
    expect(rig.sim.site("acme.sites.example.com")?.nid).toBe(nid);
    expect(traces(rig, "acme.sites.example.com", spare!.domain)).toEqual([]);
    const other = rig.sim.site("other.sites.example.com");
    expect([...rig.sim.hostmaster.tasks.values()].find((t) => t.rid === other?.nid)?.type).toBe("install");
  });

  it("a rename Aegir fails: the spare is discarded (deleted), never handed out, and the site installs as usual", async () => {
    const rig = await filled();
    const [spare] = rig.spares();
    rig.sim.faults.failTask({ type: "migrate" });
    rig.order("acme");
    await rig.converge("acme");
    expect(rig.spares()).toEqual([expect.objectContaining({ domain: spare!.domain, state: "Discarding" })]);
    const node = rig.sim.site("acme.sites.example.com");
    expect([...rig.sim.hostmaster.tasks.values()].find((t) => t.rid === node?.nid)?.type).toBe("install");
    // The pool deletes it and installs a fresh one.
    await rig.fillPool();
    expect(liveSite(await rig.driver.serverStatus(), spare!.domain)).toBeUndefined();
    expect(rig.spares()).toEqual([expect.objectContaining({ state: "Ready" })]);
    expect(rig.spares()[0]?.domain).not.toBe(spare!.domain);
  });

  it("a claim whose site another replica installed meanwhile (it found no spare) gives the spare back untouched", async () => {
    const rig = await filled();
    const [spare] = rig.spares();
    rig.order("acme");
    // This replica's view predates the install: the site looks new and the spare idle.
    const stale = rig.staleCache();
    await stale.get("aegir-1");
    const pool = rig.pools.pool("aegir-1-openatrium");
    await rig.pools.updateStatus(pool, { ...pool.status, spares: [{ ...spare!, state: "Claimed", claimedBy: "customers/acme", claimedAt: rig.now.toISOString() }] });
    await rig.driver.createSite({ uri: "acme.sites.example.com", platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" });
    rig.sim.drainTasks();
    const claim = rig.spareClaims(stale);
    // The rename is refused (the domain is taken): not a reason to discard a spare nobody touched.
    expect(await claim.step(rig.site("acme"), "aegir-1")).toEqual({ kind: "none" });
    expect(rig.spares()).toEqual([{ domain: spare!.domain, state: "Ready", createdAt: spare!.createdAt }]);
    expect(liveSite(await rig.driver.serverStatus(), spare!.domain)).toBeDefined();
    expect([...rig.sim.hostmaster.tasks.values()].filter((t) => t.type === "migrate")).toEqual([]);
  });

  it("takes no spare for a site already created, another platform or another profile", async () => {
    const rig = await filled();
    rig.order("std", { profile: "standard" });
    rig.order("pinned", { platform: "platform_other" });
    const replica = rig.replica();
    await replica.reconcile(rig.site("std"));
    await replica.reconcile(rig.site("pinned"));
    expect(rig.spares().map((s) => [s.state, s.claimedBy])).toEqual([["Ready", undefined]]);
    expect(PLATFORM).not.toBe("platform_other");
  });
});
