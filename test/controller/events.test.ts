// The event recorder's per-object rate limit holds, and its table does not grow with every
// object ever evented: a bucket that has refilled is dropped, as it equals having none.
import { describe, expect, it } from "vitest";
import { KubeEventRecorder } from "../../controller/kube/events.ts";
import type { KubeRest } from "../../common/kube/rest.ts";
import { createLogger } from "../../common/logger.ts";

function recorder(now: () => number) {
  const posts: string[] = [];
  const rest = {
    request: (method: string, path: string) => {
      posts.push(`${method} ${path}`);
      return Promise.resolve({});
    },
  } as unknown as KubeRest;
  const events = new KubeEventRecorder({ rest, controller: "aegir-operator", instance: "test", log: createLogger({ name: "test", level: "silent" }), now });
  const buckets = () => (events as unknown as { buckets: Map<string, unknown> }).buckets.size;
  return { events, posts, buckets };
}

const site = (name: string) => ({ apiVersion: "hosting.openatria.com/v1alpha1", kind: "HostedSite", name, namespace: "customers", uid: `u-${name}` });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("KubeEventRecorder buckets", () => {
  it("keeps limiting a flooding object while thousands of others come and go", async () => {
    let t = 0;
    const { events, posts, buckets } = recorder(() => t);
    const others = async (prefix: string) => {
      for (let i = 0; i < 3000; i++) events.record(site(`${prefix}-${i}`), "Normal", "SiteReady", "Reconcile", "up");
      await settle();
    };
    for (let i = 0; i < 30; i++) events.record(site("noisy"), "Warning", "ReconcileError", "Reconcile", `failure ${i}`);
    await settle();
    expect(posts).toHaveLength(25);
    t += 1_000;
    await others("a");
    let before = posts.length;
    events.record(site("noisy"), "Warning", "ReconcileError", "Reconcile", "still failing");
    await settle();
    expect(posts.length).toBe(before); // its empty bucket survived the sweeps
    t += 600_000;
    await others("b");
    // The first 3000 have refilled and are gone; the noisy object's bucket is still being refilled.
    expect(buckets()).toBeLessThanOrEqual(3001);
    before = posts.length;
    events.record(site("noisy"), "Warning", "ReconcileError", "Reconcile", "after ten minutes");
    await settle();
    expect(posts.length - before).toBe(1);
  });
});
