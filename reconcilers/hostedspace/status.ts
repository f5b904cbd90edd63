// The HostedSpace's status after a reconcile, from how it ended. Pure: the one place status is
// computed, whatever path the reconcile took.
import { mergeConditions, replaceConditions, timestamp } from "../../crds/conditions.ts";
import type { HostedSpaceStatus } from "../../crds/hostedspace.ts";
import type { HostedSpace } from "../../crds/kinds.ts";
import type { AegirError } from "../aegir/errors.ts";
import type { SpaceApplyResult } from "./apply.ts";
import { computeSpaceConditions } from "./conditions.ts";
import type { SpaceDesired } from "./desired.ts";
import type { SpaceAspect, SpaceObserved, SpacePlan } from "./plan.ts";

export type SpaceOutcome =
  /** Observed, planned and (partly) applied. */
  | {
      kind: "converged";
      desired: SpaceDesired;
      observed: SpaceObserved;
      plan: SpacePlan;
      applied: SpaceApplyResult;
      /** Aspects blocked by a permanent error at this generation. */
      blocked: ReadonlyMap<SpaceAspect, { reason: string; message: string }>;
    }
  /** The space cannot be worked on yet or as specified (its shared site). */
  | { kind: "problem"; reason: string; message: string }
  /** The shared site could not be read: everything else stays as last seen. */
  | { kind: "unreachable"; uri: string; error: AegirError };

const WELCOME_STATE = { sent: "Sent", sending: "Unconfirmed", failed: "Failed" } as const;

export function buildSpaceStatus(space: HostedSpace, outcome: SpaceOutcome, now: Date): HostedSpaceStatus {
  const previous = space.status ?? {};
  const generation = space.metadata.generation ?? 0;
  const conditions = previous.conditions ?? [];
  switch (outcome.kind) {
    case "problem": {
      const { reason, message } = outcome;
      const conditionsNow = replaceConditions(
        conditions,
        [
          { type: "Synced", status: "False", reason: "ReconcileError", message },
          { type: "Ready", status: "False", reason, message },
        ],
        generation,
        now,
      );
      return { ...previous, observedGeneration: generation, conditions: conditionsNow };
    }
    case "unreachable": {
      const message = `Cannot read the spaces of ${outcome.uri}: ${outcome.error.message}`;
      return { ...previous, conditions: replaceConditions(conditions, [{ type: "Synced", status: "False", reason: outcome.error.reason, message }], generation, now) };
    }
    case "converged":
      return convergedStatus(space, outcome, now);
  }
}

function convergedStatus(space: HostedSpace, outcome: Extract<SpaceOutcome, { kind: "converged" }>, now: Date): HostedSpaceStatus {
  const { desired, observed, plan, applied, blocked } = outcome;
  const previous = space.status ?? {};
  const generation = space.metadata.generation ?? 0;
  const uid = applied.ownerUid ?? validOwnerUid(observed) ?? previous.owner?.uid;
  const conditions = computeSpaceConditions({ desired, observed, plan, error: applied.failed?.error, previous: previous.conditions ?? [], blocked, ownerUid: uid });
  const seen = uid === undefined ? undefined : (observed.space?.welcome[String(uid)] ?? observed.deep?.welcome?.state);
  const deepAt = observed.deep?.welcome ? new Date(observed.deep.welcome.at * 1000) : now;
  const welcome = applied.welcomed ?? (seen ? { at: deepAt, state: seen } : undefined);
  const nid = observed.space?.nid ?? previous.nid;
  return {
    ...previous,
    observedGeneration: generation,
    server: desired.server,
    siteUri: desired.uri,
    ...(nid === undefined ? {} : { nid, url: `${desired.https ? "https" : "http"}://${desired.uri}/node/${nid}` }),
    owner: {
      ...previous.owner,
      name: desired.owner.name,
      ...(uid !== undefined && uid > 1 ? { uid } : {}),
      ...(welcome && !previous.owner?.welcomedAt ? { welcomedAt: timestamp(welcome.at), welcome: WELCOME_STATE[welcome.state] } : {}),
    },
    members: { active: observed.space?.members ?? previous.members?.active ?? 0, quota: desired.settings.quota },
    conditions: mergeConditions(previous.conditions ?? [], conditions, generation, now),
  };
}

/** The owner's uid from the deep read, unless it is an account that must never own a space. */
export function validOwnerUid(observed: SpaceObserved): number | undefined {
  const owner = observed.deep?.owner;
  return owner && owner.uid > 1 && !owner.siteAdmin ? owner.uid : undefined;
}
