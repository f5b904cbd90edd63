import { describe, expect, it } from "vitest";
import { SitePoolSpec } from "../../crds/sitepool.ts";

describe("SitePool schema", () => {
  it("fills in the defaults: no spares unless orders come, at most 2, the reserved .invalid zone", () => {
    const spec = SitePoolSpec.parse({ server: "aegir-1", platform: "platform_openatrium2652" });
    expect(spec).toEqual({ server: "aegir-1", platform: "platform_openatrium2652", features: [], size: { min: 0, max: 2 }, installSeconds: 120, renameSeconds: 45, rateWindowMinutes: 60, refill: "Clone", claimsBesideRefills: true, refillsInBackground: true, placeholderZone: "pool.invalid" });
  });

  it("names the field of a bad value", () => {
    const issues = (input: unknown) => {
      const r = SitePoolSpec.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(issues({ server: "aegir-1", platform: "platform_oa", size: { min: 3, max: 1 } })).toEqual(["size.min: must have min <= max"]);
    expect(issues({ server: "aegir-1", platform: "Platform OA" })[0]).toMatch(/^platform: /);
    expect(issues({ server: "aegir-1", platform: "platform_oa", features: ["oa_core", "oa_core"] })[0]).toMatch(/^features/);
    expect(issues({ server: "aegir-1", platform: "platform_oa", placeholderZone: "not a zone" })[0]).toMatch(/^placeholderZone: /);
    expect(issues({ server: "aegir-1", platform: "platform_oa", refill: "Copy" })[0]).toMatch(/^refill: /);
  });
});
