// The storefront over HTTP, with real parts: the webhook service on an embedded PostgreSQL, the
// Stripe stub (catalog synced into it), HostedSites read through client-node from the fake API
// server. Bad input never reaches Stripe; a paid session becomes an order the webhook reads the
// domain of; the order page follows the ledger and the HostedSite's status.
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { planCatalogSync } from "../../webhook/catalog-sync.ts";
import { applySyncAction, readRemoteCatalog } from "../../webhook/catalog-sync-stripe.ts";
import type { WebhookConfig } from "../../webhook/config.ts";
import { siteName } from "../../webhook/hostedsite-manifest.ts";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import type { WebhookService } from "../../webhook/service.ts";
import { kubeSiteDirectory } from "../../webhook/storefront/site-directory.ts";
import { createStripeClient } from "../../webhook/stripe-reader.ts";
import { startFakeApiServer, type FakeApiServer, type KubeObject } from "../harness/kube/index.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { eventually, SECRET, startTestPostgres, startTestWebhook, type TestPostgres } from "../webhook/support.ts";

let postgres: TestPostgres;
let stub: StripeStub;
let api: FakeApiServer;
let service: WebhookService;

async function startShop(config: Partial<WebhookConfig> = {}): Promise<WebhookService> {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfigYaml("customers"));
  return startTestWebhook(await postgres.freshDatabase(), stub, {
    config: { storefront: true, checkoutRateLimit: 1000, ...config },
    overrides: { applier: kubeApplier(kc), sites: kubeSiteDirectory("customers", kc) },
  });
}

beforeAll(async () => {
  [postgres, stub, api] = await Promise.all([startTestPostgres(), startStripeStub(), startFakeApiServer({ namespaces: ["customers"] })]);
  service = await startShop();
  const stripe = createStripeClient({ apiKey: stub.apiKey, apiBase: new URL(stub.url) });
  for (const action of planCatalogSync(service.catalog, await readRemoteCatalog(stripe, service.catalog)).actions) await applySyncAction(stripe, action);
  stub.checkout.deliverTo = { url: `${service.url}/stripe/webhook`, secret: SECRET };
}, 60_000);
afterAll(async () => {
  await service?.stop();
  await Promise.all([postgres?.stop(), stub?.close(), api?.close()]);
});

const FORM = { "content-type": "application/x-www-form-urlencoded" };
const checkoutsCreated = () => stub.requests.filter((r) => r === "POST /v1/checkout/sessions").length;

/** Opens the cart like a browser: the form token and the cookie it belongs to. */
async function openCart(shop: WebhookService, query = "") {
  const response = await shop.app.inject({ method: "GET", url: `/shop/cart?${query}` });
  const cookie = String(response.headers["set-cookie"]).split(";")[0] as string;
  const token = /name="csrf" value="([^"]+)"/.exec(response.body)?.[1] as string;
  return { response, cookie, token };
}

async function checkout(shop: WebhookService, form: string, options: { cookie?: string; token?: string; headers?: Record<string, string> } = {}) {
  const cart = await openCart(shop);
  const token = options.token ?? cart.token;
  return shop.app.inject({
    method: "POST",
    url: "/shop/checkout",
    headers: { ...FORM, cookie: options.cookie ?? cart.cookie, ...options.headers },
    payload: `csrf=${encodeURIComponent(token)}&${form}`,
  });
}

describe("storefront pages", () => {
  it("serves the catalog with every kit and option, security headers, landmarks and no script", async () => {
    const response = await service.app.inject({ method: "GET", url: "/shop/" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-security-policy"]).toBe(
      `default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' ${stub.url}; frame-ancestors 'none'; base-uri 'none'`,
    );
    expect(response.headers).toMatchObject({ "x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer", "cache-control": "no-store" });
    for (const text of ["Community", "Business", "Enterprise", "$99.00 / month", "$990.00 / year", "Add-on features", "Premium themes", "More users", "Support upgrades", "HTTPS only"]) {
      expect(response.body).toContain(text);
    }
    expect(response.body).toMatch(/<html lang="en">[\s\S]*<header[\s\S]*<nav aria-label="Shop">[\s\S]*<main id="main"[\s\S]*<footer>/);
    expect(response.body).not.toMatch(/<script/i);
    const css = await service.app.inject({ method: "GET", url: "/shop/style.css" });
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(css.body).toContain("--accent: #1d4ed8;");
  });

  it("labels every input of the cart, shows the total and checks the address live against orders and HostedSites", async () => {
    const { response } = await openCart(service, "kit=business&addon=addon_analytics&qty_users=10&subdomain=newco");
    expect(response.headers["set-cookie"]).toMatch(/^shop_csrf=[\w-]{43}; Path=\/shop; HttpOnly; SameSite=Lax$/);
    expect(response.body).toContain('<p class="total">$138.00 / month</p>');
    expect(response.body).toContain("newco.sites.openatria.com is available.");
    const ids = [...response.body.matchAll(/<input type="(?:text|number)" id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids.length).toBeGreaterThan(2);
    for (const id of ids) expect(response.body).toContain(`<label for="${id}">`);

    api.objects.create(hostedSite("hand-made", "taken.sites.openatria.com"), { manager: "kubectl" });
    const taken = await openCart(service, "kit=business&subdomain=taken");
    expect(taken.response.body).toContain("taken.sites.openatria.com is already taken; choose another.");
    const own = await openCart(service, "kit=business&site=own&domain=intranet.example.net");
    expect(own.response.body).toContain("<code>intranet.example.net. CNAME sites.openatria.com.</code>");
  });

  it("turns 'update total' into a plain GET of the cart (post/redirect/get), dropping the token", async () => {
    const response = await service.app.inject({ method: "POST", url: "/shop/cart", headers: FORM, payload: "csrf=abc&kit=community&subdomain=x1" });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe("/shop/cart?kit=community&subdomain=x1");
  });
});

describe("checkout", () => {
  it("refuses bad, tampered, forged and oversized input on the page, and none of it reaches Stripe", async () => {
    const before = checkoutsCreated();
    const cases: [string, number, string][] = [
      ["kit=platinum&subdomain=a1", 422, "there is no kit &#34;platinum&#34;"],
      ["kit=business&addon=addon_events&subdomain=a1", 422, "Events is already included in Business"],
      ["kit=business&subdomain=Not_Valid", 422, "subdomain &#34;not_valid&#34;"],
      ["kit=business&site=own&domain=localhost", 422, "domain &#34;localhost&#34;"],
      ["kit=business&qty_users=lots&subdomain=a1", 422, "enter a whole number of extra users"],
      ["kit=business&price_override=1&subdomain=a1", 422, "the form sent a field this shop does not have (price_override)"],
      ["kit=business&subdomain=taken", 409, "taken.sites.openatria.com is already taken; choose another address"],
    ];
    for (const [form, status, message] of cases) {
      const response = await checkout(service, form);
      expect({ form, status: response.statusCode }).toEqual({ form, status });
      expect(response.body).toContain(message);
      expect(response.body).toContain('role="alert"');
    }
    const forged = await checkout(service, "kit=business&subdomain=a1", { token: "forged" });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain("did not come from this shop");
    const crossSite = await checkout(service, "kit=business&subdomain=a1", { headers: { "sec-fetch-site": "cross-site" } });
    expect(crossSite.statusCode).toBe(403);
    const noCookie = await service.app.inject({ method: "POST", url: "/shop/checkout", headers: FORM, payload: "kit=business&subdomain=a1" });
    expect(noCookie.statusCode).toBe(403);
    const big = await service.app.inject({ method: "POST", url: "/shop/checkout", headers: FORM, payload: `kit=business&subdomain=${"a".repeat(20_000)}` });
    expect(big.statusCode).toBe(413);
    expect(big.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(big.body).toContain("The form sent more than 16 KiB");
    const json = await service.app.inject({ method: "POST", url: "/shop/checkout", headers: { "content-type": "application/json" }, payload: "{}" });
    expect(json.statusCode).toBe(415);
    expect(checkoutsCreated()).toBe(before);
  });

  it("creates a subscription Checkout Session with the domain where the webhook reads it; paying provisions, and only then", async () => {
    const response = await checkout(service, "period=month&kit=business&addon=addon_analytics&qty_users=10&site=subdomain&subdomain=Shop-Test");
    expect(response.statusCode).toBe(303);
    const location = String(response.headers.location);
    expect(location).toMatch(new RegExp(`^${stub.url}/checkout/cs_test_\\w+$`));
    const sessionId = location.split("/").at(-1) as string;
    const session = stub.checkout.sessions.get(sessionId);
    expect(session).toMatchObject({
      metadata: { subdomain: "shop-test" },
      subscriptionMetadata: { subdomain: "shop-test" },
      successUrl: `${service.url}/shop/orders/{CHECKOUT_SESSION_ID}`,
    });
    expect(session?.cancelUrl).toMatch(/\/shop\/cart\?period=month&kit=business&addon=addon_analytics&qty_users=10&site=subdomain&subdomain=Shop-Test&cancelled=1$/);
    expect(session?.lineItems.map((l) => [stub.prices.get(l.price)?.lookup_key, l.quantity])).toEqual([
      ["business_monthly", 1],
      ["addon_analytics", 1],
      ["users_monthly", 10],
    ]);

    // Before payment: no order, nothing applied, the order page waits for Stripe.
    const waiting = await service.app.inject({ method: "GET", url: `/shop/orders/${sessionId}` });
    expect(waiting.body).toContain("waiting for Stripe to confirm your payment");
    expect(waiting.body).toContain('<meta http-equiv="refresh" content="3">');
    const ref = { apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers" };
    expect(api.objects.list(API_VERSION, "HostedSite", { namespace: "customers" }).map((o) => o.metadata.name)).toEqual(["hand-made"]);

    const declined = await fetch(location, { method: "POST", headers: FORM, body: "email=ann@example.com&action=fail", redirect: "manual" });
    expect(declined.status).toBe(402);
    expect(stub.checkout.deliveries).toEqual([]);

    const paid = await fetch(location, { method: "POST", headers: FORM, body: "email=ann@example.com&name=Ann+Smith&action=pay", redirect: "manual" });
    expect(paid.status).toBe(303);
    expect(paid.headers.get("location")).toBe(`${service.url}/shop/orders/${sessionId}`);
    expect(stub.checkout.deliveries).toEqual([200]);

    const subscription = stub.sessions.get(sessionId)?.subscription as string;
    const site = await eventually(() => api.objects.get({ ...ref, name: siteName(subscription) }), 10_000, "the HostedSite");
    expect((site as unknown as { spec: { domain: string; userQuota: number; owner: { email: string } } }).spec).toMatchObject({
      domain: "shop-test.sites.openatria.com",
      userQuota: 60,
      owner: { email: "ann@example.com" },
    });
    const installing = await eventually(async () => {
      const body = (await service.app.inject({ method: "GET", url: `/shop/orders/${sessionId}` })).body;
      return body.includes("Payment confirmed") && body.includes('class="current" aria-current="step"><span class="state">In progress</span> Site being installed') ? body : undefined;
    }, 10_000, "the order page to show the payment");
    expect(installing).toContain("will be sent to ann@example.com");
    expect(installing).toContain("Manage subscription");

    // The controller's part, as the API server would hold it: the page follows the status.
    api.objects.apply(
      { apiVersion: API_VERSION, kind: "HostedSite", metadata: { name: siteName(subscription), namespace: "customers" }, status: { url: "https://shop-test.sites.openatria.com", owner: { welcomedAt: "2026-12-07T06:00:00Z" }, conditions: ["Ready", "Installed", "FeaturesApplied", "ThemeApplied", "QuotaEnforced", "OwnerReady"].map((type) => ({ type, status: "True", reason: "Done", message: "", lastTransitionTime: "2026-12-07T06:00:00Z" })) } },
      { manager: "aegir-operator", subresource: "status" },
    );
    const ready = (await service.app.inject({ method: "GET", url: `/shop/orders/${sessionId}` })).body;
    expect(ready).toContain("<h1>Your site is ready</h1>");
    expect(ready).toContain("sent to ann@example.com");
    expect(ready).not.toContain("http-equiv=\"refresh\"");
    expect(ready).not.toMatch(/aegir|drush|platform|hostmaster/i);

    const manage = await service.app.inject({ method: "GET", url: `/shop/orders/${sessionId}` });
    const cookie = String(manage.headers["set-cookie"]).split(";")[0] as string;
    const token = /name="csrf" value="([^"]+)"/.exec(manage.body)?.[1] as string;
    const portal = await service.app.inject({ method: "POST", url: `/shop/orders/${sessionId}/portal`, headers: { ...FORM, cookie }, payload: `csrf=${token}` });
    expect(portal.statusCode).toBe(303);
    expect(String(portal.headers.location)).toMatch(new RegExp(`^${stub.url}/portal/bps_\\w+$`));

    // The address is sold now: the ledger says so, even to a shop that has no HostedSite to list.
    expect((await openCart(service, "kit=business&subdomain=shop-test")).response.body).toContain("shop-test.sites.openatria.com is already taken");
  });

  it("limits checkouts per client address", async () => {
    const limited = await startShop({ checkoutRateLimit: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await checkout(limited, "kit=gold")).statusCode);
      expect(statuses).toEqual([422, 422, 429]);
      const refused = await checkout(limited, "kit=gold");
      expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
      expect(refused.body).toContain("Too many attempts");
    } finally {
      await limited.stop();
    }
  });

  it("is not served when turned off", async () => {
    const off = await startShop({ storefront: false });
    try {
      expect((await off.app.inject({ method: "GET", url: "/shop/" })).statusCode).toBe(404);
    } finally {
      await off.stop();
    }
  });
});

function hostedSite(name: string, domain: string): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: "HostedSite",
    metadata: { name, namespace: "customers" },
    spec: { domain, profile: "openatrium", userQuota: 5, support: { tier: "Basic" }, owner: { email: "ops@example.com" } },
  };
}
