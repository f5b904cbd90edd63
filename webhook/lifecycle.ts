// Pure: what a Stripe subscription status means for the site (running, past due in its grace
// period, suspended, ended with an expiry) under the configured policy.
export interface LifecyclePolicy {
  /** How long a past_due subscription keeps its site running before it is suspended. */
  pastDueGraceMs: number;
  /** How long after a subscription ends the site stays up (spec.expiresAt). */
  expireAfterMs: number;
}

export type Phase = "awaiting_payment" | "active" | "past_due" | "suspended" | "ended";

export interface Lifecycle {
  phase: Phase;
  /** The site may be created in this state (otherwise only an existing site is updated). */
  mayCreate: boolean;
  suspended: boolean;
  expiresAt: Date | null;
  pastDueSince: Date | null;
  graceEndsAt: Date | null;
}

export interface LifecycleInput {
  status: string;
  /** When the order was first seen past_due (stored), if it is still in that episode. */
  pastDueSince: Date | null;
  endedAt: Date | null;
  canceledAt: Date | null;
  /** The site was suspended before the subscription ended: it stays suspended until it expires. */
  wasSuspended: boolean;
  now: Date;
  policy: LifecyclePolicy;
}

export function lifecycleOf(input: LifecycleInput): Lifecycle {
  const none = { expiresAt: null, pastDueSince: null, graceEndsAt: null };
  switch (input.status) {
    case "active":
    case "trialing":
      return { phase: "active", mayCreate: true, suspended: false, ...none };
    case "past_due": {
      const since = input.pastDueSince ?? input.now;
      const graceEndsAt = new Date(since.getTime() + input.policy.pastDueGraceMs);
      const over = input.now.getTime() >= graceEndsAt.getTime();
      return { phase: over ? "suspended" : "past_due", mayCreate: true, suspended: over, expiresAt: null, pastDueSince: since, graceEndsAt };
    }
    case "unpaid":
    case "paused":
      return { phase: "suspended", mayCreate: false, suspended: true, ...none };
    case "canceled":
    case "incomplete_expired": {
      const end = input.endedAt ?? input.canceledAt ?? input.now;
      return {
        phase: "ended",
        mayCreate: false,
        suspended: input.wasSuspended,
        expiresAt: new Date(end.getTime() + input.policy.expireAfterMs),
        pastDueSince: null,
        graceEndsAt: null,
      };
    }
    default:
      // incomplete, and statuses newer than this code: nothing is provisioned on them.
      return { phase: "awaiting_payment", mayCreate: false, suspended: false, ...none };
  }
}
