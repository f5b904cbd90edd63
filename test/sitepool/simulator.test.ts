// The simulated Aegir's part in the warm pool: a migrate to the same platform with a new_uri
// renames the site, and install, clone and migrate take their own (benchmark) durations.
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { liveSite } from "../../reconcilers/hostedsite/observe.ts";
import { CLONE_RANGE_MS, FRESH_SPARE_CLONE_MS, FRESH_SPARE_MIGRATE_MS, INSTALL_MS, PLATFORM_VERIFY_MS, poolLatency, VERIFY_MS } from "../harness/aegir/durations.ts";
import { Latency } from "../harness/aegir/latency.ts";
import { isFreshSite } from "../harness/aegir/site-size.ts";
import { installedSite, OWNER, simulated } from "../aegir/setup.ts";

const PLATFORM = "platform_openatrium2652";
const SPARE = "spare-0a1b2c3d.pool.invalid";

describe("clone of a spare", () => {
  const COPY = "spare-0a1b2c-0123456789.pool.invalid";

  it("copies the site under the new domain on the platform: the source stays, the copy carries its traces but not its aliases or https", async () => {
    const { sim, driver } = simulated();
    await installedSite(sim, driver, SPARE);
    const source = sim.site(SPARE);
    if (source === undefined) throw new Error("no source");
    source.aliases = ["www.spare.pool.invalid"];
    source.https = 1;
    const { nid: task } = await driver.queueTask(SPARE, "clone", { targetPlatform: PLATFORM, newUri: COPY });
    // The task runs on the source node: its rename waits behind it.
    expect(sim.hostmaster.tasks.get(task)).toMatchObject({ rid: source.nid, args: { new_uri: COPY } });
    await expect(driver.queueTask(SPARE, "migrate", { targetPlatform: PLATFORM, newUri: "acme.example.com" })).rejects.toMatchObject({ reason: "TaskPending" });
    expect(liveSite(await driver.serverStatus(), COPY)).toBeUndefined();
    sim.drainTasks();

    const status = await driver.serverStatus();
    expect(liveSite(status, SPARE)).toMatchObject({ status: "enabled" });
    expect(liveSite(status, COPY)).toMatchObject({ status: "enabled", platform: PLATFORM, aliases: [], https: "Disabled" });
    expect(sim.site(COPY)?.drupal?.variables.get("site_name")).toBe(SPARE);
    expect(sim.site(COPY)?.drupal?.modules).toEqual(source.drupal?.modules);
    // A copy, not the same object: a change to one leaves the other.
    await driver.createUser(`@${COPY}`, OWNER.name, OWNER.mail);
    expect((await driver.siteState(SPARE, OWNER)).owner).toBeNull();
    // provision-clone backs the source up first.
    expect(source.backups).toHaveLength(1);
  });

  it("refuses a domain in use (the source's own too) and, on a hostmaster without hosting_clone, the task itself", async () => {
    const { sim, driver } = simulated({ sites: [{ uri: "taken.example.com" }] });
    await installedSite(sim, driver, SPARE);
    await expect(driver.queueTask(SPARE, "clone", { targetPlatform: PLATFORM, newUri: "taken.example.com" })).rejects.toMatchObject({ reason: "DomainTaken" });
    await expect(driver.queueTask(SPARE, "clone", { targetPlatform: PLATFORM, newUri: SPARE })).rejects.toMatchObject({ reason: "DomainTaken" });
    await expect(driver.queueTask(SPARE, "clone", { targetPlatform: PLATFORM })).rejects.toThrow(/newUri/);
    await expect(driver.queueTask(SPARE, "clone", { targetPlatform: PLATFORM, newUri: "not a domain; rm -rf /" })).rejects.toThrow(/^newUri: /);
    await expect(driver.queueTask(SPARE, "clone", { targetPlatform: "Platform OA", newUri: COPY })).rejects.toThrow(/^targetPlatform: /);
    const off = simulated({ hostmaster: { clone: false } });
    await installedSite(off.sim, off.driver, SPARE);
    await expect(off.driver.queueTask(SPARE, "clone", { targetPlatform: PLATFORM, newUri: COPY })).rejects.toMatchObject({ reason: "TaskUnavailable", kind: "permanent" });
  });
});

describe("migrate with a new domain", () => {
  it("renames the site: the new alias answers, the old one is gone and its URI free, the node and its Drupal site kept", async () => {
    const { sim, driver } = simulated();
    await installedSite(sim, driver, SPARE);
    const nid = sim.site(SPARE)?.nid;
    const { nid: task } = await driver.queueTask(SPARE, "migrate", { targetPlatform: PLATFORM, newUri: "acme.example.com" });
    expect(sim.hostmaster.tasks.get(task)?.args).toMatchObject({ new_uri: "acme.example.com" });
    // Until the task runs the spare keeps its name.
    expect(liveSite(await driver.serverStatus(), SPARE)).toBeDefined();
    sim.drainTasks();

    const status = await driver.serverStatus();
    expect(liveSite(status, SPARE)).toBeUndefined();
    expect(liveSite(status, "acme.example.com")).toMatchObject({ nid, platform: PLATFORM, status: "enabled", aliases: [] });
    await driver.createUser("@acme.example.com", OWNER.name, OWNER.mail);
    expect((await driver.siteState("acme.example.com", OWNER)).owner?.name).toBe("jane");
    await expect(driver.siteState(SPARE, OWNER)).rejects.toMatchObject({ reason: "UnknownSite" });
    // What a deploy does not touch still names the placeholder: the claim has to scrub it.
    expect(sim.site("acme.example.com")?.drupal?.variables.get("site_name")).toBe(SPARE);
    // The placeholder can be used again.
    await installedSite(sim, driver, SPARE);
    expect(liveSite(await driver.serverStatus(), SPARE)?.status).toBe("enabled");
  });

  it("refuses a new domain another site has, as the Migrate form's validation does", async () => {
    const { sim, driver } = simulated({ sites: [{ uri: "taken.example.com", aliases: ["www.taken.example.com"] }] });
    await installedSite(sim, driver, SPARE);
    for (const domain of ["taken.example.com", "www.taken.example.com", "aegir.example.com"]) {
      const error: unknown = await driver.queueTask(SPARE, "migrate", { targetPlatform: PLATFORM, newUri: domain }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AegirError);
      expect(error).toMatchObject({ reason: "DomainTaken" });
    }
    expect(sim.hostmaster.pendingTasks(sim.site(SPARE)?.nid ?? 0)).toEqual([]);
  });

  it("a domain taken between queueing and running fails the task and leaves the spare as it was", async () => {
    const { sim, driver } = simulated();
    await installedSite(sim, driver, SPARE);
    const { nid } = await driver.queueTask(SPARE, "migrate", { targetPlatform: PLATFORM, newUri: "acme.example.com" });
    await driver.createSite({ uri: "acme.example.com", platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" });
    sim.drainTasks();
    expect(sim.hostmaster.tasks.get(nid)?.status).toBe(2);
    const status = await driver.serverStatus();
    expect(liveSite(status, SPARE)?.status).toBe("enabled");
    expect(liveSite(status, "acme.example.com")?.nid).not.toBe(sim.site(SPARE)?.nid);
  });

  it("the driver validates the new domain and only lets a migrate rename", async () => {
    const { sim, driver } = simulated();
    await installedSite(sim, driver, SPARE);
    await expect(driver.queueTask(SPARE, "migrate", { targetPlatform: PLATFORM, newUri: "acme.example.com; rm -rf /" })).rejects.toThrow(/newUri/);
    await expect(driver.queueTask(SPARE, "verify", { newUri: "acme.example.com" })).rejects.toThrow(/only a migrate/);
  });
});

describe("task durations", () => {
  it("installs take the installer's time, clones and migrates 1-5 minutes each, verifies under 30 s", () => {
    const draws = [0, 0.5, 0.999];
    let i = 0;
    const fast = new Latency(poolLatency("fast"), () => draws[i++ % draws.length] ?? 0);
    expect(fast.task("install")).toBe(INSTALL_MS.fast);
    expect(new Latency(poolLatency("classic")).task("install")).toBe(15 * 60_000);
    expect([fast.task("migrate"), fast.task("migrate"), fast.task("clone")]).toEqual([60_000, 180_000, Math.round(60_000 + 240_000 * 0.999)]);
    expect(fast.task("verify")).toBeLessThan(30_000);
    expect(new Latency(poolLatency("fast", 0.01)).task("install")).toBe(1_200);
    expect(CLONE_RANGE_MS).toEqual([60_000, 300_000]);
  });

  it("a fresh spare's copy takes the verify and a fresh site's copy (about 45 s, overridable), a clone its inline verifies too; a site in use's 1-5 minutes", async () => {
    expect(FRESH_SPARE_MIGRATE_MS).toBe(VERIFY_MS + 20_000);
    // provision-clone: the copy, then forced verifies of the platform and the source, sleep(5) between.
    expect(FRESH_SPARE_CLONE_MS).toBe(FRESH_SPARE_MIGRATE_MS + PLATFORM_VERIFY_MS + 5_000 + VERIFY_MS);
    const latency = new Latency(poolLatency("fast"), () => 0.5);
    expect([latency.task("migrate", true), latency.task("clone", true)]).toEqual([45_000, 100_000]);
    expect(latency.task("migrate", false)).toBe(180_000);
    // Only copies depend on the site: an install takes the installer's time either way.
    expect(latency.task("install", true)).toBe(INSTALL_MS.fast);
    expect(new Latency(poolLatency("fast", 0.01, 90_000)).task("migrate", true)).toBe(900);

    const { sim, driver } = simulated();
    await installedSite(sim, driver, SPARE);
    expect(isFreshSite(sim.site(SPARE))).toBe(true);
    await driver.createUser(`@${SPARE}`, OWNER.name, OWNER.mail);
    expect(isFreshSite(sim.site(SPARE))).toBe(false);
    expect(isFreshSite(undefined)).toBe(false);
  });

  it("the queue times a spare's migrate as a fresh copy", async () => {
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const { sim, driver } = simulated({ latency: { ...poolLatency("fast"), commandMs: 0, commands: {} } });
    const created = driver.createSite({ uri: SPARE, platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" });
    await vi.advanceTimersByTimeAsync(0);
    await created;
    await vi.advanceTimersByTimeAsync(1_000 + INSTALL_MS.fast);
    const queued = driver.queueTask(SPARE, "migrate", { targetPlatform: PLATFORM, newUri: "acme.example.com" });
    await vi.advanceTimersByTimeAsync(0);
    const { nid } = await queued;
    // hosting-queued's pause, then the fresh copy: done at 46 s, not a second before.
    await vi.advanceTimersByTimeAsync(1_000 + FRESH_SPARE_MIGRATE_MS - 1);
    expect(sim.hostmaster.tasks.get(nid)?.status).not.toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sim.hostmaster.tasks.get(nid)?.status).toBe(1);
  });

  it("the simulator draws them from its seed: the same seed, the same durations", () => {
    const durations = (seed: number) => {
      const { sim } = simulated({ latency: poolLatency("fast"), seed });
      return [1, 2, 3].map(() => sim.latency.task("migrate"));
    };
    expect(durations(7)).toEqual(durations(7));
    for (const ms of durations(7)) {
      expect(ms).toBeGreaterThanOrEqual(60_000);
      expect(ms).toBeLessThanOrEqual(300_000);
    }
    expect(durations(7)).not.toEqual(durations(8));
  });
});
