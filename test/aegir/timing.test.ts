// Latency, the serial task queue and timeouts, on vitest's fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { installedSite, simulated } from "./setup.ts";

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-01-05T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

const NEW_SITE = { platform: "platform_openatrium2652", profile: "openatrium", aliases: [] as string[], https: "Disabled" as const };

describe("latency", () => {
  it("every command pays the drush bootstrap latency, scaled by the time factor", async () => {
    const { driver } = simulated({ latency: { commandMs: 1_000, timeFactor: 0.5 } });
    let done = false;
    const status = driver.serverStatus().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await status;
    expect(done).toBe(true);
  });

  it("benchmark mode: an install takes minutes, tasks run one at a time across sites", async () => {
    const { sim, driver } = simulated({ latency: "benchmark" });
    const create = Promise.all([driver.createSite({ uri: "a.example.com", ...NEW_SITE }), driver.createSite({ uri: "b.example.com", ...NEW_SITE })]);
    await vi.advanceTimersByTimeAsync(1_000);
    await create;
    await vi.advanceTimersByTimeAsync(1_000);
    expect([...sim.hostmaster.tasks.values()].map((t) => t.status)).toEqual([-1, 0]);
    await vi.advanceTimersByTimeAsync(180_000);
    expect([...sim.hostmaster.tasks.values()].map((t) => t.status)).toEqual([1, 0]);
    await vi.advanceTimersByTimeAsync(1_000 + 180_000);
    const tasks = [...sim.hostmaster.tasks.values()];
    expect(tasks.map((t) => [t.status, t.delta])).toEqual([
      [1, 180],
      [1, 180],
    ]);
    const [first, second] = tasks as [(typeof tasks)[number], (typeof tasks)[number]];
    expect(second.executed).toBeGreaterThanOrEqual(first.executed + first.delta);
    await expect(sim.idle()).resolves.toBeUndefined();
  });

  it("per site, a second task waits: queueTask is refused while one is pending", async () => {
    const { sim, driver } = simulated({ latency: { tasks: { verify: 30_000 } } });
    await installedSite(sim, driver);
    await driver.queueTask("acme.example.com", "verify");
    await expect(driver.queueTask("acme.example.com", "backup")).rejects.toMatchObject({ reason: "TaskPending" });
    await vi.advanceTimersByTimeAsync(30_000);
    await expect(driver.queueTask("acme.example.com", "backup")).resolves.toMatchObject({ nid: expect.any(Number) as number });
  });

  it("tasks queued by two sites never overlap", async () => {
    const { sim, driver } = simulated({ latency: { tasks: { install: 60_000, verify: 20_000, backup: 10_000 }, taskStartDelayMs: 1_000 } });
    await driver.createSite({ uri: "a.example.com", ...NEW_SITE });
    await driver.createSite({ uri: "b.example.com", ...NEW_SITE });
    await vi.advanceTimersByTimeAsync(200_000);
    await driver.queueTask("a.example.com", "backup");
    await driver.updateSite("b.example.com", { aliases: ["www.b.example.com"], https: "Enabled" });
    await vi.advanceTimersByTimeAsync(100_000);
    const spans = [...sim.hostmaster.tasks.values()].map((t) => [t.executed, t.executed + t.delta] as const).sort((x, y) => x[0] - y[0]);
    expect(spans).toHaveLength(4);
    for (let i = 1; i < spans.length; i++) expect((spans[i] as readonly [number, number])[0]).toBeGreaterThanOrEqual((spans[i - 1] as readonly [number, number])[1]);
  });
});

describe("timeouts", () => {
  it("a hung command rejects with CommandTimeout when timeoutMs passes", async () => {
    const { sim, driver } = simulated({}, { readMs: 5_000 });
    sim.faults.hang({ match: { command: "php-eval:server-status" } });
    const result = driver.serverStatus().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    const error = await result;
    expect(error).toBeInstanceOf(AegirError);
    expect(error).toMatchObject({ reason: "CommandTimeout", transient: true });
    expect(sim.stats.records[0]?.outcome).toBe("aborted");
  });

  it("a command slower than its timeout is abandoned and, by default, has no effect", async () => {
    const { sim, driver } = simulated({ latency: { commands: { "user-create": 10_000 } } }, { writeMs: 2_000 });
    await installedSite(sim, driver);
    const result = driver.createUser("@acme.example.com", "jane", "jane@example.com").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await result).toMatchObject({ reason: "CommandTimeout" });
    expect(await driver.findAccount("@acme.example.com", { name: "jane" })).toBeNull();
  });

  it("abandonedCommandsApply: the abandoned command took effect", async () => {
    const { sim, driver } = simulated({ latency: { commands: { "user-create": 10_000 } }, abandonedCommandsApply: true }, { writeMs: 1_000 });
    await installedSite(sim, driver);
    const result = driver.createUser("@acme.example.com", "jane", "jane@example.com").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await result).toMatchObject({ reason: "CommandTimeout" });
    expect(sim.site("acme.example.com")?.drupal?.users.size).toBe(2);
  });
});
