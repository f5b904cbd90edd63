// The shared server-status read is refreshed after writes that change what it shows (hostmaster
// writes), not after a site's own drush writes: those re-reads of the whole server were what a
// spec change on a busy server waited for.
import { describe, expect, it } from "vitest";
import { hostedSite } from "./fixtures.ts";
import { Rig } from "./harness.ts";

const names = (rig: Rig, mark: number) => rig.sim.stats.records.slice(mark).map((r) => r.name);

describe("server-status after writes", () => {
  it("a site-level change (quota) keeps the cached server status", async () => {
    const rig = new Rig(hostedSite());
    await rig.converge();
    rig.store.editSpec((spec) => (spec.userQuota = 42));
    await rig.reconcile();
    rig.advance(5_000);
    const mark = rig.sim.stats.records.length;
    await rig.reconcile();
    expect(names(rig, mark)).not.toContain("php-eval:server-status");
    expect(rig.sim.site("acme.sites.example.com")!.drupal!.variables.get("user_limit")).toBe(42);
  });

  it("a hostmaster change (suspension queues a task) reads the server again", async () => {
    const rig = new Rig(hostedSite());
    await rig.converge();
    rig.store.editSpec((spec) => (spec.suspended = true));
    await rig.reconcile();
    rig.advance(5_000);
    const mark = rig.sim.stats.records.length;
    await rig.reconcile();
    expect(names(rig, mark)[0]).toBe("php-eval:server-status");
  });
});
