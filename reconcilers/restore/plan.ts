// What a HostedSiteRestore needs next. Pure. Applied once however often it is reconciled: the
// request records its backup and the site's newest restore task (the baseline) before it queues
// its own, so after a restart a restore task newer than the baseline is this request's, and
// none means it was never queued.
import type { HostedSiteRestoreStatus } from "../../crds/hostedsiterestore.ts";
import type { HostedSite, HostedSiteRestore } from "../../crds/kinds.ts";
import { type Backup, type SiteSummary, lastTask, pendingTask } from "../aegir/state.ts";

export type RestoreStep =
  /** Finished (Succeeded, Failed, Refused): nothing more, ever. */
  | { kind: "finished" }
  /** Cannot be done: the request ends here. */
  | { kind: "refuse"; reason: string; message: string }
  /** Not now; looked at again later. */
  | { kind: "wait"; reason: string; message: string }
  /** Record the intent (backup, baseline), then queue. */
  | { kind: "start"; backup: string; baselineTask: number }
  /** The intent is recorded and no task of this request exists in Aegir: queue it. */
  | { kind: "queue"; backup: string }
  /** This request's task: adopt it (first sight after a restart) or follow it. */
  | { kind: "track"; task: number; state: "queued" | "processing" | "succeeded" | "failed" | "unknown" };

export interface RestoreFacts {
  restore: HostedSiteRestore;
  site: HostedSite | undefined;
  /** The site in the server's status; undefined when not in Aegir. */
  summary: SiteSummary | undefined;
  /** The site's backups, oldest first. */
  backups: readonly Backup[];
}

const FINISHED: ReadonlySet<HostedSiteRestoreStatus["phase"]> = new Set(["Succeeded", "Failed", "Refused"]);

export function isFinished(status: HostedSiteRestoreStatus | undefined): boolean {
  return FINISHED.has(status?.phase);
}

export function nextRestoreStep({ restore, site, summary, backups }: RestoreFacts): RestoreStep {
  const status = restore.status ?? {};
  if (isFinished(status)) return { kind: "finished" };
  if (status.task !== undefined) return { kind: "track", task: status.task, state: taskState(summary, status.task) };
  if (status.baselineTask !== undefined && status.backup !== undefined) {
    // Queued before a restart, its task id not written yet: adopt it rather than queue a second.
    const newest = summary ? lastTask(summary, "restore") : undefined;
    if (newest !== undefined && newest.nid > status.baselineTask) return { kind: "track", task: newest.nid, state: taskState(summary, newest.nid) };
  }
  if (site === undefined) return { kind: "refuse", reason: "SiteNotFound", message: `HostedSite ${restore.spec.site} does not exist in namespace ${restore.metadata.namespace}` };
  if (site.metadata.deletionTimestamp !== undefined) return { kind: "refuse", reason: "SiteDeleting", message: `HostedSite ${restore.spec.site} is being deleted` };
  if (summary === undefined || summary.status === "deleted") return { kind: "wait", reason: "SiteNotInAegir", message: `HostedSite ${restore.spec.site} is not installed in Aegir yet` };
  const pending = pendingTask(summary);
  if (pending !== undefined) {
    return { kind: "wait", reason: "TaskRunning", message: `Aegir task ${pending.nid} (${pending.type}) of ${summary.uri} is queued or running; the restore starts after it` };
  }
  if (status.baselineTask !== undefined && status.backup !== undefined) return { kind: "queue", backup: status.backup };
  const wanted = restore.spec.backup;
  const backup = wanted === undefined ? backups.at(-1) : backups.find((b) => b.file === wanted);
  if (backup === undefined) {
    return wanted === undefined
      ? { kind: "refuse", reason: "NoBackup", message: `${summary.uri} has no backup to restore` }
      : { kind: "refuse", reason: "UnknownBackup", message: `${wanted} is not a backup of ${summary.uri}` };
  }
  return { kind: "start", backup: backup.file, baselineTask: lastTask(summary, "restore")?.nid ?? 0 };
}

/** What server-status shows of the task: pending tasks, and the newest of each type. */
function taskState(summary: SiteSummary | undefined, nid: number): Extract<RestoreStep, { kind: "track" }>["state"] {
  const task = summary?.tasks.find((t) => t.nid === nid);
  if (task === undefined) return "unknown";
  if (task.status === "warning") return "succeeded";
  return task.status;
}
