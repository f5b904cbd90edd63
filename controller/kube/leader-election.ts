// Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm and defaults
// (15 s lease, 10 s renew deadline, 2 s retry): a candidate takes the lease only after it has
// seen it unrenewed for a whole lease duration (by its own clock); a leader that cannot renew
// within the deadline has lost and must stop; a clean shutdown releases the lease.
import type { Logger } from "../../common/logger.ts";
import { isConflict, isNotFound, type KubeRest } from "../../common/kube/rest.ts";
import { microTime } from "./time.ts";

export interface LeaderElectionOptions {
  rest: KubeRest;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading: () => void;
  /** Called once when leadership is lost (not on release): the process must exit. */
  onStoppedLeading: () => void;
  onLeaderChange?: (isLeader: boolean) => void;
  now?: () => number;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, "onLeaderChange">> & Pick<LeaderElectionOptions, "onLeaderChange">;
  private leading = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(options: LeaderElectionOptions) {
    this.o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, now: Date.now, ...options };
    if (this.o.renewDeadlineMs <= 1.2 * this.o.retryPeriodMs) throw new Error("renew deadline must exceed 1.2 × retry period");
    if (this.o.leaseDurationMs <= this.o.renewDeadlineMs) throw new Error("lease duration must exceed the renew deadline");
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.inFlight = this.tick();
    }, ms);
  }

  /** Stop campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight; // a renewal under way must not land after the release
    if (!this.leading) return;
    this.leading = false;
    this.o.onLeaderChange?.(false);
    try {
      // Read it again: a renewal may have landed since our last look.
      const current = await this.o.rest.request<Lease>("GET", this.path(this.o.name));
      if (current.spec.holderIdentity !== this.o.identity) return;
      const released: Lease = { ...current, spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: microTime(this.o.now()) } };
      await this.o.rest.request("PUT", this.path(this.o.name), { body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", ...released } });
      this.o.log.info({ lease: this.o.name }, "lease released");
    } catch (error) {
      this.o.log.warn({ lease: this.o.name, err: String(error) }, "could not release the lease");
    }
  }

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${this.o.namespace}/leases`;
    return name === undefined ? base : `${base}/${name}`;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (error) {
      this.o.log.warn({ lease: this.o.name, err: String(error) }, "lease update failed");
    }
    const now = this.o.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.o.log.info({ lease: this.o.name, identity: this.o.identity }, "became leader");
        this.o.onLeaderChange?.(true);
        this.o.onStartedLeading();
      }
    } else if (this.leading && now - this.lastRenew > this.o.renewDeadlineMs) {
      this.leading = false;
      this.stopped = true;
      this.o.log.error({ lease: this.o.name }, "leader election lost");
      this.o.onLeaderChange?.(false);
      this.o.onStoppedLeading();
      return;
    }
    if (!this.stopped) {
      // client-go jitters the candidate's retry by up to 1.2×.
      const wait = this.leading ? this.o.retryPeriodMs : this.o.retryPeriodMs * (1 + Math.random() * 0.2);
      this.schedule(wait);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.now();
    const spec = (transitions: number, acquireTime: string) => ({
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.round(this.o.leaseDurationMs / 1000),
      acquireTime,
      renewTime: microTime(now),
      leaseTransitions: transitions,
    });
    let current: Lease;
    try {
      current = await this.o.rest.request<Lease>("GET", this.path(this.o.name));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const created: Lease = { metadata: { name: this.o.name, namespace: this.o.namespace }, spec: spec(0, microTime(now)) };
      try {
        const lease = await this.o.rest.request<Lease>("POST", this.path(), { body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", ...created } });
        this.observed = { record: JSON.stringify(lease.spec), at: now };
        return true;
      } catch (e) {
        if (isConflict(e) || (e as { code?: number }).code === 409) return false;
        throw e;
      }
    }
    // Expiry is judged by when *we* last saw the record change, never by the holder's clock.
    const record = JSON.stringify(current.spec);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const holder = current.spec.holderIdentity ?? "";
    const duration = (current.spec.leaseDurationSeconds ?? 15) * 1000;
    if (holder !== "" && holder !== this.o.identity && now < (this.observed?.at ?? now) + duration) return false;
    const transitions = (current.spec.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    const acquireTime = holder === this.o.identity ? (current.spec.acquireTime ?? microTime(now)) : microTime(now);
    let lease: Lease;
    try {
      lease = await this.o.rest.request<Lease>("PUT", this.path(this.o.name), {
        body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: current.metadata, spec: spec(transitions, acquireTime) },
      });
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    this.observed = { record: JSON.stringify(lease.spec), at: now };
    return true;
  }
}
