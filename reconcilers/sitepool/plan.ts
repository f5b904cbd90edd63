// What a pool does next: at most one change per reconcile, and hostmaster tasks (installs,
// clones, deletes) only when nobody else's task is waiting in the server's serial queue. A refill
// clones a ready spare where it may (a copy costs a fraction of an install and carries the
// baseline), and installs otherwise. Pure.
import type { Spare } from "../../crds/sitepool.ts";
import { pendingTask } from "../aegir/state.ts";
import type { SpareView } from "./spares.ts";

export type PoolAction =
  | { kind: "Install"; domain: string }
  /** Copy the ready spare `source` as the new spare `domain` (Aegir's clone task, run on the source). */
  | { kind: "Clone"; domain: string; source: string }
  | { kind: "EnableFeatures"; domain: string; modules: string[] }
  | { kind: "Delete"; domain: string };

export interface PoolPlanInput {
  views: readonly SpareView[];
  target: number;
  features: readonly string[];
  platformUsable: boolean;
  /** Tasks queued or running on the server, anyone's. */
  queueBusy: boolean;
  /** HostedSites placed on the server and not in Aegir yet: their task comes next. */
  customersWaiting: number;
  /** The domain the next install would use. */
  nextDomain: string;
  /** Refills may clone a ready spare (spec.refill Clone, and the hostmaster has not refused a clone). */
  cloneAllowed?: boolean;
  /** A refill may copy the only ready spare: an install takes more than two clones (claim.ts keepsTemplate). */
  cloneLastSpare?: boolean;
  /** spec.size.max: the clone floor stays within it. */
  maxSpares?: number;
  now: Date;
}

export interface PoolPlan {
  /** The records to keep in status (before the action). */
  spares: Spare[];
  action: PoolAction | undefined;
  /** Why a refill or discard waits, if one is due. */
  waiting: string | undefined;
  counts: { ready: number; installing: number; claimed: number };
  /** The target the plan kept to: the size rule's, or the clone floor. */
  target: number;
}

/**
 * Cloning needs a spare to copy: a pool that clones and keeps any spare keeps at least two (within
 * its max), the one handed out next and one to copy from. With one, every claim empties the pool
 * and the refill after it has to install.
 */
export const CLONE_FLOOR = 2;

export function effectiveTarget(target: number, cloneAllowed: boolean, maxSpares: number): number {
  return cloneAllowed && target > 0 ? Math.max(target, Math.min(CLONE_FLOOR, maxSpares)) : target;
}

export function planPool(input: PoolPlanInput): PoolPlan {
  const { views } = input;
  const target = effectiveTarget(input.target, input.cloneAllowed === true, input.maxSpares ?? input.target);
  const keep = views.filter((v) => v.condition !== "gone");
  const spares = keep.map((v): Spare => {
    if (v.condition === "discard" || v.condition === "stuck") return { domain: v.record.domain, state: "Discarding", createdAt: v.record.createdAt };
    if (v.condition === "ready") return { ...v.record, state: "Ready" };
    return v.record;
  });
  const count = (...conditions: string[]) => keep.filter((v) => conditions.includes(v.condition)).length;
  const counts = { ready: count("ready"), installing: count("installing", "installed"), claimed: count("claimed") };
  const result = (action: PoolAction | undefined, waiting?: string, records = spares): PoolPlan => ({ spares: records, action, waiting, counts, target });

  // Enabling the baseline runs on the spare itself, not in the task queue: no need to wait.
  const installed = keep.find((v) => v.condition === "installed");
  if (installed !== undefined) return result({ kind: "EnableFeatures", domain: installed.record.domain, modules: [...input.features] });

  // One pool task at a time: the one running finishes first.
  if (keep.some((v) => v.condition === "installing" || (v.condition === "discard" && v.site !== undefined && pendingTask(v.site) !== undefined))) return result(undefined);

  let discard = keep.find((v) => v.condition === "discard" && v.site !== undefined);
  let records = spares;
  const available = counts.ready + counts.installing;
  if (discard === undefined && available > target) {
    // Beyond the target (orders slowed down): the oldest spare goes.
    discard = keep.filter((v) => v.condition === "ready").sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt))[0];
    if (discard !== undefined) {
      const domain = discard.record.domain;
      records = spares.map((s) => (s.domain === domain ? { domain, state: "Discarding", createdAt: s.createdAt } : s));
    }
  }
  const install = discard === undefined && input.platformUsable && available < target;
  if (discard === undefined && !install) return result(undefined, undefined, records);
  if (input.customersWaiting > 0 || input.queueBusy) {
    const why = input.customersWaiting > 0 ? `${input.customersWaiting} order(s) about to queue a task` : "the task queue is busy";
    return result(undefined, `Waiting: ${why}`, records);
  }
  if (discard !== undefined) return result({ kind: "Delete", domain: discard.record.domain }, undefined, records);
  const created = input.now.toISOString();
  const source = input.cloneAllowed === true ? cloneSource(keep, input.cloneLastSpare === true) : undefined;
  if (source !== undefined) {
    return result({ kind: "Clone", domain: input.nextDomain, source }, undefined, [...records, { domain: input.nextDomain, state: "Installing", createdAt: created, source }]);
  }
  return result({ kind: "Install", domain: input.nextDomain }, undefined, [...records, { domain: input.nextDomain, state: "Installing", createdAt: created }]);
}

/**
 * The spare to copy: the newest ready one, while two others are ready. Aegir refuses a source's
 * rename until its clone ends, so an order needs a spare that is no source: claims take the first
 * ready spare of the record (the oldest) and avoid a clone's source, and with two others ready two
 * orders paid during one clone both find one. With fewer ready the refill installs, unless an
 * install takes so long (`lastToo`) that an order waiting out the clone is still served sooner.
 */
export function cloneSource(views: readonly SpareView[], lastToo = false): string | undefined {
  const ready = views.filter((v) => v.condition === "ready" && v.record.claimedBy === undefined);
  if (ready.length < (lastToo ? 1 : 3)) return undefined;
  return ready.sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt))[0]?.record.domain;
}
