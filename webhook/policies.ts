// Pure: the seller's policies (catalog `policies`) laid over an order decision, for what Stripe
// leaves to the seller: a disputed payment (flag, or suspend), paused payment collection (suspend
// after a grace, resume when collection resumes), an announced cancellation (shown on the
// HostedSite before the end). Same inputs, same result, like the decision itself.
import type { SellerPolicies } from "./catalog.ts";
import { GRACE_PERIOD_ENDS_ANNOTATION, rfc3339 } from "./hostedsite-manifest.ts";
import type { Decision } from "./order-decision.ts";

/** Set while a payment of the order is disputed or was lost in a dispute: which, and why. */
export const DISPUTE_ANNOTATION = "hosting.openatria.com/payment-dispute";
/** Set while payment collection is paused: since when. */
export const COLLECTION_PAUSED_ANNOTATION = "hosting.openatria.com/payment-collection-paused-since";

/** Dispute statuses before Stripe closes the dispute. */
const OPEN_DISPUTE = new Set(["warning_needs_response", "warning_under_review", "needs_response", "under_review"]);

export interface DisputeFact {
  id: string;
  status: string;
  reason: string | null;
  amount: number;
  currency: string;
}

export interface PolicyFacts {
  now: Date;
  /** Stripe says payment collection is paused now (pause_collection set). */
  collectionPaused: boolean;
  /** Stored: when the order was first seen with collection paused, in the current pause. */
  collectionPausedSince: Date | null;
  /** When Stripe will end the subscription, if a cancellation is scheduled. */
  cancelAt: Date | null;
  /** The disputes of the order's payments, as last read from Stripe. */
  disputes: readonly DisputeFact[];
}

export interface PolicyOutcome {
  decision: Decision;
  /** To store: the start of the current pause, null when collection is not paused. */
  collectionPausedSince: Date | null;
}

export function applySellerPolicies(decision: Decision, facts: PolicyFacts, policies: SellerPolicies): PolicyOutcome {
  const pausedSince = facts.collectionPaused ? (facts.collectionPausedSince ?? facts.now) : null;
  const pause = pausedSince === null ? null : { since: pausedSince, endsAt: new Date(pausedSince.getTime() + policies.pausedCollection.grace) };
  const pauseOver = pause !== null && facts.now.getTime() >= pause.endsAt.getTime();

  const dispute = standingDispute(facts.disputes);
  const disputeSuspends = dispute !== null && policies.disputes[dispute.open ? "open" : "lost"] === "suspend";

  const suspendReason = pauseOver
    ? `payment collection paused since ${rfc3339(pause.since)}, beyond the ${formatDuration(policies.pausedCollection.grace)} grace`
    : disputeSuspends
      ? dispute.note
      : null;

  const order = { ...decision.order };
  if (suspendReason !== null && (order.state === "active" || order.state === "past_due")) {
    order.state = "suspended";
    order.reason = suspendReason;
  } else if (dispute !== null && order.reason === null) {
    order.reason = `${dispute.note} (flagged)`;
  }

  const reviewAt = pause !== null && !pauseOver ? earliest(decision.reviewAt, pause.endsAt) : decision.reviewAt;
  const manifest = decision.manifest === null ? null : structuredClone(decision.manifest);
  if (manifest !== null) {
    const annotations = manifest.metadata.annotations;
    if (dispute !== null) annotations[DISPUTE_ANNOTATION] = dispute.note;
    if (pause !== null) {
      annotations[COLLECTION_PAUSED_ANNOTATION] = rfc3339(pause.since);
      // The grace annotation says when the site will be suspended: the earlier of the two graces.
      const graceEnds = annotations[GRACE_PERIOD_ENDS_ANNOTATION];
      if (!pauseOver && (graceEnds === undefined || Date.parse(graceEnds) > pause.endsAt.getTime())) annotations[GRACE_PERIOD_ENDS_ANNOTATION] = rfc3339(pause.endsAt);
    }
    if (suspendReason !== null) manifest.spec.suspended = true;
    if (manifest.spec.order !== undefined) {
      // A parked order reuses its last spec: a cancellation taken back must leave it too.
      delete manifest.spec.order.cancelAt;
      if (facts.cancelAt !== null && order.state !== "ended") manifest.spec.order.cancelAt = rfc3339(facts.cancelAt);
    }
  }
  return { decision: { ...decision, order, manifest, reviewAt }, collectionPausedSince: pausedSince };
}

/** The dispute that rules the site: an open one first, else a lost one; won and withdrawn ones clear. */
function standingDispute(disputes: readonly DisputeFact[]): { open: boolean; note: string } | null {
  const open = disputes.find((d) => OPEN_DISPUTE.has(d.status));
  const lost = disputes.find((d) => d.status === "lost");
  const d = open ?? lost;
  if (d === undefined) return null;
  const what = `${d.amount} ${d.currency}${d.reason === null ? "" : `, ${d.reason}`}`;
  return { open: open !== undefined, note: open !== undefined ? `payment disputed: ${d.id} is open (${what})` : `payment dispute ${d.id} was lost (${what})` };
}

function earliest(a: Date | null, b: Date): Date {
  return a === null || b.getTime() < a.getTime() ? b : a;
}

/** A duration as the catalog writes it: 30d, 36h, 15m, 90s, 500ms. */
function formatDuration(ms: number): string {
  const unit = ([["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const).find(([, size]) => ms % size === 0);
  return unit === undefined ? `${ms}ms` : `${ms / unit[1]}${unit[0]}`;
}
