// The HostedSite's status after a reconcile, from how it ended. Pure: the one place status is
// computed, whatever path the reconcile took.
import { type Condition, mergeConditions, replaceConditions, timestamp } from "../../crds/conditions.ts";
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import type { HostedSite } from "../../crds/kinds.ts";
import type { AegirError } from "../aegir/errors.ts";
import type { ApplyResult } from "./apply.ts";
import { computeConditions, siteUrl } from "./conditions.ts";
import type { Desired } from "./desired.ts";
import type { Aspect, Observed, Plan } from "./plan.ts";

export type Outcome =
  /** Observed, planned and (partly) applied. */
  | {
      kind: "converged";
      desired: Desired;
      observed: Observed;
      plan: Plan;
      applied: ApplyResult;
      /** Aspects blocked by a permanent error at this generation. */
      blocked: ReadonlyMap<Aspect, { reason: string; message: string }>;
    }
  /** The site cannot be worked on as specified (placement, server, platform). */
  | { kind: "problem"; reason: string; message: string }
  /** A spare is being renamed into the site (reconcilers/sitepool/claim.ts). */
  | { kind: "claiming"; server: string; message: string }
  /** The server could not be read: everything else stays as last seen. */
  | { kind: "unreachable"; server: string; error: AegirError };

export function buildStatus(site: HostedSite, outcome: Outcome, now: Date): HostedSiteStatus {
  const previous = site.status ?? {};
  const generation = site.metadata.generation ?? 0;
  const conditions = previous.conditions ?? [];
  switch (outcome.kind) {
    case "problem": {
      const { reason, message } = outcome;
      const next = mergeConditions(
        conditions,
        [
          { type: "Installed", status: "False", reason, message },
          { type: "Synced", status: "False", reason: "ReconcileError", message },
          { type: "Ready", status: "False", reason, message },
        ],
        generation,
        now,
      );
      return { ...previous, observedGeneration: generation, conditions: [...next, ...conditions.filter((c) => !next.some((n) => n.type === c.type))] };
    }
    case "claiming": {
      const { message } = outcome;
      const next = mergeConditions(
        conditions,
        [
          { type: "Installed", status: "False", reason: "ClaimingSpare", message },
          { type: "Synced", status: "True", reason: "ClaimingSpare", message },
          { type: "Ready", status: "False", reason: "ClaimingSpare", message },
        ],
        generation,
        now,
      );
      return { ...previous, observedGeneration: generation, server: outcome.server, conditions: [...next, ...conditions.filter((c) => !next.some((n) => n.type === c.type))] };
    }
    case "unreachable": {
      const message = `Cannot read Aegir server ${outcome.server}: ${outcome.error.message}`;
      return { ...previous, conditions: replaceConditions(conditions, [{ type: "Synced", status: "False", reason: outcome.error.reason, message }], generation, now) };
    }
    case "converged":
      return convergedStatus(site, outcome, now);
  }
}

function convergedStatus(site: HostedSite, outcome: Extract<Outcome, { kind: "converged" }>, now: Date): HostedSiteStatus {
  const { desired, observed, plan, applied, blocked } = outcome;
  const previous = site.status ?? {};
  const generation = site.metadata.generation ?? 0;
  const conditions = computeConditions({ desired, observed, plan, error: applied.failed?.error, previous: previous.conditions ?? [], blocked });
  // Every ordered feature seen enabled is the operator's to disable once it leaves the spec.
  const features = new Set(previous.appliedFeatures ?? []);
  const enabledNow = new Set(observed.deep?.modules ?? []);
  for (const f of desired.features) if (enabledNow.has(f)) features.add(f);
  for (const op of applied.applied) {
    if (op.kind === "EnableModules" && op.aspect === "features") op.modules.forEach((m) => features.add(m));
    if (op.kind === "DisableModules") op.modules.forEach((m) => features.delete(m));
  }
  const owner = observed.deep?.owner;
  const marker = owner ? observed.deep?.welcome[String(owner.uid)] : undefined;
  const welcome = applied.welcomed ?? (marker ? { at: new Date(marker.at * 1000), state: marker.state } : undefined);
  const account = observed.tracker;
  return {
    ...previous,
    observedGeneration: generation,
    server: desired.server,
    platform: observed.site?.platform ?? previous.platform ?? desired.platform,
    url: siteUrl(desired),
    owner: {
      ...previous.owner,
      name: owner?.name ?? previous.owner?.name ?? desired.owner.name,
      ...(owner && owner.uid > 1 ? { uid: owner.uid } : {}),
      ...(welcome && !previous.owner?.welcomedAt ? { welcomedAt: timestamp(welcome.at), welcome: WELCOME_STATE[welcome.state] } : {}),
    },
    users: observed.deep ? { active: observed.deep.activeUsers, quota: desired.userQuota } : (previous.users ?? { active: 0, quota: desired.userQuota }),
    appliedFeatures: [...features].sort(),
    ...(desired.support && account !== undefined
      ? { support: account ? { account: account.name, ...(account.roles.includes(desired.support.role) ? { role: desired.support.role } : {}) } : {} }
      : {}),
    conditions: [...mergeConditions(previous.conditions ?? [], conditions, generation, now), ...foreignConditions(previous.conditions ?? [], conditions)],
  };
}

/** Conditions other controllers report on the site (BackupsCurrent, TaskStuck): kept as they are. */
function foreignConditions(previous: readonly Condition[], mine: readonly { type: string }[]): Condition[] {
  return previous.filter((c) => !mine.some((m) => m.type === c.type));
}

const WELCOME_STATE = { sent: "Sent", sending: "Unconfirmed", failed: "Failed" } as const;
