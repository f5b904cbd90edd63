// How the controller treats what a reconcile throws: a conflict (stale cache) is a routine retry,
// anything else a panic; both come back with backoff and the worker keeps running. A terminal
// error is counted and not retried.
import { describe, expect, it } from "vitest";
import { Controller } from "../../controller/controller.ts";
import { KubeApiError } from "../../common/kube/rest.ts";
import { createLogger } from "../../common/logger.ts";
import { ControllerMetrics } from "../../controller/metrics.ts";
import { eventually } from "../e2e/stack.ts";

const log = createLogger({ name: "test", level: "silent" });

async function run(first: Error): Promise<{ calls: number; panics: number; errors: number }> {
  const metrics = new ControllerMetrics();
  let calls = 0;
  const controller = new Controller({
    name: "test",
    metrics,
    log,
    reconcile: () => {
      calls++;
      if (calls === 1) throw first;
      return Promise.resolve({});
    },
  });
  controller.enqueue("ns/a");
  controller.start();
  await eventually(() => (calls >= 2 ? true : undefined), 5_000, "the retry");
  await controller.stop(1_000);
  const value = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.controller === "test")?.value ?? 0;
  return { calls, panics: await value("controller_runtime_reconcile_panics_total"), errors: await value("controller_runtime_reconcile_errors_total") };
}

describe("Controller", () => {
  it("retries a conflict with backoff without counting a panic", async () => {
    const result = await run(new KubeApiError(409, { code: 409, reason: "Conflict", message: "the object has been modified" }));
    expect(result).toEqual({ calls: 2, panics: 0, errors: 1 });
  });

  it("counts any other exception as a panic, and retries it too", async () => {
    const result = await run(new TypeError("undefined is not a function"));
    expect(result).toEqual({ calls: 2, panics: 1, errors: 1 });
  });

  it("counts a terminal error and does not retry it", async () => {
    const metrics = new ControllerMetrics();
    const backoffs: string[] = [];
    const seen: string[] = [];
    const controller = new Controller({
      name: "test",
      metrics,
      log,
      rateLimiter: { when: (key) => (backoffs.push(key), 0), forget: () => {}, numRequeues: () => 0 },
      reconcile: (key) => {
        seen.push(key);
        return Promise.resolve(key === "ns/a" ? { error: new Error("AegirServer aegir-1 does not exist"), terminal: true } : {});
      },
    });
    controller.enqueue("ns/a");
    controller.enqueue("ns/b");
    controller.start();
    await eventually(() => (seen.includes("ns/b") ? true : undefined), 5_000, "the next key");
    await controller.stop(1_000);
    const value = async (name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values.find((v) => v.labels.controller === "test" && (v.labels.result ?? "error") === "error")?.value ?? 0;
    expect(seen).toEqual(["ns/a", "ns/b"]);
    expect(backoffs).toEqual([]);
    expect(await value("controller_runtime_terminal_reconcile_errors_total")).toBe(1);
    expect(await value("controller_runtime_reconcile_errors_total")).toBe(1);
    expect(await value("controller_runtime_reconcile_total")).toBe(1);
  });
});
