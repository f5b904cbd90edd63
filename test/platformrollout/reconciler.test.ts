// The rollout reconciler against the in-process simulated Aegir: a fault injected into one
// chosen site's migrate fails only that site, which stays on its old platform, pinned and
// reported; the intent is stored before any task is queued; conditions and events.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger.ts";
import type { HostedSite, PlatformRollout } from "../../crds/kinds.ts";
import { PlatformRolloutSpec, type PlatformRolloutStatus } from "../../crds/platformrollout.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { MIGRATE_AFTER_ANNOTATION, PLATFORM_ANNOTATION } from "../../reconcilers/hostedsite/names.ts";
import { PlatformRolloutReconciler } from "../../reconcilers/platformrollout/reconciler.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";

const OLD = "platform_openatrium2652";
const NEW = "platform_openatrium2700";
const URIS = ["a.example.com", "b.example.com"];

class Rig {
  readonly sim = new AegirSimulator({ platforms: [openAtriumPlatform(), openAtriumPlatform({ name: NEW })], sites: URIS.map((uri) => ({ uri, platform: OLD })), autoRunTasks: false });
  readonly driver = new AegirDriver({ runner: this.sim.runner() });
  readonly sites = new Map<string, HostedSite>(URIS.map((uri) => [uri.split(".")[0]!, { ...hostedSite({ domain: uri }, { name: uri.split(".")[0]! }), status: { server: "aegir-1" } }]));
  readonly events: string[] = [];
  rollout: PlatformRollout = {
    apiVersion: "hosting.openatria.com/v1alpha1",
    kind: "PlatformRollout",
    metadata: { name: "upgrade", generation: 1 },
    spec: PlatformRolloutSpec.parse({ fromPlatform: OLD, toPlatform: NEW, batchSize: 2, pauseAfterFailures: 0 }),
  };
  failStatusWrite = false;
  readonly reconciler = new PlatformRolloutReconciler({
    store: {
      updateStatus: (r: PlatformRollout, status: PlatformRolloutStatus) => {
        if (this.failStatusWrite) return Promise.reject(new Error("conflict"));
        this.rollout = { ...r, status };
        return Promise.resolve(this.rollout);
      },
      annotateSite: (_namespace, name, annotations) => {
        const site = this.sites.get(name)!;
        const merged = { ...site.metadata.annotations };
        for (const [k, v] of Object.entries(annotations)) if (v === null) delete merged[k];
        else merged[k] = v;
        this.sites.set(name, { ...site, metadata: { ...site.metadata, annotations: merged } });
        return Promise.resolve();
      },
    },
    sites: () => [...this.sites.values()],
    driver: () => this.driver,
    events: { record: (_regarding, type, reason, _action, note) => this.events.push(`${type} ${reason}: ${note}`) },
    now: () => new Date("2027-03-01T09:00:00Z"),
    log: createLogger({ name: "test", level: "silent" }),
    progressPollMs: 1_000,
    pollIntervalMs: 60_000,
  });

  /** The HostedSite controller's part: a rollout annotation newer than the site's migrates is queued as a migrate. */
  async hostedSites(): Promise<void> {
    const status = await this.driver.serverStatus();
    for (const site of this.sites.values()) {
      const platform = site.metadata.annotations?.[PLATFORM_ANNOTATION];
      const after = Number(site.metadata.annotations?.[MIGRATE_AFTER_ANNOTATION] ?? Number.NaN);
      const summary = status.sites.find((s) => s.uri === site.spec.domain);
      const newest = Math.max(0, ...(summary?.tasks.filter((t) => t.type === "migrate").map((t) => t.nid) ?? []));
      if (platform !== undefined && platform !== summary?.platform && newest <= after) await this.driver.queueTask(site.spec.domain, "migrate", { targetPlatform: platform });
    }
  }

  platformOf(uri: string): string | undefined {
    const site = this.sim.site(uri);
    return site === undefined ? undefined : this.sim.hostmaster.platforms.get(site.platform)?.name;
  }
}

describe("PlatformRolloutReconciler", () => {
  it("fails only the site whose migrate the fault picks: it stays on the old platform, pinned and reported with the task", async () => {
    const rig = new Rig();
    rig.sim.faults.failTask({ type: "migrate", uri: "b.example.com", message: "updatedb failed" });
    for (let i = 0; i < 10 && rig.rollout.status?.remaining !== 0; i++) {
      await rig.reconciler.reconcile(rig.rollout);
      await rig.hostedSites();
      rig.sim.drainTasks();
    }
    expect(rig.platformOf("a.example.com")).toBe(NEW);
    expect(rig.platformOf("b.example.com")).toBe(OLD);
    const failedMigrate = [...rig.sim.hostmaster.tasks.values()].find((t) => t.type === "migrate" && t.status === 2);
    expect(failedMigrate?.log.at(-1)?.message).toBe("updatedb failed");
    expect(rig.rollout.status).toMatchObject({ done: 1, failed: 1, remaining: 0, sites: [expect.objectContaining({ name: "b", phase: "Failed", reason: "MigrateFailed", task: failedMigrate?.nid })] });
    expect(rig.sites.get("b")?.metadata.annotations).toEqual({ [PLATFORM_ANNOTATION]: OLD });
    expect(rig.sites.get("a")?.metadata.annotations?.[PLATFORM_ANNOTATION]).toBe(NEW);
    expect(rig.rollout.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Progressing", "False", "Complete"],
      ["Paused", "False", "Running"],
      ["Complete", "True", "CompleteWithFailures"],
    ]);
    expect(rig.events).toEqual(expect.arrayContaining([expect.stringMatching(/^Normal SiteMigrated: customers\/a: /), expect.stringMatching(/^Warning SiteFailed: customers\/b: Aegir task \d+ \(migrate/), expect.stringMatching(/^Normal RolloutComplete: /)]));
    // One backup before each migrate, one migrate each.
    const types = [...rig.sim.hostmaster.tasks.values()].filter((t) => t.type === "backup" || t.type === "migrate").map((t) => t.type);
    expect(types.sort()).toEqual(["backup", "backup", "migrate", "migrate"]);
  });

  it("queues no task when its intent cannot be stored first", async () => {
    const rig = new Rig();
    rig.failStatusWrite = true;
    await expect(rig.reconciler.reconcile(rig.rollout)).rejects.toThrow("conflict");
    expect([...rig.sim.hostmaster.tasks.values()].filter((t) => t.type === "backup")).toEqual([]);
  });
});
