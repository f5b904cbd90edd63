// The demo kit through the real webhook (signed events, embedded PostgreSQL, the Stripe stub):
// a demo order becomes a HostedSpace in the shared demo site; upgrading the subscription to a
// paid kit creates the customer's HostedSite and keeps the space, superseded by it, with the
// demo's expiry; redeliveries and re-decisions create nothing twice; a parked demo order follows
// payment as a parked site does.
import { describe, expect, it } from "vitest";
import { HostedSpaceSpec } from "../../crds/hostedspace.ts";
import { siteName } from "../../webhook/hostedsite-manifest.ts";
import { DEMO_ENDS_ANNOTATION } from "../../webhook/hostedspace-manifest.ts";
import { checkoutEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { ensurePrice, seedOrder } from "../harness/stripe/orders.ts";
import type { StripeStub } from "../harness/stripe/stub.ts";
import { deliver, order, settled, useWebhookPerTest } from "./support.ts";

const world = useWebhookPerTest();


async function buyDemo() {
  const seeded = seedOrder(world.stub, { items: { demo_monthly: 1 }, subdomain: "acme", email: "ada@acme.example.com", name: "Ada Lovelace" });
  expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
  await settled(world.service);
  return seeded;
}

async function change(id: string, update: (sub: NonNullable<ReturnType<StripeStub["subscriptions"]["get"]>>) => void, type = "customer.subscription.updated") {
  const sub = world.stub.subscriptions.get(id);
  if (sub === undefined) throw new Error(`no ${id}`);
  update(sub);
  expect(await deliver(world.service, subscriptionEvent(world.stub, type, id))).toBe(200);
  await settled(world.service);
}

const outboxVersion = async (id: string) => (await world.service.pool.query<{ version: string }>("SELECT version FROM outbox WHERE subscription_id = $1", [id])).rows[0]?.version;

describe("a demo order", () => {
  it("becomes one HostedSpace in the shared demo site, open for the demo's 30 days, and no HostedSite", async () => {
    const before = Date.now();
    const { subscription, session } = await buyDemo();
    expect(world.service.applier.site(subscription.id)).toBeUndefined();
    const space = world.service.applier.space(subscription.id);
    expect(space?.metadata.name).toBe(siteName(subscription.id));
    expect(space?.spec).toMatchObject({
      site: { hostedSite: "demo" },
      title: "acme",
      machineName: siteName(subscription.id).replaceAll("-", "_"),
      memberQuota: 5,
      owner: { email: "ada@acme.example.com", displayName: "Ada Lovelace" },
      support: { tier: "Basic" },
      suspended: false,
      order: { source: "stripe", subscription: subscription.id, checkoutSession: session.id },
    });
    const ends = Date.parse(space?.spec.expiresAt ?? "");
    expect(ends - before).toBeGreaterThan(30 * 86_400_000 - 60_000);
    expect(ends - before).toBeLessThan(30 * 86_400_000 + 60_000);
    expect(space?.metadata.annotations[DEMO_ENDS_ANNOTATION]).toBe(space?.spec.expiresAt);
    // What the webhook applies is a valid HostedSpace.
    expect(HostedSpaceSpec.safeParse(space?.spec).success).toBe(true);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "active", domain: "acme.sites.openatria.com", provisioned: true, options: { kit: "demo" } });

    // A redelivered Checkout event and a re-decided subscription change nothing.
    const version = await outboxVersion(subscription.id);
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", session.id))).toBe(200);
    await change(subscription.id, () => {});
    expect(await outboxVersion(subscription.id)).toBe(version);
    expect(world.service.applier.spaces.size).toBe(1);
  });

  it("upgraded to Business, creates the HostedSite and keeps the space, superseded by it, with the demo's expiry", async () => {
    const { subscription } = await buyDemo();
    const demo = world.service.applier.space(subscription.id);
    await change(subscription.id, (sub) => (sub.items = [{ price: ensurePrice(world.stub, "business_monthly"), quantity: 1 }]));

    const site = world.service.applier.site(subscription.id);
    expect(site?.metadata.name).toBe(siteName(subscription.id));
    expect(site?.spec).toMatchObject({ domain: "acme.sites.openatria.com", userQuota: 50, owner: { email: "ada@acme.example.com" }, support: { tier: "Standard" } });
    const kept = world.service.applier.space(subscription.id);
    expect(kept?.spec).toEqual({ ...demo?.spec, supersededBy: { hostedSite: siteName(subscription.id) } });
    expect(world.service.applier.spaces.size).toBe(1);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "active", options: { kit: "business" } });

    // Later decisions of the paid order keep both, unchanged; a cancellation reaches the site.
    const version = await outboxVersion(subscription.id);
    await change(subscription.id, () => {});
    expect(await outboxVersion(subscription.id)).toBe(version);
    const endedAt = Math.floor(Date.now() / 1000);
    await change(subscription.id, (sub) => Object.assign(sub, { status: "canceled", canceled_at: endedAt, ended_at: endedAt }), "customer.subscription.deleted");
    expect(world.service.applier.site(subscription.id)?.spec.expiresAt).toBeDefined();
    expect(world.service.applier.space(subscription.id)?.spec).toEqual(kept?.spec);
  });

  it("canceled while still a demo, ends the demo when the subscription ends", async () => {
    const { subscription } = await buyDemo();
    const endedAt = Math.floor(Date.now() / 1000);
    await change(subscription.id, (sub) => Object.assign(sub, { status: "canceled", canceled_at: endedAt, ended_at: endedAt }), "customer.subscription.deleted");
    const space = world.service.applier.space(subscription.id);
    expect(Date.parse(space?.spec.expiresAt ?? "")).toBeLessThan(Date.parse(space?.metadata.annotations[DEMO_ENDS_ANNOTATION] ?? ""));
    expect(world.service.applier.site(subscription.id)).toBeUndefined();
  });

  it("parked, keeps its space and follows payment as a parked site does: suspended while unpaid, resumed when paid, no HostedSite", async () => {
    const { subscription } = await buyDemo();
    const demo = world.service.applier.space(subscription.id);
    world.stub.prices.set("price_unknownTier", { id: "price_unknownTier", product: "prod_unknownTier", lookup_key: "support_platinum" });
    await change(subscription.id, (sub) => sub.items.push({ price: "price_unknownTier", quantity: 1 }));
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "parked" });
    expect(world.service.applier.space(subscription.id)?.spec).toEqual(demo?.spec);

    await change(subscription.id, (sub) => (sub.status = "unpaid"));
    expect(world.service.applier.space(subscription.id)?.spec).toEqual({ ...demo?.spec, suspended: true });
    await change(subscription.id, (sub) => (sub.status = "active"));
    expect(world.service.applier.space(subscription.id)?.spec).toEqual(demo?.spec);
    // Canceled while still parked: the demo ends with the subscription, as a parked site expires.
    const endedAt = Math.floor(Date.now() / 1000);
    await change(subscription.id, (sub) => Object.assign(sub, { status: "canceled", canceled_at: endedAt, ended_at: endedAt }), "customer.subscription.deleted");
    expect(Date.parse(world.service.applier.space(subscription.id)?.spec.expiresAt ?? "")).toBeLessThan(Date.parse(demo?.spec.expiresAt ?? ""));
    expect(world.service.applier.site(subscription.id)).toBeUndefined();
    expect(world.service.applier.spaces.size).toBe(1);
  });

  it("upgraded but parked (the customer's address became invalid), stays a demo: no HostedSite from the demo's spec", async () => {
    const { subscription, customerId } = await buyDemo();
    const demo = world.service.applier.space(subscription.id);
    world.stub.customers.get(customerId)!.email = "not an address";
    await change(subscription.id, (sub) => (sub.items = [{ price: ensurePrice(world.stub, "business_monthly"), quantity: 1 }]));
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "parked" });
    expect(world.service.applier.site(subscription.id)).toBeUndefined();
    expect(world.service.applier.space(subscription.id)?.spec).toEqual(demo?.spec);
  });
});
