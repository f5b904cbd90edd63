// The pure order decision: one Stripe state and one stored order in, one order and HostedSite out.
import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, type Catalog } from "../../webhook/catalog.ts";
import { decideOrder, type DecisionInput, type DomainHolder, type StoredOrder } from "../../webhook/order-decision.ts";
import type { CheckoutView, SubscriptionView } from "../../webhook/stripe-objects.ts";

const DAY = 86_400_000;
const NOW = new Date("2027-03-01T12:00:00Z");
let catalog: Catalog;

beforeAll(async () => {
  catalog = await loadCatalog();
});

function subscription(change: Partial<SubscriptionView> = {}): SubscriptionView {
  return {
    id: "sub_1Order",
    status: "active",
    customerId: "cus_1Order",
    metadata: {},
    items: [{ priceId: "price_community", lookupKey: "community_monthly", productMetadata: {}, quantity: 1 }],
    canceledAt: null,
    endedAt: null,
    latestInvoice: null,
    cancelAt: null,
    collectionPaused: false,
    ...change,
  };
}

function checkout(change: Partial<CheckoutView> = {}): CheckoutView {
  return {
    id: "cs_test_1Order",
    subscriptionId: "sub_1Order",
    paymentStatus: "paid",
    email: "jane@acme.example.com",
    name: null,
    fields: { subdomain: "acme" },
    metadata: {},
    oneTimeItems: [],
    ...change,
  };
}

const provisioned: StoredOrder = {
  state: "active",
  customerEmail: "jane@acme.example.com",
  domain: "acme.sites.openatria.com",
  checkoutSessionId: "cs_test_1Order",
  pastDueSince: null,
  provisioned: true,
  siteName: "sub-1order-0123456789",
  domainReleasedTo: null,
};

/** The order holding acme.sites.openatria.com before this one. */
function holder(change: Partial<DomainHolder> = {}): DomainHolder {
  return { subscriptionId: "sub_1Before", customerId: "cus_1Order", subscriptionStatus: "canceled", siteName: "sub-1before-9876543210", siteExpiresAt: new Date(NOW.getTime() + 10 * DAY), ...change };
}

function decide(change: Partial<DecisionInput> = {}) {
  return decideOrder({
    catalog,
    policy: { pastDueGraceMs: 7 * DAY, expireAfterMs: 14 * DAY },
    namespace: "customers",
    now: NOW,
    subscription: subscription(),
    checkout: checkout(),
    customer: null,
    existing: null,
    lastSpec: null,
    domainOwner: null,
    ...change,
  });
}

describe("decideOrder", () => {
  it("provisions a paid order", () => {
    const d = decide();
    expect(d.order).toMatchObject({ state: "active", provisioned: true, domain: "acme.sites.openatria.com" });
    expect(d.manifest?.spec).toMatchObject({ domain: "acme.sites.openatria.com", suspended: false });
  });

  it("parks an order whose domain another customer's running subscription holds, and leaves it unprovisioned", () => {
    const d = decide({ domainOwner: holder({ subscriptionId: "sub_1Other", customerId: "cus_1Other", subscriptionStatus: "active" }) });
    expect(d.order).toMatchObject({
      state: "parked",
      provisioned: false,
      domain: null,
      wantedDomain: "acme.sites.openatria.com",
      reason: "domain acme.sites.openatria.com is already taken by subscription sub_1Other",
    });
    expect(d).toMatchObject({ manifest: null, release: null, reviewAt: null });
  });

  it("hands the HostedSite of the customer's ended subscription over to the new one, un-expired, before it expires", () => {
    const d = decide({ subscription: subscription({ items: [{ priceId: "price_business", lookupKey: "business_yearly", productMetadata: {}, quantity: 1 }] }), domainOwner: holder() });
    expect(d.release).toEqual({ from: "sub_1Before", handOver: true });
    expect(d.order).toMatchObject({ state: "active", provisioned: true, domain: "acme.sites.openatria.com", siteName: "sub-1before-9876543210", wantedDomain: null });
    expect(d.manifest?.metadata).toMatchObject({ name: "sub-1before-9876543210", labels: { "hosting.openatria.com/stripe-subscription": "sub_1Order" } });
    expect(d.manifest?.spec).toMatchObject({ suspended: false, userQuota: 50, order: { subscription: "sub_1Order" } });
    expect(d.manifest?.spec.expiresAt).toBeUndefined();
  });

  it("makes the same customer wait while its earlier subscription may still run", () => {
    const d = decide({ domainOwner: holder({ subscriptionStatus: "past_due" }) });
    expect(d.order).toMatchObject({ state: "parked", domain: null, wantedDomain: "acme.sites.openatria.com" });
    expect(d.order.reason).toMatch(/held by subscription sub_1Before of the same customer; its site is handed over once that subscription ends$/);
    expect(d.release).toBeNull();
  });

  it("gives another customer the domain only once the ended order's site has expired, and reviews it then", () => {
    const expires = new Date(NOW.getTime() + 3 * DAY);
    const waiting = decide({ domainOwner: holder({ customerId: "cus_1Other", siteExpiresAt: expires }) });
    expect(waiting.order).toMatchObject({ state: "parked", reason: "domain acme.sites.openatria.com is already taken by subscription sub_1Before until its site expires at 2027-03-04T12:00:00Z" });
    expect(waiting.reviewAt).toEqual(expires);
    const released = decide({ now: new Date(expires.getTime() + 1000), domainOwner: holder({ customerId: "cus_1Other", siteExpiresAt: expires }) });
    expect(released.release).toEqual({ from: "sub_1Before", handOver: false });
    expect(released.order).toMatchObject({ state: "active", siteName: expect.stringMatching(/^sub-1order-/) as string });
    expect(released.manifest?.metadata.name).toMatch(/^sub-1order-/);
  });

  it("provisions on a paid latest invoice although the settled session says unpaid, and not on an open one", () => {
    const unpaid = checkout({ paymentStatus: "unpaid" });
    expect(decide({ checkout: unpaid, subscription: subscription({ latestInvoice: { status: "paid", dueAt: NOW } }) }).order).toMatchObject({ state: "active", provisioned: true });
    expect(decide({ checkout: unpaid, subscription: subscription({ latestInvoice: { status: "open", dueAt: NOW } }) }).order).toMatchObject({ state: "awaiting_payment", provisioned: false });
  });

  it("counts the past-due grace from the overdue invoice's due time, and keeps an earlier stored start", () => {
    const dueAt = new Date(NOW.getTime() - 2 * DAY);
    const pastDue = subscription({ status: "past_due", latestInvoice: { status: "open", dueAt } });
    expect(decide({ subscription: pastDue, existing: provisioned }).reviewAt).toEqual(new Date(dueAt.getTime() + 7 * DAY));
    const seenEarlier = new Date(dueAt.getTime() - DAY);
    expect(decide({ subscription: pastDue, existing: { ...provisioned, pastDueSince: seenEarlier } }).order.pastDueSince).toEqual(seenEarlier);
    expect(decide({ subscription: subscription({ status: "past_due", latestInvoice: { status: "open", dueAt: new Date(NOW.getTime() - 8 * DAY) } }), existing: provisioned }).order.state).toBe("suspended");
  });

  it("never writes the site again once its domain went to another order", () => {
    const ended = new Date(NOW.getTime() - DAY);
    const d = decide({
      subscription: subscription({ status: "canceled", endedAt: ended, canceledAt: ended }),
      existing: { ...provisioned, state: "ended", domain: null, domainReleasedTo: "sub_1After" },
    });
    expect(d).toMatchObject({ manifest: null, release: null, order: { domain: null, reason: "ended; its domain went to subscription sub_1After" } });
  });

  it("keeps a site suspended through cancellation when its order was parked while suspended", () => {
    const lastSpec = decide({ subscription: subscription({ status: "unpaid" }), existing: provisioned }).manifest?.spec ?? null;
    expect(lastSpec?.suspended).toBe(true);
    const ended = Math.floor(NOW.getTime() / 1000) * 1000;
    const d = decide({
      subscription: subscription({ status: "canceled", endedAt: new Date(ended), canceledAt: new Date(ended) }),
      existing: { ...provisioned, state: "parked" },
      lastSpec,
    });
    expect(d.manifest?.spec).toMatchObject({ suspended: true, expiresAt: "2027-03-15T12:00:00Z" });
  });

  it.each([
    ["sean.o'brien@example.ie", "sean.o'brien@example.ie"],
    ["a+b/c=d@example.com", "a+b/c=d@example.com"],
    ["{x}~y@example.com", "{x}~y@example.com"],
    ["anna@bücher.example", "anna@xn--bcher-kva.example"],
    ["ivan@пример.рф", "ivan@xn--e1afmkfd.xn--p1ai"],
  ])("provisions a paid order of %s", (address, owner) => {
    const d = decide({ checkout: checkout({ email: address }) });
    expect(d.order).toMatchObject({ state: "active", customerEmail: owner });
    expect(d.manifest?.spec.owner).toEqual({ email: owner });
  });

  it("takes the owner's address from the Customer as it is now, not from the Checkout Session", () => {
    const d = decide({ existing: provisioned, customer: { email: "jane.doe@acme.example.com", name: "Jane Doe" } });
    expect(d.manifest?.spec.owner).toEqual({ email: "jane.doe@acme.example.com", displayName: "Jane Doe" });
  });

  it("keeps the stored address of an ended order whose Customer was deleted, without parking it", () => {
    const ended = new Date(NOW.getTime() - DAY);
    const d = decide({
      subscription: subscription({ status: "canceled", endedAt: ended, canceledAt: ended }),
      checkout: checkout({ email: null }),
      customer: null,
      existing: { ...provisioned, state: "ended" },
    });
    expect(d.order).toMatchObject({ state: "ended", reason: null, customerEmail: "jane@acme.example.com" });
    expect(d.manifest?.spec.owner).toEqual({ email: "jane@acme.example.com" });
  });
});
