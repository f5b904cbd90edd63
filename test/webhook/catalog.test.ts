// Pure parts: catalog file validation, catalog mapping, domain resolution, lifecycle, naming.
import { describe, expect, it } from "vitest";
import { CatalogError, loadCatalog, parseCatalog, type Catalog } from "../../webhook/catalog.ts";
import { mapPurchase } from "../../webhook/catalog-mapping.ts";
import { resolveDomain } from "../../webhook/domain.ts";
import { siteName } from "../../webhook/hostedsite-manifest.ts";
import { lifecycleOf, type LifecycleInput } from "../../webhook/lifecycle.ts";
import type { PurchasedItem } from "../../webhook/stripe-objects.ts";
import { backoffDelayMs } from "../../webhook/backoff.ts";

const catalog: Catalog = await loadCatalog();

function item(lookupKey: string | null, quantity = 1, productMetadata: Record<string, string> = {}): PurchasedItem {
  return { priceId: `price_${lookupKey ?? "x"}`, lookupKey, productMetadata, quantity };
}

function problems(text: string): string[] {
  try {
    parseCatalog(text, "catalog.yaml");
  } catch (error) {
    if (error instanceof CatalogError) return error.problems;
    throw error;
  }
  return [];
}

describe("catalog file", () => {
  it("ships a valid default catalog with the demo and the three site kits", () => {
    expect(Object.keys(catalog.kits)).toEqual(["demo", "community", "business", "enterprise"]);
    expect(catalog.kits.demo?.space).toEqual({ hostedSite: "demo", days: 30 });
    expect(catalog.managedZone).toBe("sites.openatria.com");
  });

  it("sets the backup schedule per support tier: weekly keeping 4 for Basic, daily keeping 14 for Premium", () => {
    expect(catalog.backups.Basic).toEqual({ every: "7d", retain: 4 });
    expect(catalog.backups.Premium).toEqual({ every: "1d", retain: 14, windowStart: "01:00", window: "6h" });
  });

  it("names the field of a bad backup policy", () => {
    const kits = "kits: { basic: { profile: p, userQuota: 1, support: { tier: Basic } } }\nitems: { x: { kit: basic } }";
    expect(problems(`managedZone: a.example.com\n${kits}\nbackups: { Basic: { every: weekly, retain: 0 }, Gold: { every: 1d, retain: 1 } }`)).toEqual([
      "backups.Basic.every: must be a duration like 30m, 24h or 7d",
      "backups.Basic.retain: must be at least 1",
      'backups: Unrecognized key: "Gold"',
    ]);
  });

  it("names the field of every problem", () => {
    const text = `
managedZone: Sites.Example.COM
kits:
  community:
    profile: OpenAtrium
    userQuota: -1
    support: { tier: Gold }
items:
  community_monthly: { kit: comunity }
  addon_bad: { features: [oa_ok, "rm -rf"] }
  empty_item: {}
  typo: { feature: [oa_events] }
`;
    expect(problems(text)).toEqual([
      "managedZone: must be a lowercase fully qualified domain name (letters a-z, digits, '-', labels of at most 63 characters, no wildcard, no trailing dot)",
      "kits.community.profile: must be a machine name: a lowercase letter, then lowercase letters, digits or '_'",
      "kits.community.userQuota: must be at least 0",
      'kits.community.support.tier: Invalid option: expected one of "Basic"|"Standard"|"Premium"',
      "items.addon_bad.features[1]: must be a machine name: a lowercase letter, then lowercase letters, digits or '_'",
      "items.empty_item: must sell something: set at least one of kit, features, theme, usersPerUnit, support, https",
      'items.typo: Unrecognized key: "feature"',
    ]);
  });

  it("reports an item naming an undefined kit, YAML syntax errors and unreadable files", async () => {
    expect(problems("managedZone: a.example.com\nkits: { basic: { profile: p, userQuota: 1, support: { tier: Basic } } }\nitems: { x: { kit: gold } }")).toEqual([
      'items.x.kit: names kit "gold", which is not defined under kits',
    ]);
    expect(problems("managedZone: [unclosed")[0]).toMatch(/^line 1, column \d+: YAML syntax error/);
    await expect(loadCatalog("/nonexistent/catalog.yaml")).rejects.toThrow(/\/nonexistent\/catalog.yaml: invalid service catalog:\n {2}cannot read/);
  });
});

describe("mapPurchase", () => {
  it("combines a kit with add-ons, per-user quota, a theme, support and https", () => {
    const result = mapPurchase(catalog, [
      item("community_monthly"),
      item("addon_events"),
      item("addon_events"),
      item("users_monthly", 7),
      item("theme_radix"),
      item("support_standard"),
      item("https_required"),
    ]);
    expect(result).toEqual({
      ok: true,
      parts: {
        profile: "openatrium",
        features: ["oa_discussion", "oa_wiki", "oa_events"],
        https: "Required",
        userQuota: 17,
        support: { tier: "Standard", hours: "8x5", channels: ["email", "forum"] },
        theme: "oa_radix",
        // The upgraded tier's schedule, not the Basic kit's.
        backups: { every: "1d", retain: 7, windowStart: "01:00", window: "6h" },
      },
      chosen: {
        kit: "community",
        items: [
          { item: "community_monthly", quantity: 1 },
          { item: "addon_events", quantity: 1 },
          { item: "addon_events", quantity: 1 },
          { item: "users_monthly", quantity: 7 },
          { item: "theme_radix", quantity: 1 },
          { item: "support_standard", quantity: 1 },
          { item: "https_required", quantity: 1 },
        ],
      },
    });
  });

  it("finds an item by product metadata when the price has no known lookup key", () => {
    const result = mapPurchase(catalog, [item(null, 1, { aegir_item: "enterprise_monthly" })]);
    expect(result.ok && result.chosen.kit).toBe("enterprise");
  });

  it("writes no backups for a tier the catalog leaves out, so the controller's default applies", () => {
    const result = mapPurchase({ ...catalog, backups: { Premium: { every: "1d", retain: 14 } } }, [item("community_monthly")]);
    expect(result.ok && result.parts.backups).toBeUndefined();
  });

  it("never lowers https below the kit's, and ignores items of quantity 0", () => {
    const result = mapPurchase(catalog, [item("enterprise_monthly"), item("mystery", 0)]);
    expect(result.ok && result.parts.https).toBe("Required");
  });

  it.each([
    [[item("community_monthly"), item("mystery")], 'items not in the service catalog: price price_mystery (lookup key "mystery")'],
    [[item(null)], "items not in the service catalog: price price_x (no lookup key)"],
    [[item("addon_events")], "no product kit among the items (one of demo, community, business, enterprise is required)"],
    [[item("community_monthly"), item("business_monthly")], "several product kits in one subscription: community, business"],
    [[item("community_monthly"), item("theme_radix"), item("theme_mercury")], "several premium themes: oa_radix, oa_mercury"],
    [[item("community_monthly"), item("support_standard"), item("support_premium_24x7")], "several support upgrades: Standard 8x5, Premium 24x7"],
    [[item("enterprise_monthly"), item("users_pack_10_monthly", 10_000)], "user quota 100500 is outside 1..100000"],
  ])("refuses %j: %s", (items, reason) => {
    expect(mapPurchase(catalog, items)).toEqual({ ok: false, reason });
  });
});

describe("resolveDomain", () => {
  it("builds a subdomain of the managed zone, or takes the customer's own domain, normalized", () => {
    expect(resolveDomain(catalog, [{ subdomain: " Acme " }])).toEqual({ ok: true, domain: "acme.sites.openatria.com" });
    expect(resolveDomain(catalog, [{}, { domain: "Intranet.Example.COM." }])).toEqual({ ok: true, domain: "intranet.example.com" });
    expect(resolveDomain(catalog, [{ domain: "own.example.com", subdomain: "ignored" }])).toEqual({ ok: true, domain: "own.example.com" });
  });

  it.each([
    [{ subdomain: "a.b" }, /^subdomain "a\.b": must be a lowercase RFC 1123 label/],
    [{ subdomain: "$(reboot)" }, /^subdomain "\$\(reboot\)"/],
    [{ domain: "localhost" }, /^domain "localhost": must be a lowercase fully qualified domain name/],
    [{ domain: "evil.sites.openatria.com" }, /inside the managed zone/],
    [{}, /^no domain: the order names neither a subdomain \(field "subdomain"\) nor its own domain \(field "domain"\)$/],
  ])("refuses %j", (source, reason) => {
    const result = resolveDomain(catalog, [source]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });
});

describe("lifecycleOf", () => {
  const now = new Date("2027-01-10T00:00:00Z");
  const base: LifecycleInput = {
    status: "active",
    pastDueSince: null,
    endedAt: null,
    canceledAt: null,
    wasSuspended: false,
    now,
    policy: { pastDueGraceMs: 7 * 86_400_000, expireAfterMs: 14 * 86_400_000 },
  };

  it("maps every status", () => {
    expect(lifecycleOf({ ...base, status: "trialing" })).toMatchObject({ phase: "active", mayCreate: true, suspended: false });
    expect(lifecycleOf({ ...base, status: "past_due" })).toMatchObject({
      phase: "past_due",
      suspended: false,
      pastDueSince: now,
      graceEndsAt: new Date("2027-01-17T00:00:00Z"),
    });
    expect(lifecycleOf({ ...base, status: "past_due", pastDueSince: new Date("2027-01-02T00:00:00Z") })).toMatchObject({ phase: "suspended", suspended: true });
    expect(lifecycleOf({ ...base, status: "unpaid" })).toMatchObject({ phase: "suspended", mayCreate: false, suspended: true });
    expect(lifecycleOf({ ...base, status: "paused" })).toMatchObject({ phase: "suspended", suspended: true });
    expect(lifecycleOf({ ...base, status: "canceled", endedAt: new Date("2027-01-05T00:00:00Z") })).toMatchObject({
      phase: "ended",
      suspended: false,
      expiresAt: new Date("2027-01-19T00:00:00Z"),
    });
    expect(lifecycleOf({ ...base, status: "incomplete_expired", wasSuspended: true })).toMatchObject({ phase: "ended", suspended: true, expiresAt: new Date("2027-01-24T00:00:00Z") });
    expect(lifecycleOf({ ...base, status: "incomplete" })).toMatchObject({ phase: "awaiting_payment", mayCreate: false });
    expect(lifecycleOf({ ...base, status: "some_future_status" })).toMatchObject({ phase: "awaiting_payment", mayCreate: false });
  });
});

describe("naming and backoff", () => {
  it("derives a stable DNS-1123 name that keeps case-different ids apart", () => {
    expect(siteName("sub_1QbusinessExample")).toBe(siteName("sub_1QbusinessExample"));
    expect(siteName("sub_1QbusinessExample")).toMatch(/^sub-1qbusinessexample-[0-9a-f]{10}$/);
    expect(siteName("sub_abc")).not.toBe(siteName("sub_ABC"));
  });

  it("doubles the delay up to the cap", () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5, 100].map((n) => backoffDelayMs(n, policy))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });
});
