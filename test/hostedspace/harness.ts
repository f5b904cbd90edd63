// A HostedSpace reconciler wired to the simulated Aegir (in-process) with a shared Open Atrium
// site, an in-memory store, and a clock the test moves.
import type { EventRecorder } from "../../common/events.ts";
import { createLogger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import type { HostedSpaceSpecInput } from "../../crds/hostedspace.ts";
import { HostedSpaceSpec } from "../../crds/hostedspace.ts";
import { API_VERSION, type HostedSpace } from "../../crds/kinds.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { HostedSpaceReconciler, type HostedSpaceStore } from "../../reconcilers/hostedspace/reconciler.ts";
import { spaceListCache, type SpaceListCache } from "../../reconcilers/hostedspace/space-lists.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import type { DrupalSite } from "../harness/aegir/drupal.ts";
import { spaceByMachine } from "../harness/aegir/spaces.ts";
import { MemoryObjectStore } from "../harness/memory-store.ts";

export const SHARED = "demo.example.com";
export const CONFIG = { pollIntervalMs: 60_000, progressPollMs: 5_000, retryBlockedMs: 1_800_000 };

export function hostedSpace(name = "acme", spec: Partial<HostedSpaceSpecInput> = {}): HostedSpace {
  return {
    apiVersion: API_VERSION,
    kind: "HostedSpace",
    metadata: { name, namespace: "customers", uid: `uid-${name}`, generation: 1 },
    spec: HostedSpaceSpec.parse({
      site: { uri: SHARED, server: "aegir-1" },
      title: "Acme Team",
      machineName: name.replaceAll("-", "_"),
      memberQuota: 3,
      owner: { email: `owner@${name}.example.com` },
      support: { tier: "Basic" },
      ...spec,
    }),
  };
}

/** The shared site: an Open Atrium site with an administrator besides uid 1 and a stranger. */
export function spaceSimulator(seed = 1): AegirSimulator {
  return new AegirSimulator({
    platforms: [openAtriumPlatform()],
    sites: [{ uri: SHARED, users: [{ name: "boss", mail: "boss@example.com", roles: ["administrator"] }, { name: "guest", mail: "guest@example.com" }] }],
    seed,
  });
}

export class MemoryHostedSpaceStore extends MemoryObjectStore<HostedSpace> implements HostedSpaceStore {
  get space(): HostedSpace {
    return this.object;
  }
}

export class SpaceRig {
  readonly sim: AegirSimulator;
  readonly store: MemoryHostedSpaceStore;
  now = new Date("2027-03-01T09:00:00Z");
  reconciler: HostedSpaceReconciler;
  readonly lists: SpaceListCache;
  readonly driver: AegirDriver;
  /** Events the reconciler recorded, as "Type Reason: note". */
  readonly events: string[] = [];
  private readonly recorder: EventRecorder = { record: (_regarding, type, reason, _action, note) => this.events.push(`${type} ${reason}: ${note}`) };

  constructor(space: HostedSpace = hostedSpace(), sim = spaceSimulator()) {
    this.sim = sim;
    this.store = new MemoryHostedSpaceStore(space);
    this.driver = new AegirDriver({ runner: sim.runner() });
    this.lists = spaceListCache({ driver: () => this.driver, now: () => this.now.getTime(), maxAgeMs: 30_000 });
    this.reconciler = this.newReconciler();
  }

  /** A fresh reconciler, as after a controller restart. */
  restart(): void {
    this.reconciler = this.newReconciler();
    this.lists.invalidate(`aegir-1 ${SHARED}`);
  }

  reconcile(): Promise<Result> {
    return this.reconciler.reconcile(this.store.space);
  }

  /** Reconcile as the runtime would until Ready and settled, or out of rounds. */
  async converge(maxRounds = 20): Promise<number> {
    for (let round = 1; round <= maxRounds; round++) {
      const result = await this.reconcile();
      if (this.condition("Ready")?.status === "True" && result.error === undefined && this.condition("Synced")?.status === "True") return round;
      this.advance(result.error ? 1_000 : (result.requeueAfterMs ?? CONFIG.pollIntervalMs));
    }
    throw new Error(`not converged: ${JSON.stringify(this.store.space.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))}`);
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }

  condition(type: string) {
    return this.store.space.status?.conditions?.find((c) => c.type === type);
  }

  get drupal(): DrupalSite {
    const drupal = this.sim.site(SHARED)?.drupal;
    if (drupal === undefined) throw new Error("no shared site");
    return drupal;
  }

  spaceNode(machine = this.store.space.spec.machineName) {
    return spaceByMachine(this.drupal, machine);
  }

  private newReconciler() {
    return new HostedSpaceReconciler({
      store: this.store,
      sites: () => [],
      driver: () => this.driver,
      lists: this.lists,
      now: () => this.now,
      log: createLogger({ name: "test", level: "silent" }),
      events: this.recorder,
      config: CONFIG,
    });
  }
}
