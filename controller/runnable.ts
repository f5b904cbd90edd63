// What the manager builds once and shares, and what each reconciler plugs in (controller-runtime's
// Runnable and builder): a setup owns its reconciler, its gate, its watches and its metrics, so a
// new kind is one more setup, not more wiring in the manager.
import type { EventRecorder } from "../common/events.ts";
import type { Logger } from "../common/logger.ts";
import type { AegirServer, HostedSite, PlatformRollout, SitePool } from "../crds/kinds.ts";
import type { ReconcilerConfig } from "../reconcilers/hostedsite/reconciler.ts";
import type { ServerStatusCache } from "../reconcilers/hostedsite/server-status-cache.ts";
import type { DriverRegistry } from "./drivers.ts";
import type { KubeRest } from "../common/kube/rest.ts";
import type { ControllerMetrics } from "./metrics.ts";

/** A read-only view of an informer's cache. */
export interface Cache<T> {
  get(key: string): T | undefined;
  list(): T[];
}

export type ChangeHandler<T> = (key: string, object: T | undefined) => void;

export interface Infrastructure {
  rest: KubeRest;
  metrics: ControllerMetrics;
  log: Logger;
  events: EventRecorder;
  now: () => Date;
  drivers: DriverRegistry;
  statusCache: ServerStatusCache;
  sites: Cache<HostedSite>;
  servers: Cache<AegirServer>;
  pools: Cache<SitePool>;
  rollouts: Cache<PlatformRollout>;
  /** Called for every change the informer sees, from before leadership on (caches and gauges stay current). */
  watchSites(handler: ChangeHandler<HostedSite>): void;
  watchServers(handler: ChangeHandler<AegirServer>): void;
  watchPools(handler: ChangeHandler<SitePool>): void;
  watchRollouts(handler: ChangeHandler<PlatformRollout>): void;
  maxConcurrentReconciles: number;
  reconciler: Partial<ReconcilerConfig>;
}

export interface Runnable {
  name: string;
  /** Runs once this replica leads. */
  start(): void;
  /** Stop taking work; resolves true when what was in flight finished within the grace period. */
  stop(graceMs: number): Promise<boolean>;
  /** Informers of the setup's own kind: the manager starts them with the shared ones (before leading) and waits for them in readiness. */
  informers?: readonly OwnedInformer[];
}

export interface OwnedInformer {
  start(): Promise<void>;
  readonly hasSynced: boolean;
  stop(): void;
}

export type Setup = (infra: Infrastructure) => Runnable;
