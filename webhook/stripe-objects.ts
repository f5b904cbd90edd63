// What the webhook reads from Stripe, validated with zod and reduced to the few fields the
// decisions need. The SDK's types describe one API version; these schemas check what really came.
import { z } from "zod";

const Metadata = z.record(z.string(), z.string()).nullable().optional().transform((m) => m ?? {});
const idOf = <P extends string>(prefix: P) =>
  z.string().max(255).regex(new RegExp(`^${prefix}_[A-Za-z0-9_]+$`), { error: `must be a Stripe id starting with ${prefix}_` });
/** An expandable field: the id, or the expanded object carrying it. */
const ref = <P extends string>(prefix: P) => z.union([idOf(prefix), z.object({ id: idOf(prefix) }).transform((o) => o.id)]);

export const SubscriptionId = idOf("sub");
export const CheckoutSessionId = idOf("cs");

// ---- events -------------------------------------------------------------------------------

export const EventEnvelope = z.object({
  id: idOf("evt"),
  type: z.string().min(1).max(255),
  created: z.int(),
  livemode: z.boolean(),
  /** The endpoint's API version; payload shapes follow it. Null for events sent with the account default of old accounts. */
  api_version: z.string().max(64).nullable().optional(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

const CHECKOUT_EVENTS = new Set([
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
]);
const SUBSCRIPTION_EVENTS = new Set([
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
]);
const INVOICE_EVENTS = new Set(["invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed"]);
const CUSTOMER_EVENTS = new Set(["customer.updated", "customer.deleted"]);

/** Where an event is processed: a subscription's orders, or a customer's (fanned out to each of its subscriptions). */
export type EventRoute =
  | { handled: true; subscriptionId: string; checkoutSessionId: string | null }
  | { handled: true; customerId: string }
  | { handled: false; reason: string };

const CheckoutObject = z.object({ id: CheckoutSessionId, mode: z.string().optional(), subscription: ref("sub").nullable().optional() });
const SubscriptionObject = z.object({ id: SubscriptionId });
const CustomerObject = z.object({ id: idOf("cus") });
// Since 2025-03-31.basil an invoice names its subscription under `parent`; endpoints on older API
// versions still send the top-level `subscription`.
const InvoiceObject = z.object({
  subscription: ref("sub").nullable().optional(),
  parent: z
    .object({ subscription_details: z.object({ subscription: ref("sub").nullable().optional() }).nullable().optional() })
    .nullable()
    .optional(),
});

/** Which subscription an event is about, or why the webhook does not act on it. */
export function routeEvent(event: EventEnvelope): EventRoute {
  const object = event.data.object;
  if (CHECKOUT_EVENTS.has(event.type)) {
    const session = CheckoutObject.safeParse(object);
    if (!session.success) return { handled: false, reason: "malformed checkout session" };
    if (session.data.mode !== undefined && session.data.mode !== "subscription") return { handled: false, reason: `checkout mode ${session.data.mode}` };
    const sub = session.data.subscription;
    if (sub == null) return { handled: false, reason: "checkout session without subscription" };
    return { handled: true, subscriptionId: sub, checkoutSessionId: session.data.id };
  }
  if (SUBSCRIPTION_EVENTS.has(event.type)) {
    const sub = SubscriptionObject.safeParse(object);
    return sub.success ? { handled: true, subscriptionId: sub.data.id, checkoutSessionId: null } : { handled: false, reason: "malformed subscription" };
  }
  if (INVOICE_EVENTS.has(event.type)) {
    const invoice = InvoiceObject.safeParse(object);
    const sub = invoice.success ? (invoice.data.parent?.subscription_details?.subscription ?? invoice.data.subscription) : undefined;
    return sub == null ? { handled: false, reason: "invoice without subscription" } : { handled: true, subscriptionId: sub, checkoutSessionId: null };
  }
  if (CUSTOMER_EVENTS.has(event.type)) {
    const customer = CustomerObject.safeParse(object);
    return customer.success ? { handled: true, customerId: customer.data.id } : { handled: false, reason: "malformed customer" };
  }
  return { handled: false, reason: "event type not used" };
}

// ---- API objects ----------------------------------------------------------------------------

/** One thing bought: a subscription item or a Checkout line item. */
export interface PurchasedItem {
  priceId: string;
  lookupKey: string | null;
  productMetadata: Record<string, string>;
  quantity: number;
}

const Product = z.object({ id: z.string(), metadata: Metadata });
const Price = z.object({
  id: z.string().max(255),
  lookup_key: z.string().max(200).nullable().optional(),
  type: z.string().optional(),
  product: z.union([z.string(), Product]),
});
type Price = z.infer<typeof Price>;

function purchased(price: Price, quantity: number | null | undefined): PurchasedItem {
  return {
    priceId: price.id,
    lookupKey: price.lookup_key ?? null,
    productMetadata: typeof price.product === "string" ? {} : price.product.metadata,
    quantity: quantity ?? 1,
  };
}

const SubscriptionItem = z.object({ price: Price, quantity: z.int().min(0).nullable().optional() });
export const SubscriptionItemList = z.object({ data: z.array(SubscriptionItem), has_more: z.boolean().optional() });

const unixTime = z.int().nullable().optional().transform((t) => (t == null ? null : new Date(t * 1000)));

export const StripeSubscription = z.object({
  id: SubscriptionId,
  status: z.string().max(64),
  customer: ref("cus"),
  metadata: Metadata,
  items: SubscriptionItemList,
  canceled_at: unixTime,
  ended_at: unixTime,
});

export interface SubscriptionView {
  id: string;
  status: string;
  customerId: string;
  metadata: Record<string, string>;
  items: PurchasedItem[];
  canceledAt: Date | null;
  endedAt: Date | null;
}

export function subscriptionView(raw: z.infer<typeof StripeSubscription>, items = raw.items.data): SubscriptionView {
  return {
    id: raw.id,
    status: raw.status,
    customerId: raw.customer,
    metadata: raw.metadata,
    items: items.map((i) => purchased(i.price, i.quantity)),
    canceledAt: raw.canceled_at,
    endedAt: raw.ended_at,
  };
}

const CustomField = z.object({
  key: z.string().max(200),
  text: z.object({ value: z.string().max(255).nullable().optional() }).nullable().optional(),
  dropdown: z.object({ value: z.string().max(255).nullable().optional() }).nullable().optional(),
  numeric: z.object({ value: z.string().max(255).nullable().optional() }).nullable().optional(),
});

const LineItem = z.object({ price: Price.nullable().optional(), quantity: z.int().min(0).nullable().optional() });

export const StripeCheckoutSession = z.object({
  id: CheckoutSessionId,
  payment_status: z.string().max(64),
  subscription: ref("sub").nullable().optional(),
  customer_details: z
    .object({ email: z.string().max(512).nullable().optional(), name: z.string().max(512).nullable().optional() })
    .nullable()
    .optional(),
  custom_fields: z.array(CustomField).nullable().optional(),
  metadata: Metadata,
  line_items: z.object({ data: z.array(LineItem) }).nullable().optional(),
});

export interface CheckoutView {
  id: string;
  subscriptionId: string | null;
  paymentStatus: string;
  email: string | null;
  name: string | null;
  /** Custom field values by key. */
  fields: Record<string, string>;
  metadata: Record<string, string>;
  /** One-time prices bought with the subscription: they appear only here, never on the subscription. */
  oneTimeItems: PurchasedItem[];
}

export function checkoutView(raw: z.infer<typeof StripeCheckoutSession>): CheckoutView {
  const fields: Record<string, string> = {};
  for (const field of raw.custom_fields ?? []) {
    const value = field.text?.value ?? field.dropdown?.value ?? field.numeric?.value;
    if (value != null) fields[field.key] = value;
  }
  const oneTimeItems: PurchasedItem[] = [];
  for (const line of raw.line_items?.data ?? []) {
    if (line.price != null && line.price.type === "one_time") oneTimeItems.push(purchased(line.price, line.quantity));
  }
  return {
    id: raw.id,
    subscriptionId: raw.subscription ?? null,
    paymentStatus: raw.payment_status,
    email: raw.customer_details?.email ?? null,
    name: raw.customer_details?.name ?? null,
    fields,
    metadata: raw.metadata,
    oneTimeItems,
  };
}

export const StripeCustomer = z.object({
  id: z.string(),
  email: z.string().max(512).nullable().optional(),
  name: z.string().max(512).nullable().optional(),
  deleted: z.boolean().optional(),
});
