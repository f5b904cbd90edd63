// The user quota as the operator enforces it (reconcilers/aegir/quota.ts): accounts created
// beyond the quota are blocked at the next deep read, newest first, never the owner; accounts
// that existed when the quota was lowered are kept.
import { describe, expect, it } from "vitest";
import { addUser } from "../harness/aegir/drupal.ts";
import { CONFIG, Rig } from "./harness.ts";
import { hostedSite } from "./fixtures.ts";

const URI = "acme.sites.example.com";

describe("user quota enforcement", () => {
  it("blocks the accounts created beyond the quota, newest first, and never the owner", async () => {
    const rig = new Rig(hostedSite({ userQuota: 3 }));
    await rig.converge();
    const drupal = rig.sim.site(URI)!.drupal!;
    const since = (drupal.variables.get("aegir_operator_quota") as { since: number }).since;
    for (const [i, name] of ["bob", "carol", "dave", "erin"].entries()) addUser(drupal, { name, mail: `${name}@acme.example.com`, now: since + 10 + i });
    rig.advance(CONFIG.driftCheckMs);
    await rig.reconcile();
    const status = (name: string) => [...drupal.users.values()].find((u) => u.name === name)?.status;
    expect(["jane", "bob", "carol", "dave", "erin"].map(status)).toEqual([1, 1, 1, 0, 0]);
    await rig.reconcile();
    expect(rig.condition("QuotaEnforced")).toMatchObject({ status: "True", reason: "WithinQuota", message: "3 of 3 users" });
  });

  it("keeps the accounts that existed when the quota was lowered, and blocks those created after", async () => {
    const rig = new Rig(hostedSite({ userQuota: 10 }));
    await rig.converge();
    const drupal = rig.sim.site(URI)!.drupal!;
    // The quota of 10 started an hour ago; bob and carol joined within it.
    const now = (drupal.variables.get("aegir_operator_quota") as { since: number }).since;
    drupal.variables.set("aegir_operator_quota", { limit: 10, since: now - 3600 });
    for (const name of ["bob", "carol"]) addUser(drupal, { name, mail: `${name}@acme.example.com`, now: now - 1800 });
    rig.store.editSpec((spec) => {
      spec.userQuota = 1;
    });
    await rig.reconcile();
    await rig.reconcile();
    expect([...drupal.users.values()].filter((u) => u.uid > 1).map((u) => u.status)).toEqual([1, 1, 1]);
    expect(rig.condition("QuotaEnforced")).toMatchObject({ status: "False", reason: "OverQuota" });
    const lowered = drupal.variables.get("aegir_operator_quota") as { limit: number; since: number };
    expect(lowered).toMatchObject({ limit: 1 });
    expect(lowered.since).toBeGreaterThanOrEqual(now);
    addUser(drupal, { name: "dave", mail: "dave@acme.example.com", now: lowered.since + 5 });
    rig.advance(CONFIG.driftCheckMs);
    await rig.reconcile();
    expect([...drupal.users.values()].find((u) => u.name === "dave")?.status).toBe(0);
    expect([...drupal.users.values()].filter((u) => u.status === 1).map((u) => u.name)).toEqual(["admin", "jane", "bob", "carol"]);
  });
});
