import { describe, expect, it } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { mergeConditions } from "../../crds/conditions.ts";
import { type ConditionFacts, computeConditions } from "../../reconcilers/hostedsite/conditions.ts";
import type { Observed, Plan } from "../../reconcilers/hostedsite/plan.ts";
import { deepState, desired, summary, task } from "./fixtures.ts";

const account = { uid: 7, name: "jane.acme.example.com", mail: "jane@acme.example.com", status: "active" as const, roles: ["customer standard"] };
const empty: Plan = { operations: [], problems: [], wait: undefined, released: false };
const facts = (over: Partial<ConditionFacts> = {}): ConditionFacts => ({
  desired: desired(),
  observed: { site: summary(), deep: deepState(), tracker: account } satisfies Observed,
  plan: empty,
  error: undefined,
  previous: [],
  blocked: new Map(),
  ...over,
});
const byType = (f: ConditionFacts) => Object.fromEntries(computeConditions(f).map((c) => [c.type, `${c.status}/${c.reason}`]));

describe("computeConditions", () => {
  it("reports Ready Available for a converged site, with every condition present", () => {
    expect(byType(facts())).toEqual({
      Installed: "True/Installed",
      FeaturesApplied: "True/AllEnabled",
      ThemeApplied: "True/DefaultTheme",
      QuotaEnforced: "True/WithinQuota",
      OwnerReady: "True/AccountReady",
      SupportAccessReady: "True/AccessGranted",
      Suspended: "False/NotSuspended",
      Expired: "False/NotExpired",
      Synced: "True/ReconcileSuccess",
      Ready: "True/Available",
    });
  });

  it("is Installing while Aegir installs", () => {
    const c = byType(facts({ observed: { site: summary({ status: "queued", tasks: [task(1, "install", "processing")] }), deep: undefined, tracker: undefined }, plan: { ...empty, wait: { reason: "Installing", message: "" } } }));
    expect(c.Installed).toBe("False/Installing");
    expect(c.FeaturesApplied).toBe("False/WaitingForSite");
    expect(c.Ready).toBe("False/Installing");
  });

  it("stays Ready when over quota, and says so", () => {
    const c = computeConditions(facts({ observed: { site: summary(), deep: deepState({ activeUsers: 12 }), tracker: account } }));
    expect(c.find((x) => x.type === "QuotaEnforced")).toMatchObject({ status: "False", reason: "OverQuota" });
    expect(c.find((x) => x.type === "QuotaEnforced")?.message).toContain("12 active users, quota 10");
    expect(c.find((x) => x.type === "Ready")?.status).toBe("True");
  });

  it("shows a permanent error on its aspect and in Ready", () => {
    const error = new AegirError("ModuleNotOnPlatform", "Module oa_nope not available on the site's platform");
    const plan: Plan = { ...empty, operations: [{ kind: "EnableModules", aspect: "features", modules: ["oa_nope"] }] };
    const c = byType(facts({ plan, error }));
    expect(c.FeaturesApplied).toBe("False/ModuleNotOnPlatform");
    expect(c.Synced).toBe("False/ReconcileError");
    expect(c.Ready).toBe("False/ModuleNotOnPlatform");
  });

  it("keeps earlier deep-read conditions when no deep read was made", () => {
    const previous = [{ type: "FeaturesApplied", status: "False" as const, reason: "ModuleNotOnPlatform", message: "m", lastTransitionTime: "2026-01-01T00:00:00Z" }];
    const c = byType(facts({ observed: { site: summary(), deep: undefined, tracker: undefined }, previous }));
    expect(c.FeaturesApplied).toBe("False/ModuleNotOnPlatform");
  });

  it("flags an owner address that belongs to uid 1", () => {
    const c = byType(facts({ observed: { site: summary(), deep: deepState({ owner: { uid: 1, name: "admin", mail: "jane@acme.example.com", status: "active", roles: [] } }), tracker: account } }));
    expect(c.OwnerReady).toBe("False/OwnerIsSiteAdmin");
  });

  it("reports suspension and expiry", () => {
    expect(byType(facts({ desired: desired({ suspended: true, enabled: false }), observed: { site: summary({ status: "disabled" }), deep: deepState(), tracker: account } }))).toMatchObject({
      Suspended: "True/SiteDisabled",
      Ready: "False/Suspended",
    });
    expect(byType(facts({ desired: desired({ expired: true, enabled: false }) }))).toMatchObject({ Expired: "True/Expired", Ready: "False/Expired" });
  });
});

describe("mergeConditions", () => {
  it("moves lastTransitionTime only when the status changes", () => {
    const t0 = new Date("2027-01-01T00:00:00Z");
    const t1 = new Date("2027-01-01T01:00:00Z");
    const first = mergeConditions([], [{ type: "Ready", status: "False", reason: "Installing", message: "" }], 1, t0);
    const same = mergeConditions(first, [{ type: "Ready", status: "False", reason: "Progressing", message: "x" }], 2, t1);
    expect(same[0]).toMatchObject({ lastTransitionTime: "2027-01-01T00:00:00Z", reason: "Progressing", observedGeneration: 2 });
    const flipped = mergeConditions(same, [{ type: "Ready", status: "True", reason: "Available", message: "" }], 2, t1);
    expect(flipped[0]?.lastTransitionTime).toBe("2027-01-01T01:00:00Z");
  });
});
