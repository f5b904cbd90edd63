// A domain outlives its subscription: the same customer buying again (or switching monthly to
// yearly, a new subscription) gets the existing HostedSite handed over; another customer gets the
// domain once the ended order's site has expired.
import { describe, expect, it } from "vitest";
import { PAYMENT_STATUS_ANNOTATION, SUBSCRIPTION_LABEL, siteName } from "../../webhook/hostedsite-manifest.ts";
import { checkoutEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { seedOrder, type OrderOptions, type SeededOrder } from "../harness/stripe/orders.ts";
import { WebhookClock } from "./fake-clock.ts";
import { deliver, eventually, order, settled, startTestWebhook, useWebhookPerTest } from "./support.ts";

const DAY = 86_400_000;
const EXPIRE_AFTER = 3 * DAY;

let clock: WebhookClock;
const world = useWebhookPerTest(async (url, stub) => {
  clock = new WebhookClock(new Date());
  const service = await startTestWebhook(url, stub, { config: { expireAfter: EXPIRE_AFTER }, overrides: { now: clock.now } });
  clock.attach(service.pool);
  return service;
});


/** Checkout of a new subscription; `customerId` makes it the purchase of a returning customer. */
async function buy(options: OrderOptions & { customerId?: string }): Promise<SeededOrder> {
  const seeded = seedOrder(world.stub, options);
  if (options.customerId !== undefined) {
    world.stub.customers.delete(seeded.customerId);
    seeded.subscription.customer = seeded.session.customer = seeded.customerId = options.customerId;
  }
  expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
  await settled(world.service);
  return seeded;
}

async function cancel(subscriptionId: string): Promise<void> {
  const sub = world.stub.subscriptions.get(subscriptionId);
  if (sub === undefined) throw new Error(`no ${subscriptionId}`);
  Object.assign(sub, { status: "canceled", canceled_at: clock.unix(), ended_at: clock.unix() });
  expect(await deliver(world.service, subscriptionEvent(world.stub, "customer.subscription.deleted", subscriptionId))).toBe(200);
  await settled(world.service);
}

describe("a returning customer", () => {
  it("gets the ended subscription's HostedSite handed over, with the new plan and un-expired, not a second site", async () => {
    const first = await buy({ items: { community_monthly: 1 }, subdomain: "acme" });
    await cancel(first.subscription.id);
    expect(world.service.applier.site(first.subscription.id)?.spec.expiresAt).toBeDefined();

    const again = await buy({ items: { business_yearly: 1, users_yearly: 5 }, subdomain: "acme", customerId: first.customerId });
    expect(world.service.applier.sites.size).toBe(1);
    const site = world.service.applier.site(again.subscription.id);
    expect(site?.metadata.name).toBe(siteName(first.subscription.id));
    expect(site?.metadata.labels[SUBSCRIPTION_LABEL]).toBe(again.subscription.id);
    expect(site?.metadata.annotations).toEqual({ [PAYMENT_STATUS_ANNOTATION]: "active" });
    expect(site?.spec).toMatchObject({ domain: "acme.sites.openatria.com", suspended: false, userQuota: 55, order: { subscription: again.subscription.id } });
    expect(site?.spec.expiresAt).toBeUndefined();
    expect(await order(world.service, again.subscription.id)).toMatchObject({ state: "active", domain: "acme.sites.openatria.com", site_name: siteName(first.subscription.id) });
    expect(await order(world.service, first.subscription.id)).toMatchObject({ state: "ended", domain: null, reason: `domain and HostedSite handed over to subscription ${again.subscription.id}` });

    // A late event of the old subscription leaves the site to its new owner.
    const applies = world.service.applier.applies;
    expect(await deliver(world.service, subscriptionEvent(world.stub, "customer.subscription.updated", first.subscription.id))).toBe(200);
    await settled(world.service);
    expect(world.service.applier.applies).toBe(applies);
    expect(world.service.applier.site(again.subscription.id)?.spec.expiresAt).toBeUndefined();
  });

  it("switching monthly to yearly waits for the monthly subscription to end, then takes its site over", async () => {
    const monthly = await buy({ items: { community_monthly: 1 }, subdomain: "initech" });
    const yearly = await buy({ items: { community_yearly: 1 }, subdomain: "initech", customerId: monthly.customerId });
    expect(await order(world.service, yearly.subscription.id)).toMatchObject({ state: "parked", provisioned: false });
    expect((await order(world.service, yearly.subscription.id))?.reason).toMatch(/of the same customer; its site is handed over once that subscription ends$/);

    // Stripe sends nothing more about the yearly subscription: ending the monthly one is enough.
    await cancel(monthly.subscription.id);
    await eventually(async () => (await order(world.service, yearly.subscription.id))?.state === "active", 5_000, "the yearly order to take the site over");
    await settled(world.service);
    expect(world.service.applier.sites.size).toBe(1);
    expect(world.service.applier.site(yearly.subscription.id)?.metadata.name).toBe(siteName(monthly.subscription.id));
    expect(world.service.applier.site(yearly.subscription.id)?.spec.expiresAt).toBeUndefined();
  });
});

describe("another customer", () => {
  it("gets an ended demo's subdomain once its space has expired (the demo's manifest is a List)", async () => {
    const demo = await buy({ items: { demo_monthly: 1 }, subdomain: "initech" });
    await cancel(demo.subscription.id);
    const other = await buy({ items: { community_monthly: 1 }, subdomain: "initech" });
    expect((await order(world.service, other.subscription.id))?.reason).toMatch(
      new RegExp(`^domain initech\\.sites\\.openatria\\.com is already taken by subscription ${demo.subscription.id} until its site expires at `),
    );

    // No event: the release timer fires when the demo's space expires.
    await clock.advance(EXPIRE_AFTER);
    await eventually(async () => (await order(world.service, other.subscription.id))?.state === "active", 5_000, "the domain to be released");
    await settled(world.service);
    expect(world.service.applier.site(other.subscription.id)?.spec.domain).toBe("initech.sites.openatria.com");
  });

  it("gets the domain only once the ended order's site has expired", async () => {
    const first = await buy({ items: { community_monthly: 1 }, subdomain: "globex" });
    await cancel(first.subscription.id);
    const other = await buy({ items: { community_monthly: 1 }, subdomain: "globex" });
    expect(await order(world.service, other.subscription.id)).toMatchObject({ state: "parked", provisioned: false });
    expect((await order(world.service, other.subscription.id))?.reason).toMatch(
      new RegExp(`^domain globex\\.sites\\.openatria\\.com is already taken by subscription ${first.subscription.id} until its site expires at `),
    );

    await clock.advance(EXPIRE_AFTER - 60_000);
    await settled(world.service);
    expect(await order(world.service, other.subscription.id)).toMatchObject({ state: "parked" });

    // No event: the release timer fires when the old site expires.
    await clock.advance(60_000);
    await eventually(async () => (await order(world.service, other.subscription.id))?.state === "active", 5_000, "the domain to be released");
    await settled(world.service);
    expect(world.service.applier.sites.size).toBe(2);
    expect(world.service.applier.site(other.subscription.id)?.metadata.name).toBe(siteName(other.subscription.id));
    expect(world.service.applier.site(first.subscription.id)?.spec).toMatchObject({ domain: "globex.sites.openatria.com", expiresAt: expect.any(String) as string });
    expect(await order(world.service, first.subscription.id)).toMatchObject({ domain: null, reason: `domain released to subscription ${other.subscription.id}` });
  });
});
