// Pure parts of the storefront: the offer, reading and pricing a choice, the order's progress.
import { describe, expect, it } from "vitest";
import { loadCatalog, type Catalog } from "../../webhook/catalog.ts";
import { resolveDomain } from "../../webhook/domain.ts";
import { choiceQuery, quote, readChoice } from "../../webhook/storefront/cart.ts";
import { money } from "../../webhook/storefront/html.ts";
import { buildOffer } from "../../webhook/storefront/offer.ts";
import { orderProgress, type LedgerOrder, type SiteStatus } from "../../webhook/storefront/progress.ts";

const catalog: Catalog = await loadCatalog();
const offer = buildOffer(catalog);

function priced(query: string, complete = true) {
  return quote(catalog, offer, readChoice(offer, new URLSearchParams(query)), complete);
}

describe("offer", () => {
  it("groups the catalog's priced items by product and by what they sell", () => {
    expect(offer.kits.map((k) => [k.name, k.prices.month?.amount, k.prices.year?.lookupKey])).toEqual([
      ["Demo", 0, undefined],
      ["Community", 2900, "community_yearly"],
      ["Business", 9900, "business_yearly"],
      ["Enterprise", 34900, "enterprise_yearly"],
    ]);
    expect(offer.options.addon.map((o) => o.key)).toEqual(["addon_events", "addon_worktracker", "addon_files", "addon_analytics", "addon_markdown"]);
    expect(offer.options.theme.map((o) => Object.keys(o.prices))).toEqual([["once"], ["once"]]);
    expect(offer.options.users.map((o) => o.key)).toEqual(["users", "users_pack_10"]);
    expect(offer.options.support.map((o) => o.key)).toEqual(["support_standard", "support_premium"]);
    expect(offer.options.https.map((o) => o.key)).toEqual(["https_required"]);
  });

  it("formats money in the currency's own units", () => {
    expect(money(13800, "usd")).toBe("$138.00");
    expect(money(1500, "jpy")).toBe("¥1,500");
  });
});

describe("quote", () => {
  it("prices a Business kit with one add-on and 10 extra users, and puts the domain where the webhook reads it", () => {
    const q = priced("kit=business&period=month&addon=addon_analytics&qty_users=10&site=subdomain&subdomain=Acme");
    expect(q.problems).toEqual([]);
    expect(q.lines.map((l) => [l.lookupKey, l.quantity])).toEqual([
      ["business_monthly", 1],
      ["addon_analytics", 1],
      ["users_monthly", 10],
    ]);
    expect(q.recurringTotal).toBe(9900 + 1900 + 10 * 200);
    expect(q.oneTimeTotal).toBe(0);
    expect(q.parts).toMatchObject({ userQuota: 60, support: { tier: "Standard" } });
    expect(q.parts?.features).toContain("oa_analytics");
    expect(q.domainMetadata).toEqual({ subdomain: "acme" });
    expect(resolveDomain(catalog, [{}, q.domainMetadata])).toEqual({ ok: true, domain: "acme.sites.openatria.com" });
  });

  it("bills yearly with the yearly prices and a premium theme once", () => {
    const q = priced("kit=community&period=year&theme=theme_mercury&support=support_premium&site=own&domain=intranet.example.com");
    expect(q.problems).toEqual([]);
    expect(q.lines.map((l) => [l.lookupKey, l.interval])).toEqual([
      ["community_yearly", "year"],
      ["theme_mercury", "once"],
      ["support_premium_24x7_yearly", "year"],
    ]);
    expect(q.oneTimeTotal).toBe(7900);
    expect(q.domainMetadata).toEqual({ domain: "intranet.example.com" });
  });

  it("names the field of every bad or tampered input", () => {
    const q = priced("kit=gold&period=weekly&addon=addon_bitcoin&qty_users=-3&qty_admins=1&site=subdomain&subdomain=-bad-");
    expect(q.problems.slice(0, 5)).toEqual([
      { field: "qty_users", message: "enter a whole number of extra users from 0 to 10000" },
      { field: "form", message: "the form sent a field this shop does not have (qty_admins); reload the page and try again" },
      { field: "period", message: "choose monthly or yearly billing" },
      { field: "kit", message: 'there is no kit "gold"; choose one of Demo, Community, Business, Enterprise' },
      { field: "addon", message: 'there is no addon "addon_bitcoin" in this shop' },
    ]);
    expect(q.problems.slice(5).map((p) => p.field)).toEqual(["subdomain"]);
    expect(q.problems[5]?.message).toMatch(/^subdomain "-bad-": /);
  });

  it("refuses impossible combinations: an add-on, theme or HTTPS the kit has, a support downgrade, too many users", () => {
    expect(priced("kit=business&addon=addon_events&subdomain=a1").problems).toEqual([{ field: "addon", message: "Events is already included in Business" }]);
    expect(priced("kit=business&theme=theme_radix&subdomain=a1").problems).toEqual([{ field: "theme", message: "Radix theme is already included in Business" }]);
    expect(priced("kit=enterprise&https=https_required&subdomain=a1").problems).toEqual([{ field: "https", message: "Enterprise already serves every visit over HTTPS" }]);
    expect(priced("kit=enterprise&support=support_standard&subdomain=a1").problems).toEqual([
      { field: "support", message: "Standard support is not an upgrade of Enterprise's Premium support" },
    ]);
    const tooMany = priced("kit=enterprise&qty_users_pack_10=10000&subdomain=a1").problems;
    expect(tooMany.map((p) => p.field)).toEqual(["form"]);
    expect(tooMany[0]?.message).toMatch(/^this combination cannot be sold: user quota 100500 is outside/);
  });

  it("needs a kit and an address at checkout, refuses a domain inside the managed zone, and a field sent twice", () => {
    expect(priced("", true).problems.map((p) => p.field)).toEqual(["kit", "subdomain"]);
    expect(priced("", false).problems).toEqual([]);
    expect(priced("kit=community&site=own&domain=x.sites.openatria.com").problems).toEqual([
      { field: "domain", message: 'domain "x.sites.openatria.com" is inside the managed zone sites.openatria.com: order it as a subdomain instead' },
    ]);
    expect(priced("kit=community&kit=business&subdomain=a1").problems).toEqual([{ field: "kit", message: "kit was sent 2 times; choose one" }]);
  });

  it("round-trips the choice through the cart's query string", () => {
    const read = readChoice(offer, new URLSearchParams("kit=business&period=year&addon=addon_analytics&addon=addon_markdown&qty_users=4&site=own&domain=a.example.org"));
    expect(readChoice(offer, new URLSearchParams(choiceQuery(read.choice)))).toEqual(read);
  });
});

describe("order progress", () => {
  const order: LedgerOrder = { state: "active", provisioned: true, customerEmail: "ann@example.com", domain: "acme.sites.openatria.com", siteNamespace: "customers", siteName: "sub-x", customerId: "cus_1" };
  const site = (conditions: Record<string, string>, welcomedAt: string | null = null): SiteStatus => ({
    ownerEmail: "ann@example.com",
    welcomedAt,
    url: "https://acme.sites.openatria.com",
    conditions: Object.entries(conditions).map(([type, status]) => ({ type, status })),
  });
  const states = (p: ReturnType<typeof orderProgress>) => p.steps.map((s) => s.state);

  it("waits for Stripe, then follows the site's conditions to Ready, saying where the welcome mail went", () => {
    expect(states(orderProgress(null, null))).toEqual(["current", "waiting", "waiting", "waiting"]);
    expect(orderProgress(null, null).settled).toBe(false);
    expect(states(orderProgress(order, site({ Installed: "False" })))).toEqual(["done", "current", "waiting", "waiting"]);
    expect(states(orderProgress(order, site({ Installed: "True", FeaturesApplied: "True", ThemeApplied: "False" })))).toEqual(["done", "done", "current", "waiting"]);
    const ready = orderProgress(order, site({ Installed: "True", FeaturesApplied: "True", ThemeApplied: "True", QuotaEnforced: "True", Ready: "True" }, "2026-12-07T05:00:00Z"));
    expect(states(ready)).toEqual(["done", "done", "done", "done"]);
    expect(ready).toMatchObject({ headline: "Your site is ready", settled: true, siteUrl: "https://acme.sites.openatria.com" });
    expect(ready.steps[3]?.detail).toBe("sent to ann@example.com");
  });

  it("words each step for its state: what is next, what is happening, what is done", () => {
    const labels = (p: ReturnType<typeof orderProgress>) => p.steps.map((s) => s.label);
    expect(labels(orderProgress(null, null))).toEqual(["Waiting for Stripe to confirm your payment", "Install your site", "Set up features, theme and users", "Send the welcome mail"]);
    expect(labels(orderProgress(order, site({ Installed: "False" })))).toEqual(["Payment confirmed", "Installing your site", "Set up features, theme and users", "Send the welcome mail"]);
    expect(labels(orderProgress(order, site({ Installed: "True", FeaturesApplied: "True", ThemeApplied: "True", QuotaEnforced: "True" })))).toEqual([
      "Payment confirmed",
      "Site installed",
      "Features, theme and users set up",
      "Sending the welcome mail",
    ]);
  });

  it("tells a parked order's customer that the payment is safe, without the internal reason", () => {
    const parked = orderProgress({ ...order, state: "parked", provisioned: false }, null);
    expect(parked).toMatchObject({ settled: true, problem: "Your payment is safe; our team has been told about the problem. We will write to ann@example.com." });
    // Paid, but stopped before the install: the page must not say the payment failed.
    expect(states(parked)).toEqual(["done", "failed", "waiting", "waiting"]);
    expect(parked.steps.slice(0, 2).map((s) => s.label)).toEqual(["Payment confirmed", "Site not installed"]);
  });
});
