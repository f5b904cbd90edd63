import { describe, expect, it } from "vitest";
import { HostedSiteSpec } from "../../crds/hostedsite.ts";
import { AegirServerSpec } from "../../crds/aegirserver.ts";
import { validServer, validSite } from "./invalid-corpus.ts";

describe("HostedSite spec", () => {
  it("applies defaults", () => {
    const spec = HostedSiteSpec.parse({ ...validSite().spec, features: undefined, support: { tier: "Premium" } });
    expect(spec).toMatchObject({
      https: "Disabled",
      features: [],
      suspended: false,
      deletionPolicy: "Delete",
      support: { tier: "Premium", hours: "8x5", channels: ["email"] },
    });
  });

  it("accepts punycode domains and RFC 3339 offsets", () => {
    const spec = HostedSiteSpec.parse({ ...validSite().spec, domain: "xn--bcher-kva.example.com", expiresAt: "2027-06-30T12:00:00.5+02:00" });
    expect(spec.domain).toBe("xn--bcher-kva.example.com");
  });

  it("accepts the domain length limits exactly", () => {
    const label63 = "a".repeat(63);
    const domain253 = `${label63}.${label63}.${label63}.${"b".repeat(57)}.com`;
    expect(domain253).toHaveLength(253);
    expect(HostedSiteSpec.safeParse({ ...validSite().spec, domain: domain253 }).success).toBe(true);
    expect(HostedSiteSpec.safeParse({ ...validSite().spec, domain: `a${domain253}` }).success).toBe(false);
  });

  it("accepts quota bounds", () => {
    expect(HostedSiteSpec.safeParse({ ...validSite().spec, userQuota: 1 }).success).toBe(true);
    expect(HostedSiteSpec.safeParse({ ...validSite().spec, userQuota: 100_000 }).success).toBe(true);
    expect(HostedSiteSpec.safeParse({ ...validSite().spec, userQuota: 100_001 }).success).toBe(false);
  });
});

describe("AegirServer spec", () => {
  it("applies defaults", () => {
    const spec = AegirServerSpec.parse(validServer().spec);
    expect(spec).toMatchObject({
      port: 22,
      user: "aegir",
      hostmasterAlias: "@hostmaster",
      drushPath: "drush",
      privateKeySecretRef: { key: "ssh-privatekey" },
      capacity: { maxConcurrentOperations: 2 },
      platforms: [{ name: "platform_openatrium2652", profile: "openatrium", ownerRole: "manager" }],
    });
  });

  it("accepts IP hosts", () => {
    for (const host of ["127.0.0.1", "::1", "fd00::12"]) {
      expect(AegirServerSpec.safeParse({ ...validServer().spec, host }).success, host).toBe(true);
    }
  });
});
