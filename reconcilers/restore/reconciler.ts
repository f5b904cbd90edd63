// The HostedSiteRestore reconciler: resolve the backup, record the intent, queue Aegir's
// restore task once, follow it to its end, and say what happened in status (phase, the Aegir
// task id, a Complete condition) and in events.
import { type EventRecorder, regardingOf } from "../../common/events.ts";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import { type ConditionInput, mergeConditions, timestamp } from "../../crds/conditions.ts";
import type { HostedSiteRestoreStatus, RestorePhase } from "../../crds/hostedsiterestore.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { HostedSite, HostedSiteRestore } from "../../crds/kinds.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import { type RestoreStep, isFinished, nextRestoreStep } from "./plan.ts";

export interface RestoreStore {
  /** With the object's resourceVersion as precondition: a stale copy gets a conflict, never a second task. */
  updateStatus(restore: HostedSiteRestore, status: HostedSiteRestoreStatus): Promise<HostedSiteRestore>;
}

export interface RestoreReconcilerDeps {
  store: RestoreStore;
  site: (namespace: string, name: string) => HostedSite | undefined;
  driver: (server: string) => AegirDriver;
  events: EventRecorder;
  now: () => Date;
  log: Logger;
  /** How soon to look again while waiting or while the task runs. */
  progressPollMs: number;
  /** Called after the restore task was queued (the servers' cached status is stale). */
  onQueued?: (server: string) => void;
}

export class RestoreReconciler {
  private readonly deps: RestoreReconcilerDeps;

  constructor(deps: RestoreReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(input: HostedSiteRestore): Promise<Result> {
    let restore = input;
    // A finished request never reads Aegir again.
    if (isFinished(restore.status)) return {};
    const site = this.deps.site(restore.metadata.namespace, restore.spec.site);
    const server = restore.status?.server ?? site?.status?.server;
    if (server === undefined) {
      const step = nextRestoreStep({ restore, site, summary: undefined, backups: [] });
      if (step.kind === "refuse") return this.finish(restore, "Refused", step.reason, step.message);
      return this.wait(restore, "SiteNotPlaced", `HostedSite ${restore.spec.site} is not placed on an Aegir server yet`);
    }
    const driver = this.deps.driver(server);
    let step: RestoreStep;
    try {
      const status = await driver.serverStatus();
      const summary = site === undefined ? undefined : status.sites.find((s) => s.uri === site.spec.domain && s.status !== "deleted");
      const backups = summary === undefined ? [] : (await driver.siteBackups()).filter((b) => b.uri === summary.uri);
      step = nextRestoreStep({ restore, site, summary, backups });
    } catch (error) {
      if (!(error instanceof AegirError)) throw error;
      return this.wait(restore, error.reason, `Cannot read Aegir server ${server}: ${error.message}`, error.transient ? error : undefined);
    }

    switch (step.kind) {
      case "finished":
        return {};
      case "refuse":
        return this.finish(restore, "Refused", step.reason, step.message);
      case "wait":
        return this.wait(restore, step.reason, step.message);
      case "start":
        // The intent first: once it is stored, a restart can tell whether the task was queued.
        restore = await this.write(restore, {
          phase: "Pending",
          backup: step.backup,
          server,
          baselineTask: step.baselineTask,
          startedAt: timestamp(this.deps.now()),
          message: `Restoring ${step.backup}`,
        }, { status: "False", reason: "Starting", message: `Restoring ${step.backup}` });
        return this.queue(restore, driver, server, step.backup);
      case "queue":
        return this.queue(restore, driver, server, step.backup);
      case "track":
        return this.track(restore, step);
    }
  }

  private async queue(restore: HostedSiteRestore, driver: AegirDriver, server: string, backup: string): Promise<Result> {
    const uri = this.deps.site(restore.metadata.namespace, restore.spec.site)?.spec.domain;
    if (uri === undefined) return this.finish(restore, "Refused", "SiteNotFound", `HostedSite ${restore.spec.site} is gone`);
    let nid: number;
    try {
      ({ nid } = await driver.queueRestore(uri, backup));
    } catch (error) {
      if (!(error instanceof AegirError)) throw error;
      if (error.kind === "permanent") return this.finish(restore, "Refused", error.reason, error.message);
      return this.wait(restore, error.reason, error.message);
    }
    this.deps.onQueued?.(server);
    this.deps.log.info({ hostedsiterestore: keyOf(restore), task: nid }, "restore queued");
    this.deps.events.record(regardingOf(restore), "Normal", "RestoreQueued", "Restore", `Aegir task ${nid} restores ${backup} to ${uri}`);
    await this.write(restore, { phase: "Running", task: nid, message: `Aegir task ${nid} is queued` }, { status: "False", reason: "Running", message: `Aegir task ${nid} restores ${backup}` });
    return { requeueAfterMs: this.deps.progressPollMs };
  }

  private async track(restore: HostedSiteRestore, step: Extract<RestoreStep, { kind: "track" }>): Promise<Result> {
    const { task, state } = step;
    switch (state) {
      case "queued":
      case "processing": {
        const message = `Aegir task ${task} is ${state === "queued" ? "queued" : "running"}`;
        await this.write(restore, { phase: "Running", task, message }, { status: "False", reason: "Running", message });
        return { requeueAfterMs: this.deps.progressPollMs };
      }
      case "succeeded":
        return this.finish(restore, "Succeeded", "Restored", `Aegir task ${task} restored ${restore.status?.backup ?? "the backup"}`, task);
      case "failed":
        return this.finish(restore, "Failed", "TaskFailed", `Aegir task ${task} failed; its log in the hostmaster says why. The site was left as Aegir's restore rolled it back`, task);
      case "unknown":
        return this.finish(restore, "Failed", "OutcomeUnknown", `Aegir no longer reports task ${task}; check it in the hostmaster`, task);
    }
  }

  private async finish(restore: HostedSiteRestore, phase: RestorePhase, reason: string, message: string, task?: number): Promise<Result> {
    const ok = phase === "Succeeded";
    await this.write(restore, { phase, ...(task === undefined ? {} : { task }), completedAt: timestamp(this.deps.now()), message }, { status: ok ? "True" : "False", reason, message });
    this.deps.events.record(regardingOf(restore), ok ? "Normal" : "Warning", reason, "Restore", message);
    return {};
  }

  private async wait(restore: HostedSiteRestore, reason: string, message: string, error?: Error): Promise<Result> {
    await this.write(restore, { phase: "Pending", message }, { status: "False", reason, message });
    return error === undefined ? { requeueAfterMs: this.deps.progressPollMs } : { error };
  }

  private async write(restore: HostedSiteRestore, change: Partial<HostedSiteRestoreStatus>, complete: Omit<ConditionInput, "type">): Promise<HostedSiteRestore> {
    const previous = restore.status ?? {};
    const generation = restore.metadata.generation ?? 0;
    const status: HostedSiteRestoreStatus = {
      ...previous,
      ...change,
      observedGeneration: generation,
      conditions: mergeConditions(previous.conditions ?? [], [{ type: "Complete", ...complete }], generation, this.deps.now()),
    };
    if (jsonEqual(status, restore.status)) return restore;
    return this.deps.store.updateStatus(restore, status);
  }
}

function keyOf(restore: HostedSiteRestore): string {
  return `${restore.metadata.namespace}/${restore.metadata.name}`;
}
