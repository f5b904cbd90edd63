// The AegirServer reconciler: is the server reachable, what platforms and profiles does it
// really have, how many sites does it host. One batched read per poll, shared with the
// HostedSite reconciler through the status cache.
import type { AegirServerStatus } from "../../crds/aegirserver.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { AegirServer } from "../../crds/kinds.ts";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import { AegirError } from "../aegir/errors.ts";
import { hostedSites, type ServerStatus } from "../aegir/state.ts";
import { type ConditionInput, mergeConditions, timestamp } from "../../crds/conditions.ts";
import type { ServerStatusCache } from "../hostedsite/server-status-cache.ts";
import type { ConformanceMonitor } from "./conformance.ts";

/** How often an unchanged probe result is written anyway (status.lastProbeTime). */
export const PROBE_REPORT_MS = 5 * 60_000;

export interface AegirServerStore {
  updateStatus(server: AegirServer, status: AegirServerStatus): Promise<AegirServer>;
}

export interface AegirServerReconcilerDeps {
  store: AegirServerStore;
  statusCache: ServerStatusCache;
  now: () => Date;
  log: Logger;
  pollIntervalMs?: number;
  /** Adds the Conformant condition (check-server's checks) while the server is reachable. */
  conformance?: Pick<ConformanceMonitor, "condition">;
}

export class AegirServerReconciler {
  private readonly deps: AegirServerReconcilerDeps;

  constructor(deps: AegirServerReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(server: AegirServer): Promise<Result> {
    const name = server.metadata.name;
    const now = this.deps.now();
    let observed: ServerStatus | undefined;
    let failure: AegirError | undefined;
    try {
      observed = await this.deps.statusCache.get(name);
    } catch (error) {
      failure = error instanceof AegirError ? error : new AegirError("ConnectionLost", String(error));
      this.deps.log.warn({ aegirserver: name, reason: failure.reason }, "server not reachable");
    }
    const previous = server.status ?? {};
    const status: AegirServerStatus = observed
      ? {
          ...previous,
          platforms: observed.platforms.map((p) => ({ name: p.name, profiles: [...new Set(p.profiles)].sort() })),
          sites: {
            total: hostedSites(observed).length,
            enabled: hostedSites(observed).filter((s) => s.status === "enabled").length,
            disabled: hostedSites(observed).filter((s) => s.status === "disabled").length,
          },
          lastProbeTime: timestamp(now),
        }
      : { ...previous };
    const conditions = serverConditions(server, observed, failure);
    if (observed && this.deps.conformance) conditions.push(await this.deps.conformance.condition(server));
    status.observedGeneration = server.metadata.generation ?? 0;
    status.conditions = mergeConditions(previous.conditions ?? [], conditions, status.observedGeneration, now);
    // Like a node's status heartbeat: an unchanged probe result is re-reported only every few
    // minutes, so a converged system writes nothing per poll.
    const last = previous.lastProbeTime === undefined ? Number.NEGATIVE_INFINITY : Date.parse(previous.lastProbeTime);
    if (now.getTime() - last < PROBE_REPORT_MS && jsonEqual({ ...status, lastProbeTime: previous.lastProbeTime }, server.status)) status.lastProbeTime = previous.lastProbeTime;
    if (!jsonEqual(status, server.status)) await this.deps.store.updateStatus(server, status);
    if (failure?.transient) return { error: failure };
    return { requeueAfterMs: this.deps.pollIntervalMs ?? 60_000 };
  }
}

/** Reachable, PlatformsAvailable (every configured platform exists and serves its profile), HttpsAvailable, Ready. */
export function serverConditions(server: AegirServer, observed: ServerStatus | undefined, failure: AegirError | undefined): ConditionInput[] {
  if (observed === undefined) {
    const message = failure?.message ?? "not probed yet";
    return [
      { type: "Reachable", status: "False", reason: failure?.reason ?? "NotProbed", message },
      { type: "Ready", status: "False", reason: "Unreachable", message },
    ];
  }
  const problems = server.spec.platforms.flatMap((p) => {
    const found = observed.platforms.find((o) => o.name === p.name);
    if (found === undefined) return [`platform ${p.name} does not exist on the server`];
    if (!found.profiles.includes(p.profile)) return [`platform ${p.name} does not carry the ${p.profile} profile`];
    if (found.status !== 1) return [`platform ${p.name} is locked or not enabled in Aegir`];
    return [];
  });
  const full = hostedSites(observed).length >= server.spec.capacity.maxSites;
  const platforms: ConditionInput = problems.length
    ? { type: "PlatformsAvailable", status: "False", reason: "PlatformMissing", message: problems.join("; ") }
    : { type: "PlatformsAvailable", status: "True", reason: "AllPlatformsFound", message: `${server.spec.platforms.length} platform(s) ready` };
  const ready: ConditionInput = problems.length
    ? { type: "Ready", status: "False", reason: "PlatformMissing", message: problems.join("; ") }
    : full
      ? { type: "Ready", status: "False", reason: "Full", message: `${server.spec.capacity.maxSites} sites: no room for new ones` }
      : { type: "Ready", status: "True", reason: "Available", message: "" };
  // Without hosting_https sites still work, over http only: reported, not a reason to stop placing.
  const https: ConditionInput = observed.https
    ? { type: "HttpsAvailable", status: "True", reason: "ModuleEnabled", message: "" }
    : { type: "HttpsAvailable", status: "False", reason: "ModuleMissing", message: "The hostmaster has no hosting_https module: sites ordered with https are served over http; enable hosting_https (drush @hostmaster pm-enable hosting_https)" };
  return [{ type: "Reachable", status: "True", reason: "Connected", message: `${observed.queue.queued} task(s) queued, ${observed.queue.processing} running` }, platforms, https, ready];
}
