// Pure: the HostedSite object the webhook applies. It carries only the fields the webhook owns,
// so with server-side apply the edits ops make to other fields (server, deletionPolicy, extra
// labels...) survive every re-apply.
import { createHash } from "node:crypto";
import { API_VERSION } from "../crds/group.ts";
import type { HostedSiteSpecInput } from "../crds/hostedsite.ts";

export const FIELD_MANAGER = "stripe-webhook";
export const SUBSCRIPTION_LABEL = "hosting.openatria.com/stripe-subscription";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** The Stripe subscription status, for people and for the controller's conditions. */
export const PAYMENT_STATUS_ANNOTATION = "hosting.openatria.com/payment-status";
/** Set while payment is past due: when the site will be suspended unless the customer pays. */
export const GRACE_PERIOD_ENDS_ANNOTATION = "hosting.openatria.com/payment-grace-period-ends";

export interface HostedSiteManifest {
  apiVersion: string;
  kind: "HostedSite";
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: HostedSiteSpecInput;
}

/**
 * Deterministic object name from the subscription id. Lower-casing alone could make two ids
 * collide (Stripe ids are case-sensitive), so a hash of the exact id is appended.
 */
export function siteName(subscriptionId: string): string {
  const readable = subscriptionId.replace(/^sub_/, "").toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 40);
  const hash = createHash("sha256").update(subscriptionId).digest("hex").slice(0, 10);
  return `sub-${readable}-${hash}`;
}

export interface ManifestInput {
  namespace: string;
  /** siteName(subscriptionId), unless the site was handed over from an earlier subscription. */
  name?: string;
  subscriptionId: string;
  spec: HostedSiteSpecInput;
  subscriptionStatus: string;
  graceEndsAt: Date | null;
}

export function buildManifest(input: ManifestInput): HostedSiteManifest {
  const annotations: Record<string, string> = { [PAYMENT_STATUS_ANNOTATION]: input.subscriptionStatus };
  if (input.graceEndsAt !== null) annotations[GRACE_PERIOD_ENDS_ANNOTATION] = rfc3339(input.graceEndsAt);
  return {
    apiVersion: API_VERSION,
    kind: "HostedSite",
    metadata: {
      name: input.name ?? siteName(input.subscriptionId),
      namespace: input.namespace,
      labels: { [SUBSCRIPTION_LABEL]: input.subscriptionId, [MANAGED_BY_LABEL]: FIELD_MANAGER },
      annotations,
    },
    spec: input.spec,
  };
}

/** RFC 3339 in UTC without milliseconds, as Kubernetes writes times. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
