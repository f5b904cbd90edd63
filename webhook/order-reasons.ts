// Pure: the few kinds a parked order's reason or a dead event's error falls into, as a metric
// label and an Event reason must be (bounded, free of customer data). The full text
// stays in the ledger (`aegir-operator orders show`).

export const PARK_KINDS = ["domain_taken", "domain_invalid", "catalog", "email", "invalid_site", "other"] as const;
export type ParkKind = (typeof PARK_KINDS)[number];

export function parkKind(reason: string | null): ParkKind {
  const r = reason ?? "";
  if (/ is already taken by /.test(r)) return "domain_taken";
  if (/^(no domain|subdomain |domain )/.test(r)) return "domain_invalid";
  if (/^(items not in the service catalog|no product kit|several |kit |user quota )/.test(r)) return "catalog";
  if (/^(no customer e-mail|customer e-mail)/.test(r)) return "email";
  if (r.startsWith("the order does not make a valid HostedSite")) return "invalid_site";
  return "other";
}

export const DEAD_KINDS = ["not_found", "not_ours", "other"] as const;
export type DeadKind = (typeof DEAD_KINDS)[number];

export function deadKind(lastError: string | null): DeadKind {
  const e = lastError ?? "";
  if (/No such |resource_missing/.test(e)) return "not_found";
  if (/ belongs to /.test(e)) return "not_ours";
  return "other";
}

/** The Kubernetes Event reason for a kind, e.g. domain_taken -> OrderParkedDomainTaken. */
export function eventReason(prefix: "OrderParked" | "OrderDead", kind: ParkKind | DeadKind): string {
  return prefix + kind.split("_").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
}
