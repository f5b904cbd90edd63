// Wires the runtime: informers for HostedSites and AegirServers, the two controllers, leader
// election, metrics and probes, and a graceful stop.
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { AegirServer, HostedSite } from "../crds/kinds.ts";
import { AegirServerReconciler } from "../reconcilers/aegirserver/reconciler.ts";
import { assignedServer } from "../reconcilers/hostedsite/desired.ts";
import { HostedSiteReconciler, type ReconcilerConfig } from "../reconcilers/hostedsite/reconciler.ts";
import { ServerStatusCache } from "../reconcilers/hostedsite/server-status-cache.ts";
import { Controller } from "./controller.ts";
import { setupHostedSpaceController } from "./hostedspace-controller.ts";
import { ServerGate } from "./server-gate.ts";
import { DriverRegistry } from "./drivers.ts";
import { readSecretKey } from "../reconcilers/aegir/ssh/kube-secret.ts";
import { type Endpoint, serveMetrics, serveProbes } from "./http-endpoints.ts";
import { aegirServerPath, KubeAegirServerStore, KubeHostedSiteStore } from "./kube/stores.ts";
import { cacheParsers } from "./kube/cache-objects.ts";
import { EventRecorder } from "./kube/events.ts";
import { Informer, keyOf } from "./kube/informer.ts";
import { LeaderElector } from "./kube/leader-election.ts";
import { KubeRest } from "./kube/rest.ts";
import type { Logger } from "./logger.ts";
import { ControllerMetrics } from "./metrics.ts";
import { API_VERSION } from "../crds/group.ts";

export interface ManagerConfig {
  bindAddress: string;
  metricsPort: number;
  probePort: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity?: string;
  maxConcurrentReconciles: number;
  gracefulShutdownMs: number;
  sshKeyFile?: string;
  reconciler?: Partial<ReconcilerConfig>;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface RunningManager {
  metricsPort: number;
  probePort: number;
  /** Resolves when the manager stops: "stopped" after stop(), "lost" when leadership was lost. */
  done: Promise<"stopped" | "lost">;
  stop(): Promise<void>;
  isLeader(): boolean;
}

export async function startManager(config: ManagerConfig, kc: KubeConfig, log: Logger): Promise<RunningManager> {
  const metrics = new ControllerMetrics();
  const identity = config.identity ?? `${hostname()}_${process.pid}`;
  const rest = new KubeRest(kc, { observe: (e) => metrics.restRequests.inc(e), userAgent: `aegir-operator-controller (${identity})` });
  const now = () => new Date();
  // Condition times have whole seconds: compare at that resolution.
  const started = Math.floor(Date.now() / 1000) * 1000;

  // The informers are created below; the closures here run only after they exist.
  const drivers = new DriverRegistry({
    servers: () => servers.list(),
    readSecret: readSecretKey(kc),
    ...(config.sshKeyFile ? { keyFile: config.sshKeyFile } : {}),
    metrics,
    log,
  });
  const statusCache = new ServerStatusCache({
    fetch: (server) => drivers.driver(server).serverStatus(),
    now: Date.now,
    maxAgeMs: Math.max(1_000, (config.reconciler?.pollIntervalMs ?? 60_000) / 2),
  });
  const events = new EventRecorder({ rest, controller: "aegir-operator", instance: identity, log });
  const siteReconciler = new HostedSiteReconciler({
    store: new KubeHostedSiteStore(rest),
    servers: () => servers.list(),
    sites: () => sites.list(),
    driver: (server) => drivers.driver(server),
    statusCache,
    now,
    log,
    ...(config.reconciler ? { config: config.reconciler } : {}),
  });
  const serverReconciler = new AegirServerReconciler({
    store: new KubeAegirServerStore(rest),
    statusCache,
    now,
    log,
    ...(config.reconciler?.pollIntervalMs ? { pollIntervalMs: config.reconciler.pollIntervalMs } : {}),
  });

  const gate = new ServerGate();
  const siteController: Controller = new Controller({
    name: "hostedsite",
    maxConcurrentReconciles: config.maxConcurrentReconciles,
    metrics,
    log,
    reconcile: async (key) => {
      const site = sites.get(key);
      const serverName = site === undefined ? undefined : assignedServer(site);
      const limit = servers.list().find((s) => s.metadata.name === serverName)?.spec.capacity.maxConcurrentOperations;
      // Per-server cap: a busy server parks the key instead of holding a worker.
      const gated = serverName !== undefined && limit !== undefined;
      // A key woken for a slot that will not use it passes the turn on.
      if (!gated) for (const parkedKey of gate.skip(key)) siteController.enqueue(parkedKey);
      if (site === undefined) {
        // Gone from the API (deleted, or its finalizer removed by hand): drop what was kept for it.
        siteReconciler.forget(key);
        return {};
      }
      if (gated && !gate.tryEnter(serverName, limit, key)) return {};
      try {
        const before = site.status?.conditions?.find((c) => c.type === "Ready")?.status;
        const result = await siteReconciler.reconcile(site);
        const after = result.status?.conditions?.find((c) => c.type === "Ready");
        if (result.error) events.record(regardingSite(site), "Warning", "ReconcileError", "Reconcile", result.error.message);
        else if (before !== "True" && after?.status === "True") events.record(regardingSite(site), "Normal", "SiteReady", "Reconcile", after.message);
        return result;
      } finally {
        if (gated) for (const parkedKey of gate.leave(serverName)) siteController.enqueue(parkedKey);
      }
    },
  });
  const serverController = new Controller({
    name: "aegirserver",
    maxConcurrentReconciles: 1,
    metrics,
    log,
    reconcile: async (key) => {
      const server = servers.get(key);
      return server === undefined ? {} : serverReconciler.reconcile(server);
    },
  });

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
  const siteChanged = (key: string, site: HostedSite | undefined) => {
    siteController.enqueue(key);
    spaceController.siteChanged(key);
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
  };
  const spaceController = setupHostedSpaceController({ rest, driver: (server) => drivers.driver(server), sites: () => sites.list(), events, metrics, log, maxConcurrentReconciles: config.maxConcurrentReconciles, ...(config.reconciler ? { config: config.reconciler } : {}) });
  const { parseSite, parseServer } = cacheParsers();
  const sites: Informer<HostedSite> = new Informer<HostedSite>({ rest, path: `/apis/${API_VERSION}/hostedsites`, parse: parseSite, onChange: siteChanged, log });
  const servers: Informer<AegirServer> = new Informer<AegirServer>({
    rest,
    path: aegirServerPath(),
    parse: parseServer,
    onChange: (key) => {
      serverController.enqueue(key);
      // A server's platforms or limits changed: its sites look again.
      for (const site of sites.list()) if (assignedServer(site) === key) siteController.enqueue(keyOf(site));
    },
    log,
  });

  const metricsEndpoint: Endpoint = await serveMetrics(metrics.registry, config.bindAddress, config.metricsPort);
  const probes: Endpoint = await serveProbes(() => sites.hasSynced && servers.hasSynced && spaceController.hasSynced(), config.bindAddress, config.probePort);
  await Promise.all([servers.start(), sites.start(), spaceController.sync()]);

  let resolveDone!: (how: "stopped" | "lost") => void;
  const done = new Promise<"stopped" | "lost">((r) => (resolveDone = r));
  const startControllers = () => {
    serverController.start();
    siteController.start();
    spaceController.start();
  };
  let elector: LeaderElector | undefined;
  if (config.leaderElect) {
    metrics.leaderStatus.set({ name: config.leaseName }, 0);
    elector = new LeaderElector({
      rest,
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity,
      log,
      ...(config.leaseDurationMs ? { leaseDurationMs: config.leaseDurationMs } : {}),
      ...(config.renewDeadlineMs ? { renewDeadlineMs: config.renewDeadlineMs } : {}),
      ...(config.retryPeriodMs ? { retryPeriodMs: config.retryPeriodMs } : {}),
      onStartedLeading: startControllers,
      onStoppedLeading: () => resolveDone("lost"),
      onLeaderChange: (leader) => metrics.leaderStatus.set({ name: config.leaseName }, leader ? 1 : 0),
    });
    elector.start();
  } else {
    startControllers();
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({ graceMs: config.gracefulShutdownMs }, "stopping: no new work, waiting for reconciles in flight");
      const grace = config.gracefulShutdownMs;
      const clean = (await Promise.all([siteController.stop(grace), serverController.stop(grace), spaceController.stop(grace)])).every(Boolean);
      if (!clean) log.warn("grace period over with reconciles still running");
      await drivers.close(Math.max(1_000, grace / 3));
      await elector?.stop();
      clearTimeout(recount);
      sites.stop();
      servers.stop();
      await Promise.all([metricsEndpoint.close(), probes.close()]);
      resolveDone("stopped");
    })());

  return { metricsPort: metricsEndpoint.port, probePort: probes.port, done, stop, isLeader: () => elector?.isLeader ?? true };
}

function regardingSite(site: HostedSite) {
  return { apiVersion: API_VERSION, kind: "HostedSite", name: site.metadata.name, namespace: site.metadata.namespace, ...(site.metadata.uid ? { uid: site.metadata.uid } : {}) };
}
