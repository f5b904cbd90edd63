// Stripe events for tests: built like Stripe's (snapshot of the object at the time), signed
// with the SDK's own test-header helper, so the webhook verifies them exactly as in production.
import { randomBytes } from "node:crypto";
import Stripe from "stripe";
import type { StripeStub } from "./stub.ts";

export interface StripeEvent {
  id: string;
  object: "event";
  type: string;
  created: number;
  livemode: boolean;
  api_version: string;
  pending_webhooks: number;
  request: { id: null; idempotency_key: null };
  data: { object: Record<string, unknown> };
}

export function eventId(): string {
  return `evt_${randomBytes(12).toString("hex")}`;
}

export function stripeEvent(type: string, object: Record<string, unknown>, options: { id?: string; created?: number; apiVersion?: string } = {}): StripeEvent {
  return {
    id: options.id ?? eventId(),
    object: "event",
    type,
    created: options.created ?? Math.floor(Date.now() / 1000),
    livemode: false,
    api_version: options.apiVersion ?? "2026-10-28.endive",
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  };
}

export interface Delivery {
  payload: string;
  headers: Record<string, string>;
}

/**
 * The body and headers of one delivery. With several secrets the header carries one v1
 * signature per secret, as Stripe sends while a secret is being rolled.
 */
export function signedDelivery(event: StripeEvent | string, secrets: string | string[], options: { timestamp?: number } = {}): Delivery {
  const payload = typeof event === "string" ? event : JSON.stringify(event);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signatures = (Array.isArray(secrets) ? secrets : [secrets]).map((secret) =>
    Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }).split(",").filter((p) => p.startsWith("v1=")),
  );
  return {
    payload,
    headers: { "content-type": "application/json; charset=utf-8", "stripe-signature": [`t=${timestamp}`, ...signatures.flat()].join(",") },
  };
}

// ---- event objects, as Stripe would snapshot them from the stub's current state ----------

export function subscriptionEvent(stub: StripeStub, type: string, subscriptionId: string): StripeEvent {
  const sub = stub.subscriptions.get(subscriptionId);
  if (sub === undefined) throw new Error(`no subscription ${subscriptionId} in the stub`);
  return stripeEvent(type, { id: sub.id, object: "subscription", status: sub.status, customer: sub.customer, metadata: sub.metadata ?? {} });
}

export function checkoutEvent(stub: StripeStub, type: string, sessionId: string): StripeEvent {
  const session = stub.sessions.get(sessionId);
  if (session === undefined) throw new Error(`no checkout session ${sessionId} in the stub`);
  return stripeEvent(type, {
    id: session.id,
    object: "checkout.session",
    mode: "subscription",
    payment_status: session.payment_status,
    subscription: session.subscription,
    customer: session.customer,
  });
}

export function invoiceEvent(type: string, subscriptionId: string): StripeEvent {
  return stripeEvent(type, {
    id: `in_${randomBytes(8).toString("hex")}`,
    object: "invoice",
    parent: { type: "subscription_details", subscription_details: { subscription: subscriptionId, metadata: {} } },
  });
}

/** An invoice event as an endpoint on an API version before 2025-03-31.basil sends it: top-level `subscription`, no `parent`. */
export function preBasilInvoiceEvent(type: string, subscriptionId: string, apiVersion = "2024-06-20"): StripeEvent {
  return stripeEvent(type, { id: `in_${randomBytes(8).toString("hex")}`, object: "invoice", subscription: subscriptionId }, { apiVersion });
}

export function customerEvent(stub: StripeStub, type: "customer.updated" | "customer.deleted", customerId: string): StripeEvent {
  const customer = stub.customers.get(customerId);
  if (customer === undefined) throw new Error(`no customer ${customerId} in the stub`);
  return stripeEvent(type, { id: customer.id, object: "customer", email: customer.email, name: customer.name ?? null });
}
