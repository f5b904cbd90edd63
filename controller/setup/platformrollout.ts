// The PlatformRollout controller: one key per rollout, one worker, sites read from the shared
// HostedSite cache, rollouts from the shared PlatformRollout cache (the HostedSite controller
// reads it too, to place new sites on a rollout's platform).
import { PlatformRolloutReconciler } from "../../reconcilers/platformrollout/reconciler.ts";
import { Controller } from "../controller.ts";
import { KubeRolloutStore } from "../kube/platformrollouts.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";

export function setupPlatformRollout(infra: Infrastructure): Runnable {
  const reconciler = new PlatformRolloutReconciler({
    store: new KubeRolloutStore(infra.rest),
    sites: () => infra.sites.list(),
    driver: (server) => infra.drivers.driver(server),
    events: infra.events,
    now: infra.now,
    log: infra.log,
    progressPollMs: infra.reconciler.progressPollMs ?? 5_000,
    pollIntervalMs: infra.reconciler.pollIntervalMs ?? 60_000,
    onQueued: (server) => infra.statusCache.invalidate(server),
  });
  const controller: Controller = new Controller({
    name: "platformrollout",
    maxConcurrentReconciles: 1,
    metrics: infra.metrics,
    log: infra.log,
    reconcile: async (key) => {
      const rollout = infra.rollouts.get(key);
      return rollout === undefined ? {} : reconciler.reconcile(rollout);
    },
  });
  infra.watchRollouts((key) => controller.enqueue(key));
  return { name: controller.name, start: () => controller.start(), stop: (graceMs) => controller.stop(graceMs) };
}
