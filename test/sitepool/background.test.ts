// The pool's own tasks outside hosting-queued: a refill's install or clone and a discard's delete
// start at once in their own hosting-task process, forked by the command that queues them
// (refillsInBackground, the default), so the daemon stays free for a customer's task queued
// meanwhile; with refillsInBackground: false they wait their turn in Aegir's queue.
import { describe, expect, it } from "vitest";
import { TASK_PROCESSING, TASK_QUEUED, type TaskNode } from "../harness/aegir/model.ts";
import { PoolRig, sitePool } from "./rig.ts";

const POOL = "aegir-1-openatrium";

/** Two ready spares; acme took one, and the pool's next step (a refill) has run. */
async function refilling(background: boolean): Promise<{ rig: PoolRig; refill: TaskNode }> {
  const rig = new PoolRig([sitePool({ size: { min: 2, max: 2 }, refill: "Install", refillsInBackground: background })]);
  await rig.fillPool();
  rig.order("acme");
  await rig.converge("acme");
  await rig.pool.reconcile(rig.pools.pool(POOL));
  const installing = rig.spares().find((s) => s.state === "Installing");
  const nid = rig.sim.site(installing?.domain ?? "")?.nid;
  const refill = [...rig.sim.hostmaster.tasks.values()].find((t) => t.rid === nid && t.type === "install");
  if (refill === undefined) throw new Error("no refill");
  return { rig, refill };
}

const queued = (rig: PoolRig) => [...rig.sim.hostmaster.tasks.values()].filter((t) => t.status === TASK_QUEUED);

describe("pool work in the background", () => {
  it("a refill starts at once in its own process: nothing waits in hosting-queued's queue, and a customer's rename queued meanwhile is the daemon's next", async () => {
    const { rig, refill } = await refilling(true);
    expect(refill.status).toBe(TASK_PROCESSING);
    expect(queued(rig)).toEqual([]);
    expect(rig.sim.hostmaster.variables.get("aegir_operator_background_tasks")).toEqual([refill.nid]);
    const status = await rig.driver.serverStatus();
    expect(status.sites.flatMap((s) => s.tasks).find((t) => t.nid === refill.nid)).toMatchObject({ status: "processing", background: true });
    // beta claims the other spare while the refill runs: its rename is the only queued task, and
    // the claim asks no run-task-beside (the daemon is free).
    rig.order("beta");
    await rig.replica().reconcile(rig.site("beta"));
    const spare = rig.spares().find((s) => s.claimedBy?.endsWith("/beta"))?.domain;
    expect(queued(rig).map((t) => [t.type, t.rid])).toEqual([["migrate", rig.sim.site(spare ?? "")?.nid]]);
    expect(rig.sim.stats.count("php-eval:run-task-beside")).toBe(0);
    await rig.converge("beta");
    expect(rig.sim.site("beta.sites.example.com")).toBeDefined();
  });

  it("discards run in the background too", async () => {
    const rig = new PoolRig([sitePool({ size: { min: 2, max: 2 } })]);
    await rig.fillPool();
    rig.pools.editSpec(POOL, (spec) => void (spec.size = { min: 1, max: 1 }));
    await rig.pool.reconcile(rig.pools.pool(POOL));
    const deletes = [...rig.sim.hostmaster.tasks.values()].filter((t) => t.type === "delete");
    expect(deletes.map((t) => t.status)).toEqual([TASK_PROCESSING]);
    expect(queued(rig)).toEqual([]);
  });

  it("refillsInBackground: false queues the refill for hosting-queued: a rename queued meanwhile is behind it", async () => {
    const { rig, refill } = await refilling(false);
    expect(refill.status).toBe(TASK_QUEUED);
    expect(rig.sim.hostmaster.variables.get("aegir_operator_background_tasks")).toBeUndefined();
    rig.order("beta");
    await rig.replica().reconcile(rig.site("beta"));
    expect(queued(rig).map((t) => t.type)).toEqual(["install", "migrate"]);
  });
});
