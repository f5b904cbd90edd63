// The HostedSpace controller: its own informer, its reconciler, the shared cache of space lists
// (one batched read per shared site per poll), and its watch on HostedSites (a space waits for
// its shared site, and follows it when it goes).
import type { HostedSpace } from "../../crds/kinds.ts";
import { watchedSiteKeys } from "../../reconcilers/hostedspace/desired.ts";
import { DEFAULT_SPACE_RECONCILER_CONFIG, HostedSpaceReconciler } from "../../reconcilers/hostedspace/reconciler.ts";
import { spaceListCache } from "../../reconcilers/hostedspace/space-lists.ts";
import { Controller } from "../controller.ts";
import { hostedSpacesPath, KubeHostedSpaceStore, parseSpace } from "../kube/hostedspaces.ts";
import { Informer, keyOf } from "../kube/informer.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";

export function setupHostedSpace(infra: Infrastructure): Runnable {
  const { pollIntervalMs = DEFAULT_SPACE_RECONCILER_CONFIG.pollIntervalMs, progressPollMs = DEFAULT_SPACE_RECONCILER_CONFIG.progressPollMs } = infra.reconciler;
  const lists = spaceListCache({ driver: (server) => infra.drivers.driver(server), now: Date.now, maxAgeMs: Math.max(1_000, pollIntervalMs / 2) });
  const reconciler = new HostedSpaceReconciler({
    store: new KubeHostedSpaceStore(infra.rest),
    sites: () => infra.sites.list(),
    driver: (server) => infra.drivers.driver(server),
    lists,
    now: infra.now,
    log: infra.log,
    events: infra.events,
    config: { pollIntervalMs, progressPollMs },
  });
  const controller: Controller = new Controller({
    name: "hostedspace",
    maxConcurrentReconciles: infra.maxConcurrentReconciles,
    metrics: infra.metrics,
    log: infra.log,
    reconcile: async (key) => {
      const space = spaces.get(key);
      if (space === undefined) {
        reconciler.forget(key);
        return {};
      }
      return reconciler.reconcile(space);
    },
  });
  const spaces: Informer<HostedSpace> = new Informer<HostedSpace>({ rest: infra.rest, path: hostedSpacesPath(), parse: parseSpace(), onChange: (key) => controller.enqueue(key), log: infra.log });
  // A HostedSite changed: the spaces living in it (installed, or going) or superseded by it (Ready) look again.
  infra.watchSites((key) => {
    for (const space of spaces.list()) if (watchedSiteKeys(space).includes(key)) controller.enqueue(keyOf(space));
  });
  return { name: controller.name, start: () => controller.start(), stop: (graceMs) => controller.stop(graceMs), informers: [spaces] };
}
