// The HostedSiteRestore reconciler against the simulated Aegir: once, however often it runs or
// restarts; refused with a reason; waiting while another task of the site runs.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger.ts";
import type { HostedSiteRestoreStatus } from "../../crds/hostedsiterestore.ts";
import type { HostedSite, HostedSiteRestore } from "../../crds/kinds.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { RestoreReconciler } from "../../reconcilers/restore/reconciler.ts";
import { AegirSimulator } from "../harness/aegir/index.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";

const URI = "acme.sites.example.com";

class Rig {
  readonly sim = new AegirSimulator({ sites: [{ uri: URI }], autoRunTasks: false });
  readonly driver = new AegirDriver({ runner: this.sim.runner() });
  site: HostedSite | undefined = { ...hostedSite(), status: { server: "aegir-1" } };
  restore: HostedSiteRestore;
  readonly events: string[] = [];
  /** Throws instead of the next status write that sets `task`: a crash right after queuing. */
  crashBeforeTaskWrite = false;

  constructor(spec: HostedSiteRestore["spec"] = { site: "acme" }) {
    this.restore = { apiVersion: "hosting.openatria.com/v1alpha1", kind: "HostedSiteRestore", metadata: { name: "r1", namespace: "customers", generation: 1 }, spec };
  }

  reconciler(): RestoreReconciler {
    return new RestoreReconciler({
      store: {
        updateStatus: (_r, status: HostedSiteRestoreStatus) => {
          if (this.crashBeforeTaskWrite && status.task !== undefined) {
            this.crashBeforeTaskWrite = false;
            return Promise.reject(new Error("killed"));
          }
          this.restore = { ...this.restore, status: structuredClone(status) };
          return Promise.resolve(this.restore);
        },
      },
      site: () => this.site,
      driver: () => this.driver,
      events: { record: (_r, type, reason) => this.events.push(`${type} ${reason}`) },
      now: () => new Date("2027-03-01T09:00:00Z"),
      log: createLogger({ name: "test", level: "silent" }),
      progressPollMs: 1_000,
    });
  }

  async backup(): Promise<string> {
    await this.driver.queueTask(URI, "backup");
    this.sim.drainTasks();
    return this.sim.site(URI)!.backups.at(-1)!.file;
  }

  restoreTasks(): number {
    return [...this.sim.hostmaster.tasks.values()].filter((t) => t.type === "restore").length;
  }
}

describe("RestoreReconciler", () => {
  it("restores the newest backup by default, once, and reports the Aegir task and the outcome", async () => {
    const rig = new Rig();
    await rig.backup();
    const newest = await rig.backup();
    const reconciler = rig.reconciler();
    await reconciler.reconcile(rig.restore);
    expect(rig.restore.status).toMatchObject({ phase: "Running", backup: newest, server: "aegir-1" });
    await reconciler.reconcile(rig.restore);
    expect(rig.restoreTasks()).toBe(1);
    rig.sim.drainTasks();
    await reconciler.reconcile(rig.restore);
    await reconciler.reconcile(rig.restore);
    expect(rig.restore.status).toMatchObject({ phase: "Succeeded", task: expect.any(Number) as number, completedAt: "2027-03-01T09:00:00Z" });
    expect(rig.restore.status?.conditions?.[0]).toMatchObject({ type: "Complete", status: "True", reason: "Restored" });
    expect(rig.restoreTasks()).toBe(1);
    expect(rig.events).toEqual(["Normal RestoreQueued", "Normal Restored"]);
  });

  it("queues no second task when the controller died between queuing and recording the task id", async () => {
    const rig = new Rig();
    await rig.backup();
    rig.crashBeforeTaskWrite = true;
    await expect(rig.reconciler().reconcile(rig.restore)).rejects.toThrow("killed");
    expect(rig.restore.status).toMatchObject({ phase: "Pending", baselineTask: 0 });
    expect(rig.restore.status?.task).toBeUndefined();
    // A new leader, no memory: it adopts the task it finds instead of queuing another.
    const fresh = rig.reconciler();
    await fresh.reconcile(rig.restore);
    expect(rig.restoreTasks()).toBe(1);
    expect(rig.restore.status?.task).toBe([...rig.sim.hostmaster.tasks.values()].find((t) => t.type === "restore")?.nid);
  });

  it("queues the task when the controller died after recording the intent but before queuing", async () => {
    const rig = new Rig();
    const file = await rig.backup();
    rig.restore = { ...rig.restore, status: { phase: "Pending", backup: file, server: "aegir-1", baselineTask: 0 } };
    await rig.reconciler().reconcile(rig.restore);
    expect(rig.restoreTasks()).toBe(1);
    expect(rig.restore.status?.phase).toBe("Running");
  });

  it("waits, saying why, while another task of the site is queued or running", async () => {
    const rig = new Rig();
    await rig.backup();
    await rig.driver.queueTask(URI, "verify");
    const result = await rig.reconciler().reconcile(rig.restore);
    expect(result.requeueAfterMs).toBe(1_000);
    expect(rig.restore.status).toMatchObject({ phase: "Pending" });
    expect(rig.restore.status?.conditions?.[0]).toMatchObject({ status: "False", reason: "TaskRunning" });
    expect(rig.restore.status?.message).toMatch(/^Aegir task \d+ \(verify\) of acme.sites.example.com is queued or running/);
    expect(rig.restoreTasks()).toBe(0);
  });

  it("refuses while the site is being deleted, for good", async () => {
    const rig = new Rig();
    await rig.backup();
    rig.site = { ...rig.site!, metadata: { ...rig.site!.metadata, deletionTimestamp: "2027-03-01T08:00:00Z" } };
    await rig.reconciler().reconcile(rig.restore);
    expect(rig.restore.status).toMatchObject({ phase: "Refused" });
    expect(rig.restore.status?.conditions?.[0]).toMatchObject({ reason: "SiteDeleting" });
    rig.site = { ...hostedSite(), status: { server: "aegir-1" } };
    await rig.reconciler().reconcile(rig.restore);
    expect(rig.restoreTasks()).toBe(0);
  });

  it("refuses a backup that is not the site's, a site without backups, and a missing site", async () => {
    const rig = new Rig({ site: "acme", backup: "/var/aegir/backups/else.example.com-20270101.000000.tar.gz" });
    await rig.backup();
    await rig.reconciler().reconcile(rig.restore);
    expect(rig.restore.status?.conditions?.[0]).toMatchObject({ reason: "UnknownBackup" });
    const none = new Rig();
    await none.reconciler().reconcile(none.restore);
    expect(none.restore.status?.conditions?.[0]).toMatchObject({ reason: "NoBackup" });
    const gone = new Rig();
    gone.site = undefined;
    await gone.reconciler().reconcile(gone.restore);
    expect(gone.restore.status).toMatchObject({ phase: "Refused", message: "HostedSite acme does not exist in namespace customers" });
  });

  it("reports a failed restore task as Failed with its task id", async () => {
    const rig = new Rig();
    await rig.backup();
    rig.sim.faults.failTask({ type: "restore" });
    const reconciler = rig.reconciler();
    await reconciler.reconcile(rig.restore);
    rig.sim.drainTasks();
    await reconciler.reconcile(rig.restore);
    expect(rig.restore.status).toMatchObject({ phase: "Failed", task: expect.any(Number) as number });
    expect(rig.events.at(-1)).toBe("Warning TaskFailed");
  });
});
