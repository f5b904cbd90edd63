// Status conditions of a HostedSpace, from what was observed, planned and what failed. Pure.
import type { Condition, ConditionInput } from "../../crds/conditions.ts";
import type { AegirError } from "../aegir/errors.ts";
import type { SpaceDesired } from "./desired.ts";
import type { SpaceAspect, SpaceObserved, SpacePlan } from "./plan.ts";

export const SPACE_CONDITION_TYPES = ["Ready", "Synced", "SpaceCreated", "QuotaEnforced", "OwnerReady", "Suspended", "Expired"] as const;
export type SpaceConditionType = (typeof SPACE_CONDITION_TYPES)[number];

export const SPACE_ASPECT_CONDITION: Record<SpaceAspect, SpaceConditionType> = { space: "SpaceCreated", quota: "QuotaEnforced", owner: "OwnerReady" };

export interface SpaceConditionFacts {
  desired: SpaceDesired;
  observed: SpaceObserved;
  plan: SpacePlan;
  error: AegirError | undefined;
  previous: readonly Condition[];
  /** Aspects blocked by a permanent error at this generation. */
  blocked: ReadonlyMap<SpaceAspect, { reason: string; message: string }>;
  /** The owner's uid, observed or recorded. */
  ownerUid: number | undefined;
}

const yes = (type: SpaceConditionType, reason: string, message: string): ConditionInput => ({ type, status: "True", reason, message });
const no = (type: SpaceConditionType, reason: string, message: string): ConditionInput => ({ type, status: "False", reason, message });

export function computeSpaceConditions(facts: SpaceConditionFacts): ConditionInput[] {
  const { desired, observed, plan, error } = facts;
  const space = observed.space;
  const pending = (a: SpaceAspect) => plan.operations.filter((o) => o.aspect === a).length;
  const aspect = (type: SpaceConditionType, a: SpaceAspect, evaluate: () => ConditionInput): ConditionInput => {
    const blocked = facts.blocked.get(a) ?? plan.problems.find((p) => p.aspect === a);
    if (blocked) return no(type, blocked.reason, blocked.message);
    if (error !== undefined && error.kind === "permanent" && pending(a) > 0) return no(type, error.reason, error.message);
    if (pending(a) > 0) return no(type, "Applying", `Still to do: ${pending(a)} change(s)`);
    return evaluate();
  };
  const previous = (type: SpaceConditionType): ConditionInput =>
    facts.previous.find((c) => c.type === type) ?? { type, status: "Unknown", reason: "NotObserved", message: "Not checked yet" };

  const conditions: ConditionInput[] = [
    desired.deleting
      ? no("SpaceCreated", "Deleting", "The space is being deleted")
      : aspect("SpaceCreated", "space", () => (space ? yes("SpaceCreated", "Created", `Space node ${space.nid} on ${desired.uri}`) : no("SpaceCreated", "Creating", "The space is being created"))),
    aspect("QuotaEnforced", "quota", () => {
      if (space === undefined) return no("QuotaEnforced", "WaitingForSpace", "Waits until the space exists");
      const quota = desired.settings.quota;
      return space.members > quota
        ? no("QuotaEnforced", "OverQuota", `${space.members} active members, quota ${quota}: the site refuses new members until some leave or the quota is raised`)
        : yes("QuotaEnforced", "Enforced", `${space.members} of ${quota} members; the site refuses more`);
    }),
    desired.archived
      ? previous("OwnerReady")
      : aspect("OwnerReady", "owner", () => {
          const state = facts.ownerUid === undefined ? undefined : (space?.welcome[String(facts.ownerUid)] ?? observed.deep?.welcome?.state);
          if (state === "sending") return no("OwnerReady", "WelcomeUnconfirmed", "The welcome mail may not have gone out; check the site's mail log and resend by hand");
          if (state === "failed") return no("OwnerReady", "WelcomeFailed", "The site could not send the welcome mail; check its mail settings and resend by hand");
          return yes("OwnerReady", "SpaceAdmin", `${desired.owner.name} administers the space and was welcomed`);
        }),
    desired.suspended
      ? space?.published === false
        ? yes("Suspended", "Archived", "The space is archived for non-payment; its content is kept")
        : yes("Suspended", "Archiving", "The space is being archived for non-payment")
      : no("Suspended", "NotSuspended", ""),
    desired.expired
      ? yes("Expired", "Expired", "The space passed its expiry date and is archived; its content is kept")
      : desired.heldFor !== undefined
        ? no("Expired", "KeptForUpgrade", `Kept open until HostedSite ${desired.heldFor} is Ready; then its expiry applies`)
        : no("Expired", "NotExpired", ""),
    error === undefined ? yes("Synced", "ReconcileSuccess", "") : no("Synced", "ReconcileError", error.message),
  ];
  conditions.push(readyCondition(desired, conditions, plan));
  return conditions;
}

function readyCondition(desired: SpaceDesired, conditions: ConditionInput[], plan: SpacePlan): ConditionInput {
  const get = (t: SpaceConditionType) => conditions.find((c) => c.type === t);
  if (desired.deleting) return no("Ready", "Deleting", "The space is being deleted");
  if (desired.expired) return no("Ready", "Expired", get("Expired")?.message ?? "");
  if (desired.suspended) return no("Ready", "Suspended", get("Suspended")?.message ?? "");
  // Over quota is the customer's matter: the space works and refuses new members.
  const failing = (["SpaceCreated", "QuotaEnforced", "OwnerReady"] as const).map(get).find((c) => c !== undefined && c.status !== "True" && c.reason !== "OverQuota");
  if (failing) return no("Ready", failing.status === "Unknown" ? "Progressing" : failing.reason, failing.message);
  if (plan.operations.length > 0) return no("Ready", "Progressing", "Changes are being applied");
  return yes("Ready", "Available", `The space is up on ${desired.uri} as ordered`);
}
