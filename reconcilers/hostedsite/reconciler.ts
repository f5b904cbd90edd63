// The HostedSite reconciler: observe → plan → apply → status, one site at a time, in the shape
// of Crossplane's managed reconciler, with deletion (cleanup) a path of its own that never waits
// on placement. Kubernetes and Aegir are reached only through the interfaces below, so the whole
// loop runs against fakes and the simulated Aegir.
import { type EventRecorder, regardingOf } from "../../common/events.ts";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { AegirServer, HostedSite, PlatformRollout } from "../../crds/kinds.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError, REASONS } from "../aegir/errors.ts";
import { type ServerStatus, tasksAhead } from "../aegir/state.ts";
import { applyPlan, type ApplyResult } from "./apply.ts";
import { ASPECT_CONDITION } from "./conditions.ts";
import type { Desired } from "./desired.ts";
import { CREATE_PENDING_ANNOTATION, FINALIZER, PLATFORM_ANNOTATION } from "./names.ts";
import { rolloutPlatform } from "./placement.ts";
import type { Aspect, Operation, Plan } from "./plan.ts";
import { locate, prepare, type World } from "./prepare.ts";
import type { ServerStatusCache } from "./server-status-cache.ts";
import { buildStatus, type Outcome } from "./status.ts";

/** Writes to the HostedSite; the controller runtime implements them with conflict retries. */
export interface HostedSiteStore {
  addFinalizer(site: HostedSite, finalizer: string): Promise<HostedSite>;
  removeFinalizer(site: HostedSite, finalizer: string): Promise<void>;
  /** Set (string) or remove (null) annotations; returns the updated object. */
  annotate(site: HostedSite, annotations: Record<string, string | null>): Promise<HostedSite>;
  updateStatus(site: HostedSite, status: HostedSiteStatus): Promise<HostedSite>;
}

/**
 * Turns a ready spare into a new site (reconcilers/sitepool/claim.ts); `waiting` while it does
 * (look again in retryAfterMs, if sooner than the progress poll); `none` with the server's status
 * it read last, when that is the one convergence should start from.
 */
export interface SpareClaimer {
  step(site: HostedSite, server: string): Promise<{ kind: "none"; status?: ServerStatus } | { kind: "waiting"; message: string; retryAfterMs?: number }>;
}

export interface ReconcilerConfig {
  /** Regular poll of a converged site (the batched read is shared within this interval). */
  pollIntervalMs: number;
  /** Deep read of a converged site at most this often (jittered ±25 %). */
  driftCheckMs: number;
  /** Look again this soon after a change or while Aegir runs a task. */
  progressPollMs: number;
}

export const DEFAULT_RECONCILER_CONFIG: ReconcilerConfig = {
  pollIntervalMs: 60_000,
  driftCheckMs: 30 * 60_000,
  progressPollMs: 5_000,
};

export interface ReconcilerDeps {
  store: HostedSiteStore;
  /** AegirServers and HostedSites as the informer caches hold them. */
  servers: () => readonly AegirServer[];
  sites: () => readonly HostedSite[];
  driver: (server: string) => AegirDriver;
  statusCache: ServerStatusCache;
  now: () => Date;
  random?: () => number;
  log: Logger;
  events: EventRecorder;
  config?: Partial<ReconcilerConfig>;
  spares?: SpareClaimer;
  /** PlatformRollouts as the informer cache holds them: a new site lands on a rollout's toPlatform. */
  rollouts?: () => readonly PlatformRollout[];
}

interface Memory {
  deepGeneration: number | undefined;
  nextDriftCheck: number;
  dirty: boolean;
}

/** Errors at which an aspect stops retrying until the spec changes (or the drift check). */
const PERMANENT = new Set(Object.entries(REASONS).filter(([, kind]) => kind === "permanent").map(([reason]) => reason));

export class HostedSiteReconciler {
  private readonly deps: ReconcilerDeps;
  private readonly config: ReconcilerConfig;
  private readonly memory = new Map<string, Memory>();
  private readonly random: () => number;

  constructor(deps: ReconcilerDeps) {
    this.deps = deps;
    this.config = { ...DEFAULT_RECONCILER_CONFIG, ...deps.config };
    this.random = deps.random ?? Math.random;
  }

  async reconcile(input: HostedSite): Promise<Result> {
    const key = `${input.metadata.namespace}/${input.metadata.name}`;
    try {
      const result = input.metadata.deletionTimestamp === undefined ? await this.applySpec(input, key) : await this.cleanup(input, key);
      if (result.error !== undefined) this.deps.events.record(regardingOf(input), "Warning", "ReconcileError", "Reconcile", result.error.message);
      return result;
    } catch (error) {
      // A write failed (a conflict with a newer object, the API server away): what this
      // reconcile read did not reach the status, so the next one reads it again instead of
      // trusting the conditions stored (found by the chaos suite).
      const memory = this.memory.get(key);
      if (memory !== undefined) memory.dirty = true;
      throw error;
    }
  }

  /** The site exists and should look like its spec: place it once, then converge. */
  private async applySpec(input: HostedSite, key: string): Promise<Result> {
    let site = input;
    if (!site.metadata.finalizers?.includes(FINALIZER)) site = await this.deps.store.addFinalizer(site, FINALIZER);
    // Placement: recorded in status before anything is created, never silently changed.
    const recorded = site.status?.server;
    if (site.spec.server !== undefined && recorded !== undefined && site.spec.server !== recorded) {
      return this.writeProblem(site, "ServerChangeNotSupported", `The site lives on ${recorded}; moving it to ${site.spec.server} is not supported (set spec.server back)`);
    }
    const location = await locate(site, this.world(this.deps.now()));
    if ("error" in location) return this.writeProblem(site, location.error, location.message);
    if (location.placed) site = await this.deps.store.updateStatus(site, { ...site.status, server: location.server });
    if (site.status?.platform === undefined && site.metadata.annotations?.[PLATFORM_ANNOTATION] === undefined) site = await this.placeOnRolloutPlatform(site, location.server);
    const claim = await this.deps.spares?.step(site, location.server);
    if (claim?.kind === "waiting") {
      await this.writeStatus(site, { kind: "claiming", server: location.server, message: claim.message });
      return { requeueAfterMs: Math.min(this.config.progressPollMs, claim.retryAfterMs ?? Number.POSITIVE_INFINITY) };
    }
    return this.converge(site, key, location.server, claim?.status);
  }

  /**
   * A site never seen before (no platform recorded, not in Aegir) gets its rollout's platform
   * once, before it is created; an installed site moves only through the rollout's migrate.
   */
  private async placeOnRolloutPlatform(site: HostedSite, serverName: string): Promise<HostedSite> {
    const server = this.deps.servers().find((s) => s.metadata.name === serverName);
    const platform = rolloutPlatform(site, server, this.deps.rollouts?.() ?? []);
    if (platform === undefined) return site;
    const status = await this.deps.statusCache.get(serverName).catch(() => undefined);
    if (status === undefined || status.sites.some((s) => s.uri === site.spec.domain && s.status !== "deleted")) return site;
    return this.deps.store.annotate(site, { [PLATFORM_ANNOTATION]: platform });
  }

  /**
   * The site is being deleted. Nothing here may depend on the apply path having run (kube-rs's
   * finalizer contract): a site never placed, or whose server is gone, is still released.
   */
  private async cleanup(site: HostedSite, key: string): Promise<Result> {
    if (!site.metadata.finalizers?.includes(FINALIZER)) {
      this.memory.delete(key);
      return {};
    }
    // Where the site lives: what placement recorded, whatever spec.server says now.
    const server = site.status?.server ?? site.spec.server;
    // Placement is recorded before anything is created, so an unplaced site has nothing in Aegir.
    if (server === undefined) return this.release(site, key, "never placed on a server");
    if (!this.deps.servers().some((s) => s.metadata.name === server)) {
      if (site.spec.deletionPolicy === "Retain") return this.release(site, key, `AegirServer ${server} is gone; the site is retained`);
      return this.writeProblem(
        site,
        "ServerNotFound",
        `AegirServer ${server} does not exist, so the site cannot be backed up and deleted. Re-create the AegirServer, or set spec.deletionPolicy to Retain to release this HostedSite and leave Aegir as it is`,
        true,
      );
    }
    return this.converge(site, key, server);
  }

  /** Observe → plan → apply → status on the site's server; removes the finalizer once deletion is done. */
  private async converge(input: HostedSite, key: string, server: string, fresh?: ServerStatus): Promise<Result> {
    let site = input;
    const now = this.deps.now();
    const memory = this.memoryOf(key, now);
    const generation = site.metadata.generation ?? 0;
    const driftDue = now.getTime() >= memory.nextDriftCheck;
    const deep = memory.dirty || memory.deepGeneration !== generation || driftDue;
    // A permanent failure is retried only at the drift check (the platform may have changed).
    const blocked = driftDue ? new Map<Aspect, { reason: string; message: string }>() : this.blockedAspects(site, generation);
    const prepared = await prepare(site, server, this.world(now, fresh === undefined ? undefined : { server, status: fresh }), { deep, blocked: new Set(blocked.keys()) });
    if (prepared.kind === "problem") return this.writeProblem(site, prepared.reason, prepared.message);
    if (prepared.kind === "unreachable") {
      await this.writeStatus(site, prepared);
      return prepared.error.transient ? { error: prepared.error } : { requeueAfterMs: this.config.pollIntervalMs };
    }
    const { desired, observed, plan: thePlan } = prepared;
    if (observed.deep !== undefined) {
      memory.deepGeneration = generation;
      memory.dirty = false;
      memory.nextDriftCheck = now.getTime() + this.config.driftCheckMs * (0.75 + 0.5 * this.random());
    }

    const intents = {
      createAttempt: async (at: Date) => {
        site = await this.deps.store.annotate(site, { [CREATE_PENDING_ANNOTATION]: at.toISOString() });
      },
    };
    const driver = this.deps.driver(desired.server);
    const tracker = desired.support ? this.deps.driver(desired.support.server) : undefined;
    const applied = await applyPlan(thePlan.operations, { desired, site: driver, tracker, intents, now: this.deps.now });
    if (applied.applied.length > 0 || applied.failed !== undefined) {
      // Only hostmaster writes (aspect "site": create, update, tasks) change what server-status
      // shows; a site's own drush writes do not, and re-reading the whole server after each of
      // them made every spec change on a busy server wait for a full server-status read.
      if ([...applied.applied, ...(applied.failed ? [applied.failed.operation] : [])].some((op) => op.aspect === "site")) this.deps.statusCache.invalidate(desired.server);
      memory.dirty = true;
    }
    if (applied.failed) applied.failed = { ...applied.failed, error: raced(applied.failed) };
    const error = applied.failed?.error;
    if (error !== undefined) {
      this.deps.log.warn({ hostedsite: key, operation: applied.failed?.operation.kind, reason: error.reason, transient: error.transient }, "operation failed");
      if (error.kind === "permanent") blocked.set(applied.failed!.operation.aspect, { reason: error.reason, message: error.message });
    }

    // Once Aegir shows the site, the creation guard has done its job.
    if (site.metadata.annotations?.[CREATE_PENDING_ANNOTATION] !== undefined && observed.site !== undefined) site = await this.deps.store.annotate(site, { [CREATE_PENDING_ANNOTATION]: null });

    if (thePlan.released) return this.release(site, key, `deletion policy ${desired.deletionPolicy} carried out`);

    const wasReady = site.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    const status = await this.writeStatus(site, { kind: "converged", desired, observed, plan: thePlan, applied, blocked });
    const ready = status.conditions?.find((c) => c.type === "Ready");
    if (!wasReady && ready?.status === "True") this.deps.events.record(regardingOf(site), "Normal", "SiteReady", "Reconcile", ready.message);

    if (error !== undefined && error.transient) return { error };
    // A site waiting behind other tasks in Aegir's serial queue looks again later the further back it is.
    const ahead = thePlan.wait?.reason === "Installing" && observed.site ? tasksAhead(await this.deps.statusCache.get(desired.server), observed.site) : 0;
    return { requeueAfterMs: this.requeueAfter(desired, thePlan, applied, now, ahead) };
  }

  /** The finalizer goes: Kubernetes deletes the object. */
  private async release(site: HostedSite, key: string, why: string): Promise<Result> {
    await this.deps.store.removeFinalizer(site, FINALIZER);
    this.memory.delete(key);
    this.deps.log.info({ hostedsite: key, why }, "finalizer removed");
    return {};
  }

  /** `fresh`: a status of that server this reconcile already read, used instead of the shared one. */
  private world(now: Date, fresh?: { server: string; status: ServerStatus }): World {
    const status = (name: string) => (fresh !== undefined && name === fresh.server ? Promise.resolve(fresh.status) : this.deps.statusCache.get(name));
    return { servers: this.deps.servers(), sites: this.deps.sites(), status, driver: this.deps.driver, now };
  }

  /** The status for this outcome, written only when it changed. */
  private async writeStatus(site: HostedSite, outcome: Outcome): Promise<HostedSiteStatus> {
    const status = buildStatus(site, outcome, this.deps.now());
    if (!jsonEqual(status, site.status)) await this.deps.store.updateStatus(site, status);
    return status;
  }

  /** The site cannot be worked on as specified: say why; a terminal problem waits for a person. */
  private async writeProblem(site: HostedSite, reason: string, message: string, terminal = false): Promise<Result> {
    await this.writeStatus(site, { kind: "problem", reason, message });
    return terminal ? { error: new Error(message), terminal } : { requeueAfterMs: this.config.pollIntervalMs };
  }

  /** Aspects whose condition carries a permanent error for this generation. */
  private blockedAspects(site: HostedSite, generation: number): Map<Aspect, { reason: string; message: string }> {
    const blocked = new Map<Aspect, { reason: string; message: string }>();
    for (const [aspect, type] of Object.entries(ASPECT_CONDITION) as Array<[Aspect, string]>) {
      const c = site.status?.conditions?.find((x) => x.type === type);
      if (c && c.status === "False" && PERMANENT.has(c.reason) && c.observedGeneration === generation) blocked.set(aspect, { reason: c.reason, message: c.message });
    }
    return blocked;
  }

  private requeueAfter(desired: Desired, thePlan: Plan, applied: ApplyResult, now: Date, ahead: number): number {
    const candidates = [this.config.pollIntervalMs];
    if (applied.applied.length > 0 || thePlan.wait !== undefined) candidates.push(thePlan.wait?.retryAfterMs ?? this.config.progressPollMs * (1 + ahead));
    if (desired.expiresAt !== undefined) candidates.push(Math.max(0, desired.expiresAt.getTime() - now.getTime()));
    return Math.min(...candidates);
  }

  /** The site is gone: forget what was remembered about it. */
  forget(key: string): void {
    this.memory.delete(key);
  }

  private memoryOf(key: string, now: Date): Memory {
    let memory = this.memory.get(key);
    if (memory === undefined) {
      memory = { deepGeneration: undefined, nextDriftCheck: now.getTime(), dirty: false };
      this.memory.set(key, memory);
    }
    return memory;
  }
}


/**
 * What the last reads did not show was made meanwhile (by another replica, or the reply to our own
 * create was lost): an account refused as existing although the deep (or tracker) read found none
 * by name or mail, or the site refused as existing although the server status showed none. Retried
 * (the status was read again), and the next read takes it.
 */
function raced(failed: { operation: Operation; error: AegirError }): AegirError {
  const { operation, error } = failed;
  const command = error.command ? { command: error.command } : {};
  if (operation.kind === "CreateSite" && error.reason === "SiteExists") return new AegirError("SiteCreatedMeanwhile", `${error.message}; reading the server again to take that site`, { ...command, cause: error });
  if ((operation.kind !== "CreateOwner" && operation.kind !== "CreateTrackerAccount") || error.reason !== "UserExists") return error;
  return new AegirError("AccountCreatedMeanwhile", `${error.message}; reading the site again to take that account`, { ...command, cause: error });
}
