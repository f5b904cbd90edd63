// The PlatformRollout reconciler: read the selected sites' servers, plan (plan.ts), record the
// intents in status, then queue the backups and write the platform annotations the plan asks
// for, and report progress (counts, the sites in flight and failed, conditions, events).
import { type EventRecorder, regardingOf } from "../../common/events.ts";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import { type ConditionInput, mergeConditions, timestamp } from "../../crds/conditions.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { HostedSite, PlatformRollout } from "../../crds/kinds.ts";
import type { PlatformRolloutStatus, SiteRollout } from "../../crds/platformrollout.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import type { ServerStatus } from "../aegir/state.ts";
import { rolloutAnnotations } from "../hostedsite/desired.ts";
import { MIGRATE_AFTER_ANNOTATION, PLATFORM_ANNOTATION } from "../hostedsite/names.ts";
import { type RolloutAction, type RolloutPlan, type SelectedSite, planRollout } from "./plan.ts";
import { matchesSelector } from "./selector.ts";

export interface RolloutStore {
  /** With the object's resourceVersion as precondition: a stale copy gets a conflict, never a second task. */
  updateStatus(rollout: PlatformRollout, status: PlatformRolloutStatus): Promise<PlatformRollout>;
  /** Set (string) or remove (null) annotations of a HostedSite. */
  annotateSite(namespace: string, name: string, annotations: Record<string, string | null>): Promise<void>;
}

export interface RolloutReconcilerDeps {
  store: RolloutStore;
  sites: () => readonly HostedSite[];
  driver: (server: string) => AegirDriver;
  events: EventRecorder;
  now: () => Date;
  log: Logger;
  /** How soon to look again while sites are in flight. */
  progressPollMs: number;
  /** How soon to look again when nothing moves (new sites may be selected). */
  pollIntervalMs: number;
  /** Called after a task was queued (the servers' cached status is stale). */
  onQueued?: (server: string) => void;
}

export class PlatformRolloutReconciler {
  private readonly deps: RolloutReconcilerDeps;

  constructor(deps: RolloutReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(input: PlatformRollout): Promise<Result> {
    let rollout = input;
    if (rollout.metadata.deletionTimestamp !== undefined) return {};
    const sites = this.deps.sites()
      .filter((s) => s.metadata.deletionTimestamp === undefined && matchesSelector(rollout.spec.selector, s.metadata.labels))
      .map(selectedOf);
    const entries = rollout.status?.sites ?? [];
    const servers = await this.readServers(new Set([...sites.flatMap((s) => (s.server === undefined ? [] : [s.server])), ...entries.map((e) => e.server)]));
    const now = this.deps.now();
    const plan = planRollout({ spec: rollout.spec, entries, sites, servers, now: timestamp(now) });

    // The intents first: once stored, a restart can tell whether each task was asked for.
    rollout = await this.write(rollout, plan, plan.entries, now);
    const recorded = await this.act(plan.actions, plan.entries, rollout);
    if (recorded !== plan.entries) rollout = await this.write(rollout, plan, recorded, now);

    for (const f of plan.finished) {
      this.deps.events.record(regardingOf(rollout), f.outcome === "Migrated" ? "Normal" : "Warning", f.outcome === "Migrated" ? "SiteMigrated" : "SiteFailed", "Rollout", `${f.site.namespace}/${f.site.name}: ${f.message}`);
    }
    const moving = plan.counts.inFlight > 0 || (plan.counts.remaining > 0 && plan.paused === undefined);
    return { requeueAfterMs: moving ? this.deps.progressPollMs : this.deps.pollIntervalMs };
  }

  private async readServers(names: ReadonlySet<string>): Promise<Map<string, ServerStatus>> {
    const read = await Promise.all(
      [...names].map(async (name) => {
        try {
          return [name, await this.deps.driver(name).serverStatus()] as const;
        } catch (error) {
          if (!(error instanceof AegirError)) throw error;
          // Its sites wait; the others go on.
          this.deps.log.warn({ aegirserver: name, reason: error.reason }, "rollout: server not readable");
          return undefined;
        }
      }),
    );
    return new Map(read.filter((r) => r !== undefined));
  }

  /** Runs the actions; returns the entries with the tasks queued recorded (the same array when none was). */
  private async act(actions: readonly RolloutAction[], entries: SiteRollout[], rollout: PlatformRollout): Promise<SiteRollout[]> {
    let out = entries;
    for (const action of actions) {
      const key = `${action.site.namespace}/${action.site.name}`;
      if (action.kind === "annotate") {
        await this.deps.store.annotateSite(action.site.namespace, action.site.name, {
          [PLATFORM_ANNOTATION]: action.platform,
          [MIGRATE_AFTER_ANNOTATION]: action.migrateAfter === undefined ? null : String(action.migrateAfter),
        });
        continue;
      }
      try {
        const { nid } = await this.deps.driver(action.server).queueTask(action.uri, "backup");
        this.deps.onQueued?.(action.server);
        this.deps.log.info({ platformrollout: rollout.metadata.name, hostedsite: key, task: nid }, "rollout: backup queued");
        out = out.map((e) => (e.namespace === action.site.namespace && e.name === action.site.name ? { ...e, task: nid } : e));
      } catch (error) {
        // Another task of the site got in first, or the server went away: the next look asks again.
        if (!(error instanceof AegirError)) throw error;
        this.deps.log.warn({ platformrollout: rollout.metadata.name, hostedsite: key, reason: error.reason }, "rollout: backup not queued");
      }
    }
    return out;
  }

  private async write(rollout: PlatformRollout, plan: RolloutPlan, entries: SiteRollout[], now: Date): Promise<PlatformRollout> {
    const previous = rollout.status ?? {};
    const generation = rollout.metadata.generation ?? 0;
    const complete = plan.counts.remaining === 0;
    const status: PlatformRolloutStatus = {
      observedGeneration: generation,
      ...plan.counts,
      sites: entries,
      startedAt: previous.startedAt ?? timestamp(now),
      ...(complete ? { completedAt: previous.completedAt ?? timestamp(now) } : {}),
      conditions: mergeConditions(previous.conditions ?? [], conditionsOf(plan, complete), generation, now),
    };
    if (jsonEqual(status, rollout.status)) return rollout;
    const written = await this.deps.store.updateStatus(rollout, status);
    // Once per transition: only a write that succeeded announces it.
    if (complete && previous.completedAt === undefined) this.deps.events.record(regardingOf(rollout), "Normal", "RolloutComplete", "Rollout", progress(plan));
    if (plan.paused === "TooManyFailures" && !previous.conditions?.some((c) => c.type === "Paused" && c.reason === "TooManyFailures")) {
      this.deps.events.record(regardingOf(rollout), "Warning", "TooManyFailures", "Rollout", `${plan.counts.failed} site(s) failed: paused`);
    }
    return written;
  }
}

function conditionsOf(plan: RolloutPlan, complete: boolean): ConditionInput[] {
  const { counts, paused } = plan;
  const summary = progress(plan);
  const pausedCondition: ConditionInput =
    paused === "Paused"
      ? { type: "Paused", status: "True", reason: "Paused", message: "spec.paused is true: sites in flight finish, no new one starts" }
      : paused === "TooManyFailures"
        ? { type: "Paused", status: "True", reason: "TooManyFailures", message: `${counts.failed} site(s) failed, spec.pauseAfterFailures is reached: raise it to resume` }
        : { type: "Paused", status: "False", reason: "Running", message: "" };
  const progressing: ConditionInput = complete
    ? { type: "Progressing", status: "False", reason: "Complete", message: summary }
    : counts.inFlight > 0 || paused === undefined
      ? { type: "Progressing", status: "True", reason: "MovingSites", message: summary }
      : { type: "Progressing", status: "False", reason: paused, message: summary };
  const completeCondition: ConditionInput = complete
    ? { type: "Complete", status: "True", reason: counts.failed === 0 ? "AllSitesMoved" : "CompleteWithFailures", message: summary }
    : { type: "Complete", status: "False", reason: "InProgress", message: summary };
  return [progressing, pausedCondition, completeCondition];
}

function progress({ counts }: RolloutPlan): string {
  return `${counts.done} done, ${counts.failed} failed, ${counts.remaining} remaining (${counts.inFlight} in flight), ${counts.skipped} skipped`;
}

function selectedOf(site: HostedSite): SelectedSite {
  return {
    namespace: site.metadata.namespace,
    name: site.metadata.name,
    uri: site.spec.domain,
    server: site.status?.server ?? site.spec.server,
    ownPlatform: site.spec.platform !== undefined,
    annotation: rolloutAnnotations(site),
  };
}
