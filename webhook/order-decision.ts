// Pure: from the current Stripe state (re-read, never taken from the event) and the stored order,
// decide the order's new state and the HostedSite to apply, if any. Same inputs, same result:
// duplicates and reordered events converge.
import { HostedSiteSpec, Owner, type HostedSiteSpecInput } from "../crds/hostedsite.ts";
import { formatPath } from "../crds/manifests.ts";
import { email as emailSchema } from "../crds/primitives.ts";
import type { Catalog } from "./catalog.ts";
import { mapPurchase, type ChosenOptions } from "./catalog-mapping.ts";
import { asciiEmail, resolveDomain } from "./domain.ts";
import { buildManifest, rfc3339, siteName, type HostedSiteManifest } from "./hostedsite-manifest.ts";
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
  /** The HostedSite this order writes: its own, or one handed over to it. */
  siteName: string;
  /** The subscription this ended order gave its domain (and maybe its site) to. */
  domainReleasedTo: string | null;
}

/** The order holding a domain another order asks for. */
export interface DomainHolder {
  subscriptionId: string;
  customerId: string | null;
  subscriptionStatus: string | null;
  /** Its HostedSite, if it ever had one. */
  siteName: string | null;
  siteExpiresAt: Date | null;
}

/** The ended order a new one takes its domain from; with `handOver`, its HostedSite too. */
export interface DomainRelease {
  from: string;
  handOver: boolean;
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
  siteName: string;
  /** The domain a parked order waits for while another order holds it. */
  wantedDomain: string | null;
}

export interface Decision {
  order: OrderRecord;
  /** The HostedSite to apply; null leaves the cluster as it is. */
  manifest: HostedSiteManifest | null;
  /** Re-evaluate at this time even if Stripe sends nothing (end of a grace period, a domain's release). */
  reviewAt: Date | null;
  /** Saved before the order: the domain it takes from an ended one. */
  release: DomainRelease | null;
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
  /** The other order already holding the domain this order asks for (see requestedDomain). */
  domainOwner: DomainHolder | null;
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
  // An order that gave its domain away never claims it back (nor locks its new holder's row).
  if (existing?.domain != null || existing?.domainReleasedTo != null) return null;
  const resolved = resolveDomain(catalog, domainSources(subscription, checkout));
  return resolved.ok ? resolved.domain : null;
}

function domainSources(sub: SubscriptionView, checkout: CheckoutView | null): Record<string, string>[] {
  return [checkout?.fields ?? {}, checkout?.metadata ?? {}, sub.metadata];
}

export function decideOrder(input: DecisionInput): Decision {
  const decision = decideFromStripe(input);
  const releasedTo = input.existing?.domainReleasedTo ?? null;
  if (releasedTo !== null) {
    // Its domain (and maybe its site) belongs to another order now: this one only keeps its record.
    return { order: { ...decision.order, domain: null, reason: `ended; its domain went to subscription ${releasedTo}` }, manifest: null, reviewAt: null, release: null };
  }
  const holder = input.domainOwner;
  const domain = decision.order.domain;
  if (holder === null || domain === null || input.existing?.domain != null) return decision;
  const claim = domainClaim(holder, input.subscription.customerId, input.now);
  if (claim.kind !== "wait" && decision.manifest !== null) {
    if (claim.kind === "release") return { ...decision, release: { from: holder.subscriptionId, handOver: false } };
    // The same customer again (a new subscription, a monthly to yearly switch): the existing site
    // moves to the new subscription, un-expired, instead of a second site for the same domain.
    const site = claim.siteName;
    return {
      ...decision,
      order: { ...decision.order, siteName: site },
      manifest: { ...decision.manifest, metadata: { ...decision.manifest.metadata, name: site } },
      release: { from: holder.subscriptionId, handOver: true },
    };
  }
  return {
    // Not provisioned: a redelivered Checkout event must re-read Stripe, not take the duplicate shortcut.
    order: { ...decision.order, state: "parked", domain: null, wantedDomain: domain, provisioned: false, reason: claim.kind === "wait" ? claim.reason(domain) : decision.order.reason },
    manifest: null,
    reviewAt: claim.kind === "wait" ? claim.until : null,
    release: null,
  };
}

/** Canceled and incomplete_expired are final at Stripe: such a subscription never runs again. */
export function subscriptionEnded(status: string | null): boolean {
  return status === "canceled" || status === "incomplete_expired";
}

type DomainClaim =
  | { kind: "handOver"; siteName: string }
  | { kind: "release" }
  | { kind: "wait"; reason: (domain: string) => string; until: Date | null };

/**
 * Whether an order may take a domain another order holds. An ended order gives its domain to its
 * own customer at once (with the site, if it has one), and to anyone once its site has expired;
 * a subscription that may still run keeps it.
 */
function domainClaim(holder: DomainHolder, customerId: string, now: Date): DomainClaim {
  if (!subscriptionEnded(holder.subscriptionStatus)) {
    return {
      kind: "wait",
      until: null,
      reason: (d) =>
        holder.customerId === customerId
          ? `domain ${d} is held by subscription ${holder.subscriptionId} of the same customer; its site is handed over once that subscription ends`
          : `domain ${d} is already taken by subscription ${holder.subscriptionId}`,
    };
  }
  if (holder.customerId === customerId) return holder.siteName === null ? { kind: "release" } : { kind: "handOver", siteName: holder.siteName };
  if (holder.siteName === null || (holder.siteExpiresAt !== null && holder.siteExpiresAt.getTime() <= now.getTime())) return { kind: "release" };
  const until = holder.siteExpiresAt;
  return {
    kind: "wait",
    until,
    reason: (d) => `domain ${d} is already taken by subscription ${holder.subscriptionId}${until === null ? "" : ` until its site expires at ${rfc3339(until)}`}`,
  };
}

function decideFromStripe(input: DecisionInput): Decision {
  const { subscription: sub, checkout, existing } = input;
  const life = lifecycleOf({
    status: sub.status,
    pastDueSince: pastDueSince(sub, existing),
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
    siteName: existing?.siteName ?? siteName(sub.id),
    wantedDomain: null,
  };
  const keep = (order: OrderRecord): Decision => ({ order, manifest: null, reviewAt: null, release: null });
  const reviewAt = life.phase === "past_due" ? life.graceEndsAt : null;
  const manifestOf = (spec: HostedSiteSpecInput) =>
    buildManifest({ namespace: input.namespace, name: base.siteName, subscriptionId: sub.id, spec, subscriptionStatus: sub.status, graceEndsAt: life.graceEndsAt });
  // A parked order whose site already exists keeps its last good spec, but payment still rules:
  // suspension and expiry follow the subscription even while the plan cannot be mapped.
  const park = (order: OrderRecord, reason: string): Decision => {
    const parked = { ...order, state: "parked" as const, reason };
    if (input.lastSpec === null || !base.provisioned) return keep(parked);
    const spec: HostedSiteSpecInput = { ...input.lastSpec, suspended: life.suspended };
    if (life.expiresAt !== null) spec.expiresAt = rfc3339(life.expiresAt);
    else delete spec.expiresAt;
    return { order: parked, manifest: manifestOf(spec), reviewAt, release: null };
  };

  if (!base.provisioned) {
    if (!life.mayCreate) return keep({ ...base, reason: `nothing to provision while the subscription is ${sub.status}` });
    if (!paid(sub, checkout)) {
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

  return { order: { ...withDomain, customerEmail: email.data, provisioned: true }, manifest: manifestOf(spec), reviewAt, release: null };
}

/**
 * Whether the first payment is settled. The Checkout Session only says so until it is settled: a
 * session left `unpaid` by a failed bank debit stays so even after the customer pays the invoice by
 * card, so a paid latest invoice (or a trial, with nothing to pay yet) wins over it.
 */
function paid(sub: SubscriptionView, checkout: CheckoutView | null): boolean {
  if (sub.status === "trialing" || sub.latestInvoice?.status === "paid") return true;
  return checkout?.paymentStatus !== "unpaid";
}

/**
 * When the subscription turned past_due, by Stripe's clock: the overdue invoice's due time, so a
 * late or retried event does not lengthen the grace period. Stored from an earlier evaluation of
 * the same episode otherwise; the earlier of the two wins.
 */
function pastDueSince(sub: SubscriptionView, existing: StoredOrder | null): Date | null {
  const stored = existing?.pastDueSince ?? null;
  const due = sub.status === "past_due" && sub.latestInvoice?.status === "open" ? sub.latestInvoice.dueAt : null;
  if (due === null || stored === null) return due ?? stored;
  return due.getTime() < stored.getTime() ? due : stored;
}
