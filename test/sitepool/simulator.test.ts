// The simulated Aegir's part in the warm pool: a migrate to the same platform with a new_uri
// renames the site, and install, clone and migrate take their own (benchmark) durations.
import { describe, expect, it } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { liveSite } from "../../reconcilers/hostedsite/observe.ts";
import { CLONE_RANGE_MS, INSTALL_MS, poolLatency } from "../harness/aegir/durations.ts";
import { Latency } from "../harness/aegir/latency.ts";
import { installedSite, OWNER, simulated } from "../aegir/setup.ts";

const PLATFORM = "platform_openatrium2652";
const SPARE = "spare-0a1b2c3d.pool.invalid";

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
