// The PlatformRollout controller: one key per rollout, one worker, sites read from the shared
// HostedSite cache, rollouts from the shared PlatformRollout cache (the HostedSite controller
// reads it too, to place new sites on a rollout's platform).
import { PlatformRolloutReconciler } from "../../reconcilers/platformrollout/reconciler.ts";
import { KubeRolloutStore } from "../kube/platformrollouts.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";
import { cachedController, runnable } from "./cached-controller.ts";

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
  const controller = cachedController(infra, { name: "platformrollout", get: (key) => infra.rollouts.get(key), reconcile: (rollout) => reconciler.reconcile(rollout) });
  infra.watchRollouts((key) => controller.enqueue(key));
  return runnable(controller);
}
