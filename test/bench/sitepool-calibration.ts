// The calibration of the warm-pool model: the real controllers (Controller work queues, the
// HostedSite reconciler with its spare claims, the SitePool reconciler, the server-status cache)
// against the simulated Aegir with the warm-pool durations, everything time-scaled by the same
// factor as in convergence.ts. Stores are in memory; a write enqueues what an informer's watch
// would (the site itself and the pools). One workload, pool on and off; what it measures
// (paid to welcome mail per order, in unscaled seconds) is compared with the discrete-event
// model on the same arrivals.
import { createLogger } from "../../common/logger.ts";
import { Controller } from "../../controller/controller.ts";
import { ControllerMetrics } from "../../controller/metrics.ts";
import type { HostedSite, SitePool } from "../../crds/kinds.ts";
import { SitePoolSpec } from "../../crds/sitepool.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { DEFAULT_RECONCILER_CONFIG, HostedSiteReconciler } from "../../reconcilers/hostedsite/reconciler.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { ASSUMED_CLONE_SECONDS, SpareClaims } from "../../reconcilers/sitepool/claim.ts";
import { SitePoolReconciler, type SitePoolStore } from "../../reconcilers/sitepool/reconciler.ts";
import { DEFAULT_RENAME_TIMING } from "../../reconcilers/sitepool/rename-timing.ts";
import { type Installer, poolLatency } from "../harness/aegir/durations.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { TASK_SUCCESS } from "../harness/aegir/model.ts";
import { MemorySitePoolStore } from "../harness/memory-sitepool-store.ts";
import { MemoryHostedSiteStore } from "../harness/memory-store.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";
import { benchServer, PLATFORM, scaledConfig, TIER_ROLES, TRACKER } from "./convergence.ts";

export interface CalibrationOptions {
  /** Order arrival times, unscaled ms from the start. */
  arrivals: readonly number[];
  timeFactor: number;
  pool: { min: number; max: number } | undefined;
  /** The installer's duration (fast unless given). */
  installer?: Installer;
  seed: number;
  timeoutMs: number;
}

export interface CalibrationResult {
  /** Per order, paid to welcome mail, unscaled ms. */
  welcomeMs: number[];
  /** Spares ready when the first order came. */
  initialSpares: number;
  /** Every command the simulated Aegir ran after the first order came, unscaled ms from then. */
  commands: Array<{ at: number; name: string; alias: string | undefined }>;
  /** Per order, when its own task (install or rename) ended, unscaled ms from its arrival. */
  taskEndMs: number[];
  /** Refills by clone the pool started (the initial fill's included). */
  clones: number;
}

const POOL = "aegir-1-openatrium";

export async function runCalibration(o: CalibrationOptions): Promise<CalibrationResult> {
  const f = o.timeFactor;
  const sim = new AegirSimulator({
    platforms: [openAtriumPlatform({ extraRoles: ["manager"], extraThemes: ["oa_corporate"] })],
    sites: [{ uri: TRACKER, roles: Object.values(TIER_ROLES) }],
    latency: poolLatency(o.installer ?? "fast", f),
    autoRunTasks: true,
    seed: o.seed,
  });
  const servers = [benchServer("aegir-1", 8, true)];
  const driver = new AegirDriver({ runner: sim.runner() });
  const config = scaledConfig(f);
  // What the manager uses: half a poll.
  const statusCache = new ServerStatusCache({ fetch: () => driver.serverStatus(), now: Date.now, maxAgeMs: Math.max(1, Math.round((DEFAULT_RECONCILER_CONFIG.pollIntervalMs / 2) * f)) });
  const log = createLogger({ name: "bench", level: "silent" });
  const metrics = new ControllerMetrics();
  const stores = new Map<string, MemoryHostedSiteStore>();
  const siteList = () => [...stores.values()].map((s) => s.site);
  const pools = new MemorySitePoolStore(o.pool === undefined ? [] : [sitePool(o.pool, f)]);

  const controllers: { site?: Controller; pool?: Controller } = {};
  // A write is a watch event: the object's own controller and the pools hear of it.
  const changed = (key?: string) => {
    if (key !== undefined) controllers.site?.enqueue(key);
    if (o.pool !== undefined) controllers.pool?.enqueue(POOL);
  };
  const keyOf = (site: HostedSite) => `${site.metadata.namespace}/${site.metadata.name}`;
  const storeOf = (site: HostedSite) => stores.get(keyOf(site)) as MemoryHostedSiteStore;
  const poolStore: SitePoolStore = {
    get: (name) => pools.get(name),
    updateStatus: async (pool, status) => {
      const written = await pools.updateStatus(pool, status);
      changed();
      return written;
    },
  };
  const now = () => new Date();
  const sitePools = new SitePoolReconciler({ store: poolStore, servers: () => servers, sites: siteList, driver: () => driver, statusCache, now, log, progressPollMs: config.progressPollMs, pollIntervalMs: config.pollIntervalMs });
  const renameTiming = { ...DEFAULT_RENAME_TIMING, defaultEstimateMs: DEFAULT_RENAME_TIMING.defaultEstimateMs * f, tightPollMs: DEFAULT_RENAME_TIMING.tightPollMs * f };
  const claims = new SpareClaims({ pools: () => pools.list(), store: poolStore, servers: () => servers, statusCache, driver: () => driver, now, log, renameTiming });
  const write =
    <A extends unknown[], R>(fn: (store: MemoryHostedSiteStore, site: HostedSite, ...args: A) => Promise<R>) =>
    async (site: HostedSite, ...args: A): Promise<R> => {
      const result = await fn(storeOf(site), site, ...args);
      changed(keyOf(site));
      return result;
    };
  const sites = new HostedSiteReconciler({
    store: {
      addFinalizer: write((s, site, finalizer: string) => s.addFinalizer(site, finalizer)),
      removeFinalizer: write((s, site, finalizer: string) => s.removeFinalizer(site, finalizer)),
      annotate: write((s, site, annotations: Record<string, string | null>) => s.annotate(site, annotations)),
      updateStatus: write((s, site, status: NonNullable<HostedSite["status"]>) => s.updateStatus(site, status)),
    },
    servers: () => servers,
    sites: siteList,
    driver: () => driver,
    statusCache,
    now,
    random: Math.random,
    log,
    events: { record: () => {} },
    config,
    spares: claims,
  });
  const siteController = new Controller({
    name: "hostedsite",
    maxConcurrentReconciles: 8,
    metrics,
    log,
    reconcile: async (key) => {
      const store = stores.get(key);
      return store === undefined ? {} : sites.reconcile(store.site);
    },
  });
  const poolController = new Controller({ name: "sitepool", maxConcurrentReconciles: 1, metrics, log, reconcile: async (name) => sitePools.reconcile(pools.pool(name)) });

  controllers.site = siteController;
  controllers.pool = poolController;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const sampler: { timer?: ReturnType<typeof setInterval> } = {};
  try {
    poolController.start();
    siteController.start();
    changed();
    const deadline = Date.now() + o.timeoutMs;
    // Filled: as many ready as the pool's target (its clone floor included), nothing under way.
    const filled = () => {
      const status = pools.list()[0]?.status;
      return o.pool === undefined || (status?.target !== undefined && (status.ready ?? 0) >= Math.max(o.pool.min, status.target) && (status.installing ?? 0) === 0);
    };
    while (!filled()) {
      if (Date.now() > deadline) throw new Error("calibration: the pool did not fill");
      await new Promise((r) => setTimeout(r, 5));
    }
    const initialSpares = pools.list()[0]?.status?.ready ?? 0;
    const created: number[] = [];
    const welcomed: number[] = [];
    const taskEnded: number[] = [];
    const start = performance.now();
    const commands: CalibrationResult["commands"] = [];
    sim.stats.onCommand((r) => commands.push({ at: (performance.now() - start) / f, name: r.name, alias: r.alias }));
    o.arrivals.forEach((at, i) => {
      timers.push(
        setTimeout(() => {
          const domain = `order-${i}.sites.example.com`;
          const site = hostedSite({ domain, owner: { email: `owner@${domain}`, name: "owner" }, features: ["oa_wiki"] }, { name: `order-${i}`, namespace: "customers", creationTimestamp: new Date().toISOString() });
          stores.set(keyOf(site), new MemoryHostedSiteStore(site));
          created[i] = performance.now();
          changed(keyOf(site));
        }, at * f),
      );
    });
    await new Promise<void>((resolve, reject) => {
      sampler.timer = setInterval(() => {
        o.arrivals.forEach((_, i) => {
          if (welcomed[i] !== undefined || created[i] === undefined) return;
          const mail = sim.site(`order-${i}.sites.example.com`)?.drupal?.outbox.some((m) => m.kind === "register_admin_created");
          if (mail) welcomed[i] = performance.now();
          if (taskEnded[i] === undefined && created[i] !== undefined && ownTaskEnded(sim, `order-${i}.sites.example.com`)) taskEnded[i] = performance.now();
        });
        if (o.arrivals.every((_, i) => welcomed[i] !== undefined)) resolve();
        else if (performance.now() - start > o.timeoutMs) reject(new Error(`calibration: ${welcomed.filter((w) => w !== undefined).length} of ${o.arrivals.length} welcomed in time`));
      }, 2);
    });
    const since = (at: number[]) => at.map((w, i) => (w - (created[i] as number)) / f);
    return { welcomeMs: since(welcomed), initialSpares, commands, taskEndMs: since(taskEnded), clones: pools.list()[0]?.status?.clones ?? 0 };
  } finally {
    clearInterval(sampler.timer);
    timers.forEach(clearTimeout);
    await Promise.all([siteController.stop(2_000), poolController.stop(2_000)]);
    sim.close();
  }
}

/**
 * The pool; until a clone is seen it assumes ASSUMED_CLONE_SECONDS for one, which is time-scaled
 * here like every other duration (carried as the status's last clone time).
 */
function sitePool(size: { min: number; max: number }, timeFactor: number): SitePool {
  const spec = SitePoolSpec.parse({ server: "aegir-1", platform: PLATFORM, features: ["oa_wiki"], size });
  return { apiVersion: "hosting.openatria.com/v1alpha1", kind: "SitePool", metadata: { name: POOL, generation: 1 }, spec, status: { cloneSeconds: Math.max(1, Math.round(ASSUMED_CLONE_SECONDS * timeFactor)) } };
}

/** The order's site exists under its domain and its install or rename (migrate) task has finished. */
function ownTaskEnded(sim: AegirSimulator, domain: string): boolean {
  const node = sim.site(domain);
  if (node === undefined) return false;
  const own = [...sim.hostmaster.tasks.values()].filter((t) => t.rid === node.nid && (t.type === "install" || t.type === "migrate")).sort((a, b) => b.nid - a.nid)[0];
  return own !== undefined && own.status === TASK_SUCCESS;
}
