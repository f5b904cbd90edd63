// The stub's objects as Stripe's API renders them (API version 2026-10-28.endive): every field
// of Stripe's own example objects, with the stub's state where the webhook reads it and Stripe's
// "nothing set" value (null, {}, [], false) elsewhere. test/webhook/stub-fidelity.test.ts keeps
// these field sets equal to Stripe's published fixtures.
import type {
  StubCharge,
  StubCheckoutSession,
  StubCustomer,
  StubDispute,
  StubInvoice,
  StubItem,
  StubPrice,
  StubProduct,
  StubRefund,
  StubSubscription,
} from "./stub.ts";

/** What rendering needs from the stub: its prices and products, by id. */
export interface Catalogue {
  prices: ReadonlyMap<string, StubPrice>;
  products: ReadonlyMap<string, StubProduct>;
}

const ADDRESS = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };
const DAY = 86_400;

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export function list(data: unknown[], hasMore: boolean, url = "/v1/stub") {
  return { object: "list", data, has_more: hasMore, url };
}

export function renderProduct(p: StubProduct) {
  return {
    active: p.active ?? true,
    created: p.created ?? unixNow(),
    default_price: null,
    description: p.description ?? null,
    id: p.id,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: p.metadata ?? {},
    name: p.name ?? p.id,
    object: "product",
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    unit_label: null,
    updated: p.created ?? unixNow(),
    url: null,
    type: "service",
  };
}

export function renderPrice(stub: Catalogue, priceId: string, expandProduct: boolean) {
  const p = stub.prices.get(priceId);
  if (p === undefined) throw new Error(`stub: unknown price ${priceId}`);
  const recurring = (p.type ?? "recurring") === "recurring";
  const product = stub.products.get(p.product) ?? { id: p.product };
  const amount = p.unit_amount ?? null;
  return {
    active: p.active ?? true,
    billing_scheme: "per_unit",
    created: p.created ?? unixNow(),
    currency: p.currency ?? "usd",
    custom_unit_amount: null,
    id: p.id,
    livemode: false,
    lookup_key: p.lookup_key ?? null,
    metadata: {},
    nickname: null,
    object: "price",
    product: expandProduct ? renderProduct(product) : p.product,
    recurring: recurring ? { interval: p.interval ?? "month", interval_count: 1, meter: null, usage_type: "licensed", trial_period_days: null } : null,
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? "recurring" : "one_time",
    unit_amount: amount,
    unit_amount_decimal: amount === null ? null : String(amount),
  };
}

/** A subscription item; `index` makes its id stable. The billing period lives here since 2025-03-31.basil. */
export function renderItem(stub: Catalogue, sub: StubSubscription, item: StubItem, index: number, expandProduct: boolean) {
  const price = renderPrice(stub, item.price, expandProduct);
  const period = periodOf(sub);
  return {
    created: sub.created ?? period.start,
    discounts: [],
    id: `si_${sub.id.slice(4)}${index}`,
    metadata: {},
    object: "subscription_item",
    price,
    quantity: item.quantity ?? 1,
    subscription: sub.id,
    tax_rates: [],
    // The legacy Plan view of a recurring price, which Stripe still renders beside `price`.
    plan: price.recurring === null ? null : renderPlan(price),
    current_period_end: period.end,
    current_period_start: period.start,
    billing_thresholds: null,
  };
}

function renderPlan(price: ReturnType<typeof renderPrice>) {
  return {
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    id: price.id,
    interval: price.recurring?.interval ?? "month",
    interval_count: 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: null,
    object: "plan",
    product: typeof price.product === "string" ? price.product : price.product.id,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}

function periodOf(sub: StubSubscription): { start: number; end: number } {
  // A subscription set up without `created` is created when first rendered: its period must not
  // move from one read to the next, as Stripe's never does.
  sub.created ??= unixNow();
  const start = sub.current_period_start ?? sub.created;
  return { start, end: sub.current_period_end ?? start + 30 * DAY };
}

/** `latestInvoice`: the invoice to render in place of its id (`expand[]=latest_invoice`). */
export function renderSubscription(stub: Catalogue, sub: StubSubscription, options: { expandProduct: boolean; embeddedItemLimit: number; latestInvoice?: StubInvoice | undefined }) {
  const items = sub.items.map((item, i) => renderItem(stub, sub, item, i, options.expandProduct));
  const created = sub.created ?? periodOf(sub).start;
  // Scheduling a cancellation at the period end sets cancel_at to that end as well.
  const cancelAt = sub.cancel_at ?? (sub.cancel_at_period_end === true ? periodOf(sub).end : null);
  return {
    application: null,
    application_fee_percent: null,
    automatic_tax: { enabled: false, liability: null, disabled_reason: null },
    billing_cycle_anchor: created,
    billing_cycle_anchor_config: null,
    cancel_at: cancelAt,
    canceled_at: sub.canceled_at ?? null,
    cancellation_details: { comment: null, feedback: null, reason: sub.canceled_at == null ? null : "cancellation_requested" },
    collection_method: "charge_automatically",
    created,
    currency: "usd",
    customer: sub.customer,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: sub.ended_at ?? null,
    id: sub.id,
    invoice_settings: { account_tax_ids: null, issuer: { type: "self" }, custom_fields: null, description: null, footer: null },
    items: list(items.slice(0, options.embeddedItemLimit), items.length > options.embeddedItemLimit, `/v1/subscription_items?subscription=${sub.id}`),
    latest_invoice: options.latestInvoice !== undefined ? renderInvoice(options.latestInvoice) : (sub.latest_invoice ?? null),
    livemode: false,
    metadata: sub.metadata ?? {},
    next_pending_invoice_item_invoice: null,
    object: "subscription",
    on_behalf_of: null,
    pause_collection: sub.pause_collection ?? null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: "off" },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: created,
    status: sub.status,
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: "create_invoice" } },
    trial_start: null,
    cancel_at_period_end: sub.cancel_at_period_end ?? false,
    billing_thresholds: null,
    billing_mode: { type: "classic", flexible: null },
    customer_account: null,
    managed_payments: null,
    billing_schedules: [],
  };
}

/** A Checkout Session as its state says (open, or complete with its subscription). */
export function renderSession(s: StubCheckoutSession, options: { url?: string | null } = {}) {
  const complete = (s.status ?? "complete") === "complete";
  return {
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: null,
    amount_total: null,
    automatic_tax: { enabled: false, liability: null, status: null, provider: null },
    billing_address_collection: null,
    cancel_url: s.cancel_url ?? null,
    client_reference_id: null,
    client_secret: null,
    consent: null,
    consent_collection: null,
    created: s.created ?? unixNow(),
    currency: "usd",
    custom_fields: Object.entries(s.custom_fields ?? {}).map(([key, value]) => ({
      dropdown: null,
      key,
      label: { custom: key, type: "custom" },
      numeric: null,
      optional: false,
      text: { default_value: null, maximum_length: null, minimum_length: null, value },
      type: "text",
    })),
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: s.customer,
    customer_creation: "always",
    customer_details: complete
      ? { address: ADDRESS, email: s.email ?? null, name: s.name ?? null, phone: null, tax_exempt: "none", tax_ids: [], business_name: null, individual_name: null }
      : null,
    customer_email: null,
    expires_at: s.expires_at ?? (s.created ?? unixNow()) + DAY,
    id: s.id,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    metadata: s.metadata ?? {},
    mode: "subscription",
    object: "checkout.session",
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "always",
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: s.payment_status,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: s.status ?? "complete",
    submit_type: null,
    subscription: s.subscription,
    success_url: s.success_url ?? null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: complete ? null : (options.url ?? null),
    adaptive_pricing: { enabled: false },
    discounts: [],
    collected_information: null,
    permissions: null,
    wallet_options: null,
    origin_context: null,
    currency_conversion: null,
    customer_account: null,
    integration_identifier: null,
    managed_payments: null,
  };
}

/** A Checkout line item (`line_items` is rendered only when expanded). */
export function renderLineItem(stub: Catalogue, sessionId: string, item: StubItem, index: number, expandProduct: boolean) {
  const price = renderPrice(stub, item.price, expandProduct);
  const quantity = item.quantity ?? 1;
  const total = (price.unit_amount ?? 0) * quantity;
  const product = stub.products.get(stub.prices.get(item.price)?.product ?? "");
  return {
    amount_discount: 0,
    amount_subtotal: total,
    amount_tax: 0,
    amount_total: total,
    currency: price.currency,
    description: product?.name ?? price.id,
    id: `li_${sessionId.slice(3)}${index}`,
    object: "item",
    price,
    quantity,
    metadata: {},
    adjustable_quantity: null,
  };
}

export function renderCustomer(c: StubCustomer) {
  if (c.deleted === true) return { deleted: true, id: c.id, object: "customer" };
  return {
    address: null,
    balance: 0,
    created: c.created ?? unixNow(),
    currency: "usd",
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: c.email,
    id: c.id,
    invoice_prefix: c.id.slice(4, 12).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: c.name ?? null,
    next_invoice_sequence: 1,
    object: "customer",
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
  };
}

/**
 * An invoice of a subscription. Since 2025-03-31.basil it names its subscription under
 * `parent.subscription_details`; `preBasil` renders the shape older endpoints still receive:
 * the top-level `subscription` and no `parent`.
 */
export function renderInvoice(inv: StubInvoice, options: { preBasil?: boolean } = {}) {
  const paid = inv.status === "paid";
  const created = inv.created ?? unixNow();
  const body: Record<string, unknown> = {
    account_country: "US",
    account_name: null,
    account_tax_ids: null,
    amount_due: inv.amount_due,
    amount_paid: paid ? inv.amount_due : 0,
    amount_remaining: paid ? 0 : inv.amount_due,
    amount_shipping: 0,
    application: null,
    attempt_count: inv.attempt_count ?? (paid ? 1 : 0),
    attempted: (inv.attempt_count ?? (paid ? 1 : 0)) > 0,
    auto_advance: !paid,
    automatic_tax: { enabled: false, liability: null, status: null, disabled_reason: null, provider: null },
    billing_reason: inv.billing_reason ?? "subscription_cycle",
    collection_method: "charge_automatically",
    created,
    currency: "usd",
    custom_fields: null,
    customer: inv.customer,
    customer_address: null,
    customer_email: null,
    customer_name: null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: inv.due_date ?? null,
    effective_at: created,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    id: inv.id,
    invoice_pdf: null,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: list([], false, `/v1/invoices/${inv.id}/lines`),
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    object: "invoice",
    on_behalf_of: null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: created,
    period_start: created,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: inv.status,
    status_transitions: {
      finalized_at: inv.status_transitions?.finalized_at ?? created,
      marked_uncollectible_at: null,
      paid_at: inv.status_transitions?.paid_at ?? (paid ? created : null),
      voided_at: null,
    },
    subscription: options.preBasil === true ? inv.subscription : null,
    subtotal: inv.amount_due,
    subtotal_excluding_tax: inv.amount_due,
    test_clock: null,
    total: inv.amount_due,
    total_discount_amounts: [],
    total_excluding_tax: inv.amount_due,
    webhooks_delivered_at: created,
    automatically_finalizes_at: null,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    amount_overpaid: 0,
    parent: { quote_details: null, subscription_details: { metadata: {}, subscription: inv.subscription }, type: "subscription_details" },
    customer_account: null,
  };
  if (options.preBasil === true) delete body.parent;
  return body;
}

export function renderInvoicePayment(inv: StubInvoice) {
  const created = inv.created ?? unixNow();
  const paid = inv.status === "paid";
  return {
    amount_paid: paid ? inv.amount_due : null,
    amount_requested: inv.amount_due,
    created,
    currency: "usd",
    id: `inpay_${inv.id.slice(3)}`,
    invoice: inv.id,
    is_default: true,
    livemode: false,
    object: "invoice_payment",
    payment: { type: "payment_intent", payment_intent: inv.payment_intent ?? null },
    status: paid ? "paid" : "open",
    status_transitions: { canceled_at: null, paid_at: paid ? created : null },
  };
}

export function renderRefund(r: StubRefund, chargeId: string) {
  return {
    amount: r.amount,
    balance_transaction: null,
    charge: chargeId,
    created: r.created,
    currency: "usd",
    destination_details: null,
    id: r.id,
    metadata: {},
    object: "refund",
    payment_intent: null,
    reason: r.reason ?? null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: r.status ?? "succeeded",
    transfer_reversal: null,
    customer: null,
    customer_account: null,
    payment_method: null,
  };
}

export function renderCharge(ch: StubCharge, options: { expandRefunds?: boolean } = {}) {
  const refunded = (ch.refunds ?? []).filter((r) => (r.status ?? "succeeded") === "succeeded").reduce((sum, r) => sum + r.amount, 0);
  const body: Record<string, unknown> = {
    amount: ch.amount,
    amount_captured: ch.amount,
    amount_refunded: refunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: null,
    billing_details: { address: ADDRESS, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: null,
    captured: true,
    created: ch.created ?? unixNow(),
    currency: "usd",
    customer: ch.customer,
    description: null,
    disputed: ch.disputed ?? false,
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    fraud_details: {},
    id: ch.id,
    livemode: false,
    metadata: {},
    object: "charge",
    on_behalf_of: null,
    outcome: null,
    paid: true,
    payment_intent: ch.payment_intent,
    payment_method: null,
    payment_method_details: null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: refunded >= ch.amount,
    review: null,
    shipping: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: "succeeded",
    transfer_data: null,
    transfer_group: null,
    source: null,
  };
  // Since 2022-11-15 a charge's refunds are rendered only when expanded.
  if (options.expandRefunds === true) body.refunds = list((ch.refunds ?? []).map((r) => renderRefund(r, ch.id)), false, `/v1/charges/${ch.id}/refunds`);
  return body;
}

// The evidence a seller may submit; none yet.
const EVIDENCE_FIELDS = [
  "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure", "cancellation_rebuttal",
  "customer_communication", "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
  "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id", "product_description", "receipt",
  "refund_policy", "refund_policy_disclosure", "refund_refusal_explanation", "service_date", "service_documentation",
  "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation", "shipping_tracking_number",
  "uncategorized_file", "uncategorized_text",
];

export function renderDispute(d: StubDispute, charge: StubCharge | undefined) {
  const created = d.created ?? unixNow();
  return {
    amount: d.amount ?? charge?.amount ?? 0,
    balance_transactions: [],
    charge: d.charge,
    created,
    currency: "usd",
    evidence: { ...Object.fromEntries(EVIDENCE_FIELDS.map((k) => [k, null])), enhanced_evidence: {} },
    evidence_details: { due_by: created + 14 * DAY, has_evidence: false, past_due: false, submission_count: 0, enhanced_eligibility: {} },
    id: d.id,
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    object: "dispute",
    payment_intent: charge?.payment_intent ?? null,
    payment_method_details: null,
    reason: d.reason ?? "fraudulent",
    status: d.status,
    enhanced_eligibility_types: [],
  };
}
