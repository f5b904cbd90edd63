// What the backup controller does next on one server, from what Aegir shows. Pure. Aegir runs
// one task at a time per server, so a backup is queued only while the server's queue is empty:
// then at most one backup is ever waiting, and a customer's install or change queued after it
// waits for that one backup at most, never behind a flood of them.
import type { ConditionInput } from "../../crds/conditions.ts";
import type { BackupsStatus } from "../../crds/backups.ts";
import { timestamp } from "../../crds/conditions.ts";
import { type Backup, type ServerStatus, type SiteSummary, lastTask, pendingTask } from "../aegir/state.ts";
import { type Schedule, backupTiming, backupsCurrent } from "./schedule.ts";

/** A HostedSite placed on the server, with its schedule. */
export interface ScheduledSite {
  /** namespace/name: the HostedSite's key, and what spreads its slot. */
  key: string;
  uri: string;
  schedule: Schedule;
}

export type BackupAction = { kind: "backup"; key: string; uri: string } | { kind: "prune"; key: string; uri: string; files: string[] };

export interface SiteBackupReport {
  status: BackupsStatus;
  condition: ConditionInput;
}

export interface BackupPlan {
  /** At most one task to queue now. */
  action: BackupAction | undefined;
  reports: Map<string, SiteBackupReport>;
  /** When something next comes due (ms since the epoch). */
  nextDue: number | undefined;
}

interface Facts {
  site: ScheduledSite;
  summary: SiteSummary | undefined;
  backups: Backup[];
  due: boolean;
  next: number;
}

export function planBackups(sites: readonly ScheduledSite[], server: ServerStatus, backups: readonly Backup[], now: number): BackupPlan {
  const byUri = new Map<string, Backup[]>();
  for (const b of backups) byUri.set(b.uri, [...(byUri.get(b.uri) ?? []), b]);
  const summaries = new Map(server.sites.filter((s) => s.status !== "deleted").map((s) => [s.uri, s]));

  const facts: Facts[] = sites.map((site) => {
    const summary = summaries.get(site.uri);
    const own = [...(byUri.get(site.uri) ?? [])].sort((a, b) => a.at - b.at || a.bid - b.bid);
    const lastSuccess = own.at(-1)?.at;
    const task = summary ? lastTask(summary, "backup") : undefined;
    const lastFailure = task?.status === "failed" ? task.executed : undefined;
    const timing = backupTiming(site.schedule, site.key, now, toMs(lastSuccess), toMs(lastFailure));
    return { site, summary, backups: own, ...timing };
  });

  const reports = new Map(facts.map((f) => [f.site.key, report(f, now)]));
  const ready = facts.filter((f) => f.summary !== undefined && backupable(f.summary));
  const idle = server.queue.queued === 0 && server.queue.processing === 0;
  // The most overdue backup first (the oldest newest backup); pruning when nothing is due.
  const backup = ready.filter((f) => f.due).sort((a, b) => (a.backups.at(-1)?.at ?? 0) - (b.backups.at(-1)?.at ?? 0) || a.site.key.localeCompare(b.site.key))[0];
  const prune = ready.find((f) => f.backups.length > f.site.schedule.retain);
  const action: BackupAction | undefined = !idle
    ? undefined
    : backup
      ? { kind: "backup", key: backup.site.key, uri: backup.site.uri }
      : prune
        ? { kind: "prune", key: prune.site.key, uri: prune.site.uri, files: prune.backups.slice(0, prune.backups.length - prune.site.schedule.retain).map((b) => b.file) }
        : undefined;
  const upcoming = facts.filter((f) => f.summary !== undefined).map((f) => f.next);
  return { action, reports, nextDue: upcoming.length === 0 ? undefined : Math.min(...upcoming) };
}

/** Installed, and no task of its own queued or running (Aegir would refuse another). */
function backupable(site: SiteSummary): boolean {
  return (site.status === "enabled" || site.status === "disabled") && pendingTask(site) === undefined && lastTask(site, "install")?.status !== "failed";
}

function report(f: Facts, now: number): SiteBackupReport {
  const newest = f.backups.at(-1);
  const task = f.summary ? lastTask(f.summary, "backup") : undefined;
  const failedAt = task?.status === "failed" ? task.executed : undefined;
  const status: BackupsStatus = {
    count: f.backups.length,
    ...(newest ? { lastSuccess: timestamp(new Date(newest.at * 1000)), lastFile: newest.file } : {}),
    ...(f.summary ? { next: timestamp(new Date(f.next)) } : {}),
    ...(failedAt !== undefined ? { lastFailure: timestamp(new Date(failedAt * 1000)) } : {}),
  };
  return { status, condition: condition(f, now, newest, failedAt) };
}

function condition(f: Facts, now: number, newest: Backup | undefined, failedAt: number | undefined): ConditionInput {
  const type = "BackupsCurrent";
  if (f.summary === undefined) return { type, status: "Unknown", reason: "SiteNotInAegir", message: "The site is not in Aegir yet" };
  if (failedAt !== undefined && failedAt >= (newest?.at ?? 0)) {
    return { type, status: "False", reason: "BackupFailed", message: `The last backup task failed at ${timestamp(new Date(failedAt * 1000))}; retried at ${timestamp(new Date(f.next))}` };
  }
  if (newest === undefined) return { type, status: "False", reason: "NoBackupYet", message: "No backup taken yet; one is queued when the server's task queue is free" };
  if (!backupsCurrent(f.site.schedule, now, newest.at * 1000)) return { type, status: "False", reason: "BackupOverdue", message: `The newest backup is from ${timestamp(new Date(newest.at * 1000))}` };
  return { type, status: "True", reason: "BackupTaken", message: `${f.backups.length} backup(s) kept, the newest from ${timestamp(new Date(newest.at * 1000))}` };
}

function toMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}
