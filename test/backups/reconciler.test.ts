// The backup controller's reconciler against the simulated Aegir, on a clock the test moves.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger.ts";
import type { HostedSite } from "../../crds/kinds.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import type { StuckTask } from "../../reconcilers/aegir/stuck-tasks.ts";
import { BackupReconciler } from "../../reconcilers/backups/reconciler.ts";
import { AegirSimulator, type Clock } from "../harness/aegir/index.ts";
import { TASK_PROCESSING, TASK_SUCCESS } from "../harness/aegir/model.ts";
import { MemoryHostedSiteStore } from "../harness/memory-store.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";

const DAY = 86_400_000;
const URI = "acme.sites.example.com";

class Rig {
  now = Date.parse("2027-03-01T09:00:00Z");
  readonly clock: Clock = { now: () => this.now, schedule: () => () => {} };
  readonly sim = new AegirSimulator({ sites: [{ uri: URI }, { uri: "other.example.com" }], autoRunTasks: false, clock: this.clock });
  readonly store: MemoryHostedSiteStore;
  readonly events: string[] = [];
  readonly stuck: StuckTask[][] = [];
  readonly reconciler: BackupReconciler;

  constructor(site: HostedSite) {
    this.store = new MemoryHostedSiteStore({ ...site, status: { server: "aegir-1" } });
    const driver = new AegirDriver({ runner: this.sim.runner() });
    this.reconciler = new BackupReconciler({
      sites: () => [this.store.site],
      driver: () => driver,
      store: this.store,
      events: { record: (_r, type, reason, _a, note) => this.events.push(`${type} ${reason}: ${note}`) },
      now: () => new Date(this.now),
      log: createLogger({ name: "test", level: "silent" }),
      config: { pollIntervalMs: 60_000, progressPollMs: 5_000, stuckFactor: 3 },
      onStuck: (_server, tasks) => this.stuck.push([...tasks]),
    });
  }

  tasks(type: string): number {
    return [...this.sim.hostmaster.tasks.values()].filter((t) => t.type === type).length;
  }

  /** Reconcile, let Aegir run what was queued, and reconcile again (as the requeue would). */
  async look(): Promise<void> {
    await this.reconciler.reconcile("aegir-1");
    this.now += 1_000;
    this.sim.drainTasks();
    await this.reconciler.reconcile("aegir-1");
  }
}

const daily = hostedSite({ backups: { every: "1d", retain: 3 } });

describe("BackupReconciler", () => {
  it("backs a site up once per day and keeps the newest three", async () => {
    const rig = new Rig(daily);
    for (let day = 0; day < 6; day++) {
      await rig.look();
      await rig.look();
      rig.now += DAY;
    }
    expect(rig.tasks("backup")).toBe(6);
    const files = rig.sim.site(URI)!.backups.map((b) => b.file);
    expect(files).toHaveLength(3);
    const status = rig.store.site.status;
    expect(status?.backups).toMatchObject({ count: 3, lastFile: files.at(-1) });
    expect(status?.conditions?.find((c) => c.type === "BackupsCurrent")).toMatchObject({ status: "True", reason: "BackupTaken" });
    expect(status?.server).toBe("aegir-1");
  });

  it("catches a missed window up once, however many were missed", async () => {
    const rig = new Rig(daily);
    await rig.look();
    rig.now += 4 * DAY;
    await rig.look();
    await rig.look();
    expect(rig.tasks("backup")).toBe(2);
  });

  it("never queues a backup ahead of a customer's task waiting in the queue", async () => {
    const rig = new Rig(daily);
    const other = rig.sim.site("other.example.com")!;
    rig.sim.tasks.add(other.nid, "verify");
    await rig.reconciler.reconcile("aegir-1");
    expect(rig.tasks("backup")).toBe(0);
    expect(rig.store.site.status?.conditions?.find((c) => c.type === "BackupsCurrent")).toMatchObject({ status: "False", reason: "NoBackupYet" });
    rig.sim.drainTasks();
    await rig.reconciler.reconcile("aegir-1");
    expect(rig.tasks("backup")).toBe(1);
  });

  it("reports a failed backup and retries it later, not at every look", async () => {
    const rig = new Rig(daily);
    rig.sim.faults.failTask({ type: "backup" });
    await rig.look();
    await rig.look();
    expect(rig.tasks("backup")).toBe(1);
    expect(rig.store.site.status?.conditions?.find((c) => c.type === "BackupsCurrent")).toMatchObject({ status: "False", reason: "BackupFailed" });
    rig.now += 3_600_000;
    await rig.look();
    expect(rig.tasks("backup")).toBe(2);
    expect(rig.store.site.status?.backups?.count).toBe(1);
  });

  it("reports a task stuck in Processing with its Aegir id: condition, one event, the metric callback", async () => {
    const rig = new Rig(daily);
    const task = rig.sim.tasks.add(rig.sim.site(URI)!.nid, "verify");
    task.status = TASK_PROCESSING;
    task.executed = Math.floor(rig.now / 1000) - 3 * 3600;
    await rig.reconciler.reconcile("aegir-1");
    await rig.reconciler.reconcile("aegir-1");
    const condition = rig.store.site.status?.conditions?.find((c) => c.type === "TaskStuck");
    expect(condition).toMatchObject({ status: "True", reason: "TaskRunningTooLong" });
    expect(condition?.message).toContain(`Aegir task ${task.nid} (verify)`);
    expect(rig.events).toEqual([expect.stringMatching(new RegExp(`^Warning TaskStuck: Aegir task ${task.nid} `))]);
    expect(rig.stuck.at(-1)).toEqual([expect.objectContaining({ nid: task.nid, type: "verify", uri: URI })]);
    // It ends (ops ran it by hand): the condition clears, the metric empties.
    task.status = TASK_SUCCESS;
    await rig.reconciler.reconcile("aegir-1");
    expect(rig.store.site.status?.conditions?.find((c) => c.type === "TaskStuck")).toMatchObject({ status: "False" });
    expect(rig.stuck.at(-1)).toEqual([]);
  });
});
