// The HostedSpace controller, self-contained: its informer, workqueue and reconciler, the
// shared cache of space lists, and its watch on HostedSites (a space waits for its shared
// site). The manager creates it, starts it with the others and stops it.
import type { HostedSite, HostedSpace } from "../crds/kinds.ts";
import { API_VERSION } from "../crds/group.ts";
import type { AegirDriver } from "../reconcilers/aegir/driver.ts";
import { SpaceDriver, type SpaceList } from "../reconcilers/aegir/spaces.ts";
import { ServerStatusCache } from "../reconcilers/hostedsite/server-status-cache.ts";
import { sharedSiteKey } from "../reconcilers/hostedspace/desired.ts";
import { HostedSpaceReconciler, type SpaceReconcilerConfig } from "../reconcilers/hostedspace/reconciler.ts";
import { Controller } from "./controller.ts";
import { hostedSpacesPath, KubeHostedSpaceStore, parseSpace } from "./kube/hostedspaces.ts";
import type { EventRecorder } from "./kube/events.ts";
import { Informer, keyOf } from "./kube/informer.ts";
import type { KubeRest } from "./kube/rest.ts";
import type { Logger } from "./logger.ts";
import type { ControllerMetrics } from "./metrics.ts";

export interface HostedSpaceControllerOptions {
  rest: KubeRest;
  driver: (server: string) => AegirDriver;
  sites: () => readonly HostedSite[];
  events: EventRecorder;
  metrics: ControllerMetrics;
  log: Logger;
  maxConcurrentReconciles: number;
  config?: Partial<SpaceReconcilerConfig>;
}

export interface HostedSpaceController {
  /** Start the informer; resolves after its first list. */
  sync(): Promise<void>;
  hasSynced(): boolean;
  /** Start reconciling (when leading). */
  start(): void;
  /** A HostedSite changed: the spaces living in it look again. */
  siteChanged(key: string): void;
  stop(graceMs: number): Promise<boolean>;
}

export function setupHostedSpaceController(o: HostedSpaceControllerOptions): HostedSpaceController {
  const pollIntervalMs = o.config?.pollIntervalMs ?? 60_000;
  // Key: "<server> <site URI>"; one space-list read per shared site within half a poll.
  const lists = new ServerStatusCache<SpaceList>({
    fetch: (key) => {
      const [server = "", uri = ""] = key.split(" ");
      return new SpaceDriver(o.driver(server)).list(uri);
    },
    now: Date.now,
    maxAgeMs: Math.max(1_000, pollIntervalMs / 2),
  });
  const reconciler = new HostedSpaceReconciler({ store: new KubeHostedSpaceStore(o.rest), sites: o.sites, driver: o.driver, lists, now: () => new Date(), log: o.log, ...(o.config ? { config: o.config } : {}) });
  const controller: Controller = new Controller({
    name: "hostedspace",
    maxConcurrentReconciles: o.maxConcurrentReconciles,
    metrics: o.metrics,
    log: o.log,
    reconcile: async (key) => {
      const space = spaces.get(key);
      if (space === undefined) {
        reconciler.forget(key);
        return {};
      }
      const before = space.status?.conditions?.find((c) => c.type === "Ready")?.status;
      const result = await reconciler.reconcile(space);
      const after = result.status?.conditions?.find((c) => c.type === "Ready");
      if (result.error) o.events.record(regarding(space), "Warning", "ReconcileError", "Reconcile", result.error.message);
      else if (before !== "True" && after?.status === "True") o.events.record(regarding(space), "Normal", "SpaceReady", "Reconcile", after.message);
      return result;
    },
  });
  const spaces: Informer<HostedSpace> = new Informer<HostedSpace>({ rest: o.rest, path: hostedSpacesPath(), parse: parseSpace(), onChange: (key) => controller.enqueue(key), log: o.log });
  return {
    sync: () => spaces.start(),
    hasSynced: () => spaces.hasSynced,
    start: () => controller.start(),
    siteChanged: (key) => {
      for (const space of spaces.list()) if (sharedSiteKey(space) === key) controller.enqueue(keyOf(space));
    },
    async stop(graceMs) {
      const clean = await controller.stop(graceMs);
      spaces.stop();
      return clean;
    },
  };
}

function regarding(space: HostedSpace) {
  return { apiVersion: API_VERSION, kind: "HostedSpace", name: space.metadata.name, namespace: space.metadata.namespace, ...(space.metadata.uid ? { uid: space.metadata.uid } : {}) };
}
