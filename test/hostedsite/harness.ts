// A HostedSite reconciler wired to the simulated Aegir (in-process) and an in-memory store,
// with a clock the test moves.
import { createLogger } from "../../common/logger.ts";
import type { HostedSite } from "../../crds/kinds.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import type { CommandRunner } from "../../reconcilers/aegir/runner.ts";
import type { EventRecorder } from "../../common/events.ts";
import type { Result } from "../../common/reconcile.ts";
import { HostedSiteReconciler } from "../../reconcilers/hostedsite/reconciler.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { MemoryHostedSiteStore } from "../harness/memory-store.ts";
import { aegirServer, hostedSite } from "./fixtures.ts";

export const PLATFORM = "platform_openatrium2652";
export const TRACKER = "support.example.com";
export const CONFIG = { pollIntervalMs: 60_000, driftCheckMs: 1_800_000, progressPollMs: 5_000 };

export function server() {
  return aegirServer("aegir-1", {
    platforms: [{ name: PLATFORM, profile: "openatrium" }],
    supportTracker: { site: `@${TRACKER}`, tierRoles: { Basic: "customer", Standard: "customer standard", Premium: "customer premium" } },
  });
}

/** autoRunTasks false: tasks wait for drainTasks(), so tests decide when Aegir works. */
export function simulator(seed = 1, autoRunTasks = false) {
  return new AegirSimulator({
    platforms: [openAtriumPlatform({ extraRoles: ["manager"], extraThemes: ["oa_corporate"] })],
    sites: [{ uri: TRACKER, roles: ["customer", "customer standard", "customer premium"] }],
    autoRunTasks,
    seed,
  });
}

export class Rig {
  readonly sim: AegirSimulator;
  readonly store: MemoryHostedSiteStore;
  now = new Date("2027-03-01T09:00:00Z");
  /** The AegirServers in the cluster; a test removes one to see what happens to its sites. */
  servers = [server()];
  /** Events the reconciler recorded, as `Type Reason: note`. */
  readonly events: string[] = [];
  reconciler: HostedSiteReconciler;
  private readonly cache: ServerStatusCache;
  private readonly driver: AegirDriver;

  /** `runner`: how the driver reaches the simulator (in-process by default; SSH in integration tests). */
  constructor(site: HostedSite = hostedSite(), sim = simulator(), runner: CommandRunner = sim.runner()) {
    this.sim = sim;
    this.store = new MemoryHostedSiteStore(site);
    this.driver = new AegirDriver({ runner });
    this.cache = new ServerStatusCache({ fetch: () => this.driver.serverStatus(), now: () => this.now.getTime(), maxAgeMs: 30_000 });
    this.reconciler = this.newReconciler();
  }

  /** A fresh reconciler, as after a controller restart: no memory, same cluster and server. */
  restart(): void {
    this.reconciler = this.newReconciler();
    this.cache.invalidate("aegir-1");
  }

  async reconcile(): Promise<Result> {
    const result = await this.reconciler.reconcile(this.store.site);
    this.sim.drainTasks();
    return result;
  }

  /** Reconcile as the runtime would (following requeues, backing off errors) until Ready or out of rounds. */
  async converge(maxRounds = 30): Promise<number> {
    for (let round = 1; round <= maxRounds; round++) {
      const result = await this.reconcile();
      if (this.ready() && result.error === undefined && this.lastPlanEmpty()) return round;
      this.advance(result.error ? 1_000 : (result.requeueAfterMs ?? CONFIG.pollIntervalMs));
    }
    throw new Error(`not converged: ${JSON.stringify(this.store.site.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))}`);
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  ready(): boolean {
    return this.condition("Ready")?.status === "True";
  }

  condition(type: string) {
    return this.store.site.status?.conditions?.find((c) => c.type === type);
  }

  writesSince(mark: number): number {
    return this.sim.stats.records.slice(mark).filter((r) => r.kind === "write").length;
  }

  private lastPlanEmpty(): boolean {
    return this.condition("Synced")?.status === "True" && this.condition("Ready")?.reason === "Available";
  }

  private readonly recorder: EventRecorder = { record: (_regarding, type, reason, _action, note) => this.events.push(`${type} ${reason}: ${note}`) };

  private newReconciler() {
    return new HostedSiteReconciler({
      store: this.store,
      servers: () => this.servers,
      sites: () => [this.store.site],
      driver: () => this.driver,
      statusCache: this.cache,
      now: () => this.now,
      random: () => 0.5,
      log: createLogger({ name: "test", level: "silent" }),
      events: this.recorder,
      config: CONFIG,
    });
  }
}
