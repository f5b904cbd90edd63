// Builds the shared infrastructure (API client, informers, SSH drivers, the server status cache,
// events, metrics and probes), runs every controller's setup, starts them under leader election
// and stops them gracefully.
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeRest } from "../common/kube/rest.ts";
import type { Logger } from "../common/logger.ts";
import { API_VERSION } from "../crds/group.ts";
import type { AegirServer, HostedSite, PlatformRollout, SitePool } from "../crds/kinds.ts";
import { readSecretKey } from "../reconcilers/aegir/ssh/kube-secret.ts";
import type { ReconcilerConfig } from "../reconcilers/hostedsite/reconciler.ts";
import { ServerStatusCache } from "../reconcilers/hostedsite/server-status-cache.ts";
import { DriverRegistry } from "./drivers.ts";
import { type Endpoint, serveMetrics, serveProbes } from "./http-endpoints.ts";
import { cacheParsers } from "./kube/cache-objects.ts";
import { KubeEventRecorder } from "./kube/events.ts";
import { Informer } from "./kube/informer.ts";
import { LeaderElector } from "./kube/leader-election.ts";
import { platformRolloutParser, platformRolloutPath } from "./kube/platformrollouts.ts";
import { sitePoolPath } from "./kube/sitepool-store.ts";
import { aegirServerPath } from "./kube/stores.ts";
import { ControllerMetrics } from "./metrics.ts";
import type { ChangeHandler, Infrastructure, Setup } from "./runnable.ts";
import { setupAegirServer } from "./setup/aegirserver.ts";
import { setupBackups } from "./setup/backups.ts";
import { setupRestore } from "./setup/restore.ts";
import { setupHostedSite } from "./setup/hostedsite.ts";
import { setupHostedSpace } from "./setup/hostedspace.ts";
import { setupPlatformRollout } from "./setup/platformrollout.ts";
import { setupSitePool } from "./setup/sitepool.ts";

/** Every controller this binary runs; a new kind adds its setup here. */
const SETUPS: readonly Setup[] = [setupAegirServer, setupHostedSite, setupHostedSpace, setupBackups, setupRestore, setupSitePool, setupPlatformRollout];

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
  const events = new KubeEventRecorder({ rest, controller: "aegir-operator", instance: identity, log });

  const siteWatchers: Array<ChangeHandler<HostedSite>> = [];
  const serverWatchers: Array<ChangeHandler<AegirServer>> = [];
  const poolWatchers: Array<ChangeHandler<SitePool>> = [];
  const rolloutWatchers: Array<ChangeHandler<PlatformRollout>> = [];
  const { parseSite, parseServer, parsePool } = cacheParsers();
  const sites = new Informer<HostedSite>({ rest, path: `/apis/${API_VERSION}/hostedsites`, parse: parseSite, onChange: (k, o) => siteWatchers.forEach((w) => w(k, o)), log });
  const servers: Informer<AegirServer> = new Informer<AegirServer>({ rest, path: aegirServerPath(), parse: parseServer, onChange: (k, o) => serverWatchers.forEach((w) => w(k, o)), log });
  const pools = new Informer<SitePool>({ rest, path: sitePoolPath(), parse: parsePool, onChange: (k, o) => poolWatchers.forEach((w) => w(k, o)), log });
  const rollouts = new Informer<PlatformRollout>({ rest, path: platformRolloutPath(), parse: platformRolloutParser(), onChange: (k, o) => rolloutWatchers.forEach((w) => w(k, o)), log });
  const infra: Infrastructure = {
    rest,
    metrics,
    log,
    events,
    now,
    drivers,
    statusCache,
    sites,
    servers,
    pools,
    rollouts,
    watchSites: (handler) => siteWatchers.push(handler),
    watchServers: (handler) => serverWatchers.push(handler),
    watchPools: (handler) => poolWatchers.push(handler),
    watchRollouts: (handler) => rolloutWatchers.push(handler),
    maxConcurrentReconciles: config.maxConcurrentReconciles,
    reconciler: config.reconciler ?? {},
  };
  const runnables = SETUPS.map((setup) => setup(infra));
  const informers = [servers, sites, pools, rollouts, ...runnables.flatMap((r) => r.informers ?? [])];

  const metricsEndpoint: Endpoint = await serveMetrics(metrics.registry, config.bindAddress, config.metricsPort);
  const probes: Endpoint = await serveProbes(() => informers.every((i) => i.hasSynced), config.bindAddress, config.probePort);
  await Promise.all(informers.map((i) => i.start()));

  let resolveDone!: (how: "stopped" | "lost") => void;
  const done = new Promise<"stopped" | "lost">((r) => (resolveDone = r));
  const startControllers = () => runnables.forEach((r) => r.start());
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
      const clean = (await Promise.all(runnables.map((r) => r.stop(grace)))).every(Boolean);
      if (!clean) log.warn("grace period over with reconciles still running");
      await drivers.close(Math.max(1_000, grace / 3));
      await elector?.stop();
      informers.forEach((i) => i.stop());
      await Promise.all([metricsEndpoint.close(), probes.close()]);
      resolveDone("stopped");
    })());

  return { metricsPort: metricsEndpoint.port, probePort: probes.port, done, stop, isLeader: () => elector?.isLeader ?? true };
}
