// planSpace(desired, observed): the space operations still needed, in order. Pure, so every rule
// is unit-tested without a server, and `aegir-operator plan` prints exactly what a reconcile
// would do.
import { SPACE_MODULE_VERSION } from "../aegir/space-scripts.ts";
import type { SpaceSettings, SpaceState, SpaceSummary } from "../aegir/spaces.ts";
import type { SpaceDesired } from "./desired.ts";

/** What an operation converges; each has a status condition. */
export type SpaceAspect = "space" | "quota" | "owner";

export type SpaceOperation =
  | { kind: "InstallQuotaModule"; aspect: "quota"; version: string }
  | { kind: "EnsureSpace"; aspect: "space"; create: boolean; settings: SpaceSettings }
  | { kind: "EnsureOwner"; aspect: "owner"; name: string; mail: string }
  | { kind: "WelcomeOwner"; aspect: "owner"; mail: string }
  | { kind: "DeleteSpace"; aspect: "space" };

export interface SpaceObserved {
  /** The quota module's version on the shared site; null when it is not enabled. */
  module: string | null;
  /** The space in the site's batched read; undefined when the site has no such space. */
  space: SpaceSummary | undefined;
  /** The deep read, when one was made this reconcile. */
  deep: SpaceState | undefined;
}

export interface SpacePlanContext {
  /** The owner's uid as last recorded in status. */
  ownerUid: number | undefined;
  /** status.owner.welcomedAt is set: the mail is never sent again. */
  welcomed: boolean;
  /** Aspects that failed permanently at this generation: not retried until the spec changes. */
  blocked: ReadonlySet<SpaceAspect>;
}

export interface SpaceProblem {
  aspect: SpaceAspect;
  reason: string;
  message: string;
}

export interface SpacePlan {
  operations: SpaceOperation[];
  problems: SpaceProblem[];
  /** Deletion finished (or is not wanted): the finalizer may go. */
  released: boolean;
}

export function planSpace(desired: SpaceDesired, observed: SpaceObserved, ctx: SpacePlanContext): SpacePlan {
  const { space, deep } = observed;
  if (desired.deleting) {
    if (desired.deletionPolicy === "Retain" || space === undefined) return { operations: [], problems: [], released: true };
    return { operations: [{ kind: "DeleteSpace", aspect: "space" }], problems: [], released: false };
  }
  const operations: SpaceOperation[] = [];
  const problems: SpaceProblem[] = [];
  const allowed = (aspect: SpaceAspect) => !ctx.blocked.has(aspect);

  // The quota is enforced from the space's first member on: the module goes in first.
  if (observed.module !== SPACE_MODULE_VERSION && allowed("quota")) operations.push({ kind: "InstallQuotaModule", aspect: "quota", version: SPACE_MODULE_VERSION });
  if (allowed("space") && (space === undefined || settingsDiffer(space, desired.settings))) {
    operations.push({ kind: "EnsureSpace", aspect: "space", create: space === undefined, settings: desired.settings });
  }
  if (desired.archived || !allowed("owner") || (space === undefined && !allowed("space"))) return { operations, problems, released: false };

  if (deep?.owner?.siteAdmin) {
    problems.push({ aspect: "owner", reason: "OwnerIsSiteAdmin", message: `${desired.owner.mail} belongs to a site administrator of ${desired.uri}; a space owner must be an ordinary account` });
    return { operations, problems, released: false };
  }
  const uid = deep?.owner?.uid ?? ctx.ownerUid;
  if (uid === undefined || space === undefined || !space.admins.includes(uid)) operations.push({ kind: "EnsureOwner", aspect: "owner", name: desired.owner.name, mail: desired.owner.mail });
  const marker = uid === undefined ? undefined : (space?.welcome[String(uid)] ?? deep?.welcome?.state);
  if (!ctx.welcomed && marker === undefined) operations.push({ kind: "WelcomeOwner", aspect: "owner", mail: desired.owner.mail });
  return { operations, problems, released: false };
}

function settingsDiffer(space: SpaceSummary, wanted: SpaceSettings): boolean {
  return space.title !== wanted.title || space.public !== wanted.public || space.blueprint !== wanted.blueprint || space.published !== wanted.published || space.quota !== wanted.quota;
}

/** One line for `aegir-operator plan`. */
export function describeSpaceOperation(op: SpaceOperation): string {
  switch (op.kind) {
    case "InstallQuotaModule":
      return `install the member-quota module ${op.version} on the shared site`;
    case "EnsureSpace": {
      const s = op.settings;
      const what = `"${s.title}" (${s.public ? "public" : "private"}, blueprint ${s.blueprint}, quota ${s.quota}${s.published ? "" : ", archived"})`;
      return op.create ? `create the space ${what}` : `update the space to ${what}`;
    }
    case "EnsureOwner":
      return `make ${op.name} <${op.mail}> the space's administrator (creating the account if absent)`;
    case "WelcomeOwner":
      return `send <${op.mail}> the space's welcome mail with a one-time login link`;
    case "DeleteSpace":
      return "delete the space and its memberships";
  }
}
