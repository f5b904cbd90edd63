// The SitePool reconciler: observe the server and the claim record, plan one step, record it in
// the pool's status, then make the Aegir change (the record comes first, so a crash between the
// two leaves a spare the next reconcile recognises, never one nobody knows of).
import { randomUUID } from "node:crypto";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import { mergeConditions, type ConditionInput } from "../../crds/conditions.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { AegirServer, HostedSite, SitePool } from "../../crds/kinds.ts";
import type { RefillKind, SitePoolStatus } from "../../crds/sitepool.ts";
import type { AegirDriver, InBackground } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import { lastTask, type ServerStatus } from "../aegir/state.ts";
import type { ServerStatusCache } from "../hostedsite/server-status-cache.ts";
import { planPool, type PoolAction, type PoolPlan } from "./plan.ts";
import { keepsTemplate } from "./claim.ts";
import { orderRate, poolSize, type PoolSize, sizingRate } from "./size.ts";
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
  refill(pool: string, kind: RefillKind): void;
  /** Seconds from a claim's record to the spare being the customer's site. */
  claimed(pool: string, seconds: number): void;
  /** A claim's task was started beside a pool task instead of waiting behind it. */
  besideRefill?(pool: string): void;
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
    const sites = this.deps.sites();
    const keys = new Set(sites.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    const look = (seen: ServerStatus) =>
      viewSpares({
        pool,
        status: seen,
        platformUsable: platformProblem(pool, server, seen) === undefined,
        siteExists: (key) => keys.has(key),
        now,
        createSettleMs: 2 * (server?.spec.commandTimeouts.writeSeconds ?? 300) * 1000,
      });
    let views = look(status);
    // A spare in Aegir without a record is adopted, but a cached status may predate its claim's
    // rename or its delete (another replica's): adopt only what a fresh read still shows, or the
    // record would wait for a spare that is gone.
    const recorded = new Set((pool.status?.spares ?? []).map((s) => s.domain));
    if (views.some((v) => !recorded.has(v.record.domain))) {
      this.deps.statusCache.invalidate(pool.spec.server);
      status = await this.deps.statusCache.get(pool.spec.server);
      views = look(status);
    }
    const problem = platformProblem(pool, server, status);
    const rate = orderRate(pool, sites, this.deps.servers(), now);
    const installSeconds = observedSeconds(views, "install") ?? pool.status?.installSeconds ?? pool.spec.installSeconds;
    const cloneSeconds = observedSeconds(views, "clone") ?? pool.status?.cloneSeconds;
    const cloneAllowed = pool.spec.refill === "Clone" && !cloneRefused(pool);
    // One refill: a clone's time where refills clone (once one was seen), else an install's.
    const cycle = {
      refillSeconds: cloneAllowed && cloneSeconds !== undefined ? cloneSeconds : installSeconds,
      renameSeconds: pool.status?.renameSeconds ?? pool.spec.renameSeconds,
    };
    const size = problem === undefined ? poolSize(rate, cycle, pool.spec.size, sizingRate(rate, pool.spec.rateWindowMinutes)) : undefined;
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
      cloneAllowed,
      cloneLastSpare: keepsTemplate(pool),
      maxSpares: pool.spec.size.max,
    });

    const kind = plan.action?.kind;
    const refilled = kind === "Install" || kind === "Clone";
    const next: SitePoolStatus = {
      ...pool.status,
      observedGeneration: pool.metadata.generation ?? 0,
      target: plan.target,
      orderRatePerHour: Math.round(rate * 100) / 100,
      installSeconds,
      ...(cloneSeconds === undefined ? {} : { cloneSeconds }),
      renameSeconds: cycle.renameSeconds,
      ...plan.counts,
      refills: (pool.status?.refills ?? 0) + (refilled ? 1 : 0),
      clones: (pool.status?.clones ?? 0) + (kind === "Clone" ? 1 : 0),
      spares: plan.spares,
    };
    pool = await this.write(pool, next, [readyCondition(plan, size, problem), cloneCondition(pool)]);
    await this.publish(pool, server);
    if (plan.action === undefined) return { requeueAfterMs: plan.counts.installing > 0 || plan.waiting ? this.progressPollMs : this.pollIntervalMs };

    let started: boolean;
    try {
      started = await this.act(pool, plan.action, server);
    } catch (error) {
      // Aegir refused the step: what this replica saw of the server is likely stale (another
      // replica renamed, deleted or finished the spare), so the next look reads it afresh.
      if (error instanceof AegirError) this.deps.statusCache.invalidate(pool.spec.server);
      throw error;
    }
    if (started && (plan.action.kind === "Install" || plan.action.kind === "Clone")) this.deps.observer?.refill(pool.metadata.name, plan.action.kind);
    return { requeueAfterMs: this.progressPollMs };
  }

  /** Make the change; false when a clone was not queued (the record of it is gone again). */
  private async act(pool: SitePool, action: PoolAction, server: AegirServer | undefined): Promise<boolean> {
    const driver = this.deps.driver(pool.spec.server);
    this.deps.log.info({ sitepool: pool.metadata.name, action: action.kind, spare: action.domain }, "pool step");
    switch (action.kind) {
      case "Install": {
        const profile = server?.spec.platforms.find((p) => p.name === pool.spec.platform)?.profile ?? "";
        await driver.createSite({ uri: action.domain, platform: pool.spec.platform, profile, aliases: [], https: "Disabled" }, inBackground(pool));
        this.deps.statusCache.invalidate(pool.spec.server);
        return true;
      }
      case "Clone":
        return this.clone(pool, action, driver);
      case "Delete":
        await driver.queueTask(action.domain, "delete", inBackground(pool));
        this.deps.statusCache.invalidate(pool.spec.server);
        return true;
      case "EnableFeatures": {
        await driver.enableModules(action.domain, action.modules);
        const spares = (pool.status?.spares ?? []).map((s) => (s.domain === action.domain ? { ...s, state: "Ready" as const } : s));
        // The counts follow in the next reconcile, which comes at once (a status change).
        await this.write(pool, { ...pool.status, spares }, []);
        return true;
      }
    }
  }

  /**
   * Queue the clone on its source. Refused or not queued (the source got a task meanwhile, the
   * domain is taken): the record goes, so the next reconcile refills afresh; refused because the
   * hostmaster has no clone task: the RefillByClone condition says so and refills install.
   */
  private async clone(pool: SitePool, action: Extract<PoolAction, { kind: "Clone" }>, driver: AegirDriver): Promise<boolean> {
    try {
      await driver.queueTask(action.source, "clone", { targetPlatform: pool.spec.platform, newUri: action.domain, ...inBackground(pool) });
      return true;
    } catch (error) {
      if (!(error instanceof AegirError) || !(error.kind === "permanent" || error.reason === "TaskPending")) throw error;
      this.deps.log.warn({ sitepool: pool.metadata.name, spare: action.domain, source: action.source, reason: error.reason }, "clone not queued");
      const spares = (pool.status?.spares ?? []).filter((s) => s.domain !== action.domain);
      const refused: ConditionInput[] =
        error.reason === "TaskUnavailable"
          ? [{ type: "RefillByClone", status: "False", reason: "CloneRefused", message: `Aegir refused the clone task (${error.message}); refills install instead` }]
          : [];
      await this.write(pool, { ...pool.status, spares, refills: Math.max(0, (pool.status?.refills ?? 1) - 1), clones: Math.max(0, (pool.status?.clones ?? 1) - 1) }, refused);
      return false;
    } finally {
      this.deps.statusCache.invalidate(pool.spec.server);
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

/** Whether the hostmaster refused a clone for this generation of the spec (a spec change tries again). */
function cloneRefused(pool: SitePool): boolean {
  const c = pool.status?.conditions?.find((x) => x.type === "RefillByClone");
  return c?.reason === "CloneRefused" && c.observedGeneration === (pool.metadata.generation ?? 0);
}

/** How refills are made: by clone, by install as asked, or by install because Aegir refused a clone. */
function cloneCondition(pool: SitePool): ConditionInput {
  if (pool.spec.refill === "Install") return { type: "RefillByClone", status: "False", reason: "InstallRequested", message: "spec.refill is Install: every refill installs" };
  const refused = pool.status?.conditions?.find((x) => x.type === "RefillByClone");
  if (refused !== undefined && cloneRefused(pool)) return { type: "RefillByClone", status: "False", reason: "CloneRefused", message: refused.message };
  return { type: "RefillByClone", status: "True", reason: "Cloning", message: "Refills clone the newest ready spare while two others stay ready (the only one where an install takes over two clones); otherwise they install" };
}

/** How long the pool's last finished task of the type took, if one is visible (a clone's task is on its source spare). */
function observedSeconds(views: readonly SpareView[], type: "install" | "clone"): number | undefined {
  const done = views.flatMap((v) => (v.site ? [lastTask(v.site, type)] : [])).filter((t) => t !== undefined && t.status === "succeeded" && t.delta > 0);
  return done.sort((a, b) => (b?.nid ?? 0) - (a?.nid ?? 0))[0]?.delta;
}

function readyCondition(plan: PoolPlan, size: PoolSize | undefined, problem: string | undefined): ConditionInput {
  if (problem !== undefined || size === undefined) return { type: "Ready", status: "False", reason: "PlatformUnavailable", message: `${problem}; its spares are recycled` };
  // The plan's: the size rule's, or the clone floor above it.
  const target = plan.target;
  if (size.reason === "Overloaded") {
    const message = `Orders keep the task queue busy ${(100 * size.load).toFixed(0)} % of the time with a rename and a refill each: spares would only add work, pool kept at ${target}`;
    return { type: "Ready", status: plan.counts.ready >= target ? "True" : "False", reason: "Overloaded", message };
  }
  if (plan.counts.ready >= target) return { type: "Ready", status: "True", reason: "Full", message: `${plan.counts.ready} spare(s) ready, target ${target}` };
  return { type: "Ready", status: "False", reason: plan.waiting ? "RefillWaiting" : "Refilling", message: plan.waiting ?? `${plan.counts.ready} of ${target} spare(s) ready` };
}

/** Where the pool runs its own tasks outside hosting-queued: the driver's option for them. */
function inBackground(pool: SitePool): { background?: InBackground } {
  return pool.spec.refillsInBackground ? { background: { zone: pool.spec.placeholderZone } } : {};
}
