// Deletion must not depend on the apply path having run: a site that was never placed, or whose
// AegirServer is gone, must still be released (kube-rs's finalizer contract).
import { describe, expect, it } from "vitest";
import { FINALIZER } from "../../reconcilers/hostedsite/names.ts";
import { hostedSite } from "./fixtures.ts";
import { Rig, server } from "./harness.ts";

/** Reconciles as Aegir works (at most 8 rounds) until the finalizer is gone and Aegir deleted the site. */
async function expectDeletedInAegir(rig: Rig): Promise<void> {
  for (let i = 0; i < 8 && !rig.store.gone; i++) {
    await rig.reconcile();
    rig.advance(5_000);
  }
  expect(rig.store.gone).toBe(true);
  expect(rig.sim.siteNodes("acme.sites.example.com")[0]!.status).toBe(-2);
}

describe("HostedSite deletion", () => {
  it("releases a site that was never placed (no server offers its profile)", async () => {
    const rig = new Rig(hostedSite({ profile: "commerce_kickstart" }));
    await rig.reconcile();
    expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "NoServerForProfile" });
    expect(rig.store.site.metadata.finalizers).toEqual([FINALIZER]);
    rig.store.markDeleted(rig.now);
    const writes = rig.sim.stats.records.filter((r) => r.kind === "write").length;
    const result = await rig.reconcile();
    expect(rig.store.gone).toBe(true);
    expect(result.error).toBeUndefined();
    expect(rig.sim.stats.records.filter((r) => r.kind === "write")).toHaveLength(writes);
  });

  it("releases a Retain site whose AegirServer was removed", async () => {
    const rig = new Rig(hostedSite({ deletionPolicy: "Retain" }));
    await rig.converge();
    rig.servers = [];
    await rig.reconcile();
    expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "UnknownServer" });
    rig.store.markDeleted(rig.now);
    await rig.reconcile();
    expect(rig.store.gone).toBe(true);
    expect(rig.sim.site("acme.sites.example.com")!.status).toBe(1);
  });

  it("holds a Delete site whose AegirServer was removed with a terminal condition, until ops set Retain", async () => {
    const rig = new Rig(hostedSite());
    await rig.converge();
    rig.servers = [];
    rig.store.markDeleted(rig.now);
    const result = await rig.reconcile();
    expect(rig.store.gone).toBe(false);
    expect(result).toMatchObject({ terminal: true });
    expect(result.requeueAfterMs).toBeUndefined();
    expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "ServerNotFound" });
    expect(rig.condition("Ready")?.message).toContain("spec.deletionPolicy to Retain");
    expect(rig.condition("Installed")).toMatchObject({ status: "False", reason: "ServerNotFound" });
    expect(rig.events).toEqual([expect.stringMatching(/^Normal SiteReady: /), expect.stringMatching(/^Warning ReconcileError: AegirServer aegir-1 does not exist/)]);
    rig.store.editSpec((spec) => (spec.deletionPolicy = "Retain"));
    await rig.reconcile();
    expect(rig.store.gone).toBe(true);
  });

  it("deletes in Aegir once the removed AegirServer is back", async () => {
    const rig = new Rig(hostedSite());
    await rig.converge();
    rig.servers = [];
    rig.store.markDeleted(rig.now);
    await rig.reconcile();
    rig.servers = [server()];
    await expectDeletedInAegir(rig);
  });

  it("deletes a site whose platform was taken out of the AegirServer's spec", async () => {
    const rig = new Rig(hostedSite());
    await rig.converge();
    const [configured] = rig.servers;
    rig.servers = [{ ...configured!, spec: { ...configured!.spec, platforms: [{ name: "platform_d6", profile: "standard", ownerRole: "manager" }] } }];
    rig.store.markDeleted(rig.now);
    await expectDeletedInAegir(rig);
  });

  it("deletes where the site lives when spec.server was changed before the delete", async () => {
    const rig = new Rig(hostedSite());
    await rig.converge();
    rig.store.editSpec((spec) => (spec.server = "aegir-2"));
    rig.store.markDeleted(rig.now);
    await expectDeletedInAegir(rig);
  });
});
