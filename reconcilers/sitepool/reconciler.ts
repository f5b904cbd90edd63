// The SitePool reconciler: observe the server and the claim record, plan one step, record it in
// the pool's status, then make the Aegir change (the record comes first, so a crash between the
// two leaves a spare the next reconcile recognises, never one nobody knows of).
import { randomUUID } from "node:crypto";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import { mergeConditions, type ConditionInput } from "../../crds/conditions.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { AegirServer, HostedSite, SitePool } from "../../crds/kinds.ts";
import type { SitePoolStatus } from "../../crds/sitepool.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import { lastTask, type ServerStatus } from "../aegir/state.ts";
import type { ServerStatusCache } from "../hostedsite/server-status-cache.ts";
import { planPool, type PoolAction, type PoolPlan } from "./plan.ts";
import { orderRate, poolSize, type PoolSize } from "./size.ts";
import { platformProblem, spareDomain, type SpareView, viewSpares } from "./spares.ts";
import { serverPoolSummary, type ServerPoolSummary } from "./server-summary.ts";
import { customersWaiting } from "./waiting.ts";

/** Writes to the SitePool's status, guarded by the resourceVersion of the object passed (409 when stale). */
export interface SitePoolStore {
  get(name: string): Promise<SitePool>;
  updateStatus(pool: SitePool, status: SitePoolStatus): Promise<SitePool>;
}

export interface PoolObserver {
  /** After each reconcile: the pool as its status now says. */
  observed(pool: string, status: SitePoolStatus): void;
  refill(pool: string): void;
  /** Seconds from a claim's record to the spare being the customer's site. */
  claimed(pool: string, seconds: number): void;
}

/**
 * Writes the summary into AegirServer status.pool: a merge patch of that field alone, without a
 * resourceVersion precondition, so it never fails on the server's probe writes; those keep the
 * field (they patch what changed), and one right after a pool change may get a 409 and is redone
 * at its next reconcile. Written only when the figures change.
 */
export interface ServerPoolWriter {
  /** SitePools as the informer cache holds them. */
  pools: () => readonly SitePool[];
  write(server: string, summary: ServerPoolSummary): Promise<void>;
}

export interface SitePoolDeps {
  store: SitePoolStore;
  servers: () => readonly AegirServer[];
  sites: () => readonly HostedSite[];
  driver: (server: string) => AegirDriver;
  statusCache: ServerStatusCache;
  now: () => Date;
  log: Logger;
  observer?: PoolObserver;
  /** How soon to look again while something is in progress, and otherwise. */
  progressPollMs?: number;
  pollIntervalMs?: number;
  serverPool?: ServerPoolWriter;
  /** Makes spare domains unique (random by default). */
  nonce?: () => string;
}

export class SitePoolReconciler {
  private readonly deps: SitePoolDeps;
  private readonly progressPollMs: number;
  private readonly pollIntervalMs: number;

  constructor(deps: SitePoolDeps) {
    this.deps = deps;
    this.progressPollMs = deps.progressPollMs ?? 5_000;
    this.pollIntervalMs = deps.pollIntervalMs ?? 60_000;
  }

  async reconcile(input: SitePool): Promise<Result> {
    let pool = input;
    const now = this.deps.now();
    const server = this.deps.servers().find((s) => s.metadata.name === pool.spec.server);
    let status: ServerStatus;
    try {
      status = await this.deps.statusCache.get(pool.spec.server);
    } catch (error) {
      if (!(error instanceof AegirError)) throw error;
      await this.write(pool, { ...pool.status }, [{ type: "Ready", status: "False", reason: error.reason, message: `Cannot read Aegir server ${pool.spec.server}: ${error.message}` }]);
      return error.transient ? { error } : { requeueAfterMs: this.pollIntervalMs };
    }
    const problem = platformProblem(pool, server, status);
    const sites = this.deps.sites();
    const keys = new Set(sites.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    const views = viewSpares({
      pool,
      status,
      platformUsable: problem === undefined,
      siteExists: (key) => keys.has(key),
      now,
      createSettleMs: 2 * (server?.spec.commandTimeouts.writeSeconds ?? 300) * 1000,
    });
    const rate = orderRate(pool, sites, this.deps.servers(), now);
    const cycle = {
      refillSeconds: observedInstallSeconds(views) ?? pool.status?.installSeconds ?? pool.spec.installSeconds,
      renameSeconds: pool.status?.renameSeconds ?? pool.spec.renameSeconds,
    };
    const size = problem === undefined ? poolSize(rate, cycle, pool.spec.size) : undefined;
    const target = size?.target ?? 0;
    const plan = planPool({
      views,
      target,
      features: pool.spec.features,
      platformUsable: problem === undefined,
      queueBusy: status.queue.queued + status.queue.processing > 0,
      customersWaiting: customersWaiting(pool, sites, server, status),
      nextDomain: spareDomain(pool, this.deps.nonce?.() ?? randomUUID()),
      now,
    });

    const refills = (pool.status?.refills ?? 0) + (plan.action?.kind === "Install" ? 1 : 0);
    const next: SitePoolStatus = {
      ...pool.status,
      observedGeneration: pool.metadata.generation ?? 0,
      target,
      orderRatePerHour: Math.round(rate * 100) / 100,
      installSeconds: cycle.refillSeconds,
      renameSeconds: cycle.renameSeconds,
      ...plan.counts,
      refills,
      spares: plan.spares,
    };
    pool = await this.write(pool, next, [readyCondition(plan, size, problem)]);
    await this.publish(pool, server);
    if (plan.action === undefined) return { requeueAfterMs: plan.counts.installing > 0 || plan.waiting ? this.progressPollMs : this.pollIntervalMs };

    await this.act(pool, plan.action, server);
    if (plan.action.kind === "Install") this.deps.observer?.refill(pool.metadata.name);
    return { requeueAfterMs: this.progressPollMs };
  }

  private async act(pool: SitePool, action: PoolAction, server: AegirServer | undefined): Promise<void> {
    const driver = this.deps.driver(pool.spec.server);
    this.deps.log.info({ sitepool: pool.metadata.name, action: action.kind, spare: action.domain }, "pool step");
    switch (action.kind) {
      case "Install": {
        const profile = server?.spec.platforms.find((p) => p.name === pool.spec.platform)?.profile ?? "";
        await driver.createSite({ uri: action.domain, platform: pool.spec.platform, profile, aliases: [], https: "Disabled" });
        this.deps.statusCache.invalidate(pool.spec.server);
        return;
      }
      case "Delete":
        await driver.queueTask(action.domain, "delete");
        this.deps.statusCache.invalidate(pool.spec.server);
        return;
      case "EnableFeatures": {
        await driver.enableModules(action.domain, action.modules);
        const spares = (pool.status?.spares ?? []).map((s) => (s.domain === action.domain ? { ...s, state: "Ready" as const } : s));
        // The counts follow in the next reconcile, which comes at once (a status change).
        await this.write(pool, { ...pool.status, spares }, []);
        return;
      }
    }
  }

  /** The server's pool summary, written when it changed (only on claims, refills and target changes). */
  private async publish(pool: SitePool, server: AegirServer | undefined): Promise<void> {
    const writer = this.deps.serverPool;
    if (writer === undefined || server === undefined) return;
    const summary = serverPoolSummary(pool.spec.server, writer.pools(), pool);
    if (summary !== undefined && !jsonEqual(summary, server.status?.pool)) await writer.write(pool.spec.server, summary);
  }

  /** The status, written only when it changed; conditions merged into the existing ones. */
  private async write(pool: SitePool, status: SitePoolStatus, conditions: ConditionInput[]): Promise<SitePool> {
    const previous = pool.status?.conditions ?? [];
    const merged = mergeConditions(previous, conditions, pool.metadata.generation ?? 0, this.deps.now());
    const next = { ...status, conditions: [...previous.filter((c) => !merged.some((m) => m.type === c.type)), ...merged] };
    if (jsonEqual(next, pool.status)) return pool;
    const written = await this.deps.store.updateStatus(pool, next);
    this.deps.observer?.observed(pool.metadata.name, next);
    return written;
  }
}

/** How long the pool's last finished install took, if one is visible. */
function observedInstallSeconds(views: readonly SpareView[]): number | undefined {
  const installs = views.flatMap((v) => (v.site ? [lastTask(v.site, "install")] : [])).filter((t) => t !== undefined && t.status === "succeeded" && t.delta > 0);
  return installs.sort((a, b) => (b?.nid ?? 0) - (a?.nid ?? 0))[0]?.delta;
}

function readyCondition(plan: PoolPlan, size: PoolSize | undefined, problem: string | undefined): ConditionInput {
  if (problem !== undefined || size === undefined) return { type: "Ready", status: "False", reason: "PlatformUnavailable", message: `${problem}; its spares are recycled` };
  const target = size.target;
  if (size.reason === "Overloaded") {
    const message = `Orders keep the task queue busy ${(100 * size.load).toFixed(0)} % of the time with a rename and a refill each: spares would only add work, pool kept at ${target}`;
    return { type: "Ready", status: plan.counts.ready >= target ? "True" : "False", reason: "Overloaded", message };
  }
  if (plan.counts.ready >= target) return { type: "Ready", status: "True", reason: "Full", message: `${plan.counts.ready} spare(s) ready, target ${target}` };
  return { type: "Ready", status: "False", reason: plan.waiting ? "RefillWaiting" : "Refilling", message: plan.waiting ?? `${plan.counts.ready} of ${target} spare(s) ready` };
}
