// The express lane on the simulated Aegir, on vitest's fake timers: a customer's rename of a spare
// run beside the pool refill hosting-queued is busy with, and the cases where it is left to the
// queue. Then pool work started in the background, outside hosting-queued.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseLog } from "../../reconcilers/aegir/output.ts";
import { SCRIPTS } from "../../reconcilers/aegir/scripts.ts";
import { TASK_FAILED, TASK_PROCESSING, TASK_QUEUED, TASK_SUCCESS } from "../harness/aegir/model.ts";
import { simulated } from "./setup.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-01-05T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

const PLATFORM = "platform_openatrium2652";
const ZONE = "pool.invalid";
const LATENCY = { tasks: { install: 120_000, clone: 100_000, migrate: 45_000, verify: 30_000 }, taskStartDelayMs: 1_000 };

/** Two spares and a customer's site; the refill (a clone of spare-a) running under hosting-queued when `refill`. */
async function pool(options: { refill?: boolean; migrateMs?: number } = {}) {
  const latency = { ...LATENCY, tasks: { ...LATENCY.tasks, ...(options.migrateMs === undefined ? {} : { migrate: options.migrateMs }) } };
  const { sim, driver } = simulated({ latency, sites: [{ uri: "spare-a.pool.invalid" }, { uri: "spare-b.pool.invalid" }, { uri: "acme.example.com" }] });
  let clone: number | undefined;
  if (options.refill !== false) {
    clone = (await driver.queueTask("spare-a.pool.invalid", "clone", { targetPlatform: PLATFORM, newUri: "spare-c.pool.invalid" })).nid;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sim.hostmaster.tasks.get(clone)?.status).toBe(TASK_PROCESSING);
  }
  /** The customer's order: spare-b renamed to shop.example.com. */
  const rename = async () => (await driver.queueTask("spare-b.pool.invalid", "migrate", { targetPlatform: PLATFORM, newUri: "shop.example.com" })).nid;
  const task = (nid: number | undefined) => sim.hostmaster.tasks.get(nid ?? -1);
  return { sim, driver, clone, rename, task };
}

describe("runTaskBeside", () => {
  it("starts a spare's rename beside the refill clone: each finishes after its own duration", async () => {
    const { sim, driver, clone, rename, task } = await pool();
    const migrate = await rename();
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: true });
    // Processing at once: no hosting-queued pause for a process of its own.
    expect(task(migrate)).toMatchObject({ status: TASK_PROCESSING, executed: 1_767_607_201 });
    expect((await driver.serverStatus()).queue).toEqual({ queued: 0, processing: 2 });

    await vi.advanceTimersByTimeAsync(44_999);
    expect(task(migrate)?.status).toBe(TASK_PROCESSING);
    await vi.advanceTimersByTimeAsync(1);
    expect(task(migrate)).toMatchObject({ status: TASK_SUCCESS, delta: 45 });
    expect(sim.site("shop.example.com")).toBeDefined();
    expect(sim.site("spare-b.pool.invalid")).toBeUndefined();
    expect(task(clone)?.status).toBe(TASK_PROCESSING);

    // The clone started at 1 s and takes 100 s.
    await vi.advanceTimersByTimeAsync(101_000 - 46_000 - 1);
    expect(task(clone)?.status).toBe(TASK_PROCESSING);
    await vi.advanceTimersByTimeAsync(1);
    expect(task(clone)).toMatchObject({ status: TASK_SUCCESS, delta: 100 });
    expect(sim.site("spare-c.pool.invalid")).toBeDefined();
    await expect(sim.idle()).resolves.toBeUndefined();
    // The daemon never ran the rename again.
    expect(task(migrate)).toMatchObject({ status: TASK_SUCCESS, delta: 45, executed: 1_767_607_201 });
    expect(sim.stats.count("php-eval:run-task-beside")).toBe(1);
  });

  it("beside a customer's task it starts nothing: customer-task-running", async () => {
    const { sim, driver, rename, task } = await pool({ refill: false });
    const verify = (await driver.queueTask("acme.example.com", "verify")).nid;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(task(verify)?.status).toBe(TASK_PROCESSING);
    const migrate = await rename();
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: false, reason: "customer-task-running" });
    expect(task(migrate)?.status).toBe(TASK_QUEUED);
    // It waits for the verify, then the queue runs it.
    await vi.advanceTimersByTimeAsync(30_000 + 1_000 + 45_000);
    expect(task(migrate)?.status).toBe(TASK_SUCCESS);
    expect(task(migrate)?.executed).toBeGreaterThanOrEqual((task(verify)?.executed ?? 0) + 30);
    expect(sim.stats.count("php-eval:run-task-beside")).toBe(1);
  });

  it("with nothing running, the queue takes it within seconds: queue-idle", async () => {
    const { driver, rename, task } = await pool({ refill: false });
    const migrate = await rename();
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: false, reason: "queue-idle" });
    expect(task(migrate)?.status).toBe(TASK_QUEUED);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(task(migrate)?.status).toBe(TASK_PROCESSING);
  });

  it("a task already processing, or finished, is not-queued", async () => {
    const { driver, clone, rename } = await pool();
    const migrate = await rename();
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: true });
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: false, reason: "not-queued" });
    await expect(driver.runTaskBeside(clone ?? 0, ZONE)).resolves.toEqual({ started: false, reason: "not-queued" });
    await vi.advanceTimersByTimeAsync(45_000);
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: false, reason: "not-queued" });
  });

  it("a task of the node the refill runs on is site-busy", async () => {
    const { sim, driver, task } = await pool();
    // queue-task refuses a second task of a site; Aegir's own front end may still add one.
    const verify = sim.tasks.add(sim.site("spare-a.pool.invalid")?.nid ?? 0, "verify").nid;
    await expect(driver.runTaskBeside(verify, ZONE)).resolves.toEqual({ started: false, reason: "site-busy" });
    expect(task(verify)?.status).toBe(TASK_QUEUED);
  });

  it("beside another claim's rename (a migrate of a spare) it starts nothing: customer-task-running", async () => {
    const { driver, rename, task } = await pool({ refill: false });
    const first = (await driver.queueTask("spare-a.pool.invalid", "migrate", { targetPlatform: PLATFORM, newUri: "first.example.com" })).nid;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(task(first)?.status).toBe(TASK_PROCESSING);
    const migrate = await rename();
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: false, reason: "customer-task-running" });
    expect(task(migrate)?.status).toBe(TASK_QUEUED);
  });

  it("another zone's spares are not this pool's work: customer-task-running", async () => {
    const { driver, rename } = await pool();
    await expect(driver.runTaskBeside(await rename(), "other.invalid")).resolves.toEqual({ started: false, reason: "customer-task-running" });
  });

  it("idle() waits for an express task that outlasts the daemon's; drainTasks() finishes it now", async () => {
    const { sim, driver, clone, rename, task } = await pool({ migrateMs: 150_000 });
    const migrate = await rename();
    await driver.runTaskBeside(migrate, ZONE);
    let idle = false;
    void sim.idle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(100_000);
    expect(task(clone)?.status).toBe(TASK_SUCCESS);
    expect(sim.tasks.busy()).toBe(true);
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(50_000);
    expect(task(migrate)?.status).toBe(TASK_SUCCESS);
    expect(idle).toBe(true);
    expect(sim.tasks.busy()).toBe(false);

    const second = await pool({ migrateMs: 150_000 });
    const next = await second.rename();
    await second.driver.runTaskBeside(next, ZONE);
    second.sim.drainTasks();
    expect([second.task(second.clone)?.status, second.task(next)?.status]).toEqual([TASK_SUCCESS, TASK_SUCCESS]);
    expect(second.sim.tasks.busy()).toBe(false);
    await expect(second.sim.idle()).resolves.toBeUndefined();
    // Nothing is left on the clock to run either again.
    await vi.advanceTimersByTimeAsync(200_000);
    expect(second.task(next)).toMatchObject({ status: TASK_SUCCESS, delta: 0 });
  });

  it("an injected failure applies to an express task as to the daemon's", async () => {
    const { sim, driver, rename, task } = await pool();
    sim.faults.failTask({ type: "migrate", uri: "spare-b.pool.invalid", message: "Injected rename failure." });
    const migrate = await rename();
    await driver.runTaskBeside(migrate, ZONE);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(task(migrate)?.status).toBe(TASK_FAILED);
    expect(task(migrate)?.log.at(-1)).toMatchObject({ message: "Injected rename failure.", level: "error" });
    expect(sim.site("spare-b.pool.invalid")).toBeDefined();
    expect(sim.site("shop.example.com")).toBeUndefined();
  });

  it("close() stops an express task's timer", async () => {
    const { sim, driver, rename, task } = await pool();
    const migrate = await rename();
    await driver.runTaskBeside(migrate, ZONE);
    sim.close();
    await vi.advanceTimersByTimeAsync(200_000);
    expect(task(migrate)?.status).toBe(TASK_PROCESSING);
  });
});

describe("the queue's express lane", () => {
  it("a task started by another process during the daemon's pause is not run twice", async () => {
    const { sim, driver, task } = await pool({ refill: false });
    const verify = (await driver.queueTask("acme.example.com", "verify")).nid;
    const node = task(verify);
    if (!node) throw new Error("no task");
    // hosting-queued has picked it and sleeps its second; another hosting-task takes it meanwhile.
    sim.tasks.runNow(node);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(node).toMatchObject({ status: TASK_PROCESSING, executed: 1_767_607_200 });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(node).toMatchObject({ status: TASK_SUCCESS, delta: 30 });
    expect(node.log.filter((l) => l.level === "error")).toEqual([]);
    await expect(sim.idle()).resolves.toBeUndefined();
    expect(() => sim.tasks.runNow(node)).toThrow(/is not queued/);
  });
});

describe("pool work in the background", () => {
  const background = { zone: ZONE };
  const VARIABLE = "aegir_operator_background_tasks";

  it("a background install runs at once while hosting-queued takes a customer's task queued after it", async () => {
    const { sim, driver, task } = await pool({ refill: false });
    const created = await driver.createSite({ uri: "spare-d.pool.invalid", platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" }, { background });
    expect(created).toEqual({ nid: created.nid, task: created.task, background: true });
    // Its own process: Processing at once, no hosting-queued pause.
    expect(task(created.task)).toMatchObject({ status: TASK_PROCESSING, executed: 1_767_607_200 });
    expect(sim.hostmaster.variables.get(VARIABLE)).toEqual([created.task]);
    const verify = (await driver.queueTask("acme.example.com", "verify")).nid;

    // hosting-queued's pause before the install finds it Processing and moves on; it pauses before the verify.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(task(verify)).toMatchObject({ status: TASK_PROCESSING, executed: 1_767_607_202 });
    expect(task(created.task)?.status).toBe(TASK_PROCESSING);
    let status = await driver.serverStatus();
    const flags = () =>
      status.sites
        .flatMap((s) => s.tasks)
        .filter((t) => t.nid === created.task || t.nid === verify)
        .sort((a, b) => a.nid - b.nid)
        .map((t) => [t.nid, t.status, t.background]);
    expect(flags()).toEqual([
      [created.task, "processing", true],
      [verify, "processing", false],
    ]);
    expect(status.queue).toEqual({ queued: 0, processing: 2 });

    await vi.advanceTimersByTimeAsync(30_000);
    expect(task(verify)).toMatchObject({ status: TASK_SUCCESS, delta: 30 });
    expect(task(created.task)?.status).toBe(TASK_PROCESSING);
    await vi.advanceTimersByTimeAsync(120_000 - 32_000);
    // The daemon never ran it again.
    expect(task(created.task)).toMatchObject({ status: TASK_SUCCESS, executed: 1_767_607_200, delta: 120 });
    expect(sim.site("spare-d.pool.invalid")?.status).toBe(1);
    status = await driver.serverStatus();
    expect(flags()).toEqual([
      [created.task, "succeeded", false],
      [verify, "succeeded", false],
    ]);
    await expect(sim.idle()).resolves.toBeUndefined();
  });

  it("run-task-beside is queue-idle while only background work runs; hosting-queued takes the task within seconds", async () => {
    const { sim, driver, rename, task } = await pool({ refill: false });
    const refill = await driver.queueTask("spare-a.pool.invalid", "clone", { targetPlatform: PLATFORM, newUri: "spare-c.pool.invalid", background });
    expect(refill).toEqual({ nid: refill.nid, background: true });
    expect(task(refill.nid)?.status).toBe(TASK_PROCESSING);
    const migrate = await rename();
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: false, reason: "queue-idle" });
    expect(task(migrate)?.status).toBe(TASK_QUEUED);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(task(migrate)).toMatchObject({ status: TASK_PROCESSING, executed: 1_767_607_202 });
    await vi.advanceTimersByTimeAsync(45_000);
    expect(task(migrate)?.status).toBe(TASK_SUCCESS);
    expect(sim.site("shop.example.com")).toBeDefined();
    expect(task(refill.nid)?.status).toBe(TASK_PROCESSING);
    await vi.advanceTimersByTimeAsync(100_000 - 47_000);
    expect(task(refill.nid)).toMatchObject({ status: TASK_SUCCESS, delta: 100 });
    expect(sim.site("spare-c.pool.invalid")).toBeDefined();

    // The next background task prunes the finished one from the list.
    const check = await driver.queueTask("spare-c.pool.invalid", "verify", { background });
    expect(sim.hostmaster.variables.get(VARIABLE)).toEqual([check.nid]);
  });

  it("beside a pool task hosting-queued runs, a rename still starts, background work aside", async () => {
    const { driver, rename, task } = await pool();
    const spare = await driver.createSite({ uri: "spare-d.pool.invalid", platform: PLATFORM, profile: "openatrium", aliases: [], https: "Disabled" }, { background });
    const migrate = await rename();
    await expect(driver.runTaskBeside(migrate, ZONE)).resolves.toEqual({ started: true });
    expect([task(spare.task)?.status, task(migrate)?.status]).toEqual([TASK_PROCESSING, TASK_PROCESSING]);
  });

  it("the hostmaster refuses a name outside the zone as the PHP does, creating nothing", async () => {
    const { sim } = await pool({ refill: false });
    const before = sim.hostmaster.tasks.size;
    const run = (script: "create-site" | "queue-task", input: Record<string, unknown>) =>
      sim.exec(["drush", "@hostmaster", "php-eval", SCRIPTS[script]], { stdin: JSON.stringify({ background: { alias: "@hostmaster", zone: ZONE }, ...input }) });
    const refusals = [
      await run("create-site", { uri: "shop.example.com", platform: PLATFORM, profile: "openatrium", aliases: [], https: 0 }),
      await run("queue-task", { uri: "acme.example.com", type: "verify" }),
      await run("queue-task", { uri: "spare-a.pool.invalid", type: "clone", targetPlatform: PLATFORM, newUri: "shop.example.com" }),
    ];
    expect(refusals.map((r) => [r.code, r.stdout])).toEqual([
      [1, ""],
      [1, ""],
      [1, ""],
    ]);
    expect(refusals.map((r) => parseLog(r.stderr))).toEqual(
      ["shop.example.com", "acme.example.com", "shop.example.com"].map((uri) => [{ level: "error", message: `${uri} is not a site of the pool zone pool.invalid: only pool work runs in the background.` }]),
    );
    expect(sim.site("shop.example.com")).toBeUndefined();
    expect(sim.hostmaster.tasks.size).toBe(before);
    expect(sim.hostmaster.variables.has(VARIABLE)).toBe(false);
    const input = await run("queue-task", { uri: "spare-a.pool.invalid", type: "verify", background: { zone: ZONE } });
    expect([input.code, input.stdout]).toEqual([1, ""]);
    expect(parseLog(input.stderr)).toEqual([{ level: "error", message: "Expected the hostmaster alias and the placeholder zone of the pool work." }]);
    expect(sim.hostmaster.tasks.size).toBe(before);
  });
});
