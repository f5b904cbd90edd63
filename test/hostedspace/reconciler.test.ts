// The HostedSpace reconciler against the simulated Aegir: create, owner, welcome, quota,
// archive and resume, delete and retain, and what a converged space costs per poll.
import { describe, expect, it } from "vitest";
import { OG_ADMINISTRATOR_ROLE, joinSpace, openAtrium } from "../harness/aegir/spaces.ts";
import { addUser, userByName } from "../harness/aegir/drupal.ts";
import { SHARED, SpaceRig, hostedSpace } from "./harness.ts";

describe("HostedSpace reconciler", () => {
  it("creates the space, makes the owner its administrator and welcomes her once", async () => {
    const rig = new SpaceRig();
    await rig.converge();
    const node = rig.spaceNode()!;
    expect(node).toMatchObject({ title: "Acme Team", status: 1, groupAccess: 1 });
    const owner = userByName(rig.drupal, "owner.acme.example.com")!;
    expect(owner.uid).toBeGreaterThan(1);
    expect(owner.roles).not.toContain("administrator");
    expect(node.members.get(owner.uid)).toEqual({ state: 1, roles: ["member", OG_ADMINISTRATOR_ROLE] });
    expect(node.members.has(1)).toBe(false);
    expect(rig.drupal.outbox.filter((m) => m.kind === "space_welcome")).toEqual([expect.objectContaining({ to: "owner@acme.example.com", uid: owner.uid })]);
    const status = rig.store.space.status!;
    expect(status).toMatchObject({ server: "aegir-1", siteUri: SHARED, nid: node.nid, url: `http://${SHARED}/node/${node.nid}`, owner: { name: "owner.acme.example.com", uid: owner.uid, welcome: "Sent" }, members: { active: 1, quota: 3 } });
    for (const type of ["SpaceCreated", "QuotaEnforced", "OwnerReady"]) expect(rig.condition(type)?.status, type).toBe("True");
    expect(rig.drupal.modules).toContain("aegir_operator_spaces");

    // A restart forgets everything but the status: still one space, one membership, one mail.
    rig.restart();
    rig.advance(60_000);
    await rig.converge();
    expect(openAtrium(rig.drupal).spaces.size).toBe(1);
    expect(rig.drupal.outbox.filter((m) => m.kind === "space_welcome")).toHaveLength(1);
  });

  it("costs one shared space-list read per poll once converged, and nothing more", async () => {
    const rig = new SpaceRig();
    await rig.converge();
    rig.advance(60_000);
    await rig.reconcile();
    const mark = rig.sim.stats.records.length;
    for (let i = 0; i < 5; i++) {
      rig.advance(60_000);
      await rig.reconcile();
    }
    expect(rig.sim.stats.records.slice(mark).map((r) => r.name)).toEqual(Array(5).fill("php-eval:space-list"));
  });

  it("has the site refuse a member beyond the quota", async () => {
    const rig = new SpaceRig(hostedSpace("acme", { memberQuota: 2 }));
    await rig.converge();
    const node = rig.spaceNode()!;
    const guest = userByName(rig.drupal, "guest")!;
    expect(joinSpace(rig.drupal, node, guest.uid)).toEqual({ ok: true });
    const late = addUser(rig.drupal, { name: "late", mail: "late@example.com", now: 0 });
    expect(joinSpace(rig.drupal, node, late.uid)).toEqual({ ok: false, message: "This space has reached its limit of 2 members." });
    rig.advance(60_000);
    await rig.reconcile();
    expect(rig.store.space.status?.members).toEqual({ active: 2, quota: 2 });

    // Raising the quota lets the next one in.
    rig.store.editSpec((s) => (s.memberQuota = 3));
    await rig.converge();
    expect(joinSpace(rig.drupal, node, late.uid)).toEqual({ ok: true });
  });

  it("archives the space when suspended or expired, keeps its content, and resumes it", async () => {
    const rig = new SpaceRig();
    await rig.converge();
    const members = rig.spaceNode()!.members.size;
    rig.store.editSpec((s) => (s.suspended = true));
    await rig.reconcile();
    expect(rig.spaceNode()?.status).toBe(0);
    rig.advance(5_000);
    await rig.reconcile();
    expect(rig.condition("Suspended")).toMatchObject({ status: "True", reason: "Archived" });
    expect(rig.condition("Ready")).toMatchObject({ status: "False", reason: "Suspended" });
    expect(rig.spaceNode()?.members.size).toBe(members);

    rig.store.editSpec((s) => (s.suspended = false));
    await rig.converge();
    expect(rig.spaceNode()?.status).toBe(1);

    rig.store.editSpec((s) => (s.expiresAt = "2027-03-02T00:00:00Z"));
    const result = await rig.reconcile();
    expect(result.requeueAfterMs).toBeLessThanOrEqual(60_000);
    rig.now = new Date("2027-03-02T00:00:01Z");
    await rig.reconcile();
    expect(rig.spaceNode()?.status).toBe(0);
    rig.advance(5_000);
    await rig.reconcile();
    expect(rig.condition("Expired")?.status).toBe("True");
    expect(rig.condition("Ready")?.reason).toBe("Expired");
  });

  it("deletes the space on delete, or only lets go of it with Retain", async () => {
    const rig = new SpaceRig();
    await rig.converge();
    rig.store.markDeleted(rig.now);
    await rig.reconcile();
    expect(rig.spaceNode()).toBeUndefined();
    expect(openAtrium(rig.drupal).spaces.size).toBe(0);
    rig.advance(5_000);
    await rig.reconcile();
    expect(rig.store.gone).toBe(true);

    const kept = new SpaceRig(hostedSpace("keep", { deletionPolicy: "Retain" }));
    await kept.converge();
    kept.store.markDeleted(kept.now);
    await kept.reconcile();
    expect(kept.store.gone).toBe(true);
    expect(kept.spaceNode()).toBeDefined();
  });

  it("never makes a site administrator or uid 1 a space owner, and sends them no link", async () => {
    for (const email of ["boss@example.com", `aegir@aegir.example.com`]) {
      const rig = new SpaceRig(hostedSpace("acme", { owner: { email } }));
      for (let i = 0; i < 3; i++) {
        await rig.reconcile();
        rig.advance(5_000);
      }
      expect(rig.condition("OwnerReady"), email).toMatchObject({ status: "False", reason: "OwnerIsSiteAdmin" });
      expect(rig.condition("Ready")?.status).toBe("False");
      expect([...rig.spaceNode()!.members.keys()]).toEqual([]);
      expect(rig.drupal.outbox.filter((m) => m.kind === "space_welcome")).toEqual([]);
      expect(rig.sim.stats.records.some((r) => r.name === "php-eval:space-owner" || r.name === "php-eval:space-welcome")).toBe(false);
    }
  });

  it("reports a blueprint the site does not have, without retrying each poll", async () => {
    const rig = new SpaceRig(hostedSpace("acme", { blueprint: "Nope" }));
    await rig.reconcile();
    expect(rig.condition("SpaceCreated")).toMatchObject({ status: "False", reason: "UnknownBlueprint" });
    const mark = rig.sim.stats.records.length;
    rig.advance(60_000);
    await rig.reconcile();
    expect(rig.sim.stats.records.slice(mark).some((r) => r.name === "php-eval:space-ensure")).toBe(false);
    rig.store.editSpec((s) => (s.blueprint = "Team Space"));
    await rig.converge();
    expect(rig.spaceNode()?.blueprintTid).toBe(2);
  });

  it("creates no second space when the connection drops after the create took effect", async () => {
    const rig = new SpaceRig();
    rig.sim.faults.drop({ match: { command: "php-eval:space-ensure" }, applied: true });
    const first = await rig.reconcile();
    expect(first.error).toBeDefined();
    rig.advance(1_000);
    await rig.converge();
    expect(openAtrium(rig.drupal).spaces.size).toBe(1);
    expect(rig.drupal.outbox.filter((m) => m.kind === "space_welcome")).toHaveLength(1);
  });
});
