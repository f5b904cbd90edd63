// The warm pool's metrics, registered once per registry and shared by the SitePool controller
// (sizes, refills) and the HostedSite controller (claims).
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { RefillKind, SitePoolStatus } from "../crds/sitepool.ts";
import type { PoolObserver } from "../reconcilers/sitepool/reconciler.ts";

export class SitePoolMetrics implements PoolObserver {
  readonly target: Gauge<"sitepool">;
  readonly spares: Gauge<"sitepool" | "state">;
  readonly refills: Counter<"sitepool" | "kind">;
  readonly claimSeconds: Histogram<"sitepool">;
  readonly besideRefills: Counter<"sitepool">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.target = new Gauge({ name: "aegir_sitepool_target", help: "Spares the pool's order rate asks for", labelNames: ["sitepool"], registers });
    this.spares = new Gauge({ name: "aegir_sitepool_spares", help: "Spares of the pool by state (ready, installing, claimed)", labelNames: ["sitepool", "state"], registers });
    this.refills = new Counter({ name: "aegir_sitepool_refills_total", help: "Refills started, by kind (install, clone)", labelNames: ["sitepool", "kind"], registers });
    this.claimSeconds = new Histogram({
      name: "aegir_sitepool_claim_duration_seconds",
      help: "Time from a spare's claim to it being the customer's site (rename and scrub)",
      labelNames: ["sitepool"],
      buckets: [5, 10, 20, 30, 60, 120, 180, 300, 600, 1200],
      registers,
    });
    this.besideRefills = new Counter({ name: "aegir_sitepool_claims_beside_refill_total", help: "Claims' tasks started at once beside a running pool task instead of waiting behind it", labelNames: ["sitepool"], registers });
  }

  observed(pool: string, status: SitePoolStatus): void {
    this.target.set({ sitepool: pool }, status.target ?? 0);
    for (const state of ["ready", "installing", "claimed"] as const) this.spares.set({ sitepool: pool, state }, status[state] ?? 0);
  }

  refill(pool: string, kind: RefillKind): void {
    this.refills.inc({ sitepool: pool, kind: kind === "Clone" ? "clone" : "install" });
  }

  claimed(pool: string, seconds: number): void {
    this.claimSeconds.observe({ sitepool: pool }, seconds);
  }

  besideRefill(pool: string): void {
    this.besideRefills.inc({ sitepool: pool });
  }
}

const shared = new WeakMap<Registry, SitePoolMetrics>();

/** The registry's pool metrics, created on first use. */
export function sitePoolMetrics(registry: Registry): SitePoolMetrics {
  let metrics = shared.get(registry);
  if (metrics === undefined) {
    metrics = new SitePoolMetrics(registry);
    shared.set(registry, metrics);
  }
  return metrics;
}
