// The SitePool controller: one worker, watching SitePools, and the HostedSites and AegirServers
// that change what a pool should do (an order arrives, a platform changes).
import { assignedServer } from "../../reconcilers/hostedsite/desired.ts";
import { SitePoolReconciler } from "../../reconcilers/sitepool/reconciler.ts";
import { KubeSitePoolStore } from "../kube/sitepool-store.ts";
import { KubeAegirServerStore } from "../kube/stores.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";
import { sitePoolMetrics } from "../sitepool-metrics.ts";
import { cachedController, runnable } from "./cached-controller.ts";

export function setupSitePool(infra: Infrastructure): Runnable {
  const { pools } = infra;
  const servers = new KubeAegirServerStore(infra.rest);
  const reconciler = new SitePoolReconciler({
    store: new KubeSitePoolStore(infra.rest),
    servers: () => infra.servers.list(),
    sites: () => infra.sites.list(),
    driver: (server) => infra.drivers.driver(server),
    statusCache: infra.statusCache,
    now: infra.now,
    log: infra.log,
    observer: sitePoolMetrics(infra.metrics.registry),
    serverPool: { pools: () => pools.list(), write: (server, summary) => servers.patchPool(server, summary) },
    ...(infra.reconciler.progressPollMs ? { progressPollMs: infra.reconciler.progressPollMs } : {}),
    ...(infra.reconciler.pollIntervalMs ? { pollIntervalMs: infra.reconciler.pollIntervalMs } : {}),
  });
  const controller = cachedController(infra, { name: "sitepool", get: (key) => pools.get(key), reconcile: (pool) => reconciler.reconcile(pool) });
  const poolsOf = (server: string | undefined) => {
    for (const pool of pools.list()) if (pool.spec.server === server) controller.enqueue(pool.metadata.name);
  };
  infra.watchPools((key) => controller.enqueue(key));
  infra.watchSites((_key, site) => poolsOf(site === undefined ? undefined : assignedServer(site)));
  infra.watchServers((name) => poolsOf(name));
  return runnable(controller);
}
