// The HostedSiteRestore controller: its own informer over HostedSiteRestores (started with
// leadership), one worker, sites read from the shared HostedSite cache.
import { RestoreReconciler } from "../../reconcilers/restore/reconciler.ts";
import type { Controller } from "../controller.ts";
import { Informer } from "../kube/informer.ts";
import { KubeRestoreStore, restoreParser, restorePath } from "../kube/restores.ts";
import type { HostedSiteRestore } from "../../crds/kinds.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";
import { cachedController } from "./cached-controller.ts";

export function setupRestore(infra: Infrastructure): Runnable {
  const reconciler = new RestoreReconciler({
    store: new KubeRestoreStore(infra.rest),
    site: (namespace, name) => infra.sites.get(`${namespace}/${name}`),
    driver: (server) => infra.drivers.driver(server),
    events: infra.events,
    now: infra.now,
    log: infra.log,
    progressPollMs: infra.reconciler.progressPollMs ?? 5_000,
    onQueued: (server) => infra.statusCache.invalidate(server),
  });
  const controller: Controller = cachedController(infra, { name: "hostedsiterestore", get: (key) => restores.get(key), reconcile: (restore) => reconciler.reconcile(restore) });
  const restores: Informer<HostedSiteRestore> = new Informer<HostedSiteRestore>({
    rest: infra.rest,
    path: restorePath(),
    parse: restoreParser(),
    onChange: (key) => controller.enqueue(key),
    log: infra.log,
  });
  return {
    name: controller.name,
    start: () => {
      void restores.start();
      controller.start();
    },
    stop: async (graceMs) => {
      restores.stop();
      return controller.stop(graceMs);
    },
  };
}
