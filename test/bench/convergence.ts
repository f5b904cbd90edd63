// Scenarios 1 and 2: a burst of new orders, and the drush cost of new and converged sites.
//
// Latency model: the simulated Aegir's BENCHMARK_LATENCY (test/harness/aegir/latency.ts) —
// about 1 s of drush bootstrap per command (pm-enable 6 s, pm-disable 4 s, the welcome mail
// 1.5 s), install 3 min, verify 30 s, hosting-queued's 1 s pause before each task, tasks run
// one at a time per server — all multiplied by `timeFactor`. The reconciler's intervals (poll,
// drift check, progress poll, create settle, the status cache's age) are scaled by the same
// factor, so the run is the real system in fast-forward.
//
// Burst: N HostedSites created at once, spread over S simulated servers, driven by the real
// Controller/WorkQueue and HostedSiteReconciler with the per-server gate the manager uses
// (capacity.maxConcurrentOperations). Measured: wall time until every site is Ready.
// Reference (lower bound): per server, its installs run one after another (task start delay +
// install), and its drush commands cannot overlap beyond the cap; the last site still needs its
// post-install work, which a lone site on an idle server shows (T1). So
//   bound = max over servers of max((n_s - 1) * (delay + install) + T1, commandTime_s / cap).
//
// Steady state: the converged sites are then polled in rounds on a frozen clock (one round per
// poll interval, over two drift-check periods) and the simulator counts the commands: the
// shared server-status read per server per poll, and the deep reads (site-state and the tracker
// account) that the jittered drift check amortizes. The naive baseline (driftCheckMs 0: every
// site deep-read on every poll) is measured on the same sites in the same run.
import { Controller } from "../../controller/controller.ts";
import { createLogger } from "../../common/logger.ts";
import { ControllerMetrics } from "../../controller/metrics.ts";
import { ServerGate } from "../../controller/server-gate.ts";
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { DEFAULT_RECONCILER_CONFIG, HostedSiteReconciler, type HostedSiteStore, type ReconcilerConfig } from "../../reconcilers/hostedsite/reconciler.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { AegirSimulator, BENCHMARK_LATENCY, Latency, openAtriumPlatform } from "../harness/aegir/index.ts";
import { TASK_PROCESSING, TASK_QUEUED } from "../harness/aegir/model.ts";
import { aegirServer, hostedSite } from "../hostedsite/fixtures.ts";

export const PLATFORM = "platform_openatrium2652";
export const TRACKER = "support.example.com";
export const TIER_ROLES = { Basic: "customer", Standard: "customer standard", Premium: "customer premium" } as const;

export interface ConvergenceOptions {
  sites: number;
  servers: number;
  timeFactor: number;
  maxConcurrentReconciles: number;
  /** capacity.maxConcurrentOperations of every server. */
  maxConcurrentOperations: number;
  /** Steady-state rounds (one per poll interval); default: two drift-check periods. */
  steadyPolls?: number;
  baselinePolls?: number;
  /** Give up after this long (wall ms). */
  timeoutMs: number;
  /** Reconciler intervals before scaling (default: the production defaults). */
  reconciler?: Partial<ReconcilerConfig>;
}

export interface BurstResult {
  sites: number;
  servers: number;
  sitesPerServer: number[];
  seconds: number;
  /** The lone-site convergence time (T1) on the same latency model. */
  singleSiteSeconds: number;
  /** Commands the lone site needed until Ready. */
  singleSiteCommands: number;
  boundSeconds: number;
  ratio: number;
  /**
   * Commands a site cost until its own Ready: those on its own alias and its tracker reads up to
   * then, its create-site and tracker writes, and its share of the server-status reads issued
   * before the last site was Ready. (Sites Ready early keep being polled and drift-checked while
   * the others install; allCommandsPerSite includes that.)
   */
  commandsPerSite: number;
  allCommandsPerSite: number;
  commandsByName: Record<string, number>;
  reconciles: number;
  /** Wall seconds each server's task queue had nothing to run between its first and last task. */
  taskQueueIdleSeconds: number[];
}

export interface SteadyResult {
  polls: number;
  sites: number;
  servers: number;
  /** server-status reads per server per poll. */
  statusPerServerPerPoll: number;
  /** Deep commands (site-state + tracker account) per site per poll, amortized. */
  deepPerSitePerPoll: number;
  /** Every command per site per poll. */
  totalPerSitePerPoll: number;
  writes: number;
  baseline: { polls: number; totalPerSitePerPoll: number; perServerPerPoll: number };
}

interface World {
  sims: AegirSimulator[];
  serverObjects: AegirServer[];
  stores: Map<string, SiteRecord>;
  reconciler: (config: ReconcilerConfig) => HostedSiteReconciler;
  clock: { offset: number; frozen: number | undefined };
  config: ReconcilerConfig;
  close(): void;
}

export function scaledConfig(timeFactor: number, base: Partial<ReconcilerConfig> = {}): ReconcilerConfig {
  const c = { ...DEFAULT_RECONCILER_CONFIG, ...base };
  const s = (ms: number) => Math.max(1, Math.round(ms * timeFactor));
  return { pollIntervalMs: s(c.pollIntervalMs), driftCheckMs: s(c.driftCheckMs), progressPollMs: s(c.progressPollMs) };
}

export function benchServer(name: string, maxConcurrentOperations: number, tracker: boolean): AegirServer {
  return aegirServer(name, {
    capacity: { maxSites: 100_000, maxConcurrentOperations },
    platforms: [{ name: PLATFORM, profile: "openatrium" }],
    supportTracker: tracker ? { site: `@${TRACKER}`, tierRoles: TIER_ROLES } : undefined,
  });
}

export function benchSite(i: number, server: string): HostedSite {
  const domain = `site-${i}.sites.example.com`;
  return hostedSite({ domain, server, owner: { email: `owner@${domain}`, name: "owner" }, features: ["oa_wiki"] }, { name: `site-${i}`, namespace: "customers" });
}

function buildWorld(o: ConvergenceOptions): World {
  const latency = { ...BENCHMARK_LATENCY, timeFactor: o.timeFactor };
  const sims = Array.from(
    { length: o.servers },
    (_, i) =>
      new AegirSimulator({
        platforms: [openAtriumPlatform({ extraRoles: ["manager"], extraThemes: ["oa_corporate"] })],
        sites: i === 0 ? [{ uri: TRACKER, roles: Object.values(TIER_ROLES) }] : [],
        latency,
        autoRunTasks: true,
        seed: i + 1,
      }),
  );
  const serverObjects = sims.map((_, i) => benchServer(`aegir-${i + 1}`, o.maxConcurrentOperations, i === 0));
  const drivers = new Map(serverObjects.map((s, i) => [s.metadata.name, new AegirDriver({ runner: (sims[i] as AegirSimulator).runner() })]));
  const stores = new Map<string, SiteRecord>();
  for (let i = 0; i < o.sites; i++) {
    const site = benchSite(i, `aegir-${(i % o.servers) + 1}`);
    stores.set(`customers/${site.metadata.name}`, new SiteRecord(site));
  }
  const clock = { offset: 0, frozen: undefined as number | undefined };
  const nowMs = () => clock.frozen ?? Date.now() + clock.offset;
  const config = scaledConfig(o.timeFactor, o.reconciler);
  const statusCache = new ServerStatusCache({
    fetch: (server) => (drivers.get(server) as AegirDriver).serverStatus(),
    now: nowMs,
    // What the manager uses (half a poll, at least a second), on the scaled clock.
    maxAgeMs: Math.max(1, Math.round(Math.max(1_000, ({ ...DEFAULT_RECONCILER_CONFIG, ...o.reconciler }.pollIntervalMs) / 2) * o.timeFactor)),
  });
  const log = createLogger({ name: "bench", level: "silent" });
  // One store per site; the reconciler's writes go to it, so the cache view is the store's.
  const siteList = () => [...stores.values()].map((s) => s.site);
  const reconciler = (cfg: ReconcilerConfig) =>
    new HostedSiteReconciler({
      // Writes go to the store of the site being written.
      store: {
        addFinalizer: (site, f) => storeOf(stores, site).addFinalizer(site, f),
        removeFinalizer: (site, f) => storeOf(stores, site).removeFinalizer(site, f),
        annotate: (site, a) => storeOf(stores, site).annotate(site, a),
        updateStatus: (site, s) => storeOf(stores, site).updateStatus(site, s),
      },
      servers: () => serverObjects,
      sites: siteList,
      driver: (server) => {
        const d = drivers.get(server);
        if (d === undefined) throw new Error(`no server ${server}`);
        return d;
      },
      statusCache,
      now: () => new Date(nowMs()),
      log,
      events: { record: () => {} },
      config: cfg,
    });
  return { sims, serverObjects, stores, reconciler, clock, config, close: () => sims.forEach((s) => s.close()) };
}

/**
 * One site's latest object, as an informer cache holds it: reads hand out the stored object
 * (never mutated: every write stores a new one), writes bump resourceVersion. Cheaper than the
 * harness's MemoryHostedSiteStore, whose structuredClone per read would dominate the profile.
 */
export class SiteRecord implements HostedSiteStore {
  site: HostedSite;
  private version = 1;

  constructor(site: HostedSite) {
    this.site = { ...site, metadata: { ...site.metadata, resourceVersion: "1", generation: site.metadata.generation ?? 1 } };
  }

  private write(next: HostedSite): HostedSite {
    this.site = { ...next, metadata: { ...next.metadata, resourceVersion: String(++this.version) } };
    return this.site;
  }

  addFinalizer(_site: HostedSite, finalizer: string): Promise<HostedSite> {
    const list = this.site.metadata.finalizers ?? [];
    return Promise.resolve(this.write({ ...this.site, metadata: { ...this.site.metadata, finalizers: list.includes(finalizer) ? list : [...list, finalizer] } }));
  }

  removeFinalizer(_site: HostedSite, finalizer: string): Promise<void> {
    this.write({ ...this.site, metadata: { ...this.site.metadata, finalizers: (this.site.metadata.finalizers ?? []).filter((f) => f !== finalizer) } });
    return Promise.resolve();
  }

  annotate(_site: HostedSite, annotations: Record<string, string | null>): Promise<HostedSite> {
    const next: Record<string, string> = { ...this.site.metadata.annotations };
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    return Promise.resolve(this.write({ ...this.site, metadata: { ...this.site.metadata, annotations: next } }));
  }

  updateStatus(_site: HostedSite, status: HostedSiteStatus): Promise<HostedSite> {
    return Promise.resolve(this.write({ ...this.site, status }));
  }
}

function storeOf(stores: Map<string, SiteRecord>, site: HostedSite): SiteRecord {
  const store = stores.get(`${site.metadata.namespace}/${site.metadata.name}`);
  if (store === undefined) throw new Error(`no store for ${site.metadata.name}`);
  return store;
}

const isReady = (site: { status?: HostedSite["status"] } | undefined) => site?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True" && c.reason === "Available") ?? false;

/** Runs the controller until every site is Ready; returns the wall time and the reconcile count. */
async function converge(world: World, o: ConvergenceOptions): Promise<{ seconds: number; reconciles: number; idleMs: number[]; readyAt: Map<string, number> }> {
  const reconciler = world.reconciler(world.config);
  const gate = new ServerGate();
  const ready = new Set<string>();
  const readyAt = new Map<string, number>();
  let reconciles = 0;
  let allReady!: () => void;
  const done = new Promise<void>((r) => (allReady = r));
  const controller: Controller = new Controller({
    name: "hostedsite",
    maxConcurrentReconciles: o.maxConcurrentReconciles,
    metrics: new ControllerMetrics(),
    log: createLogger({ name: "bench", level: "silent" }),
    reconcile: async (key) => {
      const store = world.stores.get(key);
      if (store === undefined) return {};
      const site = store.site;
      const server = site.spec.server ?? site.status?.server;
      const limit = world.serverObjects.find((s) => s.metadata.name === server)?.spec.capacity.maxConcurrentOperations;
      const gated = server !== undefined && limit !== undefined;
      if (gated && !gate.tryEnter(server, limit, key)) return {};
      try {
        reconciles++;
        const result = await reconciler.reconcile(site);
        if (isReady(store.site)) {
          ready.add(key);
          if (!readyAt.has(key)) readyAt.set(key, Date.now());
          if (ready.size === world.stores.size) allReady();
        } else ready.delete(key);
        return result;
      } finally {
        if (gated) for (const parked of gate.leave(server)) controller.enqueue(parked);
      }
    },
  });
  const stopSampling = sampleTaskQueues(world.sims);
  const started = performance.now();
  for (const key of world.stores.keys()) controller.enqueue(key);
  controller.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), o.timeoutMs)));
  const outcome = await Promise.race([done.then(() => "ok" as const), timedOut]);
  const seconds = (performance.now() - started) / 1000;
  clearTimeout(timer);
  const idleMs = stopSampling();
  await controller.stop(5_000);
  if (outcome === "timeout") throw new Error(`burst: only ${ready.size} of ${world.stores.size} sites Ready after ${o.timeoutMs} ms`);
  return { seconds, reconciles, idleMs, readyAt };
}

function ownCommandsUntilReady(world: World, readyAt: Map<string, number>): number {
  const readyOf = new Map<string, number>();
  for (const [key, at] of readyAt) {
    const site = world.stores.get(key)?.site;
    if (site) readyOf.set(`@${site.spec.domain}`, at);
  }
  const last = Math.max(...readyAt.values());
  let own = 0;
  let shared = 0;
  for (const sim of world.sims) {
    for (const r of sim.stats.records) {
      const until = r.alias === undefined ? undefined : readyOf.get(r.alias);
      if (until !== undefined) {
        // Each deep read of the site comes with one read of its tracker account.
        if (r.at <= until) own += r.name === "php-eval:site-state" ? 2 : 1;
      } else if (r.name === "php-eval:create-site" || (r.kind === "write" && r.alias === `@${TRACKER}`)) own++;
      else if (r.name === "php-eval:server-status" && r.at <= last) shared++;
    }
  }
  return (own + shared) / Math.max(1, readyAt.size);
}

/** Samples each server's task queue: wall ms it sat empty between its first and last task. */
function sampleTaskQueues(sims: AegirSimulator[], everyMs = 20): () => number[] {
  const idle = sims.map(() => ({ started: false, idleMs: 0, idleSinceLastBusy: 0 }));
  const busy = (sim: AegirSimulator) => {
    for (const t of sim.hostmaster.tasks.values()) if (t.status === TASK_QUEUED || t.status === TASK_PROCESSING) return true;
    return false;
  };
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    sims.forEach((sim, i) => {
      const s = idle[i] as (typeof idle)[number];
      if (busy(sim)) {
        if (s.started) s.idleMs += s.idleSinceLastBusy;
        s.started = true;
        s.idleSinceLastBusy = 0;
      } else if (s.started) s.idleSinceLastBusy += now - last;
    });
    last = now;
  }, everyMs);
  return () => {
    clearInterval(timer);
    return idle.map((s) => s.idleMs);
  };
}

export async function runBurst(o: ConvergenceOptions): Promise<{ burst: BurstResult; steady: SteadyResult }> {
  // T1: one site on an idle server, same latency model.
  const lone = buildWorld({ ...o, sites: 1, servers: 1 });
  let single: number;
  let singleCommands: number;
  try {
    single = (await converge(lone, { ...o, sites: 1, servers: 1 })).seconds;
    singleCommands = (lone.sims[0] as AegirSimulator).stats.count();
  } finally {
    lone.close();
  }

  const world = buildWorld(o);
  try {
    const { seconds, reconciles, idleMs, readyAt } = await converge(world, o);
    const latency = new Latency({ ...BENCHMARK_LATENCY, timeFactor: o.timeFactor });
    const sitesPerServer = world.serverObjects.map((s) => [...world.stores.values()].filter((st) => st.site.status?.server === s.metadata.name).length);
    const perInstall = (latency.task("install") + latency.taskStartDelay()) / 1000;
    const bounds = world.sims.map((sim, i) => {
      const serial = Math.max(0, (sitesPerServer[i] ?? 0) - 1) * perInstall + single;
      const commandMs = sim.stats.records.reduce((sum, r) => sum + latency.command(r.name), 0);
      return Math.max(serial, commandMs / 1000 / o.maxConcurrentOperations);
    });
    const boundSeconds = Math.max(...bounds);
    const commandsPerSite = ownCommandsUntilReady(world, readyAt);
    const commandsByName: Record<string, number> = {};
    let total = 0;
    for (const sim of world.sims) {
      for (const [name, n] of Object.entries(sim.stats.counts().byName)) commandsByName[name] = (commandsByName[name] ?? 0) + n;
      total += sim.stats.count();
    }
    const burst: BurstResult = {
      sites: o.sites,
      servers: o.servers,
      sitesPerServer,
      seconds,
      singleSiteSeconds: single,
      singleSiteCommands: singleCommands,
      boundSeconds,
      ratio: seconds / boundSeconds,
      commandsPerSite,
      allCommandsPerSite: total / o.sites,
      commandsByName,
      reconciles,
      taskQueueIdleSeconds: idleMs.map((ms) => ms / 1000),
    };
    const steady = await steadyState(world, o);
    return { burst, steady };
  } finally {
    world.close();
  }
}

/** Poll every converged site once per round on a frozen clock, as the requeues would. */
async function pollRounds(world: World, reconciler: HostedSiteReconciler, rounds: number, cap: number): Promise<void> {
  const byServer = new Map<string, SiteRecord[]>();
  for (const store of world.stores.values()) {
    const server = store.site.status?.server ?? "";
    byServer.set(server, [...(byServer.get(server) ?? []), store]);
  }
  for (let round = 0; round < rounds; round++) {
    world.clock.frozen = (world.clock.frozen ?? Date.now()) + world.config.pollIntervalMs;
    await Promise.all(
      [...byServer.values()].map(async (stores) => {
        let next = 0;
        await Promise.all(
          Array.from({ length: cap }, async () => {
            while (next < stores.length) {
              const store = stores[next++] as SiteRecord;
              const result = await reconciler.reconcile(store.site);
              if (result.error !== undefined) throw result.error;
            }
          }),
        );
      }),
    );
  }
}

async function steadyState(world: World, o: ConvergenceOptions): Promise<SteadyResult> {
  const polls = o.steadyPolls ?? Math.max(1, Math.round((2 * world.config.driftCheckMs) / world.config.pollIntervalMs));
  const baselinePolls = o.baselinePolls ?? 5;
  // A fresh controller would deep-read everything once; start from the burst's reconciler state
  // instead: one warm-up round with a reconciler that has seen every site, then measure.
  const reconciler = world.reconciler(world.config);
  world.clock.frozen = Date.now();
  await pollRounds(world, reconciler, 1, o.maxConcurrentOperations);
  world.sims.forEach((s) => s.stats.reset());
  await pollRounds(world, reconciler, polls, o.maxConcurrentOperations);
  const count = (name: string) => world.sims.reduce((n, s) => n + s.stats.count(name), 0);
  const total = world.sims.reduce((n, s) => n + s.stats.count(), 0);
  const writes = world.sims.reduce((n, s) => n + s.stats.counts().writes, 0);
  const deep = count("php-eval") - count("php-eval:server-status");
  const sites = world.stores.size;
  const statusReads = count("php-eval:server-status");

  const naive = world.reconciler({ ...world.config, driftCheckMs: 0 });
  await pollRounds(world, naive, 1, o.maxConcurrentOperations);
  world.sims.forEach((s) => s.stats.reset());
  await pollRounds(world, naive, baselinePolls, o.maxConcurrentOperations);
  const baselineTotal = world.sims.reduce((n, s) => n + s.stats.count(), 0);
  return {
    polls,
    sites,
    servers: o.servers,
    statusPerServerPerPoll: statusReads / o.servers / polls,
    deepPerSitePerPoll: deep / sites / polls,
    totalPerSitePerPoll: total / sites / polls,
    writes,
    baseline: { polls: baselinePolls, totalPerSitePerPoll: baselineTotal / sites / baselinePolls, perServerPerPoll: baselineTotal / o.servers / baselinePolls },
  };
}
