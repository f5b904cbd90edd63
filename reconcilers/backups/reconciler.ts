// The backup controller's reconciler, one AegirServer at a time: read the server's queue and
// its sites' backups (two commands, whatever the site count), queue at most one backup or
// prune, report each site's status.backups and BackupsCurrent, and report tasks stuck in
// Processing (TaskStuck condition, event, metric) with their Aegir task id.
import { type EventRecorder, regardingOf } from "../../common/events.ts";
import type { Logger } from "../../common/logger.ts";
import type { Result } from "../../common/reconcile.ts";
import { type ConditionInput, mergeConditions } from "../../crds/conditions.ts";
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import { jsonEqual } from "../../crds/json.ts";
import type { HostedSite } from "../../crds/kinds.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import { type StuckTask, stuckTasks } from "../aegir/stuck-tasks.ts";
import { type BackupAction, type ScheduledSite, planBackups } from "./plan.ts";
import { policyOf, scheduleOf } from "./schedule.ts";

export interface BackupStatusStore {
  updateStatus(site: HostedSite, status: HostedSiteStatus): Promise<HostedSite>;
}

export interface BackupConfig {
  /** Look again at most this long after a reconcile with nothing due. */
  pollIntervalMs: number;
  /** Look again this soon while a backup is due and the queue is busy, or after queuing one. */
  progressPollMs: number;
  /** A Processing task is stuck after this many times its type's expected duration. */
  stuckFactor: number;
}

export interface BackupReconcilerDeps {
  sites: () => readonly HostedSite[];
  driver: (server: string) => AegirDriver;
  store: BackupStatusStore;
  events: EventRecorder;
  now: () => Date;
  log: Logger;
  config: BackupConfig;
  /** Called after every read of the server: its stuck tasks now (empty when none). */
  onStuck?: (server: string, stuck: readonly StuckTask[]) => void;
  /** Called after a task was queued (the HostedSite controller's cached server status is stale). */
  onQueued?: (server: string, action: BackupAction, task: number) => void;
}

const STUCK = "TaskStuck";

export class BackupReconciler {
  private readonly deps: BackupReconcilerDeps;
  /** Stuck task ids already announced by an event. */
  private readonly announced = new Set<string>();

  constructor(deps: BackupReconcilerDeps) {
    this.deps = deps;
  }

  async reconcile(server: string): Promise<Result> {
    const { driver: driverOf, config, log } = this.deps;
    const driver = driverOf(server);
    const read = await readServer(driver).catch((error: unknown) => {
      if (!(error instanceof AegirError)) throw error;
      log.warn({ aegirserver: server, reason: error.reason }, "backups: server not readable");
      return error;
    });
    if (read instanceof AegirError) return read.transient ? { error: read } : { requeueAfterMs: config.pollIntervalMs };
    const { status, backups } = read;
    const now = this.deps.now();
    const placed = this.deps.sites().filter((s) => s.status?.server === server && s.metadata.deletionTimestamp === undefined);
    const scheduled: ScheduledSite[] = placed.map((s) => ({ key: `${s.metadata.namespace}/${s.metadata.name}`, uri: s.spec.domain, schedule: scheduleOf(policyOf(s.spec)) }));
    const plan = planBackups(scheduled, status, backups, now.getTime());

    let queued = false;
    if (plan.action) queued = await this.queue(server, driver, plan.action);

    const stuck = stuckTasks(status, Math.floor(now.getTime() / 1000), config.stuckFactor);
    this.deps.onStuck?.(server, stuck);
    const stuckByUri = new Map(stuck.map((t) => [t.uri, t]));
    for (const site of placed) {
      const key = `${site.metadata.namespace}/${site.metadata.name}`;
      const report = plan.reports.get(key);
      const task = stuckByUri.get(site.spec.domain);
      if (task) this.announce(site, server, task);
      const conditions: ConditionInput[] = report ? [report.condition] : [];
      const hadStuck = site.status?.conditions?.some((c) => c.type === STUCK) ?? false;
      if (task) conditions.push({ type: STUCK, status: "True", reason: "TaskRunningTooLong", message: stuckMessage(server, task) });
      else if (hadStuck) conditions.push({ type: STUCK, status: "False", reason: "NoStuckTask", message: "" });
      await this.writeStatus(site, report?.status, conditions, now);
    }

    const dueIn = plan.nextDue === undefined ? config.pollIntervalMs : plan.nextDue - now.getTime();
    return { requeueAfterMs: queued ? config.progressPollMs : Math.max(config.progressPollMs, Math.min(config.pollIntervalMs, dueIn)) };
  }

  private async queue(server: string, driver: AegirDriver, action: BackupAction): Promise<boolean> {
    try {
      const { nid } = action.kind === "backup" ? await driver.queueTask(action.uri, "backup") : await driver.queueBackupDelete(action.uri, action.files);
      this.deps.log.info({ aegirserver: server, hostedsite: action.key, task: nid, kind: action.kind }, action.kind === "backup" ? "backup queued" : "old backups pruned");
      this.deps.onQueued?.(server, action, nid);
      return true;
    } catch (error) {
      // Another task of the site got in first: the next look sees it.
      if (!(error instanceof AegirError)) throw error;
      this.deps.log.warn({ aegirserver: server, hostedsite: action.key, reason: error.reason }, `${action.kind} not queued`);
      return false;
    }
  }

  private announce(site: HostedSite, server: string, task: StuckTask): void {
    const id = `${server}/${task.nid}`;
    if (this.announced.has(id)) return;
    this.announced.add(id);
    this.deps.events.record(regardingOf(site), "Warning", "TaskStuck", "MonitorTasks", stuckMessage(server, task));
    this.deps.log.warn({ aegirserver: server, task: task.nid, type: task.type, runningSeconds: task.runningSeconds }, "task stuck");
  }

  /** This controller's fields only: status.backups and its conditions; everything else as it was. */
  private async writeStatus(site: HostedSite, backups: HostedSiteStatus["backups"], conditions: readonly ConditionInput[], now: Date): Promise<void> {
    const previous = site.status ?? {};
    const mine = new Set(conditions.map((c) => c.type));
    const merged = mergeConditions(previous.conditions ?? [], conditions, site.metadata.generation ?? 0, now);
    const next: HostedSiteStatus = {
      ...previous,
      ...(backups ? { backups } : {}),
      conditions: [...(previous.conditions ?? []).filter((c) => !mine.has(c.type)), ...merged],
    };
    if (jsonEqual(next, site.status)) return;
    try {
      await this.deps.store.updateStatus(site, next);
    } catch (error) {
      // A newer copy of the site (the HostedSite controller wrote): the next look writes again.
      this.deps.log.debug({ hostedsite: `${site.metadata.namespace}/${site.metadata.name}`, error: String(error) }, "backup status not written");
    }
  }
}

async function readServer(driver: AegirDriver) {
  const status = await driver.serverStatus();
  return { status, backups: await driver.siteBackups() };
}

function stuckMessage(server: string, task: StuckTask): string {
  return `Aegir task ${task.nid} (${task.type}) on ${server} has been running ${Math.round(task.runningSeconds / 60)} min; it usually takes ${Math.round(task.expectedSeconds / 60)} min. Check it with drush @hostmaster hosting-task ${task.nid} --force --debug, or cancel it`;
}
