// What a pool does next: at most one change per reconcile, and hostmaster tasks (installs,
// deletes) only when nobody else's task is waiting in the server's serial queue. Pure.
import type { Spare } from "../../crds/sitepool.ts";
import { pendingTask } from "../aegir/state.ts";
import type { SpareView } from "./spares.ts";

export type PoolAction =
  | { kind: "Install"; domain: string }
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
  now: Date;
}

export interface PoolPlan {
  /** The records to keep in status (before the action). */
  spares: Spare[];
  action: PoolAction | undefined;
  /** Why a refill or discard waits, if one is due. */
  waiting: string | undefined;
  counts: { ready: number; installing: number; claimed: number };
}

export function planPool(input: PoolPlanInput): PoolPlan {
  const { views } = input;
  const keep = views.filter((v) => v.condition !== "gone");
  const spares = keep.map((v): Spare => {
    if (v.condition === "discard" || v.condition === "stuck") return { domain: v.record.domain, state: "Discarding", createdAt: v.record.createdAt };
    if (v.condition === "ready") return { ...v.record, state: "Ready" };
    return v.record;
  });
  const count = (...conditions: string[]) => keep.filter((v) => conditions.includes(v.condition)).length;
  const counts = { ready: count("ready"), installing: count("installing", "installed"), claimed: count("claimed") };
  const result = (action: PoolAction | undefined, waiting?: string, records = spares): PoolPlan => ({ spares: records, action, waiting, counts });

  // Enabling the baseline runs on the spare itself, not in the task queue: no need to wait.
  const installed = keep.find((v) => v.condition === "installed");
  if (installed !== undefined) return result({ kind: "EnableFeatures", domain: installed.record.domain, modules: [...input.features] });

  // One pool task at a time: the one running finishes first.
  if (keep.some((v) => v.condition === "installing" || (v.condition === "discard" && v.site !== undefined && pendingTask(v.site) !== undefined))) return result(undefined);

  let discard = keep.find((v) => v.condition === "discard" && v.site !== undefined);
  let records = spares;
  const available = counts.ready + counts.installing;
  if (discard === undefined && available > input.target) {
    // Beyond the target (orders slowed down): the oldest spare goes.
    discard = keep.filter((v) => v.condition === "ready").sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt))[0];
    if (discard !== undefined) {
      const domain = discard.record.domain;
      records = spares.map((s) => (s.domain === domain ? { domain, state: "Discarding", createdAt: s.createdAt } : s));
    }
  }
  const install = discard === undefined && input.platformUsable && available < input.target;
  if (discard === undefined && !install) return result(undefined, undefined, records);
  if (input.customersWaiting > 0 || input.queueBusy) {
    const why = input.customersWaiting > 0 ? `${input.customersWaiting} order(s) about to queue a task` : "the task queue is busy";
    return result(undefined, `Waiting: ${why}`, records);
  }
  if (discard !== undefined) return result({ kind: "Delete", domain: discard.record.domain }, undefined, records);
  return result({ kind: "Install", domain: input.nextDomain }, undefined, [...records, { domain: input.nextDomain, state: "Installing", createdAt: input.now.toISOString() }]);
}
