// From stored event to HostedSite: catalog mapping, every lifecycle transition, plan changes,
// parked orders, reordered and duplicated events, Stripe and Kubernetes outages.
import { describe, expect, it } from "vitest";
import { GRACE_PERIOD_ENDS_ANNOTATION, PAYMENT_STATUS_ANNOTATION, siteName } from "../../webhook/hostedsite-manifest.ts";
import { checkoutEvent, customerEvent, invoiceEvent, preBasilInvoiceEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { ensurePrice, seedOrder, type OrderOptions, type SeededOrder } from "../harness/stripe/orders.ts";
import { deliver, eventually, order, settled, startTestWebhook, useWebhookPerTest } from "./support.ts";

const world = useWebhookPerTest((url, stub) => startTestWebhook(url, stub, { config: { pastDueGrace: 400, expireAfter: 3 * 86_400_000 } }));


async function buy(options: OrderOptions): Promise<SeededOrder> {
  const seeded = seedOrder(world.stub, options);
  expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
  await settled(world.service);
  return seeded;
}

async function changeSubscription(id: string, change: Partial<SeededOrder["subscription"]>, type = "customer.subscription.updated") {
  const sub = world.stub.subscriptions.get(id);
  if (sub === undefined) throw new Error(`no ${id}`);
  Object.assign(sub, change);
  expect(await deliver(world.service, subscriptionEvent(world.stub, type, id))).toBe(200);
  await settled(world.service);
}

function siteOf(subscriptionId: string) {
  const site = world.service.applier.site(subscriptionId);
  if (site === undefined) throw new Error(`no HostedSite for ${subscriptionId}`);
  return site;
}

describe("a paid order", () => {
  it("becomes one HostedSite with the kit, add-ons, quota, support and https from the catalog", async () => {
    const { subscription, session, customerId } = await buy({
      items: { business_monthly: 1, addon_analytics: 1, users_monthly: 5, support_premium_24x7: 1, https_required: 1 },
      subdomain: "Initech",
      email: "peter@initech.example.com",
      name: "Peter Gibbons",
    });
    const site = siteOf(subscription.id);
    expect(site.metadata).toEqual({
      name: siteName(subscription.id),
      namespace: "customers",
      labels: { "hosting.openatria.com/stripe-subscription": subscription.id, "app.kubernetes.io/managed-by": "stripe-webhook" },
      annotations: { [PAYMENT_STATUS_ANNOTATION]: "active" },
    });
    expect(site.spec).toEqual({
      domain: "initech.sites.openatria.com",
      profile: "openatrium",
      features: ["oa_discussion", "oa_wiki", "oa_events", "oa_worktracker", "oa_files", "oa_analytics"],
      theme: "oa_radix",
      https: "Required",
      userQuota: 55,
      support: { tier: "Premium", hours: "24x7", channels: ["email", "phone", "forum"] },
      backups: { every: "1d", retain: 14, windowStart: "01:00", window: "6h" },
      owner: { email: "peter@initech.example.com", displayName: "Peter Gibbons" },
      suspended: false,
      order: { source: "stripe", subscription: subscription.id, customer: customerId, checkoutSession: session.id },
    });
    // Fields the webhook does not own are never sent, so ops' edits to them survive server-side apply.
    expect(Object.keys(site.spec)).not.toContain("server");
    expect(Object.keys(site.spec)).not.toContain("deletionPolicy");
    expect(await order(world.service, subscription.id)).toMatchObject({
      state: "active",
      domain: "initech.sites.openatria.com",
      customer_email: "peter@initech.example.com",
      site_name: siteName(subscription.id),
      options: { kit: "business", items: expect.arrayContaining([{ item: "users_monthly", quantity: 5 }]) as unknown },
    });
    expect(world.service.applier.applies).toBe(1);
  });

  it("uses a one-time theme bought at Checkout, a product-metadata item and the customer's own domain", async () => {
    const seeded = seedOrder(world.stub, { items: { community_monthly: 1 }, oneTime: { theme_mercury: 1 }, domain: "Intranet.Globex.example.com." });
    const product = "prod_legacyEvents";
    world.stub.products.set(product, { id: product, metadata: { aegir_item: "addon_events" } });
    world.stub.prices.set("price_legacyEvents", { id: "price_legacyEvents", product, lookup_key: null });
    seeded.subscription.items.push({ price: "price_legacyEvents", quantity: 1 });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
    await settled(world.service);
    expect(siteOf(seeded.subscription.id).spec).toMatchObject({
      domain: "intranet.globex.example.com",
      theme: "oa_mercury",
      features: ["oa_discussion", "oa_wiki", "oa_events"],
      userQuota: 10,
    });
  });

  it("pages through subscription items beyond the first page Stripe embeds", async () => {
    world.stub.embeddedItemLimit = 2;
    try {
      const { subscription } = await buy({ items: { community_monthly: 1, addon_events: 1, addon_files: 1, addon_markdown: 1, users_monthly: 4 } });
      expect(siteOf(subscription.id).spec).toMatchObject({ features: ["oa_discussion", "oa_wiki", "oa_events", "oa_files", "oa_markdown"], userQuota: 14 });
      expect(world.stub.requests).toContain("GET /v1/subscription_items");
    } finally {
      world.stub.embeddedItemLimit = 10;
    }
  });

  it("converges whatever the order of its events, and checkout duplicates change nothing", async () => {
    const { subscription, session } = seedOrder(world.stub, { items: { enterprise_yearly: 1 } });
    const events = [
      invoiceEvent("invoice.paid", subscription.id),
      subscriptionEvent(world.stub, "customer.subscription.updated", subscription.id),
      subscriptionEvent(world.stub, "customer.subscription.created", subscription.id),
      checkoutEvent(world.stub, "checkout.session.async_payment_succeeded", session.id),
      checkoutEvent(world.stub, "checkout.session.completed", session.id),
    ];
    for (const event of events) expect(await deliver(world.service, event)).toBe(200);
    for (const event of events.reverse()) expect(await deliver(world.service, event)).toBe(200);
    await settled(world.service);
    expect(world.service.applier.sites.size).toBe(1);
    expect(world.service.applier.applies).toBe(1);
    expect(siteOf(subscription.id).spec.support).toEqual({ tier: "Premium", hours: "24x7", channels: ["email", "phone", "forum"] });

    // A further Checkout event of the same session is settled without asking Stripe again.
    const before = world.stub.requests.length;
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", session.id))).toBe(200);
    await settled(world.service);
    expect(world.stub.requests.length).toBe(before);
    const processed = await world.service.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stripe_events WHERE state = 'processed'");
    expect(processed.rows[0]?.n).toBe(6);
  });

  it("waits for a delayed payment method before provisioning", async () => {
    const seeded = await buy({ items: { community_monthly: 1 }, paymentStatus: "unpaid", status: "incomplete" });
    expect(await order(world.service, seeded.subscription.id)).toMatchObject({ state: "awaiting_payment", provisioned: false });
    expect(world.service.applier.sites.size).toBe(0);
    seeded.session.payment_status = "paid";
    seeded.subscription.status = "active";
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.async_payment_succeeded", seeded.session.id))).toBe(200);
    await settled(world.service);
    expect(await order(world.service, seeded.subscription.id)).toMatchObject({ state: "active", provisioned: true });
    expect(world.service.applier.sites.size).toBe(1);
  });

  it("never provisions an incomplete subscription that expires", async () => {
    const { subscription } = await buy({ items: { community_monthly: 1 }, status: "incomplete" });
    await changeSubscription(subscription.id, { status: "incomplete_expired", ended_at: Math.floor(Date.now() / 1000) });
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "ended", provisioned: false });
    expect(world.service.applier.sites.size).toBe(0);
  });
});

describe("lifecycle", () => {
  it("past_due keeps the site running with a marker, suspends after the grace period, and payment reactivates it", async () => {
    const { subscription } = await buy({ items: { community_monthly: 1 } });
    await changeSubscription(subscription.id, { status: "past_due" });
    let site = siteOf(subscription.id);
    expect(site.spec.suspended).toBe(false);
    expect(site.metadata.annotations[PAYMENT_STATUS_ANNOTATION]).toBe("past_due");
    expect(site.metadata.annotations[GRACE_PERIOD_ENDS_ANNOTATION]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "past_due" });

    // No event from Stripe: the durable timer ends the grace period.
    await eventually(() => world.service.applier.site(subscription.id)?.spec.suspended === true, 5_000, "suspension after grace");
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "suspended" });

    world.stub.subscriptions.get(subscription.id)!.status = "active";
    expect(await deliver(world.service, invoiceEvent("invoice.paid", subscription.id))).toBe(200);
    await settled(world.service);
    site = siteOf(subscription.id);
    expect(site.spec.suspended).toBe(false);
    expect(site.metadata.annotations).toEqual({ [PAYMENT_STATUS_ANNOTATION]: "active" });
  });

  it("accepts invoice events of endpoints older than 2025-03-31.basil and records each event's API version", async () => {
    const { subscription } = await buy({ items: { community_monthly: 1 } });
    world.stub.subscriptions.get(subscription.id)!.status = "unpaid";
    expect(await deliver(world.service, preBasilInvoiceEvent("invoice.payment_failed", subscription.id))).toBe(200);
    await settled(world.service);
    expect(siteOf(subscription.id).spec.suspended).toBe(true);
    const versions = await world.service.pool.query<{ type: string; api_version: string }>("SELECT type, api_version FROM stripe_events ORDER BY received_at");
    expect(versions.rows).toEqual([
      { type: "checkout.session.completed", api_version: "2026-10-28.endive" },
      { type: "invoice.payment_failed", api_version: "2024-06-20" },
    ]);
  });

  it("suspends on unpaid and paused, resumes on active, and sets expiresAt when canceled", async () => {
    const { subscription } = await buy({ items: { business_monthly: 1 } });
    await changeSubscription(subscription.id, { status: "unpaid" });
    expect(siteOf(subscription.id).spec.suspended).toBe(true);
    await changeSubscription(subscription.id, { status: "active" });
    expect(siteOf(subscription.id).spec.suspended).toBe(false);
    await changeSubscription(subscription.id, { status: "paused" }, "customer.subscription.paused");
    expect(siteOf(subscription.id).spec.suspended).toBe(true);
    await changeSubscription(subscription.id, { status: "active" }, "customer.subscription.resumed");
    expect(siteOf(subscription.id).spec).toMatchObject({ suspended: false });
    expect(siteOf(subscription.id).spec.expiresAt).toBeUndefined();

    const endedAt = Date.UTC(2027, 0, 31, 12, 0, 0) / 1000;
    await changeSubscription(subscription.id, { status: "canceled", canceled_at: endedAt - 3600, ended_at: endedAt }, "customer.subscription.deleted");
    const site = siteOf(subscription.id);
    expect(site.spec).toMatchObject({ suspended: false, expiresAt: "2027-02-03T12:00:00Z" });
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "ended", subscription_status: "canceled" });
  });
});

describe("customers", () => {
  it("follows the Customer's e-mail on customer.updated, for each of its subscriptions not ended", async () => {
    const first = await buy({ items: { community_monthly: 1 }, email: "old@initech.example.com" });
    const customer = world.stub.customers.get(first.customerId)!;
    customer.email = "new@initech.example.com";
    expect(await deliver(world.service, customerEvent(world.stub, "customer.updated", first.customerId))).toBe(200);
    await eventually(() => siteOf(first.subscription.id).spec.owner.email === "new@initech.example.com", 5_000, "the new owner e-mail");
    expect(await order(world.service, first.subscription.id)).toMatchObject({ state: "active", customer_email: "new@initech.example.com" });
  });

  it("leaves an ended order and its e-mail alone when the Customer is deleted", async () => {
    const { subscription, session, customerId } = await buy({ items: { community_monthly: 1 }, email: "gone@initech.example.com" });
    await changeSubscription(subscription.id, { status: "canceled", ended_at: Math.floor(Date.now() / 1000) }, "customer.subscription.deleted");
    session.email = null;
    world.stub.customers.get(customerId)!.deleted = true;
    expect(await deliver(world.service, customerEvent(world.stub, "customer.deleted", customerId))).toBe(200);
    expect(await deliver(world.service, subscriptionEvent(world.stub, "customer.subscription.updated", subscription.id))).toBe(200);
    await settled(world.service);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "ended", reason: null, customer_email: "gone@initech.example.com" });
  });
});

describe("plan changes", () => {
  it("updates features, theme, quota and support tier", async () => {
    const { subscription } = await buy({ items: { community_monthly: 1 } });
    expect(siteOf(subscription.id).spec).toMatchObject({ userQuota: 10, support: { tier: "Basic" } });
    await changeSubscription(subscription.id, {
      items: [
        { price: ensurePrice(world.stub, "business_monthly"), quantity: 1 },
        { price: ensurePrice(world.stub, "theme_mercury"), quantity: 1 },
        { price: ensurePrice(world.stub, "users_pack_10_monthly"), quantity: 3 },
        { price: ensurePrice(world.stub, "addon_markdown"), quantity: 1 },
      ],
    });
    expect(siteOf(subscription.id).spec).toMatchObject({
      features: ["oa_discussion", "oa_wiki", "oa_events", "oa_worktracker", "oa_files", "oa_markdown"],
      theme: "oa_mercury",
      userQuota: 80,
      support: { tier: "Standard", hours: "8x5", channels: ["email", "forum"] },
      domain: `site${subscription.id.slice(4).toLowerCase()}.sites.openatria.com`,
    });
    expect(world.service.applier.applies).toBe(2);
  });
});

describe("parked orders", () => {
  it("parks an order with an unknown catalog item, with the reason, and un-parks it once the plan is fixed", async () => {
    const { subscription } = seedOrder(world.stub, { items: { community_monthly: 1 } });
    world.stub.prices.set("price_mystery", { id: "price_mystery", product: "prod_mystery", lookup_key: "mystery_addon" });
    subscription.items.push({ price: "price_mystery", quantity: 1 });
    expect(await deliver(world.service, subscriptionEvent(world.stub, "customer.subscription.created", subscription.id))).toBe(200);
    await settled(world.service);
    const parked = await order(world.service, subscription.id);
    expect(parked).toMatchObject({ state: "parked", provisioned: false });
    expect(parked?.reason).toBe('items not in the service catalog: price price_mystery (lookup key "mystery_addon")');
    expect(world.service.applier.sites.size).toBe(0);
    expect(await world.service.metrics.registry.getSingleMetricAsString("stripe_webhook_orders_parked_total")).toMatch(/ 1$/m);

    subscription.items.pop();
    await changeSubscription(subscription.id, {});
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "active", reason: null });
    expect(world.service.applier.sites.size).toBe(1);
  });

  it("parks bad domains and a domain already taken", async () => {
    const bad = await buy({ items: { community_monthly: 1 }, subdomain: "-nope-" });
    expect((await order(world.service, bad.subscription.id))?.reason).toMatch(/^subdomain "-nope-": must be a lowercase RFC 1123 label/);
    const zone = await buy({ items: { community_monthly: 1 }, domain: "x.sites.openatria.com" });
    expect((await order(world.service, zone.subscription.id))?.reason).toMatch(/inside the managed zone/);
    const first = await buy({ items: { community_monthly: 1 }, subdomain: "acme" });
    const second = await buy({ items: { community_monthly: 1 }, subdomain: "acme" });
    expect(await order(world.service, first.subscription.id)).toMatchObject({ state: "active", domain: "acme.sites.openatria.com" });
    expect(await order(world.service, second.subscription.id)).toMatchObject({
      state: "parked",
      provisioned: false,
      reason: `domain acme.sites.openatria.com is already taken by subscription ${first.subscription.id}`,
    });
    expect(world.service.applier.sites.size).toBe(1);
  });

  it("keeps following payment while a provisioned order is parked", async () => {
    const { subscription } = await buy({ items: { business_monthly: 1 } });
    world.stub.prices.set("price_unknownTier", { id: "price_unknownTier", product: "prod_unknownTier", lookup_key: "support_platinum" });
    await changeSubscription(subscription.id, { items: [...subscription.items, { price: "price_unknownTier", quantity: 1 }] });
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "parked" });
    await changeSubscription(subscription.id, { status: "unpaid" });
    expect(siteOf(subscription.id).spec).toMatchObject({ suspended: true, theme: "oa_radix", userQuota: 50 });
  });
});

describe("outages", () => {
  it("retries while the Stripe API fails, and dead-letters an event whose subscription does not exist", async () => {
    const seeded = seedOrder(world.stub, { items: { community_monthly: 1 } });
    world.stub.fail(4, 500);
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
    await settled(world.service);
    expect(world.service.applier.sites.size).toBe(1);
    const retried = await world.service.pool.query<{ attempts: number }>("SELECT attempts FROM stripe_events");
    expect(retried.rows[0]?.attempts).toBeGreaterThanOrEqual(1);

    expect(await deliver(world.service, invoiceEvent("invoice.paid", "sub_DoesNotExist"))).toBe(200);
    const dead = await eventually(async () => {
      const r = await world.service.pool.query<{ state: string; last_error: string }>("SELECT state, last_error FROM stripe_events WHERE subscription_id = 'sub_DoesNotExist'");
      return r.rows[0]?.state === "dead" ? r.rows[0] : undefined;
    });
    expect(dead.last_error).toMatch(/^PermanentError: stripe: No such object/);
    expect(await world.service.metrics.registry.getSingleMetricAsString("stripe_webhook_dead_lettered_total")).toMatch(/ 1$/m);
  });

  it("keeps retrying beyond the attempt budget while the API key is refused, reports it as stuck, and converges once it works", async () => {
    const seeded = seedOrder(world.stub, { items: { community_monthly: 1 } });
    world.stub.fail(Infinity, 401);
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
    const stuck = await eventually(async () => {
      const r = await world.service.pool.query<{ state: string; attempts: number }>("SELECT state, attempts FROM stripe_events");
      return (r.rows[0]?.attempts ?? 0) >= 7 ? r.rows[0] : undefined;
    });
    expect(stuck.state).toBe("pending");
    expect(await world.service.metrics.registry.getSingleMetricAsString("stripe_webhook_events_stuck")).toMatch(/ 1$/m);
    world.stub.fail(0);
    await settled(world.service);
    expect(world.service.applier.site(seeded.subscription.id)?.spec.suspended).toBe(false);
    expect(await world.service.metrics.registry.getSingleMetricAsString("stripe_webhook_dead_lettered_total")).toMatch(/ 0$/m);
  });

  it("never lets a grace timer die while Stripe is unavailable: the site is suspended once it answers", async () => {
    const { subscription } = await buy({ items: { community_monthly: 1 } });
    await changeSubscription(subscription.id, { status: "past_due" });
    world.stub.fail(Infinity, 401);
    await eventually(async () => {
      const r = await world.service.pool.query<{ attempts: number }>("SELECT attempts FROM stripe_events WHERE kind = 'timer' AND state = 'pending'");
      return (r.rows[0]?.attempts ?? 0) >= 7;
    });
    world.stub.fail(0);
    await eventually(() => world.service.applier.site(subscription.id)?.spec.suspended === true, 5_000, "suspension after the outage");
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "suspended" });
  });

  it("keeps a paid order while the Kubernetes API is down and applies it exactly once when it is back", async () => {
    world.service.applier.down = true;
    const seeded = seedOrder(world.stub, { items: { community_monthly: 1 } });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
    await eventually(() => world.service.applier.failures >= 3, 5_000, "several failed applies");
    expect(await order(world.service, seeded.subscription.id)).toMatchObject({ state: "active" });
    expect(world.service.applier.sites.size).toBe(0);
    world.service.applier.down = false;
    await settled(world.service);
    expect(world.service.applier.applies).toBe(1);
    expect(world.service.applier.site(seeded.subscription.id)?.spec.domain).toMatch(/\.sites\.openatria\.com$/);
    const failures = await world.service.metrics.registry.getSingleMetricAsString("stripe_webhook_relay_failures_total");
    expect(Number(/ (\d+)$/m.exec(failures)?.[1])).toBeGreaterThanOrEqual(3);
  });
});
