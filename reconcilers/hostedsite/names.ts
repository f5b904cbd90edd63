// Names the HostedSite reconciler writes: finalizer, annotations, derived account names.
import { createHash } from "node:crypto";
import { GROUP } from "../../crds/group.ts";
import { RESERVED_USERNAMES, type HostedSiteSpec } from "../../crds/hostedsite.ts";

export const FINALIZER = `${GROUP}/aegir-site`;
/** Written before the non-idempotent site creation; its value is the time of the attempt. */
export const CREATE_PENDING_ANNOTATION = `${GROUP}/create-pending`;
/**
 * The platform a PlatformRollout put the site on (or pinned it to), used when spec.platform is
 * empty: where a new site was placed during a rollout, where a migrated site now lives.
 */
export const PLATFORM_ANNOTATION = `${GROUP}/platform`;
/**
 * The site's newest migrate task before the rollout asked for its migrate: a migrate newer than
 * this one is the rollout's, and it is never queued a second time (the rollout decides after a failure).
 */
export const MIGRATE_AFTER_ANNOTATION = `${GROUP}/platform-migrate-after`;

const MAX_USERNAME = 60;

/** A Drupal user name from free text: lowercase, only [a-z0-9._-], starting alphanumeric. */
function sanitize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "");
}

/** Shorten to the Drupal limit, keeping names unique with a hash of the full text. */
function bounded(name: string, source: string): string {
  if (name.length <= MAX_USERNAME) return name;
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 8);
  return `${name.slice(0, MAX_USERNAME - 9)}-${hash}`;
}

/** The owner's account name on her site: spec.owner.name, else the mail's local part. */
export function ownerName(spec: Pick<HostedSiteSpec, "owner">): string {
  if (spec.owner.name !== undefined) return spec.owner.name;
  const local = sanitize(spec.owner.email.split("@")[0] ?? "") || "owner";
  const name = (RESERVED_USERNAMES as readonly string[]).includes(local) ? `${local}-owner` : local;
  return bounded(name, spec.owner.email);
}

/**
 * The owner's account name on the shared support tracker: one account per e-mail address,
 * so names from different customers cannot collide.
 */
export function trackerUsername(email: string): string {
  return bounded(sanitize(email.replace("@", ".")) || "customer", email.toLowerCase());
}
