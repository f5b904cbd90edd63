// The HostedSpace reconciler: observe → plan → apply → status, one space at a time, in the
// shape of the HostedSite reconciler. A converged space costs nothing but its share of the
// shared site's batched space list: the list carries each space's settings, its OG
// administrators and welcome states, so drift shows there without a per-space read.
import type { HostedSpaceStatus } from "../../crds/hostedspace.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { HostedSite, HostedSpace } from "../../crds/kinds.ts";
import type { Logger } from "../../controller/logger.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError, REASONS } from "../aegir/errors.ts";
import { SpaceDriver, type SpaceList } from "../aegir/spaces.ts";
import { mergeConditions, timestamp } from "../hostedsite/conditions.ts";
import type { ServerStatusCache } from "../hostedsite/server-status-cache.ts";
import { applySpacePlan, type SpaceApplyResult } from "./apply.ts";
import { SPACE_ASPECT_CONDITION, computeSpaceConditions } from "./conditions.ts";
import { resolveSpace, type SpaceDesired } from "./desired.ts";
import { SPACE_FINALIZER } from "./names.ts";
import { observeSpace, sharedSiteCacheKey } from "./observe.ts";
import { type SpaceAspect, type SpaceObserved, type SpacePlan, planSpace } from "./plan.ts";

/** Writes to the HostedSpace; the controller runtime implements them with conflict retries. */
export interface HostedSpaceStore {
  addFinalizer(space: HostedSpace, finalizer: string): Promise<HostedSpace>;
  removeFinalizer(space: HostedSpace, finalizer: string): Promise<void>;
  updateStatus(space: HostedSpace, status: HostedSpaceStatus): Promise<HostedSpace>;
}

export interface SpaceReconcilerConfig {
  /** Regular poll of a converged space (the batched list is shared within half of it). */
  pollIntervalMs: number;
  /** Look again this soon after a change. */
  progressPollMs: number;
  /** An aspect failed permanently is tried again after this long even without a spec change. */
  retryBlockedMs: number;
}

export const DEFAULT_SPACE_RECONCILER_CONFIG: SpaceReconcilerConfig = { pollIntervalMs: 60_000, progressPollMs: 5_000, retryBlockedMs: 30 * 60_000 };

export interface SpaceReconcilerDeps {
  store: HostedSpaceStore;
  /** HostedSites as the informer caches hold them (a space may live in one). */
  sites: () => readonly HostedSite[];
  driver: (server: string) => AegirDriver;
  /** Batched space lists, keyed by sharedSiteCacheKey(). */
  lists: ServerStatusCache<SpaceList>;
  now: () => Date;
  log: Logger;
  config?: Partial<SpaceReconcilerConfig>;
}

export interface SpaceReconcileResult {
  requeueAfterMs?: number;
  error?: Error;
  status?: HostedSpaceStatus;
}

interface Memory {
  deepGeneration: number | undefined;
  dirty: boolean;
  retryBlockedAt: number;
}

type Blocked = Map<SpaceAspect, { reason: string; message: string }>;

const PERMANENT = new Set(Object.entries(REASONS).filter(([, kind]) => kind === "permanent").map(([reason]) => reason));

export class HostedSpaceReconciler {
  private readonly deps: SpaceReconcilerDeps;
  private readonly config: SpaceReconcilerConfig;
  private readonly memory = new Map<string, Memory>();

  constructor(deps: SpaceReconcilerDeps) {
    this.deps = deps;
    this.config = { ...DEFAULT_SPACE_RECONCILER_CONFIG, ...deps.config };
  }

  async reconcile(input: HostedSpace): Promise<SpaceReconcileResult> {
    try {
      return await this.reconcileSpace(input);
    } catch (error) {
      // A write failed: what this reconcile read did not reach the status, so read again next time.
      const memory = this.memory.get(keyOf(input));
      if (memory !== undefined) memory.dirty = true;
      throw error;
    }
  }

  /** The space is gone: forget what was remembered about it. */
  forget(key: string): void {
    this.memory.delete(key);
  }

  private async reconcileSpace(input: HostedSpace): Promise<SpaceReconcileResult> {
    let space = input;
    const key = keyOf(space);
    const deleting = space.metadata.deletionTimestamp !== undefined;
    if (deleting && !space.metadata.finalizers?.includes(SPACE_FINALIZER)) {
      this.memory.delete(key);
      return {};
    }
    if (!deleting && !space.metadata.finalizers?.includes(SPACE_FINALIZER)) space = await this.deps.store.addFinalizer(space, SPACE_FINALIZER);

    const now = this.deps.now();
    const resolved = resolveSpace(space, this.deps.sites(), now);
    if ("error" in resolved) {
      // The shared site is gone (its HostedSite deleted): so is every space in it.
      if (deleting && resolved.error === "SharedSiteNotFound") return this.release(space, key, "shared site gone");
      return this.writeProblem(space, resolved.error, resolved.message);
    }
    const desired = resolved.desired;
    const memory = this.memoryOf(key, now);
    const generation = space.metadata.generation ?? 0;
    const driver = new SpaceDriver(this.deps.driver(desired.server));
    const listKey = sharedSiteCacheKey(desired);

    const deep = memory.dirty || memory.deepGeneration !== generation || space.status?.owner?.uid === undefined;
    let observed: SpaceObserved;
    try {
      observed = await observeSpace({ desired, list: () => this.deps.lists.get(listKey), driver, deep });
    } catch (error) {
      return this.failObserve(space, desired, error);
    }
    if (observed.deep !== undefined) {
      memory.deepGeneration = generation;
      memory.dirty = false;
    }

    const retryBlocked = now.getTime() >= memory.retryBlockedAt;
    if (retryBlocked) memory.retryBlockedAt = now.getTime() + this.config.retryBlockedMs;
    const blocked = retryBlocked ? new Map<SpaceAspect, { reason: string; message: string }>() : this.blockedAspects(space, generation);
    const ownerUid = validOwnerUid(observed) ?? space.status?.owner?.uid;
    const thePlan = planSpace(desired, observed, { ownerUid, welcomed: space.status?.owner?.welcomedAt !== undefined, blocked: new Set(blocked.keys()) });

    const applied = await applySpacePlan(thePlan.operations, { desired, driver, ownerUid });
    if (applied.applied.length > 0 || applied.failed !== undefined) {
      this.deps.lists.invalidate(listKey);
      memory.dirty = true;
    }
    const error = applied.failed?.error;
    if (error !== undefined) {
      this.deps.log.warn({ hostedspace: key, operation: applied.failed?.operation.kind, reason: error.reason, transient: error.transient }, "space operation failed");
      if (error.kind === "permanent") blocked.set(applied.failed!.operation.aspect, { reason: error.reason, message: error.message });
    }

    if (thePlan.released) return this.release(space, key, desired.deletionPolicy);

    const status = this.status(space, desired, observed, thePlan, applied, blocked, now);
    if (!jsonEqual(status, space.status)) await this.deps.store.updateStatus(space, status);
    if (error !== undefined && error.transient) return { error, status };
    const candidates = [this.config.pollIntervalMs];
    if (thePlan.operations.length > 0) candidates.push(this.config.progressPollMs);
    if (desired.expiresAt !== undefined) candidates.push(Math.max(0, desired.expiresAt.getTime() - now.getTime()));
    return { requeueAfterMs: Math.min(...candidates), status };
  }

  private status(space: HostedSpace, desired: SpaceDesired, observed: SpaceObserved, thePlan: SpacePlan, applied: SpaceApplyResult, blocked: Blocked, now: Date): HostedSpaceStatus {
    const previous = space.status ?? {};
    const uid = applied.ownerUid ?? validOwnerUid(observed) ?? previous.owner?.uid;
    const conditions = computeSpaceConditions({ desired, observed, plan: thePlan, error: applied.failed?.error, previous: previous.conditions ?? [], blocked, ownerUid: uid });
    const seen = uid === undefined ? undefined : (observed.space?.welcome[String(uid)] ?? observed.deep?.welcome?.state);
    const deepAt = observed.deep?.welcome ? new Date(observed.deep.welcome.at * 1000) : now;
    const welcome = applied.welcomed ?? (seen ? { at: deepAt, state: seen } : undefined);
    const nid = observed.space?.nid ?? previous.nid;
    return {
      ...previous,
      observedGeneration: space.metadata.generation ?? 0,
      server: desired.server,
      siteUri: desired.uri,
      ...(nid === undefined ? {} : { nid, url: `${desired.https ? "https" : "http"}://${desired.uri}/node/${nid}` }),
      owner: {
        ...previous.owner,
        name: desired.owner.name,
        ...(uid !== undefined && uid > 1 ? { uid } : {}),
        ...(welcome && !previous.owner?.welcomedAt ? { welcomedAt: timestamp(welcome.at), welcome: WELCOME_STATE[welcome.state] } : {}),
      },
      members: { active: observed.space?.members ?? previous.members?.active ?? 0, quota: desired.settings.quota },
      conditions: mergeConditions(previous.conditions ?? [], conditions, space.metadata.generation ?? 0, now),
    };
  }

  private async release(space: HostedSpace, key: string, why: string): Promise<SpaceReconcileResult> {
    await this.deps.store.removeFinalizer(space, SPACE_FINALIZER);
    this.memory.delete(key);
    this.deps.log.info({ hostedspace: key, why }, "finalizer removed");
    return {};
  }

  private blockedAspects(space: HostedSpace, generation: number): Blocked {
    const blocked: Blocked = new Map();
    for (const [aspect, type] of Object.entries(SPACE_ASPECT_CONDITION) as Array<[SpaceAspect, string]>) {
      const c = space.status?.conditions?.find((x) => x.type === type);
      if (c && c.status === "False" && PERMANENT.has(c.reason) && c.observedGeneration === generation) blocked.set(aspect, { reason: c.reason, message: c.message });
    }
    return blocked;
  }

  private async writeProblem(space: HostedSpace, reason: string, message: string): Promise<SpaceReconcileResult> {
    const previous = space.status?.conditions ?? [];
    const next = mergeConditions(
      previous,
      [
        { type: "Synced", status: "False", reason: "ReconcileError", message },
        { type: "Ready", status: "False", reason, message },
      ],
      space.metadata.generation ?? 0,
      this.deps.now(),
    );
    const status = { ...space.status, observedGeneration: space.metadata.generation ?? 0, conditions: [...previous.filter((c) => !next.some((n) => n.type === c.type)), ...next] };
    if (!jsonEqual(status, space.status)) await this.deps.store.updateStatus(space, status);
    // Waiting for the shared site is progress, not a failure: look again soon.
    return { requeueAfterMs: reason === "WaitingForSharedSite" ? this.config.progressPollMs : this.config.pollIntervalMs };
  }

  private async failObserve(space: HostedSpace, desired: SpaceDesired, error: unknown): Promise<SpaceReconcileResult> {
    const aegir = error instanceof AegirError ? error : new AegirError("ConnectionLost", String(error));
    const previous = space.status?.conditions ?? [];
    const message = `Cannot read the spaces of ${desired.uri}: ${aegir.message}`;
    const next = mergeConditions(previous, [{ type: "Synced", status: "False", reason: aegir.reason, message }], space.metadata.generation ?? 0, this.deps.now());
    await this.deps.store.updateStatus(space, { ...space.status, conditions: [...previous.filter((c) => c.type !== "Synced"), ...next] });
    return aegir.transient ? { error: aegir } : { requeueAfterMs: this.config.pollIntervalMs };
  }

  private memoryOf(key: string, now: Date): Memory {
    let memory = this.memory.get(key);
    if (memory === undefined) {
      memory = { deepGeneration: undefined, dirty: false, retryBlockedAt: now.getTime() + this.config.retryBlockedMs };
      this.memory.set(key, memory);
    }
    return memory;
  }
}

/** The owner's uid from the deep read, unless it is an account that must never own a space. */
function validOwnerUid(observed: SpaceObserved): number | undefined {
  const owner = observed.deep?.owner;
  return owner && owner.uid > 1 && !owner.siteAdmin ? owner.uid : undefined;
}

const keyOf = (space: HostedSpace) => `${space.metadata.namespace}/${space.metadata.name}`;

const WELCOME_STATE = { sent: "Sent", sending: "Unconfirmed", failed: "Failed" } as const;
