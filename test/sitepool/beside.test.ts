// A claim's own task beside a refill: queued while hosting-queued runs a pool task, the rename is
// started at once in its own process (run-task-beside) instead of waiting behind the refill; never
// beside a customer's task, and not at all where the pool says claimsBesideRefills: false.
import { describe, expect, it } from "vitest";
import { TASK_PROCESSING, TASK_QUEUED, TASK_SUCCESS } from "../harness/aegir/model.ts";
import { TRACKER } from "../hostedsite/harness.ts";
import { PoolRig, sitePool } from "./rig.ts";

/** Three ready spares; then hosting-queued is running a task of `busy` (the newest spare by default): a pool task. */
async function runningTaskOf(beside: boolean, busy?: string): Promise<{ rig: PoolRig; spare: string }> {
  const rig = new PoolRig([sitePool({ size: { min: 3, max: 3 }, claimsBesideRefills: beside })]);
  await rig.fillPool();
  const spares = rig.spares().map((s) => s.domain);
  expect(spares).toHaveLength(3);
  const { nid } = await rig.driver.queueTask(busy ?? (spares[2] as string), "verify");
  (rig.sim.hostmaster.tasks.get(nid) as { status: number }).status = TASK_PROCESSING;
  return { rig, spare: spares[0] as string };
}

function renameOf(rig: PoolRig, spare: string) {
  const nid = rig.sim.site(spare)?.nid;
  return [...rig.sim.hostmaster.tasks.values()].find((t) => t.rid === nid && t.type === "migrate");
}

describe("claims beside refills", () => {
  it("a rename queued while Aegir runs a pool task starts at once beside it, and the order converges", async () => {
    const { rig, spare } = await runningTaskOf(true);
    rig.order("acme");
    await rig.replica().reconcile(rig.site("acme"));
    expect(rig.spares().find((s) => s.claimedBy === "customers/acme")?.domain).toBe(spare);
    expect(renameOf(rig, spare)?.status).toBe(TASK_PROCESSING);
    expect(rig.besides).toBe(1);
    expect(rig.sim.stats.count("php-eval:run-task-beside")).toBe(1);
    await rig.converge("acme");
    expect(rig.sim.site("acme.sites.example.com")).toBeDefined();
    expect(rig.sim.site(spare)).toBeUndefined();
  });

  it("claimsBesideRefills: false leaves the rename in Aegir's queue", async () => {
    const { rig, spare } = await runningTaskOf(false);
    rig.order("acme");
    await rig.replica().reconcile(rig.site("acme"));
    expect(renameOf(rig, spare)?.status).toBe(TASK_QUEUED);
    expect(rig.besides).toBe(0);
    expect(rig.sim.stats.count("php-eval:run-task-beside")).toBe(0);
  });

  it("beside a customer's task the rename waits in the queue, and is started at a later look once only a refill runs", async () => {
    const { rig, spare } = await runningTaskOf(true, TRACKER);
    rig.order("acme");
    const replica = rig.replica();
    await replica.reconcile(rig.site("acme"));
    expect(renameOf(rig, spare)?.status).toBe(TASK_QUEUED);
    expect(rig.besides).toBe(0);
    // The customer's task ended; hosting-queued took up a pool task (the newest spare's verify).
    for (const task of rig.sim.hostmaster.tasks.values()) if (task.status === TASK_PROCESSING) task.status = TASK_SUCCESS;
    const newest = rig.spares()[2]?.domain as string;
    const { nid } = await rig.driver.queueTask(newest, "verify");
    (rig.sim.hostmaster.tasks.get(nid) as { status: number }).status = TASK_PROCESSING;
    rig.advance(5_000);
    await replica.reconcile(rig.site("acme"));
    expect(renameOf(rig, spare)?.status).toBe(TASK_PROCESSING);
    expect(rig.besides).toBe(1);
  });
});
