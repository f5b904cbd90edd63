// The HostedSite controller: its reconciler, the per-server gate, its watches (sites, and the
// sites of a changed server) and its gauges.
import type { HostedSite } from "../../crds/kinds.ts";
import { assignedServer } from "../../reconcilers/hostedsite/desired.ts";
import { HostedSiteReconciler } from "../../reconcilers/hostedsite/reconciler.ts";
import { SpareClaims } from "../../reconcilers/sitepool/claim.ts";
import { Controller } from "../controller.ts";
import { keyOf } from "../kube/informer.ts";
import { KubeSitePoolStore } from "../kube/sitepool-store.ts";
import { KubeHostedSiteStore } from "../kube/stores.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";
import { ServerGate } from "../server-gate.ts";
import { sitePoolMetrics } from "../sitepool-metrics.ts";

export function setupHostedSite(infra: Infrastructure): Runnable {
  const { sites, servers, metrics, log } = infra;
  const reconciler = new HostedSiteReconciler({
    store: new KubeHostedSiteStore(infra.rest),
    servers: () => servers.list(),
    sites: () => sites.list(),
    driver: (server) => infra.drivers.driver(server),
    statusCache: infra.statusCache,
    now: infra.now,
    log,
    events: infra.events,
    config: infra.reconciler,
    rollouts: () => infra.rollouts.list(),
    spares: new SpareClaims({
      pools: () => infra.pools.list(),
      store: new KubeSitePoolStore(infra.rest),
      servers: () => servers.list(),
      statusCache: infra.statusCache,
      driver: (server) => infra.drivers.driver(server),
      now: infra.now,
      log,
      observer: sitePoolMetrics(metrics.registry),
    }),
  });
  const gate = new ServerGate();
  const controller: Controller = new Controller({
    name: "hostedsite",
    maxConcurrentReconciles: infra.maxConcurrentReconciles,
    metrics,
    log,
    reconcile: async (key) => {
      const site = sites.get(key);
      const serverName = site === undefined ? undefined : assignedServer(site);
      const limit = servers.list().find((s) => s.metadata.name === serverName)?.spec.capacity.maxConcurrentOperations;
      // Per-server cap: a busy server parks the key instead of holding a worker.
      const gated = serverName !== undefined && limit !== undefined;
      // A key woken for a slot that will not use it passes the turn on.
      if (!gated) for (const parkedKey of gate.skip(key)) controller.enqueue(parkedKey);
      if (site === undefined) {
        // Gone from the API (deleted, or its finalizer removed by hand): drop what was kept for it.
        reconciler.forget(key);
        return {};
      }
      if (gated && !gate.tryEnter(serverName, limit, key)) return {};
      try {
        return await reconciler.reconcile(site);
      } finally {
        if (gated) for (const parkedKey of gate.leave(serverName)) controller.enqueue(parkedKey);
      }
    },
  });

  // Condition times have whole seconds: compare at that resolution.
  const started = Math.floor(infra.now().getTime() / 1000) * 1000;
  /** Sites whose first Ready was observed, by key (the uid tells a re-created site apart); dropped with the site. */
  const firstReady = new Map<string, string>();
  // The sites-by-Ready gauge is recounted at most every 250 ms, not on every change: recounting
  // all sites per event made an initial list of N sites cost O(N²).
  let recount: ReturnType<typeof setTimeout> | undefined;
  const countReady = () => {
    recount = undefined;
    const counts = { True: 0, False: 0, Unknown: 0 };
    for (const s of sites.list()) counts[s.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Unknown"]++;
    for (const [status, n] of Object.entries(counts)) metrics.sitesByReady.set({ status }, n);
  };
  infra.watchSites((key: string, site: HostedSite | undefined) => {
    controller.enqueue(key);
    if (recount === undefined) {
      recount = setTimeout(countReady, 250);
      recount.unref();
    }
    if (site === undefined) firstReady.delete(key);
    const ready = site?.status?.conditions?.find((c) => c.type === "Ready");
    const uid = site?.metadata.uid;
    if (site && uid && ready?.status === "True" && firstReady.get(key) !== uid && Date.parse(ready.lastTransitionTime) >= started) {
      firstReady.set(key, uid);
      const created = Date.parse(site.metadata.creationTimestamp ?? "");
      if (!Number.isNaN(created)) metrics.timeToFirstReady.observe((Date.parse(ready.lastTransitionTime) - created) / 1000);
    }
  });
  // A server's platforms or limits changed, or it went away: its sites look again.
  infra.watchServers((name) => {
    for (const site of sites.list()) if (assignedServer(site) === name || site.status?.server === name) controller.enqueue(keyOf(site));
  });

  return {
    name: controller.name,
    start: () => controller.start(),
    stop: async (graceMs) => {
      clearTimeout(recount);
      return controller.stop(graceMs);
    },
  };
}
