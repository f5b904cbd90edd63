import { describe, expect, it } from "vitest";
import { resolveDesired } from "../../reconcilers/hostedsite/desired.ts";
import { ownerName, trackerUsername } from "../../reconcilers/hostedsite/names.ts";
import { placeSite } from "../../reconcilers/hostedsite/placement.ts";
import { HostedSiteSpec } from "../../crds/hostedsite.ts";
import { aegirServer, hostedSite } from "./fixtures.ts";

const now = new Date("2027-01-01T00:00:00Z");

describe("resolveDesired", () => {
  it("takes platform and owner role from the server's mapping", () => {
    const r = resolveDesired(hostedSite(), "aegir-1", [aegirServer()], now);
    expect(r).toMatchObject({ desired: { platform: "platform_oa", owner: { name: "jane", role: "manager" }, enabled: true, support: { role: "customer standard" } } });
  });

  it("waits for a lost create twice the server's write timeout before trying again", () => {
    expect(resolveDesired(hostedSite(), "aegir-1", [aegirServer()], now)).toMatchObject({ desired: { createSettleMs: 600_000 } });
    const quick = aegirServer("aegir-1", { commandTimeouts: { writeSeconds: 20 } });
    expect(resolveDesired(hostedSite(), "aegir-1", [quick], now)).toMatchObject({ desired: { createSettleMs: 40_000 } });
  });

  it("honours spec.owner.role and an explicit platform", () => {
    const server = aegirServer("aegir-1", { platforms: [{ name: "platform_oa", profile: "openatrium" }, { name: "platform_oa2", profile: "openatrium", ownerRole: "site manager" }] });
    const r = resolveDesired(hostedSite({ platform: "platform_oa2", owner: { email: "a@b.example.com", role: "editor" } }), "aegir-1", [server], now);
    expect(r).toMatchObject({ desired: { platform: "platform_oa2", owner: { role: "editor", name: "a" } } });
  });

  it("expires at expiresAt and not before", () => {
    const later = resolveDesired(hostedSite({ expiresAt: "2027-01-01T00:00:01Z" }), "aegir-1", [aegirServer()], now);
    expect(later).toMatchObject({ desired: { expired: false, enabled: true, expiresAt: new Date("2027-01-01T00:00:01Z") } });
    const past = resolveDesired(hostedSite({ expiresAt: "2027-01-01T00:00:00Z" }), "aegir-1", [aegirServer()], now);
    expect(past).toMatchObject({ desired: { expired: true, enabled: false, expiresAt: undefined } });
  });

  it("reports a server without the profile, an unknown platform and an unknown server", () => {
    expect(resolveDesired(hostedSite({ profile: "standard" }), "aegir-1", [aegirServer()], now)).toMatchObject({ error: "NoPlatformForProfile" });
    expect(resolveDesired(hostedSite({ platform: "platform_x" }), "aegir-1", [aegirServer()], now)).toMatchObject({ error: "UnknownPlatform" });
    expect(resolveDesired(hostedSite(), "aegir-9", [aegirServer()], now)).toMatchObject({ error: "UnknownServer" });
  });

  it("has no support target without a tracker", () => {
    const r = resolveDesired(hostedSite(), "aegir-1", [aegirServer("aegir-1", { supportTracker: undefined })], now);
    expect(r).toMatchObject({ desired: { support: undefined } });
  });
});

describe("placeSite", () => {
  const load = (name: string, sites: number, maxSites = 10, reachable = true) => ({ server: aegirServer(name, { capacity: { maxSites } }), sites, reachable });

  it("picks the reachable server with the most free capacity, ties by name", () => {
    expect(placeSite([load("b", 5), load("a", 2), load("c", 1, 10, false)], "openatrium", undefined)).toEqual({ server: "a" });
    expect(placeSite([load("b", 5, 10), load("a", 10, 20)], "openatrium", undefined)).toEqual({ server: "a" });
    expect(placeSite([load("b", 1), load("a", 1)], "openatrium", undefined)).toEqual({ server: "a" });
  });

  it("says why it cannot place", () => {
    expect(placeSite([load("a", 10)], "openatrium", undefined)).toMatchObject({ error: "NoCapacity" });
    expect(placeSite([load("a", 0)], "standard", undefined)).toMatchObject({ error: "NoServerForProfile" });
    expect(placeSite([load("a", 0)], "openatrium", "platform_x")).toMatchObject({ error: "NoServerForProfile" });
  });
});

describe("account names", () => {
  const spec = (email: string, name?: string) => HostedSiteSpec.parse({ domain: "a.example.com", profile: "p", userQuota: 1, support: { tier: "Basic" }, owner: { email, ...(name ? { name } : {}) } });

  it("derives the owner's name from the mail, avoiding reserved names", () => {
    expect(ownerName(spec("Jane.Doe+work@example.com"))).toBe("jane.doe-work");
    expect(ownerName(spec("admin@example.com"))).toBe("admin-owner");
    expect(ownerName(spec("x@example.com", "xavier"))).toBe("xavier");
    expect(ownerName(spec(`${"a".repeat(70)}@example.com`))).toHaveLength(60);
  });

  it("gives every mail its own tracker account name", () => {
    expect(trackerUsername("jane@acme.example.com")).toBe("jane.acme.example.com");
    expect(trackerUsername("Jane@Acme.example.com")).toBe("jane.acme.example.com");
    const long = trackerUsername(`${"b".repeat(80)}@example.com`);
    expect(long).toHaveLength(60);
    expect(long).not.toBe(trackerUsername(`${"b".repeat(81)}@example.com`));
  });
});
