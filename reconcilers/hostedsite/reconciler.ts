// The HostedSite reconciler: observe → plan → apply → status, one site at a time, in the shape
// of Crossplane's managed reconciler. Kubernetes and Aegir are reached only through the
// interfaces below, so the whole loop runs against fakes and the simulated Aegir.
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import type { Logger } from "../../controller/logger.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError, REASONS } from "../aegir/errors.ts";
import { tasksAhead } from "../aegir/state.ts";
import { applyPlan, type ApplyResult } from "./apply.ts";
import { ASPECT_CONDITION, computeConditions, mergeConditions, siteUrl, timestamp } from "./conditions.ts";
import { assignedServer, resolveDesired, type Desired } from "./desired.ts";
import { CREATE_PENDING_ANNOTATION, FINALIZER, WELCOME_REQUESTED_ANNOTATION } from "./names.ts";
import { planContext } from "./context.ts";
import { observeSite } from "./observe.ts";
import { placeSite, serverLoads } from "./placement.ts";
import { type Aspect, type Observed, type Plan, plan } from "./plan.ts";
import type { ServerStatusCache } from "./server-status-cache.ts";

/** Writes to the HostedSite; the controller runtime implements them with conflict retries. */
export interface HostedSiteStore {
  addFinalizer(site: HostedSite, finalizer: string): Promise<HostedSite>;
  removeFinalizer(site: HostedSite, finalizer: string): Promise<void>;
  /** Set (string) or remove (null) annotations; returns the updated object. */
  annotate(site: HostedSite, annotations: Record<string, string | null>): Promise<HostedSite>;
  updateStatus(site: HostedSite, status: HostedSiteStatus): Promise<HostedSite>;
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
  config?: Partial<ReconcilerConfig>;
}

export interface ReconcileResult {
  /** Reconcile again after this long (the runtime keeps the earliest). */
  requeueAfterMs?: number;
  /** A transient failure: the runtime requeues with backoff. */
  error?: Error;
  /** The status this reconcile settled on (for events and metrics). */
  status?: HostedSiteStatus;
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

  async reconcile(input: HostedSite): Promise<ReconcileResult> {
    try {
      return await this.reconcileSite(input);
    } catch (error) {
      // A write failed (a conflict with a newer object, the API server away): what this
      // reconcile read did not reach the status, so the next one reads it again instead of
      // trusting the conditions stored (found by the chaos suite).
      const memory = this.memory.get(`${input.metadata.namespace}/${input.metadata.name}`);
      if (memory !== undefined) memory.dirty = true;
      throw error;
    }
  }

  private async reconcileSite(input: HostedSite): Promise<ReconcileResult> {
    let site = input;
    const key = `${site.metadata.namespace}/${site.metadata.name}`;
    const deleting = site.metadata.deletionTimestamp !== undefined;
    if (deleting && !site.metadata.finalizers?.includes(FINALIZER)) {
      this.memory.delete(key);
      return {};
    }
    if (!deleting && !site.metadata.finalizers?.includes(FINALIZER)) site = await this.deps.store.addFinalizer(site, FINALIZER);

    // Placement: recorded in status before anything is created, never silently changed.
    const recorded = site.status?.server;
    if (site.spec.server !== undefined && recorded !== undefined && site.spec.server !== recorded) {
      return this.writeProblem(site, "ServerChangeNotSupported", `The site lives on ${recorded}; moving it to ${site.spec.server} is not supported (set spec.server back)`);
    }
    let server = assignedServer(site);
    if (server === undefined) {
      const placed = await this.place(site);
      if ("error" in placed) return this.writeProblem(site, placed.error, placed.message);
      server = placed.server;
      site = await this.deps.store.updateStatus(site, { ...site.status, server });
    }

    const now = this.deps.now();
    const resolved = resolveDesired(site, server, this.deps.servers(), now);
    if ("error" in resolved) return this.writeProblem(site, resolved.error, resolved.message);
    const desired = resolved.desired;
    const memory = this.memoryOf(key, now);
    const generation = site.metadata.generation ?? 0;
    const driver = this.deps.driver(desired.server);
    const tracker = desired.support ? this.deps.driver(desired.support.server) : undefined;

    const driftDue = now.getTime() >= memory.nextDriftCheck;
    const deepDue = memory.dirty || memory.deepGeneration !== generation || driftDue;
    let observed: Observed;
    try {
      observed = await observeSite({ desired, status: () => this.deps.statusCache.get(desired.server), driver, tracker, deep: deepDue });
    } catch (error) {
      return this.failObserve(site, desired, error);
    }
    if (observed.deep !== undefined) {
      memory.deepGeneration = generation;
      memory.dirty = false;
      memory.nextDriftCheck = now.getTime() + this.config.driftCheckMs * (0.75 + 0.5 * this.random());
    }

    // A permanent failure is retried only at the drift check (the platform may have changed).
    const blocked = driftDue ? new Map<Aspect, { reason: string; message: string }>() : this.blockedAspects(site, generation);
    const thePlan = plan(desired, observed, planContext(site, observed, now, new Set(blocked.keys())));

    const intents = {
      createAttempt: async (at: Date) => {
        site = await this.deps.store.annotate(site, { [CREATE_PENDING_ANNOTATION]: at.toISOString() });
      },
      welcomeRequest: async (at: Date) => {
        site = await this.deps.store.annotate(site, { [WELCOME_REQUESTED_ANNOTATION]: at.toISOString() });
      },
    };
    const applied = await applyPlan(thePlan.operations, { desired, site: driver, tracker, intents, now: this.deps.now });
    if (applied.applied.length > 0 || applied.failed !== undefined) {
      // Only hostmaster writes (aspect "site": create, update, tasks) change what server-status
      // shows; a site's own drush writes do not, and re-reading the whole server after each of
      // them made every spec change on a busy server wait for a full server-status read.
      if ([...applied.applied, ...(applied.failed ? [applied.failed.operation] : [])].some((op) => op.aspect === "site")) this.deps.statusCache.invalidate(desired.server);
      memory.dirty = true;
    }
    const error = applied.failed?.error;
    if (error !== undefined) {
      this.deps.log.warn({ hostedsite: key, operation: applied.failed?.operation.kind, reason: error.reason, transient: error.transient }, "operation failed");
      if (error.kind === "permanent") blocked.set(applied.failed!.operation.aspect, { reason: error.reason, message: error.message });
    }

    // Once Aegir shows the site, the creation guard has done its job.
    if (site.metadata.annotations?.[CREATE_PENDING_ANNOTATION] !== undefined && observed.site !== undefined) site = await this.deps.store.annotate(site, { [CREATE_PENDING_ANNOTATION]: null });

    if (thePlan.released) {
      await this.deps.store.removeFinalizer(site, FINALIZER);
      this.memory.delete(key);
      this.deps.log.info({ hostedsite: key, policy: desired.deletionPolicy }, "finalizer removed");
      return {};
    }

    const status = this.status(site, desired, observed, thePlan, applied, blocked, now);
    if (!jsonEqual(status, site.status)) site = await this.deps.store.updateStatus(site, status);

    if (error !== undefined && error.transient) return { error, status };
    // A site waiting behind other tasks in Aegir's serial queue looks again later the further back it is.
    const ahead = thePlan.wait?.reason === "Installing" && observed.site ? tasksAhead(await this.deps.statusCache.get(desired.server), observed.site) : 0;
    return { requeueAfterMs: this.requeueAfter(desired, thePlan, applied, now, ahead), status };
  }

  private status(
    site: HostedSite,
    desired: Desired,
    observed: Observed,
    thePlan: Plan,
    applied: ApplyResult,
    blocked: Map<Aspect, { reason: string; message: string }>,
    now: Date,
  ): HostedSiteStatus {
    const previous = site.status ?? {};
    const conditions = computeConditions({ desired, observed, plan: thePlan, error: applied.failed?.error, previous: previous.conditions ?? [], blocked });
    // Every ordered feature seen enabled is the operator's to disable once it leaves the spec.
    const features = new Set(previous.appliedFeatures ?? []);
    const enabledNow = new Set(observed.deep?.modules ?? []);
    for (const f of desired.features) if (enabledNow.has(f)) features.add(f);
    for (const op of applied.applied) {
      if (op.kind === "EnableModules" && op.aspect === "features") op.modules.forEach((m) => features.add(m));
      if (op.kind === "DisableModules") op.modules.forEach((m) => features.delete(m));
    }
    const owner = observed.deep?.owner;
    const marker = owner ? observed.deep?.welcome[String(owner.uid)] : undefined;
    const welcome = applied.welcomed ?? (marker ? { at: new Date(marker.at * 1000), state: marker.state } : undefined);
    const account = observed.tracker;
    return {
      ...previous,
      observedGeneration: site.metadata.generation ?? 0,
      server: desired.server,
      platform: observed.site?.platform ?? previous.platform ?? desired.platform,
      url: siteUrl(desired),
      owner: {
        ...previous.owner,
        name: owner?.name ?? previous.owner?.name ?? desired.owner.name,
        ...(owner && owner.uid > 1 ? { uid: owner.uid } : {}),
        ...(welcome && !previous.owner?.welcomedAt ? { welcomedAt: timestamp(welcome.at), welcome: WELCOME_STATE[welcome.state] } : {}),
      },
      users: observed.deep ? { active: observed.deep.activeUsers, quota: desired.userQuota } : (previous.users ?? { active: 0, quota: desired.userQuota }),
      appliedFeatures: [...features].sort(),
      ...(desired.support && account !== undefined
        ? { support: account ? { account: account.name, ...(account.roles.includes(desired.support.role) ? { role: desired.support.role } : {}) } : {} }
        : {}),
      conditions: mergeConditions(previous.conditions ?? [], conditions, site.metadata.generation ?? 0, now),
    };
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

  private async place(site: HostedSite): Promise<{ server: string } | { error: string; message: string }> {
    const loads = await serverLoads(this.deps.servers(), (name) => this.deps.statusCache.get(name), this.deps.sites());
    return placeSite(loads, site.spec.profile, site.spec.platform);
  }

  private async writeProblem(site: HostedSite, reason: string, message: string): Promise<ReconcileResult> {
    const now = this.deps.now();
    const previous = site.status?.conditions ?? [];
    const conditions = mergeConditions(
      previous,
      [
        { type: "Installed", status: "False", reason, message },
        { type: "Synced", status: "False", reason: "ReconcileError", message },
        { type: "Ready", status: "False", reason, message },
      ],
      site.metadata.generation ?? 0,
      now,
    );
    const keep = previous.filter((c) => !conditions.some((n) => n.type === c.type));
    await this.deps.store.updateStatus(site, { ...site.status, observedGeneration: site.metadata.generation ?? 0, conditions: [...conditions, ...keep] });
    return { requeueAfterMs: this.config.pollIntervalMs };
  }

  /** The server could not be read: say so, keep everything else as last seen, back off. */
  private async failObserve(site: HostedSite, desired: Desired, error: unknown): Promise<ReconcileResult> {
    const aegir = error instanceof AegirError ? error : new AegirError("ConnectionLost", String(error));
    const now = this.deps.now();
    const previous = site.status?.conditions ?? [];
    const message = `Cannot read Aegir server ${desired.server}: ${aegir.message}`;
    const next = mergeConditions(previous, [{ type: "Synced", status: "False", reason: aegir.reason, message }], site.metadata.generation ?? 0, now);
    await this.deps.store.updateStatus(site, { ...site.status, conditions: [...previous.filter((c) => c.type !== "Synced"), ...next] });
    return aegir.transient ? { error: aegir } : { requeueAfterMs: this.config.pollIntervalMs };
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

const WELCOME_STATE = { sent: "Sent", sending: "Unconfirmed", failed: "Failed" } as const;

