// planSpace and the space conditions: pure rules, no server.
import { describe, expect, it } from "vitest";
import { SPACE_MODULE_VERSION } from "../../reconcilers/aegir/space-scripts.ts";
import type { SpaceSummary } from "../../reconcilers/aegir/spaces.ts";
import { computeSpaceConditions } from "../../reconcilers/hostedspace/conditions.ts";
import { resolveSpace, type SpaceDesired } from "../../reconcilers/hostedspace/desired.ts";
import { planSpace, type SpaceObserved } from "../../reconcilers/hostedspace/plan.ts";
import { hostedSpace } from "./harness.ts";

const NOW = new Date("2027-03-01T09:00:00Z");

function desired(spec: Parameters<typeof hostedSpace>[1] = {}, deleting = false): SpaceDesired {
  const space = hostedSpace("acme", spec);
  if (deleting) space.metadata.deletionTimestamp = NOW.toISOString();
  const r = resolveSpace(space, [], NOW);
  if ("error" in r) throw new Error(r.message);
  return r.desired;
}

const converged = (d: SpaceDesired): SpaceSummary => ({ machine: d.machine, nid: 100, ...d.settings, members: 1, admins: [7], welcome: { "7": "sent" } });
const ctx = { ownerUid: 7, welcomed: true, blocked: new Set<never>() };

describe("planSpace", () => {
  it("plans nothing for a converged space", () => {
    const d = desired();
    expect(planSpace(d, { module: SPACE_MODULE_VERSION, space: converged(d), deep: undefined }, ctx)).toEqual({ operations: [], problems: [], released: false });
  });

  it("installs the quota module first, then creates the space, its owner, and the welcome", () => {
    const d = desired();
    const kinds = planSpace(d, { module: null, space: undefined, deep: undefined }, { ownerUid: undefined, welcomed: false, blocked: new Set() }).operations.map((o) => o.kind);
    expect(kinds).toEqual(["InstallQuotaModule", "EnsureSpace", "EnsureOwner", "WelcomeOwner"]);
  });

  it("updates a drifted space and re-makes an owner who lost the administrator role, without a second welcome", () => {
    const d = desired();
    const drifted = { ...converged(d), title: "Renamed", quota: 99, admins: [] };
    const plan = planSpace(d, { module: SPACE_MODULE_VERSION, space: drifted, deep: undefined }, ctx);
    expect(plan.operations).toEqual([
      { kind: "EnsureSpace", aspect: "space", create: false, settings: d.settings },
      { kind: "EnsureOwner", aspect: "owner", name: "owner.acme.example.com", mail: "owner@acme.example.com" },
    ]);
  });

  it("never welcomes twice: a marker in any state on the site counts", () => {
    const d = desired();
    for (const state of ["sending", "failed"] as const) {
      const space = { ...converged(d), welcome: { "7": state } };
      expect(planSpace(d, { module: SPACE_MODULE_VERSION, space, deep: undefined }, { ...ctx, welcomed: false }).operations).toEqual([]);
    }
  });

  it("archives by unpublishing and leaves the owner alone", () => {
    const d = desired({ suspended: true });
    const plan = planSpace(d, { module: SPACE_MODULE_VERSION, space: { ...converged(d), published: true, admins: [] }, deep: undefined }, ctx);
    expect(plan.operations).toEqual([{ kind: "EnsureSpace", aspect: "space", create: false, settings: { ...d.settings, published: false } }]);
    expect(desired({ expiresAt: "2027-02-01T00:00:00Z" }).settings.published).toBe(false);
  });

  it("refuses a site administrator as owner without a command", () => {
    const d = desired();
    const deep = { nid: 100, owner: { uid: 1, name: "admin", mail: "owner@acme.example.com", status: "active" as const, roles: [], siteAdmin: true }, membership: null, welcome: null };
    const plan = planSpace(d, { module: SPACE_MODULE_VERSION, space: { ...converged(d), admins: [] }, deep }, { ownerUid: undefined, welcomed: false, blocked: new Set() });
    expect(plan.operations).toEqual([]);
    expect(plan.problems).toMatchObject([{ aspect: "owner", reason: "OwnerIsSiteAdmin" }]);
  });

  it("deletes the space, or releases at once with Retain or when it is gone", () => {
    const observed: SpaceObserved = { module: SPACE_MODULE_VERSION, space: converged(desired()), deep: undefined };
    expect(planSpace(desired({}, true), observed, ctx)).toEqual({ operations: [{ kind: "DeleteSpace", aspect: "space" }], problems: [], released: false });
    expect(planSpace(desired({ deletionPolicy: "Retain" }, true), observed, ctx).released).toBe(true);
    expect(planSpace(desired({}, true), { ...observed, space: undefined }, ctx).released).toBe(true);
  });

  it("skips blocked aspects until the spec changes", () => {
    const d = desired();
    const plan = planSpace(d, { module: SPACE_MODULE_VERSION, space: undefined, deep: undefined }, { ownerUid: undefined, welcomed: false, blocked: new Set(["space"] as const) });
    expect(plan.operations).toEqual([]);
  });
});

describe("resolveSpace", () => {
  it("waits for a HostedSite shared site until it is installed, then uses its server and domain", () => {
    const space = hostedSpace("acme", { site: { hostedSite: "demo" } });
    expect(resolveSpace(space, [], NOW)).toMatchObject({ error: "SharedSiteNotFound" });
    const site = { apiVersion: "hosting.openatria.com/v1alpha1", kind: "HostedSite", metadata: { name: "demo", namespace: "customers" }, spec: { domain: "demo.example.com", https: "Enabled" }, status: { server: "aegir-2", conditions: [] } } as never;
    expect(resolveSpace(space, [site], NOW)).toMatchObject({ error: "WaitingForSharedSite" });
    const installed = { ...(site as object), status: { server: "aegir-2", conditions: [{ type: "Installed", status: "True" }] } } as never;
    expect(resolveSpace(space, [installed], NOW)).toMatchObject({ desired: { server: "aegir-2", uri: "demo.example.com", https: true } });
  });

  it("gives owners whose addresses share a local part accounts of their own on the shared site", () => {
    const owner = (email: string, name?: string) => desired({ owner: { email, ...(name ? { name } : {}) } }).owner;
    expect(owner("ada@acme.example.com")).toEqual({ name: "ada.acme.example.com", mail: "ada@acme.example.com" });
    expect(owner("ada@tinker.example.com").name).toBe("ada.tinker.example.com");
    expect(owner("ada@tinker.example.com", "ada").name).toBe("ada");
  });

  it("holds the expiry of a space superseded by an upgrade until the new site is Ready", () => {
    const space = hostedSpace("acme", { expiresAt: "2027-02-01T00:00:00Z", supersededBy: { hostedSite: "acme-site" } });
    const site = (ready: "True" | "False") => ({ apiVersion: "hosting.openatria.com/v1alpha1", kind: "HostedSite", metadata: { name: "acme-site", namespace: "customers" }, spec: { domain: "acme.example.com" }, status: { conditions: [{ type: "Ready", status: ready }] } }) as never;
    expect(resolveSpace(space, [], NOW)).toMatchObject({ desired: { expired: false, archived: false, heldFor: "acme-site", settings: { published: true } } });
    expect(resolveSpace(space, [site("False")], NOW)).toMatchObject({ desired: { expired: false, heldFor: "acme-site" } });
    expect(resolveSpace(space, [site("True")], NOW)).toMatchObject({ desired: { expired: true, archived: true, heldFor: undefined, settings: { published: false } } });
  });
});

describe("space conditions", () => {
  it("reports over quota without failing Ready", () => {
    const d = desired({ memberQuota: 1 });
    const observed = { module: SPACE_MODULE_VERSION, space: { ...converged(d), members: 3 }, deep: undefined };
    const conditions = computeSpaceConditions({ desired: d, observed, plan: { operations: [], problems: [], released: false }, error: undefined, previous: [], blocked: new Map(), ownerUid: 7 });
    expect(conditions.find((c) => c.type === "QuotaEnforced")).toMatchObject({ status: "False", reason: "OverQuota" });
    expect(conditions.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "Available" });
  });
});
