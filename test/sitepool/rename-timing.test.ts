// When a claim looks again at its rename: at the progress poll until due, at the due time, then
// every second for one more estimate; the estimate is the median of the renames observed.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { SpareClaims } from "../../reconcilers/sitepool/claim.ts";
import { DEFAULT_RENAME_TIMING, nextRenameLook, RenameDurations } from "../../reconcilers/sitepool/rename-timing.ts";
import { TASK_PROCESSING, TASK_QUEUED, TASK_SUCCESS } from "../harness/aegir/model.ts";
import { PoolRig, sitePool } from "./rig.ts";

const timing = { tightPollMs: 1_000 };

describe("nextRenameLook", () => {
  it("waits for the due time, then looks every second, then leaves it to the progress poll", () => {
    expect(nextRenameLook(0, 0, 46_000, timing)).toBe(46_000);
    expect(nextRenameLook(44_000, 0, 46_000, timing)).toBe(2_000);
    expect(nextRenameLook(46_000, 0, 46_000, timing)).toBe(1_000);
    expect(nextRenameLook(91_999, 0, 46_000, timing)).toBe(1_000);
    expect(nextRenameLook(92_000, 0, 46_000, timing)).toBeUndefined();
  });
});

describe("RenameDurations", () => {
  it("starts from the default and follows the median of the last renames seen on each server", () => {
    const durations = new RenameDurations({ ...DEFAULT_RENAME_TIMING, remembered: 3 });
    expect(durations.estimate("a")).toBe(DEFAULT_RENAME_TIMING.defaultEstimateMs);
    durations.observe("a", 30_000);
    expect(durations.estimate("a")).toBe(30_000);
    durations.observe("a", 50_000);
    expect(durations.estimate("a")).toBe(40_000);
    durations.observe("a", 90_000);
    durations.observe("a", 60_000);
    // 30 s has dropped out: 50, 90, 60.
    expect(durations.estimate("a")).toBe(60_000);
    expect(durations.estimate("b")).toBe(DEFAULT_RENAME_TIMING.defaultEstimateMs);
    durations.observe("b", Number.NaN);
    durations.observe("b", -1);
    expect(durations.estimate("b")).toBe(DEFAULT_RENAME_TIMING.defaultEstimateMs);
  });
});

describe("a claim waiting on its rename", () => {
  async function claiming() {
    const rig = new PoolRig([sitePool({ size: { min: 1, max: 1 } })]);
    await rig.fillPool();
    const cache = new ServerStatusCache({ fetch: () => rig.driver.serverStatus(), now: () => rig.now.getTime(), maxAgeMs: 30_000 });
    const claims = new SpareClaims({ pools: () => rig.pools.list(), store: rig.pools, servers: () => rig.servers, statusCache: cache, driver: () => rig.driver, now: () => rig.now, log: createLogger({ name: "test", level: "silent" }) });
    return { rig, claims };
  }
  /** The queue daemon picks the rename up (the rig runs tasks only when drained). */
  const migrateOf = (rig: PoolRig) => {
    const migrate = [...rig.sim.hostmaster.tasks.values()].find((t) => t.type === "migrate" && t.status !== TASK_SUCCESS);
    if (migrate === undefined) throw new Error("no rename queued");
    return migrate;
  };
  const start = (rig: PoolRig) => (migrateOf(rig).status = TASK_PROCESSING);
  /** It ends: drained as if it had just been picked up. */
  const finish = (rig: PoolRig) => {
    migrateOf(rig).status = TASK_QUEUED;
    rig.sim.drainTasks();
  };

  it("looks when the rename is due and then every second, not every progress poll; learns how long renames take", async () => {
    const { rig, claims } = await claiming();
    rig.order("acme");
    const queued = await claims.step(rig.site("acme"), "aegir-1");
    expect(queued).toMatchObject({ kind: "waiting", retryAfterMs: DEFAULT_RENAME_TIMING.defaultEstimateMs });
    start(rig);
    rig.advance(20_000);
    expect(await claims.step(rig.site("acme"), "aegir-1")).toMatchObject({ kind: "waiting", retryAfterMs: DEFAULT_RENAME_TIMING.defaultEstimateMs - 20_000 });
    rig.advance(DEFAULT_RENAME_TIMING.defaultEstimateMs - 20_000);
    expect(await claims.step(rig.site("acme"), "aegir-1")).toMatchObject({ kind: "waiting", retryAfterMs: 1_000 });
    rig.advance(4_000);
    finish(rig);
    expect((await claims.step(rig.site("acme"), "aegir-1")).kind).toBe("none");

    // The next claim on the server expects its rename to take as long as that one (50 s).
    await rig.converge("acme");
    await rig.fillPool();
    expect(rig.spares().filter((sp) => sp.state === "Ready")).toHaveLength(1);
    rig.advance(30_000); // the claimer's cached status shows the new spare
    rig.order("beta");
    expect(await claims.step(rig.site("beta"), "aegir-1")).toMatchObject({ kind: "waiting", retryAfterMs: DEFAULT_RENAME_TIMING.defaultEstimateMs + 4_000 });
  });

  it("counts from a look that saw the rename still queued behind other tasks", async () => {
    const { rig, claims } = await claiming();
    // A customer's verify holds the queue: the rename waits behind it.
    await rig.driver.queueTask("support.example.com", "verify");
    rig.order("acme");
    await claims.step(rig.site("acme"), "aegir-1");
    rig.advance(30_000);
    expect(await claims.step(rig.site("acme"), "aegir-1")).toMatchObject({ kind: "waiting", retryAfterMs: DEFAULT_RENAME_TIMING.defaultEstimateMs });
  });

  it("after twice the estimate without an end, looks at the progress poll again", async () => {
    const { rig, claims } = await claiming();
    rig.order("acme");
    await claims.step(rig.site("acme"), "aegir-1");
    start(rig);
    rig.advance(2 * DEFAULT_RENAME_TIMING.defaultEstimateMs);
    const late = await claims.step(rig.site("acme"), "aegir-1");
    expect(late.kind).toBe("waiting");
    expect(late.kind === "waiting" ? late.retryAfterMs : 0).toBeUndefined();
  });
});
