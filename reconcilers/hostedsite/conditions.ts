// Status conditions of a HostedSite, computed from what was observed and what failed. Pure.
// Reasons are CamelCase; messages are written for a support person, not for a developer.
import type { Condition, ConditionInput } from "../../crds/conditions.ts";
import { lastTask, pendingTask } from "../aegir/state.ts";
import type { AegirError } from "../aegir/errors.ts";
import type { Desired } from "./desired.ts";
import type { Aspect, Observed, Plan } from "./plan.ts";

export const CONDITION_TYPES = [
  "Ready",
  "Synced",
  "Installed",
  "FeaturesApplied",
  "ThemeApplied",
  "QuotaEnforced",
  "OwnerReady",
  "SupportAccessReady",
  "Suspended",
  "Expired",
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const ASPECT_CONDITION: Record<Aspect, ConditionType> = {
  site: "Installed",
  features: "FeaturesApplied",
  theme: "ThemeApplied",
  quota: "QuotaEnforced",
  owner: "OwnerReady",
  support: "SupportAccessReady",
};

export interface ConditionFacts {
  desired: Desired;
  observed: Observed;
  plan: Plan;
  /** The error that ended this reconcile's apply, if any. */
  error: AegirError | undefined;
  /** Conditions as they were, kept for aspects not observed this time. */
  previous: readonly Condition[];
  /** Aspects blocked by a permanent error at this generation, with that error's reason and message. */
  blocked: ReadonlyMap<Aspect, { reason: string; message: string }>;
}

const yes = (type: ConditionType, reason: string, message: string): ConditionInput => ({ type, status: "True", reason, message });
const no = (type: ConditionType, reason: string, message: string): ConditionInput => ({ type, status: "False", reason, message });

export function computeConditions(facts: ConditionFacts): ConditionInput[] {
  const { desired, observed, plan, error } = facts;
  const pendingFor = (aspect: Aspect) => plan.operations.filter((o) => o.aspect === aspect);
  const previous = (type: ConditionType): ConditionInput =>
    facts.previous.find((c) => c.type === type) ?? { type, status: "Unknown", reason: "NotObserved", message: "Not checked yet" };

  const aspect = (type: ConditionType, a: Aspect, evaluate: () => ConditionInput): ConditionInput => {
    const blocked = facts.blocked.get(a) ?? plan.problems.find((p) => p.aspect === a);
    if (blocked) return no(type, blocked.reason, blocked.message);
    if (error !== undefined && error.kind === "permanent" && pendingFor(a).length > 0) return no(type, error.reason, error.message);
    return evaluate();
  };

  const site = observed.site;
  const installed = aspect("Installed", "site", () => installedCondition(desired, observed, plan));
  const siteUp = site !== undefined && site.status !== "queued" && site.status !== "deleted";
  const deepAspect = (type: ConditionType, a: Aspect, evaluate: () => ConditionInput) =>
    aspect(type, a, () => {
      if (!siteUp) return no(type, "WaitingForSite", "Waits until the site is installed");
      if (observed.deep === undefined) return previous(type);
      const ops = pendingFor(a);
      if (ops.length > 0) return no(type, "Applying", `Still to do: ${ops.length} change(s)`);
      return evaluate();
    });

  const conditions: ConditionInput[] = [
    installed,
    deepAspect("FeaturesApplied", "features", () => yes("FeaturesApplied", "AllEnabled", `${desired.features.length} feature(s) enabled`)),
    deepAspect("ThemeApplied", "theme", () =>
      yes("ThemeApplied", "DefaultTheme", desired.theme ? `${desired.theme} is the default theme` : "The profile's default theme is in use"),
    ),
    deepAspect("QuotaEnforced", "quota", () => {
      const active = observed.deep?.activeUsers ?? 0;
      return active > desired.userQuota
        ? no("QuotaEnforced", "OverQuota", `${active} active users, quota ${desired.userQuota}: accounts created beyond the quota are blocked; those older than the quota are kept`)
        : yes("QuotaEnforced", "WithinQuota", `${active} of ${desired.userQuota} users`);
    }),
    deepAspect("OwnerReady", "owner", () => {
      const owner = observed.deep?.owner;
      if (owner?.uid === 1) {
        return no("OwnerReady", "OwnerIsSiteAdmin", `${desired.owner.mail} belongs to the site's administrator account (uid 1); the customer needs another address`);
      }
      const marker = owner ? observed.deep?.welcome[String(owner.uid)] : undefined;
      if (marker?.state === "sending") return no("OwnerReady", "WelcomeUnconfirmed", "The welcome mail may not have gone out; check the site's mail log and resend by hand");
      if (marker?.state === "failed") return no("OwnerReady", "WelcomeFailed", "The site could not send the welcome mail; check its mail settings and resend by hand");
      return yes("OwnerReady", "AccountReady", `${desired.owner.name} has the ${desired.owner.role} role and was welcomed`);
    }),
    aspect("SupportAccessReady", "support", () => {
      if (desired.support === undefined) return no("SupportAccessReady", "NoSupportTracker", "No support tracker is configured on any AegirServer");
      if (observed.tracker === undefined) return previous("SupportAccessReady");
      const ops = pendingFor("support");
      if (ops.length > 0) return no("SupportAccessReady", "Applying", `Still to do: ${ops.length} change(s) on the support tracker`);
      return desired.expired || desired.deleting
        ? yes("SupportAccessReady", "AccessRemoved", "Support access ended with the site")
        : yes("SupportAccessReady", "AccessGranted", `${desired.support.account} has the ${desired.support.role} role on the support tracker`);
    }),
    desired.suspended
      ? site?.status === "disabled"
        ? yes("Suspended", "SiteDisabled", "The site is disabled for non-payment; its data is kept")
        : yes("Suspended", "Suspending", "The site is being disabled for non-payment")
      : no("Suspended", "NotSuspended", ""),
    desired.expired ? yes("Expired", "Expired", "The site passed its expiry date and is disabled; its data is kept") : no("Expired", "NotExpired", ""),
    error === undefined ? yes("Synced", "ReconcileSuccess", "") : no("Synced", "ReconcileError", error.message),
  ];
  conditions.push(readyCondition(desired, conditions, plan));
  return conditions;
}

function installedCondition(desired: Desired, observed: Observed, plan: Plan): ConditionInput {
  const site = observed.site;
  if (desired.deleting) return no("Installed", "Deleting", plan.wait?.message ?? "The site is being backed up and deleted");
  if (site === undefined) {
    return plan.wait?.reason === "Creating" ? no("Installed", "Creating", plan.wait.message) : no("Installed", "Creating", "The site is being created");
  }
  const install = lastTask(site, "install");
  if (site.status === "queued" || pendingTask(site)?.type === "install") return no("Installed", "Installing", "Aegir is installing the site");
  if (install?.status === "failed" && site.status !== "enabled") return no("Installed", "InstallFailed", "Aegir could not install the site; see the install task log in Aegir");
  if (site.status === "deleted") return no("Installed", "Deleted", "The site was deleted in Aegir");
  return yes("Installed", "Installed", `Installed on ${desired.platform}`);
}

const READY_PARTS: ConditionType[] = ["Installed", "FeaturesApplied", "ThemeApplied", "QuotaEnforced", "OwnerReady", "SupportAccessReady"];

function readyCondition(desired: Desired, conditions: ConditionInput[], plan: Plan): ConditionInput {
  const get = (t: ConditionType) => conditions.find((c) => c.type === t);
  if (desired.deleting) return no("Ready", "Deleting", "The site is being deleted");
  if (desired.expired) return no("Ready", "Expired", get("Expired")?.message ?? "");
  if (desired.suspended) return no("Ready", "Suspended", get("Suspended")?.message ?? "");
  // Over quota is the customer's matter: the site works while the operator blocks the excess.
  const failing = READY_PARTS.map(get).find((c) => c !== undefined && c.status !== "True" && c.reason !== "OverQuota");
  if (failing) return no("Ready", failing.status === "Unknown" ? "Progressing" : failing.reason, failing.message);
  if (plan.operations.length > 0 || plan.wait !== undefined) return no("Ready", "Progressing", plan.wait?.message ?? "Changes are being applied");
  return yes("Ready", "Available", `${siteUrl(desired)} is up as ordered`);
}

export function siteUrl(desired: Pick<Desired, "uri" | "https">): string {
  return `${desired.https === "Disabled" ? "http" : "https"}://${desired.uri}`;
}
