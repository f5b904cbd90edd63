// What the HostedSite side does for a rollout: the platform annotation as the desired platform
// when spec.platform is empty (spec.platform wins), the rollout's migrate queued only once, new
// sites placed on a rollout's platform, and label selectors.
import { describe, expect, it } from "vitest";
import { PlatformRolloutSpec, type PlatformRolloutSpec as Spec } from "../../crds/platformrollout.ts";
import type { PlatformRollout } from "../../crds/kinds.ts";
import { resolveDesired } from "../../reconcilers/hostedsite/desired.ts";
import { MIGRATE_AFTER_ANNOTATION, PLATFORM_ANNOTATION } from "../../reconcilers/hostedsite/names.ts";
import { rolloutPlatform } from "../../reconcilers/hostedsite/placement.ts";
import { plan } from "../../reconcilers/hostedsite/plan.ts";
import { matchesSelector } from "../../reconcilers/platformrollout/selector.ts";
import { aegirServer, deepState, desired, hostedSite, summary, task } from "../hostedsite/fixtures.ts";

const now = new Date("2027-03-01T09:00:00Z");
const server = aegirServer("aegir-1", {
  platforms: [
    { name: "platform_old", profile: "openatrium" },
    { name: "platform_new", profile: "openatrium" },
  ],
});

function rollout(spec: Partial<Spec> = {}, name = "upgrade"): PlatformRollout {
  return { apiVersion: "hosting.openatria.com/v1alpha1", kind: "PlatformRollout", metadata: { name }, spec: PlatformRolloutSpec.parse({ fromPlatform: "platform_old", toPlatform: "platform_new", ...spec }) };
}

describe("the desired platform", () => {
  it("is the rollout's annotation when spec.platform is empty, with its migrate baseline; spec.platform wins", () => {
    const annotations = { [PLATFORM_ANNOTATION]: "platform_new", [MIGRATE_AFTER_ANNOTATION]: "12" };
    const byRollout = resolveDesired(hostedSite({}, { annotations }), "aegir-1", [server], now);
    expect("desired" in byRollout && [byRollout.desired.platform, byRollout.desired.migrateAfter]).toEqual(["platform_new", 12]);
    const own = resolveDesired(hostedSite({ platform: "platform_old" }, { annotations }), "aegir-1", [server], now);
    expect("desired" in own && [own.desired.platform, own.desired.migrateAfter]).toEqual(["platform_old", undefined]);
    const none = resolveDesired(hostedSite(), "aegir-1", [server], now);
    expect("desired" in none && none.desired.platform).toBe("platform_old");
  });

  it("names the annotation's platform when the server does not offer it", () => {
    const r = resolveDesired(hostedSite({}, { annotations: { [PLATFORM_ANNOTATION]: "platform_gone" } }), "aegir-1", [server], now);
    expect(r).toEqual({ error: "UnknownPlatform", message: "Platform platform_gone is not configured on AegirServer aegir-1" });
  });
});

describe("the HostedSite plan for a rollout's migrate", () => {
  const ctx = { now, appliedFeatures: ["oa_wiki"], activeUsersSeen: 0, blocked: new Set<never>(), createPendingSince: undefined, welcomed: true };
  const observed = (tasks: ReturnType<typeof task>[]) => ({ site: summary({ platform: "platform_old", tasks }), deep: deepState(), tracker: undefined });

  it("queues the migrate while no migrate newer than the baseline exists", () => {
    const p = plan(desired({ platform: "platform_new", migrateAfter: 5 }), observed([task(5, "migrate", "failed")]), ctx);
    expect(p.operations[0]).toEqual({ kind: "MigrateSite", aspect: "site", platform: "platform_new" });
  });

  it("never queues it a second time after it failed (the rollout decides), while spec.platform's migrate is retried", () => {
    expect(plan(desired({ platform: "platform_new", migrateAfter: 5 }), observed([task(9, "migrate", "failed")]), ctx).operations).toEqual([]);
    expect(plan(desired({ platform: "platform_new" }), observed([task(9, "migrate", "failed")]), ctx).operations[0]?.kind).toBe("MigrateSite");
  });
});

describe("rolloutPlatform (placement of a new site)", () => {
  it("puts a new site whose default platform is a rollout's fromPlatform on its toPlatform, if the selector picks it", () => {
    const labelled = hostedSite({}, { labels: { wave: "1" } });
    expect(rolloutPlatform(labelled, server, [rollout({ selector: { matchLabels: { wave: "1" } } })])).toBe("platform_new");
    expect(rolloutPlatform(hostedSite(), server, [rollout({ selector: { matchLabels: { wave: "1" } } })])).toBeUndefined();
  });

  it("leaves a site with its own spec.platform, a rollout from another platform, and a toPlatform the server lacks", () => {
    expect(rolloutPlatform(hostedSite({ platform: "platform_old" }), server, [rollout()])).toBeUndefined();
    expect(rolloutPlatform(hostedSite(), server, [rollout({ fromPlatform: "platform_new", toPlatform: "platform_old" })])).toBeUndefined();
    expect(rolloutPlatform(hostedSite(), server, [rollout({ toPlatform: "platform_elsewhere" })])).toBeUndefined();
    expect(rolloutPlatform(hostedSite(), undefined, [rollout()])).toBeUndefined();
  });
});

describe("matchesSelector", () => {
  it("applies matchLabels and every matchExpressions operator", () => {
    const labels = { tier: "premium", wave: "1" };
    expect(matchesSelector({}, undefined)).toBe(true);
    expect(matchesSelector({ matchLabels: { tier: "premium" } }, labels)).toBe(true);
    expect(matchesSelector({ matchLabels: { tier: "basic" } }, labels)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: "wave", operator: "In", values: ["1", "2"] }] }, labels)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: "wave", operator: "NotIn", values: ["1"] }] }, labels)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: "hold", operator: "DoesNotExist" }] }, labels)).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: "hold", operator: "Exists" }] }, labels)).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: "hold", operator: "NotIn", values: ["x"] }] }, labels)).toBe(true);
  });
});
