// Day-2 operations on the simulated hostmaster: the operator's backup scripts (site-backups,
// queue-backup-task) and what Aegir's restore and backup-delete tasks do. A backup's bid is
// the nid of the task that made it (hosting_site_backups has its own serial; only uniqueness
// matters here). Restore checks the backup and re-verifies the site; it does not roll the
// simulated Drupal state back to the backup's contents.
import type { LatencyOptions } from "./latency.ts";
import type { Hostmaster, SiteNode, TaskNode } from "./model.ts";
import { type DrushResult, done, failed, phpJson, printed } from "./result.ts";
import type { TaskQueue } from "./tasks.ts";
import { type TaskContext, TaskFailure } from "./task-effects.ts";

/** Benchmark durations of the day-2 tasks (backup and migrate are in latency.ts). */
export const DAY2_TASK_LATENCY: NonNullable<LatencyOptions["tasks"]> = { restore: 60_000, "backup-delete": 5_000 };

export function siteBackupsScript(hostmaster: Hostmaster): DrushResult {
  const backups = [...hostmaster.sites.values()]
    .flatMap((site) => site.backups.map((b) => ({ bid: b.task, uri: site.uri, file: b.file, at: b.at })))
    .sort((a, b) => a.at - b.at || a.bid - b.bid);
  return done(printed(phpJson({ backups })));
}

export function queueBackupTaskScript(hostmaster: Hostmaster, tasks: TaskQueue, input: Record<string, unknown>): DrushResult {
  const uri = typeof input["uri"] === "string" ? input["uri"] : "";
  const nid = hostmaster.context(uri);
  const site = nid === undefined ? undefined : hostmaster.sites.get(nid);
  if (nid === undefined || site === undefined) return failed(`Site ${uri} does not exist.`);
  const type = input["type"];
  const files = input["files"];
  if ((type !== "restore" && type !== "backup-delete") || !Array.isArray(files) || files.length === 0 || (type === "restore" && files.length !== 1)) {
    return failed("Expected a restore of one file or a backup-delete of files.");
  }
  const pending = hostmaster.pendingTasks(nid)[0];
  if (pending) return failed(`Task ${pending.nid} of ${uri} is still queued or running.`);
  const args: Record<string, string | number> = {};
  for (const file of files) {
    const backup = site.backups.find((b) => b.file === String(file));
    if (!backup) return failed(`${String(file)} is not a backup of ${uri}.`);
    if (type === "restore") args["bid"] = backup.task;
    else args[String(backup.task)] = backup.file;
  }
  return done(printed(phpJson({ nid: tasks.add(nid, type, args).nid })));
}

function siteOf(ctx: TaskContext, task: TaskNode): SiteNode {
  const site = ctx.hostmaster.sites.get(task.rid);
  if (!site) throw new TaskFailure(`Task ${task.nid} refers to node ${task.rid}, which is not a site.`);
  return site;
}

export const DAY2_TASK_EFFECTS: Record<string, (ctx: TaskContext, task: TaskNode) => void> = {
  restore(ctx, task) {
    const site = siteOf(ctx, task);
    const backup = site.backups.find((b) => b.task === Number(task.args["bid"]));
    if (!backup) throw new TaskFailure(`Backup ${String(task.args["bid"])} of ${site.uri} not found.`);
    if (!site.drupal || !site.aliasSaved) throw new TaskFailure(`Could not find a Drupal site at sites/${site.uri} (PROVISION_DRUPAL_SITE_NOT_FOUND).`);
    site.verified = ctx.now;
    ctx.log(`Restored site ${site.uri} from ${backup.file}.`, "success");
  },
  "backup-delete"(ctx, task) {
    const site = siteOf(ctx, task);
    // hosting_site's pre-task hook: the checked boxes' files, comma separated, for provision.
    const files = new Set(Object.entries(task.args).filter(([bid]) => /^\d+$/.test(bid)).map(([, file]) => String(file)));
    const before = site.backups.length;
    site.backups = site.backups.filter((b) => !files.has(b.file));
    ctx.log(`Deleted ${before - site.backups.length} backup file(s) of ${site.uri}.`, "success");
  },
};
