// The HostedSpace reconciler: observe → plan → apply → status, one space at a time, in the
// shape of the HostedSite reconciler. A converged space costs nothing but its share of the
// shared site's batched space list: the list carries each space's settings, its OG
// administrators and welcome states, so drift shows there without a per-space read. Each write
// answers with its space's row, which goes into the cached list: converging many new spaces on
// one site reads the list once per poll, not once per space.
import { type EventRecorder, regardingOf } from "../../common/events.ts";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import type { HostedSpaceStatus } from "../../crds/hostedspace.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { HostedSite, HostedSpace } from "../../crds/kinds.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError, REASONS } from "../aegir/errors.ts";
import { SpaceDriver } from "../aegir/spaces.ts";
import { applySpacePlan } from "./apply.ts";
import { SPACE_ASPECT_CONDITION } from "./conditions.ts";
import { resolveSpace } from "./desired.ts";
import { SPACE_FINALIZER } from "./names.ts";
import { observeSpace } from "./observe.ts";
import { type SpaceAspect, type SpaceObserved, planSpace } from "./plan.ts";
import { applyWrites, sharedSiteCacheKey, type SpaceListCache } from "./space-lists.ts";
import { buildSpaceStatus, type SpaceOutcome, validOwnerUid } from "./status.ts";

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
  lists: SpaceListCache;
  now: () => Date;
  log: Logger;
  events: EventRecorder;
  config?: Partial<SpaceReconcilerConfig>;
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

  async reconcile(input: HostedSpace): Promise<Result> {
    const key = keyOf(input);
    try {
      const result = await this.reconcileSpace(input, key);
      if (result.error !== undefined) this.deps.events.record(regardingOf(input), "Warning", "ReconcileError", "Reconcile", result.error.message);
      return result;
    } catch (error) {
      // A write failed: what this reconcile read did not reach the status, so read again next time.
      const memory = this.memory.get(key);
      if (memory !== undefined) memory.dirty = true;
      throw error;
    }
  }

  /** The space is gone: forget what was remembered about it. */
  forget(key: string): void {
    this.memory.delete(key);
  }

  private async reconcileSpace(input: HostedSpace, key: string): Promise<Result> {
    let space = input;
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
      await this.writeStatus(space, { kind: "problem", reason: resolved.error, message: resolved.message });
      // Waiting for the shared site is progress, not a failure: look again soon.
      return { requeueAfterMs: resolved.error === "WaitingForSharedSite" ? this.config.progressPollMs : this.config.pollIntervalMs };
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
      const aegir = error instanceof AegirError ? error : new AegirError("ConnectionLost", String(error));
      await this.writeStatus(space, { kind: "unreachable", uri: desired.uri, error: aegir });
      return aegir.transient ? { error: aegir } : { requeueAfterMs: this.config.pollIntervalMs };
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
    const error = applied.failed?.error;
    if (error === undefined) {
      // The writes answered with what they left: the shared list learns it without a re-read.
      this.deps.lists.update(listKey, (list) => applyWrites(list, desired.machine, applied.written));
    } else {
      // A failed write may have done anything: this space and its site are read again.
      this.deps.lists.invalidate(listKey);
      memory.dirty = true;
      this.deps.log.warn({ hostedspace: key, operation: applied.failed?.operation.kind, reason: error.reason, transient: error.transient }, "space operation failed");
      if (error.kind === "permanent") blocked.set(applied.failed!.operation.aspect, { reason: error.reason, message: error.message });
    }

    if (thePlan.released) return this.release(space, key, `deletion policy ${desired.deletionPolicy} carried out`);

    const wasReady = space.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    const status = await this.writeStatus(space, { kind: "converged", desired, observed, plan: thePlan, applied, blocked });
    const ready = status.conditions?.find((c) => c.type === "Ready");
    if (!wasReady && ready?.status === "True") this.deps.events.record(regardingOf(space), "Normal", "SpaceReady", "Reconcile", ready.message);

    if (error !== undefined && error.transient) return { error };
    const candidates = [this.config.pollIntervalMs];
    if (thePlan.operations.length > 0) candidates.push(this.config.progressPollMs);
    if (desired.expiresAt !== undefined) candidates.push(Math.max(0, desired.expiresAt.getTime() - now.getTime()));
    return { requeueAfterMs: Math.min(...candidates) };
  }

  /** The status for this outcome, written only when it changed. */
  private async writeStatus(space: HostedSpace, outcome: SpaceOutcome): Promise<HostedSpaceStatus> {
    const status = buildSpaceStatus(space, outcome, this.deps.now());
    if (!jsonEqual(status, space.status)) await this.deps.store.updateStatus(space, status);
    return status;
  }

  private async release(space: HostedSpace, key: string, why: string): Promise<Result> {
    await this.deps.store.removeFinalizer(space, SPACE_FINALIZER);
    this.memory.delete(key);
    this.deps.log.info({ hostedspace: key, why }, "finalizer removed");
    return {};
  }

  /** Aspects whose condition carries a permanent error for this generation. */
  private blockedAspects(space: HostedSpace, generation: number): Blocked {
    const blocked: Blocked = new Map();
    for (const [aspect, type] of Object.entries(SPACE_ASPECT_CONDITION) as Array<[SpaceAspect, string]>) {
      const c = space.status?.conditions?.find((x) => x.type === type);
      if (c && c.status === "False" && PERMANENT.has(c.reason) && c.observedGeneration === generation) blocked.set(aspect, { reason: c.reason, message: c.message });
    }
    return blocked;
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

const keyOf = (space: HostedSpace) => `${space.metadata.namespace}/${space.metadata.name}`;
