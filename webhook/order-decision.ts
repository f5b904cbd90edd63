// Pure: from the current Stripe state (re-read, never taken from the event) and the stored order,
// decide the order's new state and the HostedSite to apply, if any. Same inputs, same result:
// duplicates and reordered events converge.
import { HostedSiteSpec, Owner, type HostedSiteSpecInput } from "../crds/hostedsite.ts";
import { formatPath } from "../crds/manifests.ts";
import { email as emailSchema } from "../crds/primitives.ts";
import type { Catalog } from "./catalog.ts";
import { mapPurchase, type ChosenOptions } from "./catalog-mapping.ts";
import { asciiEmail, resolveDomain } from "./domain.ts";
import { buildManifest, rfc3339, type HostedSiteManifest } from "./hostedsite-manifest.ts";
import { lifecycleOf, type LifecyclePolicy, type Phase } from "./lifecycle.ts";
import type { CheckoutView, SubscriptionView } from "./stripe-objects.ts";

export type OrderState = Phase | "parked";

export interface StoredOrder {
  state: OrderState;
  customerEmail: string | null;
  domain: string | null;
  checkoutSessionId: string | null;
  pastDueSince: Date | null;
  provisioned: boolean;
}

export interface OrderRecord {
  state: OrderState;
  reason: string | null;
  customerId: string;
  customerEmail: string | null;
  checkoutSessionId: string | null;
  domain: string | null;
  options: ChosenOptions | null;
  subscriptionStatus: string;
  pastDueSince: Date | null;
  provisioned: boolean;
}

export interface Decision {
  order: OrderRecord;
  /** The HostedSite to apply; null leaves the cluster as it is. */
  manifest: HostedSiteManifest | null;
  /** Re-evaluate at this time even if Stripe sends nothing (end of a grace period). */
  reviewAt: Date | null;
}

export interface DecisionInput {
  catalog: Catalog;
  policy: LifecyclePolicy;
  namespace: string;
  now: Date;
  subscription: SubscriptionView;
  checkout: CheckoutView | null;
  /** The Customer as it is now; null once deleted. */
  customer: { email: string | null; name: string | null } | null;
  existing: StoredOrder | null;
  /** The spec last handed to the relay, if any. */
  lastSpec: HostedSiteSpecInput | null;
  /** Another subscription already holding the domain this order asks for (see requestedDomain). */
  domainOwner: string | null;
}

/** The events of one batch, as far as the duplicate check needs them. */
export interface BatchEvent {
  kind: "stripe" | "timer";
  checkoutSessionId: string | null;
}

/**
 * The same Checkout Session can arrive as several events (completed, async_payment_succeeded,
 * redeliveries with new ids): once its order is provisioned, they bring nothing new.
 */
export function isSessionRedelivery(existing: StoredOrder | null, events: readonly BatchEvent[]): existing is StoredOrder {
  if (existing?.provisioned !== true || existing.checkoutSessionId === null) return false;
  return events.every((e) => e.kind === "stripe" && e.checkoutSessionId === existing.checkoutSessionId);
}

/** The domain a not yet placed order asks for, so that its current holder can be looked up before deciding. */
export function requestedDomain(catalog: Catalog, subscription: SubscriptionView, checkout: CheckoutView | null, existing: StoredOrder | null): string | null {
  if (existing?.domain != null) return null;
  const resolved = resolveDomain(catalog, domainSources(subscription, checkout));
  return resolved.ok ? resolved.domain : null;
}

function domainSources(sub: SubscriptionView, checkout: CheckoutView | null): Record<string, string>[] {
  return [checkout?.fields ?? {}, checkout?.metadata ?? {}, sub.metadata];
}

export function decideOrder(input: DecisionInput): Decision {
  const decision = decideFromStripe(input);
  if (input.domainOwner === null || decision.order.domain === null || input.existing?.domain != null) return decision;
  return {
    // Not provisioned: a redelivered Checkout event must re-read Stripe, not take the duplicate shortcut.
    order: { ...decision.order, state: "parked", domain: null, provisioned: false, reason: `domain ${decision.order.domain} is already taken by subscription ${input.domainOwner}` },
    manifest: null,
    reviewAt: null,
  };
}

function decideFromStripe(input: DecisionInput): Decision {
  const { subscription: sub, checkout, existing } = input;
  const life = lifecycleOf({
    status: sub.status,
    pastDueSince: existing?.pastDueSince ?? null,
    endedAt: sub.endedAt,
    canceledAt: sub.canceledAt,
    // The last spec remembers a suspension even while the order is parked (its state says "parked").
    wasSuspended: existing?.state === "suspended" || input.lastSpec?.suspended === true,
    now: input.now,
    policy: input.policy,
  });
  // The Customer's current address wins over the one typed at Checkout (customer.updated); a deleted
  // Customer (null) keeps the address the order already has.
  const rawEmail = input.customer?.email ?? checkout?.email ?? existing?.customerEmail ?? null;
  const base: OrderRecord = {
    state: life.phase,
    reason: null,
    customerId: sub.customerId,
    customerEmail: rawEmail,
    checkoutSessionId: checkout?.id ?? existing?.checkoutSessionId ?? null,
    domain: existing?.domain ?? null,
    options: null,
    subscriptionStatus: sub.status,
    pastDueSince: life.pastDueSince,
    provisioned: existing?.provisioned ?? false,
  };
  const keep = (order: OrderRecord): Decision => ({ order, manifest: null, reviewAt: null });
  const reviewAt = life.phase === "past_due" ? life.graceEndsAt : null;
  const manifestOf = (spec: HostedSiteSpecInput) =>
    buildManifest({ namespace: input.namespace, subscriptionId: sub.id, spec, subscriptionStatus: sub.status, graceEndsAt: life.graceEndsAt });
  // A parked order whose site already exists keeps its last good spec, but payment still rules:
  // suspension and expiry follow the subscription even while the plan cannot be mapped.
  const park = (order: OrderRecord, reason: string): Decision => {
    const parked = { ...order, state: "parked" as const, reason };
    if (input.lastSpec === null || !base.provisioned) return keep(parked);
    const spec: HostedSiteSpecInput = { ...input.lastSpec, suspended: life.suspended };
    if (life.expiresAt !== null) spec.expiresAt = rfc3339(life.expiresAt);
    else delete spec.expiresAt;
    return { order: parked, manifest: manifestOf(spec), reviewAt };
  };

  if (!base.provisioned) {
    if (!life.mayCreate) return keep({ ...base, reason: `nothing to provision while the subscription is ${sub.status}` });
    if (checkout !== null && checkout.paymentStatus === "unpaid") {
      return keep({ ...base, state: "awaiting_payment", reason: "checkout payment not completed yet" });
    }
  } else if (life.phase === "awaiting_payment") {
    // A status this code does not know: leave the running site alone.
    return keep({ ...base, state: existing?.state ?? "awaiting_payment", reason: `unhandled subscription status ${sub.status}` });
  }

  const mapped = mapPurchase(input.catalog, [...sub.items, ...(checkout?.oneTimeItems ?? [])]);
  if (!mapped.ok) return park(base, mapped.reason);
  const withOptions = { ...base, options: mapped.chosen };

  let domain = existing?.domain ?? null;
  if (domain === null) {
    const resolved = resolveDomain(input.catalog, domainSources(sub, checkout));
    if (!resolved.ok) return park(withOptions, resolved.reason);
    domain = resolved.domain;
  }
  const withDomain = { ...withOptions, domain };

  const email = emailSchema().safeParse(asciiEmail(rawEmail ?? ""));
  if (!email.success) {
    return park(withDomain, rawEmail === null ? "no customer e-mail address" : `customer e-mail: ${email.error.issues[0]?.message}`);
  }

  const owner: HostedSiteSpecInput["owner"] = { email: email.data };
  const displayName = Owner.shape.displayName.safeParse(input.customer?.name ?? checkout?.name ?? undefined);
  if (displayName.success && displayName.data !== undefined) owner.displayName = displayName.data;

  const spec: HostedSiteSpecInput = {
    domain,
    ...mapped.parts,
    owner,
    suspended: life.suspended,
    order: { source: "stripe", subscription: sub.id, customer: sub.customerId },
  };
  if (withDomain.checkoutSessionId !== null && spec.order !== undefined) spec.order.checkoutSession = withDomain.checkoutSessionId;
  if (life.expiresAt !== null) spec.expiresAt = rfc3339(life.expiresAt);
  const valid = HostedSiteSpec.safeParse(spec);
  if (!valid.success) {
    const problems = valid.error.issues.map((i) => `spec.${formatPath(i.path)}: ${i.message}`).join("; ");
    return park(withDomain, `the order does not make a valid HostedSite: ${problems}`);
  }

  return { order: { ...withDomain, customerEmail: email.data, provisioned: true }, manifest: manifestOf(spec), reviewAt };
}
