// The pure order decision: one Stripe state and one stored order in, one order and HostedSite out.
import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, type Catalog } from "../../webhook/catalog.ts";
import { decideOrder, type DecisionInput, type StoredOrder } from "../../webhook/order-decision.ts";
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

const provisioned: StoredOrder = { state: "active", customerEmail: "jane@acme.example.com", domain: "acme.sites.openatria.com", checkoutSessionId: "cs_test_1Order", pastDueSince: null, provisioned: true };

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

  it("parks an order whose domain another subscription holds, and leaves it unprovisioned", () => {
    const d = decide({ domainOwner: "sub_1Other" });
    expect(d.order).toMatchObject({ state: "parked", provisioned: false, domain: null, reason: "domain acme.sites.openatria.com is already taken by subscription sub_1Other" });
    expect(d.manifest).toBeNull();
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
