// Seeds the stub with a customer's whole Checkout purchase: prices for catalog items, the
// customer, the subscription and the Checkout Session that created it.
import { randomBytes } from "node:crypto";
import type { StripeStub, StubCheckoutSession, StubInvoice, StubSubscription } from "./stub.ts";

/** Stripe-like id: prefix, then letters and digits only. */
export function stripeId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString("base64url").replace(/[^A-Za-z0-9]/g, "x")}`;
}

/** A recurring (or one-time) price whose lookup key is the catalog item key. */
export function ensurePrice(stub: StripeStub, lookupKey: string, options: { type?: "recurring" | "one_time"; productMetadata?: Record<string, string> } = {}): string {
  const id = `price_${lookupKey.replace(/[^A-Za-z0-9]/g, "")}${options.type === "one_time" ? "Once" : ""}`;
  if (!stub.prices.has(id)) {
    const product = `prod_${lookupKey.replace(/[^A-Za-z0-9]/g, "")}`;
    stub.products.set(product, { id: product, metadata: options.productMetadata ?? {} });
    stub.prices.set(id, { id, product, lookup_key: lookupKey, type: options.type ?? "recurring" });
  }
  return id;
}

export interface OrderOptions {
  /** Catalog item keys with quantities, e.g. { business_monthly: 1, users_monthly: 5 }. */
  items: Record<string, number>;
  oneTime?: Record<string, number>;
  status?: string;
  email?: string;
  name?: string;
  subdomain?: string;
  domain?: string;
  paymentStatus?: StubCheckoutSession["payment_status"];
}

export interface SeededOrder {
  subscription: StubSubscription;
  session: StubCheckoutSession;
  customerId: string;
}

export function seedOrder(stub: StripeStub, options: OrderOptions): SeededOrder {
  const customerId = stripeId("cus");
  const subscriptionId = stripeId("sub");
  const sessionId = stripeId("cs_test");
  const email = options.email ?? `owner-${customerId.slice(4).toLowerCase()}@example.com`;
  stub.customers.set(customerId, { id: customerId, email, name: options.name ?? null });
  const items = Object.entries(options.items).map(([key, quantity]) => ({ price: ensurePrice(stub, key), quantity }));
  const subscription: StubSubscription = { id: subscriptionId, customer: customerId, status: options.status ?? "active", items };
  stub.subscriptions.set(subscriptionId, subscription);
  const fields: Record<string, string> = {};
  if (options.domain !== undefined) fields.domain = options.domain;
  else fields.subdomain = options.subdomain ?? `site${subscriptionId.slice(4).toLowerCase()}`;
  const session: StubCheckoutSession = {
    id: sessionId,
    subscription: subscriptionId,
    customer: customerId,
    payment_status: options.paymentStatus ?? "paid",
    email,
    name: options.name ?? null,
    custom_fields: fields,
    line_items: [
      ...items,
      ...Object.entries(options.oneTime ?? {}).map(([key, quantity]) => ({ price: ensurePrice(stub, key, { type: "one_time" }), quantity })),
    ],
  };
  stub.sessions.set(sessionId, session);
  return { subscription, session, customerId };
}

/** Makes `invoice` the subscription's latest (`latest_invoice`), as Stripe does when it bills. */
export function setLatestInvoice(stub: StripeStub, sub: StubSubscription, invoice: Pick<StubInvoice, "id" | "status"> & Partial<StubInvoice>): void {
  stub.invoices.set(invoice.id, { subscription: sub.id, customer: sub.customer, amount_due: 0, ...invoice });
  sub.latest_invoice = invoice.id;
}
