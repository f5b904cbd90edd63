// A warm pool against the simulated Aegir: the pool reconciler and HostedSite reconcilers (one
// per "replica", each with its own claimer) sharing in-memory stores, with a clock the test moves.
import { createLogger } from "../../common/logger.ts";
import type { EventRecorder } from "../../common/events.ts";
import type { HostedSite, SitePool } from "../../crds/kinds.ts";
import { type RefillKind, SitePoolSpec, type SitePoolSpec as PoolSpec } from "../../crds/sitepool.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { HostedSiteReconciler } from "../../reconcilers/hostedsite/reconciler.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { SpareClaims } from "../../reconcilers/sitepool/claim.ts";
import { type PoolObserver, SitePoolReconciler } from "../../reconcilers/sitepool/reconciler.ts";
import type { ServerPoolSummary } from "../../reconcilers/sitepool/server-summary.ts";
import { MemoryHostedSiteStore } from "../harness/memory-store.ts";
import { MemorySitePoolStore } from "../harness/memory-sitepool-store.ts";
import { CONFIG, PLATFORM, server, simulator } from "../hostedsite/harness.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";

export { PLATFORM };
export const BASELINE = ["oa_wiki"];

export function sitePool(spec: Partial<PoolSpec> = {}, name = "aegir-1-openatrium"): SitePool {
  return {
    apiVersion: "hosting.openatria.com/v1alpha1",
    kind: "SitePool",
    metadata: { name, generation: 1 },
    spec: SitePoolSpec.parse({ server: "aegir-1", platform: PLATFORM, features: BASELINE, size: { min: 1, max: 2 }, ...spec }),
  };
}

const silent = createLogger({ name: "test", level: "silent" });
const events: EventRecorder = { record: () => {} };

export class PoolRig {
  readonly sim = simulator();
  readonly pools: MemorySitePoolStore;
  readonly sites = new Map<string, MemoryHostedSiteStore>();
  servers = [server()];
  now = new Date("2027-03-01T09:00:00Z");
  readonly claims: number[] = [];
  /** What the pool reconciler wrote into the AegirServer's status.pool (applied to `servers`). */
  readonly serverPoolWrites: ServerPoolSummary[] = [];
  refills = 0;
  /** Claims' tasks started beside a pool task. */
  besides = 0;
  readonly refillKinds: RefillKind[] = [];
  readonly driver = new AegirDriver({ runner: this.sim.runner() });
  readonly cache = new ServerStatusCache({ fetch: () => this.driver.serverStatus(), now: () => this.now.getTime(), maxAgeMs: 0 });
  pool: SitePoolReconciler;
  private nonce = 0;
  private readonly observer: PoolObserver = { observed: () => {}, refill: (_pool, kind) => {
      this.refills++;
      this.refillKinds.push(kind);
    }, claimed: (_pool, seconds) => this.claims.push(seconds), besideRefill: () => this.besides++ };

  constructor(pools: SitePool[] = [sitePool()]) {
    this.pools = new MemorySitePoolStore(pools);
    this.pool = this.newPoolReconciler();
  }

  newPoolReconciler(cache = this.cache): SitePoolReconciler {
    return new SitePoolReconciler({
      store: this.pools,
      servers: () => this.servers,
      sites: () => this.siteList(),
      driver: () => this.driver,
      statusCache: cache,
      now: () => this.now,
      log: silent,
      observer: this.observer,
      nonce: () => String(this.nonce++),
      serverPool: {
        pools: () => this.pools.list(),
        write: (name, summary) => {
          this.serverPoolWrites.push(summary);
          this.servers = this.servers.map((s) => (s.metadata.name === name ? { ...s, status: { ...s.status, pool: summary } } : s));
          return Promise.resolve();
        },
      },
    });
  }

  /** A HostedSite reconciler with its own claimer: one controller replica (with its own status cache, if given). */
  replica(cache = this.cache): HostedSiteReconciler {
    const claims = new SpareClaims({
      pools: () => this.pools.list(),
      store: this.pools,
      servers: () => this.servers,
      statusCache: cache,
      driver: () => this.driver,
      now: () => this.now,
      log: silent,
      observer: this.observer,
    });
    return new HostedSiteReconciler({
      store: { addFinalizer: (s, f) => this.store(s).addFinalizer(s, f), removeFinalizer: (s, f) => this.store(s).removeFinalizer(s, f), annotate: (s, a) => this.store(s).annotate(s, a), updateStatus: (s, st) => this.store(s).updateStatus(s, st) },
      servers: () => this.servers,
      sites: () => this.siteList(),
      driver: () => this.driver,
      statusCache: cache,
      now: () => this.now,
      random: () => 0.5,
      log: silent,
      events,
      config: CONFIG,
      spares: claims,
    });
  }

  order(name: string, spec: Parameters<typeof hostedSite>[0] = {}): MemoryHostedSiteStore {
    const store = new MemoryHostedSiteStore(hostedSite({ domain: `${name}.sites.example.com`, ...spec }, { name, creationTimestamp: this.now.toISOString() }));
    this.sites.set(name, store);
    return store;
  }

  site(name: string): HostedSite {
    const store = this.sites.get(name);
    if (store === undefined) throw new Error(`no HostedSite ${name}`);
    return store.site;
  }

  spares(name = "aegir-1-openatrium") {
    return this.pools.pool(name).status?.spares ?? [];
  }

  /** Pool reconciles, running Aegir's queue after each, until it stops changing. */
  async fillPool(name = "aegir-1-openatrium", rounds = 20): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      const before = JSON.stringify(this.pools.pool(name).status);
      await this.pool.reconcile(this.pools.pool(name));
      const { queue } = await this.driver.serverStatus();
      this.sim.drainTasks();
      this.advance(5_000);
      if (JSON.stringify(this.pools.pool(name).status) === before && queue.queued + queue.processing === 0) return;
    }
  }

  /** Reconcile a site with a replica (Aegir's queue runs after), following requeues until Ready. */
  async converge(name: string, replica = this.replica(), rounds = 40): Promise<number> {
    for (let round = 1; round <= rounds; round++) {
      const result = await replica.reconcile(this.site(name));
      this.sim.drainTasks();
      const ready = this.site(name).status?.conditions?.find((c) => c.type === "Ready");
      if (ready?.status === "True" && ready.reason === "Available" && result.error === undefined) return round;
      this.advance(result.error ? 1_000 : (result.requeueAfterMs ?? CONFIG.pollIntervalMs));
    }
    throw new Error(`${name} not converged: ${JSON.stringify(this.site(name).status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))}`);
  }

  /** A status cache that keeps a read for an hour: a replica whose view of Aegir lags behind. */
  staleCache(onFetch: () => void = () => {}): ServerStatusCache {
    return new ServerStatusCache({ fetch: () => (onFetch(), this.driver.serverStatus()), now: () => this.now.getTime(), maxAgeMs: 3_600_000 });
  }

  /** Claims as a HostedSite reconciler makes them, through `cache`, seeing the pools `pools` gives. */
  spareClaims(cache: ServerStatusCache, pools: () => SitePool[] = () => this.pools.list()): SpareClaims {
    return new SpareClaims({ pools, store: this.pools, servers: () => this.servers, statusCache: cache, driver: () => this.driver, now: () => this.now, log: silent });
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  /** Turn the hostmaster's hosting_clone feature off (it is off on a fresh hostmaster). */
  disableClone(): void {
    const front = this.sim.hostmaster.sites.get(this.sim.hostmaster.context("hostmaster") ?? -1)?.drupal;
    if (front === undefined) throw new Error("no hostmaster site");
    front.modules = front.modules.filter((m) => m !== "hosting_clone");
  }

  /** Task types run on a site node, by the domain it has now. */
  tasksOf(domain: string): string[] {
    const nid = this.sim.site(domain)?.nid;
    return [...this.sim.hostmaster.tasks.values()].filter((t) => t.rid === nid).map((t) => t.type);
  }

  /** Live spare sites in Aegir, by domain. */
  async liveSpares(): Promise<string[]> {
    return (await this.driver.serverStatus()).sites.filter((s) => s.status !== "deleted" && s.uri.endsWith(".pool.invalid")).map((s) => s.uri);
  }

  private siteList(): HostedSite[] {
    return [...this.sites.values()].filter((s) => !s.gone).map((s) => s.site);
  }

  private store(site: HostedSite): MemoryHostedSiteStore {
    const store = this.sites.get(site.metadata.name);
    if (store === undefined) throw new Error(`no HostedSite ${site.metadata.name}`);
    return store;
  }
}
