// The Stripe stub against Stripe's own example objects (shared/reference/stripe/fixtures3.json,
// beside the repository): every object the stub serves or sends in an event has the field set
// of Stripe's, at every level, and parses through the webhook's own schemas.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventEnvelope, StripeCheckoutSession, StripeCustomer, StripeSubscription, SubscriptionItemList, routeEvent } from "../../webhook/stripe-objects.ts";
import { StripeCharge, StripeDispute, StripeInvoice, StripeRefundList } from "../../webhook/stripe-payments.ts";
import { createStripeClient, stripeReader } from "../../webhook/stripe-reader.ts";
import { chargeEvent, checkoutEvent, customerEvent, disputeEvent, invoiceEvent, preBasilInvoiceEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { seedOrder, stripeId } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const FIXTURES = path.resolve(repoRoot, "../shared/reference/stripe/fixtures3.json");
const present = existsSync(FIXTURES);
if (!present) console.warn(`skipping the Stripe stub fidelity suite: no fixtures at ${path.relative(repoRoot, FIXTURES)} (clone shared/ beside the repository)`);
const fixtures: Record<string, unknown> = present ? (JSON.parse(readFileSync(FIXTURES, "utf8")) as { resources: Record<string, unknown> }).resources : {};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Differences between the field sets of two objects, recursively: a field one has and the other
 * lacks, or a value of another JSON type. Where either side is null (a nullable field, or an
 * object Stripe's example fills in) only the field's presence is compared; arrays compare their
 * first elements when both have one.
 */
export function shapeDiff(stub: unknown, stripe: unknown, at = ""): string[] {
  if (stub === null || stripe === null) return [];
  if (kind(stub) !== kind(stripe)) return [`${at || "(root)"}: the stub has ${kind(stub)}, Stripe has ${kind(stripe)}`];
  if (Array.isArray(stub) && Array.isArray(stripe)) {
    return stub.length > 0 && stripe.length > 0 ? shapeDiff(stub[0], stripe[0], `${at}[]`) : [];
  }
  if (typeof stub !== "object" || typeof stripe !== "object") return [];
  const a = stub as Record<string, unknown>;
  const b = stripe as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(b)) if (!(key in a)) problems.push(`${at}.${key}: in Stripe's object, missing from the stub's`);
  for (const key of Object.keys(a)) if (!(key in b)) problems.push(`${at}.${key}: in the stub's object, not in Stripe's`);
  for (const key of Object.keys(a)) if (key in b) problems.push(...shapeDiff(a[key], b[key], `${at}.${key}`));
  return problems;
}

function fixture(name: string): Record<string, Json> {
  const value = fixtures[name];
  if (value === undefined || value === null || typeof value !== "object") throw new Error(`no ${name} in the fixtures`);
  return value as Record<string, Json>;
}

function without(object: object, ...keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([k]) => !keys.includes(k)));
}

let stub: StripeStub;

async function get(pathAndQuery: string): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${stub.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${stub.apiKey}` } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** A paid order whose subscription has a latest invoice, paid by a charge that has a refund and a dispute. */
function seedPaidOrder() {
  const seeded = seedOrder(stub, { items: { business_monthly: 1, users_monthly: 3 }, subdomain: "fidelity" });
  const invoice = stripeId("in");
  const intent = stripeId("pi");
  const charge = stripeId("ch");
  const dispute = stripeId("dp");
  stub.invoices.set(invoice, { id: invoice, subscription: seeded.subscription.id, customer: seeded.customerId, status: "paid", amount_due: 10500, payment_intent: intent });
  seeded.subscription.latest_invoice = invoice;
  stub.charges.set(charge, { id: charge, customer: seeded.customerId, amount: 10500, payment_intent: intent, refunds: [{ id: stripeId("re"), amount: 500, created: 1_800_000_000 }] });
  stub.disputes.set(dispute, { id: dispute, charge, status: "needs_response", reason: "fraudulent" });
  return { ...seeded, invoice, intent, charge, dispute };
}

beforeAll(async () => {
  stub = await startStripeStub();
});
afterAll(async () => {
  await stub?.close();
});

describe.runIf(present)("the Stripe stub's objects have Stripe's field sets", () => {
  it("Subscription, its embedded items, prices and plans, with the billing period on each item (basil)", async () => {
    const { subscription } = seedPaidOrder();
    subscription.cancel_at_period_end = true;
    subscription.pause_collection = { behavior: "mark_uncollectible", resumes_at: null };
    const { body } = await get(`/v1/subscriptions/${subscription.id}`);
    expect(shapeDiff(body, fixture("subscription"))).toEqual([]);
    const item = (body.items as { data: Record<string, unknown>[] }).data[0];
    expect(item).toMatchObject({ current_period_end: expect.any(Number) as unknown, current_period_start: expect.any(Number) as unknown });
    expect(body).not.toHaveProperty("current_period_end");
    expect(body).toMatchObject({
      cancel_at_period_end: true,
      cancel_at: item?.current_period_end,
      pause_collection: { behavior: "mark_uncollectible", resumes_at: null },
      latest_invoice: subscription.latest_invoice,
    });
    expect(shapeDiff(body.pause_collection, fixture("subscription").pause_collection)).toEqual([]);
    // What the webhook reads parses through its own schema, the fixture as well.
    expect(StripeSubscription.safeParse(body).success).toBe(true);
    expect(StripeSubscription.safeParse(fixture("subscription")).error?.issues ?? []).toEqual([]);
  });

  it("SubscriptionItem (listed), Price and Product (expanded and on their own)", async () => {
    const { subscription } = seedPaidOrder();
    const items = await get(`/v1/subscription_items?subscription=${subscription.id}&expand[0]=data.price.product`);
    expect(SubscriptionItemList.safeParse(items.body).success).toBe(true);
    const item = (items.body.data as Record<string, unknown>[])[0] as Record<string, unknown>;
    const price = item.price as Record<string, unknown>;
    expect(shapeDiff({ ...item, price: { ...price, product: (price.product as { id: string }).id } }, fixture("subscription_item"))).toEqual([]);
    expect(shapeDiff(without(price, "product"), without(fixture("price"), "product"))).toEqual([]);
    expect(shapeDiff(price.product, fixture("product"))).toEqual([]);
    expect(shapeDiff((await get(`/v1/products/${String((price.product as { id: string }).id)}`)).body, fixture("product"))).toEqual([]);
    expect(shapeDiff(((await get(`/v1/prices?product=${String((price.product as { id: string }).id)}`)).body.data as unknown[])[0], fixture("price"))).toEqual([]);
  });

  it("Checkout Session, completed and open, and its line items", async () => {
    const { session } = seedPaidOrder();
    const { body } = await get(`/v1/checkout/sessions/${session.id}?expand[0]=line_items`);
    expect(shapeDiff(without(body, "line_items"), fixture("checkout.session"))).toEqual([]);
    expect(shapeDiff((body.line_items as { data: unknown[] }).data[0], fixture("item"))).toEqual([]);
    expect(StripeCheckoutSession.safeParse(body).success).toBe(true);
    expect(StripeCheckoutSession.safeParse(fixture("checkout.session")).error?.issues ?? []).toEqual([]);

    const stripe = new Stripe(stub.apiKey, stub.clientOptions);
    const open = await stripe.checkout.sessions.create({ mode: "subscription", line_items: [{ price: "price_businessmonthly", quantity: 1 }], success_url: "https://shop.example/ok", cancel_url: "https://shop.example/no" });
    expect(shapeDiff(open, fixture("checkout.session"))).toEqual([]);
  });

  it("Customer, and a deleted one", async () => {
    const { customerId } = seedPaidOrder();
    const { body } = await get(`/v1/customers/${customerId}`);
    expect(shapeDiff(body, fixture("customer"))).toEqual([]);
    expect(StripeCustomer.safeParse(body).success).toBe(true);
    const customer = stub.customers.get(customerId);
    if (customer !== undefined) customer.deleted = true;
    expect(shapeDiff((await get(`/v1/customers/${customerId}`)).body, fixture("deleted_customer"))).toEqual([]);
    expect(Object.keys((await get(`/v1/customers/${customerId}`)).body).sort()).toEqual(Object.keys(fixture("deleted_customer")).sort());
  });

  it("Invoice (basil: the subscription under parent), its payments, the charge with refunds, the dispute", async () => {
    const { subscription, invoice, intent, charge, dispute } = seedPaidOrder();
    const inv = await get(`/v1/invoices/${invoice}`);
    expect(shapeDiff(inv.body, fixture("invoice"))).toEqual([]);
    expect(inv.body).toMatchObject({ parent: { type: "subscription_details", subscription_details: { subscription: subscription.id } }, subscription: null });
    expect(StripeInvoice.parse(inv.body).subscriptionId).toBe(subscription.id);

    const payments = await get(`/v1/invoice_payments?payment[type]=payment_intent&payment[payment_intent]=${intent}`);
    const payment = (payments.body.data as Record<string, unknown>[])[0];
    // Stripe's example says `type: payment_intent` but leaves out the field of that type (optional
    // in the SDK's types, rendered for that type): the only field the stub adds to an example.
    expect(shapeDiff(payment, fixture("invoice_payment"))).toEqual([".payment.payment_intent: in the stub's object, not in Stripe's"]);
    expect(payment).toMatchObject({ invoice, payment: { type: "payment_intent", payment_intent: intent } });

    const ch = await get(`/v1/charges/${charge}?expand[0]=refunds`);
    expect(shapeDiff(ch.body, fixture("charge"))).toEqual([]);
    expect(StripeCharge.parse(ch.body)).toMatchObject({ id: charge, paymentIntent: intent });
    const refunds = await get(`/v1/refunds?charge=${charge}`);
    expect(shapeDiff((refunds.body.data as unknown[])[0], fixture("refund"))).toEqual([]);
    expect(StripeRefundList.parse(refunds.body)).toEqual([{ id: expect.stringMatching(/^re_/) as unknown, chargeId: charge, amount: 500, currency: "usd", status: "succeeded", created: new Date(1_800_000_000_000) }]);

    const dp = await get(`/v1/disputes/${dispute}`);
    expect(shapeDiff(dp.body, fixture("dispute"))).toEqual([]);
    expect(StripeDispute.parse(dp.body)).toMatchObject({ id: dispute, chargeId: charge, status: "needs_response" });
    expect(shapeDiff(((await get(`/v1/disputes?charge=${charge}`)).body.data as unknown[])[0], fixture("dispute"))).toEqual([]);
    expect(StripeDispute.safeParse(fixture("dispute")).error?.issues ?? []).toEqual([]);
    expect(StripeCharge.safeParse(fixture("charge")).error?.issues ?? []).toEqual([]);
  });
});

describe.runIf(present)("the stub's events have Stripe's field sets", () => {
  it("every event envelope, and each event's object", () => {
    const { subscription, session, customerId, charge, dispute } = seedPaidOrder();
    const events = {
      subscription: subscriptionEvent(stub, "customer.subscription.updated", subscription.id),
      "checkout.session": checkoutEvent(stub, "checkout.session.completed", session.id),
      invoice: invoiceEvent("invoice.paid", subscription.id),
      customer: customerEvent(stub, "customer.updated", customerId),
      dispute: disputeEvent(stub, "charge.dispute.created", dispute),
      charge: chargeEvent(stub, "charge.refunded", charge),
    };
    for (const [name, event] of Object.entries(events)) {
      expect(shapeDiff(without(event, "data"), without(fixture("event"), "data")), name).toEqual([]);
      expect(Object.keys(event.data), name).toEqual(Object.keys(fixture("event").data as object));
      // Since 2022-11-15 a charge's refunds are rendered only when expanded, which events never are.
      expect(shapeDiff(event.data.object, name === "charge" ? without(fixture(name), "refunds") : fixture(name)), name).toEqual([]);
      expect(EventEnvelope.safeParse(event).success, name).toBe(true);
      expect(routeEvent(EventEnvelope.parse(event)), name).toMatchObject({ handled: true });
    }
    expect(EventEnvelope.safeParse(fixture("event")).error?.issues ?? []).toEqual([]);
  });

  it("the invoice event an endpoint older than 2025-03-31.basil receives: top-level subscription, no parent", () => {
    const { subscription } = seedPaidOrder();
    const event = preBasilInvoiceEvent("invoice.payment_failed", subscription.id);
    expect(event.api_version).toBe("2024-06-20");
    expect(event.data.object).not.toHaveProperty("parent");
    expect(event.data.object.subscription).toBe(subscription.id);
    expect(shapeDiff(event.data.object, without(fixture("invoice"), "parent"))).toEqual([]);
    expect(routeEvent(EventEnvelope.parse(event))).toEqual({ handled: true, subscriptionId: subscription.id, checkoutSessionId: null });
  });
});

describe("the stub's errors are Stripe's", () => {
  it("answers a rate limit with 429, code rate_limit and Stripe-Should-Retry, which the SDK retries", async () => {
    const { subscription } = seedOrder(stub, { items: { community_monthly: 1 } });
    stub.fail(1, 429);
    const limited = await get(`/v1/subscriptions/${subscription.id}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("stripe-should-retry")).toBe("true");
    expect(limited.body).toEqual({ error: expect.objectContaining({ type: "invalid_request_error", code: "rate_limit" }) as unknown });

    // The SDK obeys the header: one 429 costs a retry, not a failure.
    const reader = stripeReader(createStripeClient({ apiKey: stub.apiKey, apiBase: new URL(stub.url) }));
    stub.fail(1, 429);
    expect((await reader.subscription(subscription.id)).id).toBe(subscription.id);
    // More than the SDK's retries: a rate-limit error (retried later by the inbox), never a permanent one.
    stub.fail(10, 429);
    await expect(reader.subscription(subscription.id)).rejects.toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    stub.fail(0);
  });
});
