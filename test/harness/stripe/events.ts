// Stripe events for tests: built like Stripe's (snapshot of the object at the time), signed
// with the SDK's own test-header helper, so the webhook verifies them exactly as in production.
import { randomBytes } from "node:crypto";
import Stripe from "stripe";
import { renderCharge, renderCustomer, renderDispute, renderInvoice, renderSession, renderSubscription } from "./render.ts";
import type { StripeStub, StubInvoice } from "./stub.ts";

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
  return stripeEvent(type, renderSubscription(stub, sub, { expandProduct: false, embeddedItemLimit: stub.embeddedItemLimit }));
}

export function checkoutEvent(stub: StripeStub, type: string, sessionId: string): StripeEvent {
  const session = stub.sessions.get(sessionId);
  if (session === undefined) throw new Error(`no checkout session ${sessionId} in the stub`);
  return stripeEvent(type, renderSession(session));
}

export interface InvoiceEventOptions {
  /** The invoice's customer; its subscription's is not known without the stub. */
  customer?: string;
  status?: StubInvoice["status"];
}

function standaloneInvoice(type: string, subscriptionId: string, options: InvoiceEventOptions): StubInvoice {
  const failed = type === "invoice.payment_failed";
  return {
    id: `in_${randomBytes(8).toString("hex")}`,
    subscription: subscriptionId,
    customer: options.customer ?? "cus_stubInvoiceCustomer",
    status: options.status ?? (failed ? "open" : "paid"),
    amount_due: 2900,
    attempt_count: 1,
  };
}

export function invoiceEvent(type: string, subscriptionId: string, options: InvoiceEventOptions = {}): StripeEvent {
  return stripeEvent(type, renderInvoice(standaloneInvoice(type, subscriptionId, options)));
}

/** An invoice event as an endpoint on an API version before 2025-03-31.basil sends it: top-level `subscription`, no `parent`. */
export function preBasilInvoiceEvent(type: string, subscriptionId: string, apiVersion = "2024-06-20", options: InvoiceEventOptions = {}): StripeEvent {
  return stripeEvent(type, renderInvoice(standaloneInvoice(type, subscriptionId, options), { preBasil: true }), { apiVersion });
}

export function customerEvent(stub: StripeStub, type: "customer.updated" | "customer.deleted", customerId: string): StripeEvent {
  const customer = stub.customers.get(customerId);
  if (customer === undefined) throw new Error(`no customer ${customerId} in the stub`);
  // A customer.deleted event carries the customer as it was, not the deleted stand-in the API returns.
  return stripeEvent(type, renderCustomer({ ...customer, deleted: false }));
}

/** `charge.dispute.created`, `.updated`, `.closed`, ...: the dispute as it is in the stub. */
export function disputeEvent(stub: StripeStub, type: string, disputeId: string): StripeEvent {
  const dispute = stub.disputes.get(disputeId);
  if (dispute === undefined) throw new Error(`no dispute ${disputeId} in the stub`);
  return stripeEvent(type, renderDispute(dispute, stub.charges.get(dispute.charge)));
}

/** `charge.refunded` and other charge events: the charge as it is in the stub. */
export function chargeEvent(stub: StripeStub, type: string, chargeId: string): StripeEvent {
  const charge = stub.charges.get(chargeId);
  if (charge === undefined) throw new Error(`no charge ${chargeId} in the stub`);
  return stripeEvent(type, renderCharge(charge));
}
