import { describe, expect, it } from "vitest";
import { tasksAhead } from "../../reconcilers/aegir/state.ts";
import { type Observed, type PlanContext, plan } from "../../reconcilers/hostedsite/plan.ts";
import { deepState, desired, summary, task } from "./fixtures.ts";

const now = new Date("2027-01-01T00:00:00Z");
const ctx = (over: Partial<PlanContext> = {}): PlanContext => ({
  now,
  appliedFeatures: ["oa_wiki"],
  activeUsersSeen: 0,
  blocked: new Set(),
  createPendingSince: undefined,
  welcomed: true,
  ...over,
});
const account = { uid: 7, name: "jane.acme.example.com", mail: "jane@acme.example.com", status: "active" as const, roles: ["customer standard"] };
const converged = (over: Partial<Observed> = {}): Observed => ({ site: summary(), deep: deepState(), tracker: account, ...over });
const kinds = (p: ReturnType<typeof plan>) => p.operations.map((o) => o.kind);

describe("plan", () => {
  it("is empty for a converged site", () => {
    expect(plan(desired(), converged(), ctx())).toEqual({ operations: [], problems: [], wait: undefined, released: false });
  });

  it("is empty when only the batched status was read (no deep read this time)", () => {
    expect(plan(desired(), converged({ deep: undefined, tracker: undefined }), ctx()).operations).toEqual([]);
  });

  describe("site lifecycle", () => {
    it("creates a missing site", () => {
      expect(kinds(plan(desired(), { site: undefined, deep: undefined, tracker: undefined }, ctx()))).toEqual(["CreateSite"]);
    });

    it("waits while a recent create attempt may still show up, then tries again", () => {
      const since = new Date(now.getTime() - 60_000);
      const waiting = plan(desired(), { site: undefined, deep: undefined, tracker: undefined }, ctx({ createPendingSince: since }));
      expect(waiting.operations).toEqual([]);
      expect(waiting.wait).toMatchObject({ reason: "Creating", retryAfterMs: 540_000 });
      const old = new Date(now.getTime() - 700_000);
      expect(kinds(plan(desired(), { site: undefined, deep: undefined, tracker: undefined }, ctx({ createPendingSince: old })))).toEqual(["CreateSite"]);
      // The wait follows the server's write timeout.
      expect(kinds(plan(desired({ createSettleMs: 50_000 }), { site: undefined, deep: undefined, tracker: undefined }, ctx({ createPendingSince: since })))).toEqual(["CreateSite"]);
    });

    it("waits while Aegir installs, and does nothing else", () => {
      const installing = summary({ status: "queued", tasks: [task(11, "install", "processing")] });
      const p = plan(desired(), { site: installing, deep: undefined, tracker: account }, ctx());
      expect(p.operations).toEqual([]);
      expect(p.wait?.reason).toBe("Installing");
    });

    it("disables a suspended or expired site and re-enables it", () => {
      expect(plan(desired({ enabled: false, suspended: true }), converged(), ctx()).operations[0]).toEqual({ kind: "QueueTask", aspect: "site", task: "disable" });
      expect(plan(desired(), converged({ site: summary({ status: "disabled" }) }), ctx()).operations[0]).toEqual({ kind: "QueueTask", aspect: "site", task: "enable" });
      expect(plan(desired({ enabled: false, expired: true }), converged({ site: summary({ status: "disabled" }) }), ctx()).operations.filter((o) => o.aspect === "site")).toEqual([]);
    });

    it("without hosting_https on the server (https null) queues no verify for https and reports HttpsUnavailable", () => {
      const p = plan(desired({ https: "Enabled" }), converged({ site: summary({ https: null }) }), ctx());
      expect(p.operations.filter((o) => o.aspect === "site")).toEqual([]);
      expect(p.problems.map((x) => [x.aspect, x.reason])).toEqual([["site", "HttpsUnavailable"]]);
      expect(p.problems[0]?.message).toContain("hosting_https");
      expect(plan(desired({ https: "Disabled" }), converged({ site: summary({ https: null }) }), ctx()).problems).toEqual([]);
    });

    it("updates aliases and https through the site node (one hostmaster task at a time)", () => {
      const p = plan(desired({ aliases: ["www.acme.example.com"], https: "Required" }), converged(), ctx());
      expect(p.operations).toEqual([{ kind: "UpdateSite", aspect: "site", aliases: ["www.acme.example.com"], https: "Required" }]);
    });

    it("migrates when the platform differs", () => {
      expect(plan(desired({ platform: "platform_oa2" }), converged(), ctx()).operations[0]).toEqual({ kind: "MigrateSite", aspect: "site", platform: "platform_oa2" });
    });

    it("queues no hostmaster task while one is pending but still converges the site itself", () => {
      const busy = summary({ tasks: [task(11, "install", "succeeded"), task(12, "verify", "queued")] });
      const p = plan(desired({ https: "Enabled", features: ["oa_wiki", "oa_events"] }), converged({ site: busy }), ctx());
      expect(kinds(p)).toEqual(["EnableModules"]);
      expect(p.wait?.reason).toBe("TaskRunning");
    });
  });

  describe("features, theme and quota", () => {
    it("enables missing features in one command and disables ones removed from the spec", () => {
      const p = plan(desired({ features: ["oa_events", "oa_wiki"] }), converged({ deep: deepState({ modules: ["oa_wiki", "oa_files", "user_limit"] }) }), ctx({ appliedFeatures: ["oa_files", "oa_wiki"] }));
      expect(p.operations).toEqual([
        { kind: "EnableModules", aspect: "features", modules: ["oa_events"] },
        { kind: "DisableModules", aspect: "features", modules: ["oa_files"] },
      ]);
    });

    it("never disables modules the operator did not enable", () => {
      const p = plan(desired({ features: [] }), converged(), ctx({ appliedFeatures: [] }));
      expect(p.operations).toEqual([]);
    });

    it("sets the default theme", () => {
      expect(plan(desired({ theme: "oa_radix" }), converged(), ctx()).operations).toEqual([{ kind: "SetTheme", aspect: "theme", theme: "oa_radix" }]);
    });

    it("enables the quota module, then sets the limit and records on the site when the quota started (one script)", () => {
      const p = plan(desired({ userQuota: 25 }), converged({ deep: deepState({ modules: ["oa_wiki"], userLimit: null }) }), ctx());
      expect(p.operations).toEqual([
        { kind: "EnableModules", aspect: "quota", modules: ["user_limit"] },
        { kind: "EnforceUserQuota", aspect: "quota", limit: 25, keep: ["jane"] },
      ]);
    });

    it("enforces the quota when accounts beyond it appeared, keeping the owner, and not again for the same count", () => {
      const over = converged({ deep: deepState({ activeUsers: 9, userLimit: 2 }) });
      expect(plan(desired({ userQuota: 2 }), over, ctx({ activeUsersSeen: 2 })).operations).toEqual([{ kind: "EnforceUserQuota", aspect: "quota", limit: 2, keep: ["jane"] }]);
      // Nine accounts older than the quota stay active: enforcing again would change nothing.
      expect(plan(desired({ userQuota: 2 }), over, ctx({ activeUsersSeen: 9 })).operations).toEqual([]);
      expect(plan(desired({ userQuota: 9 }), converged({ deep: deepState({ activeUsers: 9, userLimit: 9 }) }), ctx()).operations).toEqual([]);
    });
  });

  describe("owner", () => {
    it("creates the owner, grants the role and sends the welcome mail in one pass (the mail checked against the role on the site)", () => {
      expect(plan(desired(), converged({ deep: deepState({ owner: null, welcome: {} }) }), ctx({ welcomed: false })).operations).toEqual([
        { kind: "CreateOwner", aspect: "owner", name: "jane", mail: "jane@acme.example.com" },
        { kind: "AddOwnerRole", aspect: "owner", role: "manager", name: "jane" },
        { kind: "SendWelcome", aspect: "owner", name: "jane", role: "manager" },
      ]);
      // An owner account re-created after the welcome (deleted by hand) gets its role, no second mail.
      expect(kinds(plan(desired(), converged({ deep: deepState({ owner: null, welcome: {} }) }), ctx({ welcomed: true })))).toEqual(["CreateOwner", "AddOwnerRole"]);
    });

    it("completes an owner seen half way (created, no role or no mail yet)", () => {
      const fresh = deepState({ owner: { uid: 5, name: "jane", mail: "jane@acme.example.com", status: "active", roles: [] }, welcome: {} });
      expect(plan(desired(), converged({ deep: fresh }), ctx({ welcomed: false })).operations).toEqual([
        { kind: "AddOwnerRole", aspect: "owner", role: "manager", name: "jane" },
        { kind: "SendWelcome", aspect: "owner", name: "jane", role: "manager" },
      ]);
      const withRole = deepState({ owner: { uid: 5, name: "jane", mail: "jane@acme.example.com", status: "active", roles: ["manager"] }, welcome: {} });
      expect(plan(desired(), converged({ deep: withRole }), ctx({ welcomed: false })).operations).toEqual([{ kind: "SendWelcome", aspect: "owner", name: "jane", role: "manager" }]);
    });

    it("never sends the welcome mail again once the site has a marker, whatever the status says", () => {
      const marked = deepState({ welcome: { "5": { state: "sending", at: 1 } } });
      expect(plan(desired(), converged({ deep: marked }), ctx({ welcomed: false })).operations).toEqual([]);
    });

    it("never treats uid 1 as the owner", () => {
      const admin = deepState({ owner: { uid: 1, name: "admin", mail: "jane@acme.example.com", status: "active", roles: ["administrator"] }, welcome: {} });
      expect(plan(desired(), converged({ deep: admin }), ctx({ welcomed: false })).operations).toEqual([]);
    });
  });

  describe("support tracker", () => {
    it("creates the account and grants the tier's role in one pass; grants a role missing", () => {
      expect(plan(desired(), converged({ tracker: null }), ctx()).operations).toEqual([
        { kind: "CreateTrackerAccount", aspect: "support", name: "jane.acme.example.com", mail: "jane@acme.example.com" },
        { kind: "AddTrackerRole", aspect: "support", role: "customer standard", name: "jane.acme.example.com" },
      ]);
      expect(plan(desired(), converged({ tracker: { ...account, roles: [] } }), ctx()).operations).toEqual([
        { kind: "AddTrackerRole", aspect: "support", role: "customer standard", name: "jane.acme.example.com" },
      ]);
    });

    it("swaps roles when the tier changes", () => {
      const premium = desired({ support: { ...desired().support!, role: "customer premium" } });
      expect(plan(premium, converged(), ctx()).operations).toEqual([
        { kind: "AddTrackerRole", aspect: "support", role: "customer premium", name: "jane.acme.example.com" },
        { kind: "RemoveTrackerRole", aspect: "support", role: "customer standard", name: "jane.acme.example.com" },
      ]);
    });

    it("removes the role when the site expires", () => {
      const expired = desired({ expired: true, enabled: false });
      expect(plan(expired, converged({ site: summary({ status: "disabled" }) }), ctx()).operations).toEqual([
        { kind: "RemoveTrackerRole", aspect: "support", role: "customer standard", name: "jane.acme.example.com" },
      ]);
    });
  });

  describe("deletion", () => {
    const deleting = desired({ deleting: true, enabled: false });

    it("disables, backs up, then deletes, one task at a time", () => {
      const noTracker = { tracker: { ...account, roles: [] } };
      expect(kinds(plan(deleting, converged(noTracker), ctx()))).toEqual(["QueueTask"]);
      expect(plan(deleting, converged(noTracker), ctx()).operations[0]).toMatchObject({ task: "disable" });
      const disabled = summary({ status: "disabled", tasks: [task(11, "install", "succeeded"), task(20, "disable", "succeeded")] });
      expect(plan(deleting, converged({ ...noTracker, site: disabled }), ctx()).operations[0]).toMatchObject({ task: "backup" });
      const backedUp = summary({ status: "disabled", tasks: [...disabled.tasks, task(21, "backup", "succeeded")] });
      expect(plan(deleting, converged({ ...noTracker, site: backedUp }), ctx()).operations[0]).toMatchObject({ task: "delete" });
      const gone = plan(deleting, { site: undefined, deep: undefined, tracker: { ...account, roles: [] } }, ctx());
      expect(gone).toEqual({ operations: [], problems: [], wait: undefined, released: true });
    });

    it("does not count a backup older than the disable", () => {
      const stale = summary({ status: "disabled", tasks: [task(15, "backup", "succeeded"), task(20, "disable", "succeeded")] });
      expect(plan(deleting, converged({ site: stale, tracker: { ...account, roles: [] } }), ctx()).operations[0]).toMatchObject({ task: "backup" });
    });

    it("waits for a running task", () => {
      const busy = summary({ status: "disabled", tasks: [task(21, "backup", "processing")] });
      expect(plan(deleting, converged({ site: busy, tracker: { ...account, roles: [] } }), ctx()).wait?.reason).toBe("Deleting");
    });

    it("Retain leaves the Aegir site and only removes support access", () => {
      const retain = desired({ deleting: true, enabled: false, deletionPolicy: "Retain" });
      expect(plan(retain, converged(), ctx())).toEqual({
        operations: [{ kind: "RemoveTrackerRole", aspect: "support", role: "customer standard", name: "jane.acme.example.com" }],
        problems: [],
        wait: undefined,
        released: false,
      });
      expect(plan(retain, converged({ tracker: { ...account, roles: [] } }), ctx()).released).toBe(true);
    });
  });

  it("refuses modules, themes and roles the site does not have, without trying", () => {
    const p = plan(desired({ features: ["oa_wiki", "oa_nowhere"], theme: "oa_premium", owner: { name: "jane", mail: "jane@acme.example.com", role: "site boss" } }), converged(), ctx());
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([
      { aspect: "features", reason: "ModuleNotOnPlatform", message: "Module oa_nowhere not available on the site's platform" },
      { aspect: "theme", reason: "ThemeNotOnPlatform", message: "Theme oa_premium not available on the site's platform" },
      { aspect: "owner", reason: "RoleNotOnSite", message: "The site has no site boss role; set the platform's ownerRole or spec.owner.role to a role it has" },
    ]);
  });

  it("skips blocked aspects", () => {
    const p = plan(desired({ features: ["oa_wiki", "oa_missing"], theme: "nope" }), converged(), ctx({ blocked: new Set(["features", "theme"]) }));
    expect(p.operations).toEqual([]);
  });
});

describe("tasksAhead", () => {
  it("counts the server's queued and running tasks before the site's own", () => {
    const mine = summary({ nid: 30, status: "queued", tasks: [task(31, "install", "queued")] });
    const status = {
      sites: [
        summary({ nid: 10, tasks: [task(11, "install", "succeeded"), task(20, "verify", "processing")] }),
        summary({ nid: 12, uri: "b.example.com", tasks: [task(25, "install", "queued"), task(40, "verify", "queued")] }),
        mine,
      ],
      platforms: [],
      queue: { queued: 3, processing: 1 },
      https: true,
    };
    expect(tasksAhead(status, mine)).toBe(2);
    expect(tasksAhead(status, summary())).toBe(0);
    // A pool task run in the background is not in hosting-queued's queue ahead of it.
    const spare = summary({ nid: 14, uri: "spare-a.pool.invalid", tasks: [{ ...task(22, "install", "processing"), background: true }] });
    expect(tasksAhead({ ...status, sites: [...status.sites, spare] }, mine)).toBe(2);
  });
});
