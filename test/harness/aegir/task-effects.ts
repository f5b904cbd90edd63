// What each hosting task does to the hostmaster and the site when it runs (provision's
// backend plus hosting's post_hosting_<type>_task hooks). Throwing TaskFailure fails the task
// with that message in its log.
import { installDrupal } from "./drupal.ts";
import { type Hostmaster, type SiteNode, type TaskNode, SITE_DELETED, SITE_DISABLED, SITE_ENABLED } from "./model.ts";
import { cloneSite } from "./clone.ts";
import { renameSite } from "./rename.ts";

export class TaskFailure extends Error {}

export interface TaskContext {
  hostmaster: Hostmaster;
  /** Unix seconds at completion. */
  now: number;
  log(message: string, level?: string): void;
}

function siteOf(ctx: TaskContext, task: TaskNode): SiteNode {
  const site = ctx.hostmaster.sites.get(task.rid);
  if (!site) throw new TaskFailure(`Task ${task.nid} refers to node ${task.rid}, which is not a site.`);
  return site;
}

function installed(site: SiteNode): NonNullable<SiteNode["drupal"]> {
  if (!site.drupal || !site.aliasSaved) throw new TaskFailure(`Could not find a Drupal site at sites/${site.uri} (PROVISION_DRUPAL_SITE_NOT_FOUND).`);
  return site.drupal;
}

/** provision-backup's default name, made unique: two backups in one second would collide. */
function backup(ctx: TaskContext, site: SiteNode, task: TaskNode): string {
  installed(site);
  const d = new Date(ctx.now * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}.${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
  const base = `${ctx.hostmaster.options.aegirRoot}/backups/${site.uri}-${stamp}`;
  let file = `${base}.tar.gz`;
  for (let n = 2; site.backups.some((b) => b.file === file); n++) file = `${base}_${n}.tar.gz`;
  site.backups.push({ file, at: ctx.now, task: task.nid });
  ctx.log(`Backed up site up to ${file}.`, "success");
  return file;
}

function verify(ctx: TaskContext, site: SiteNode): void {
  installed(site);
  site.applied = { aliases: [...site.aliases], https: site.https };
  site.verified = ctx.now;
  ctx.log(`Verified site ${site.uri}`, "success");
}

export const TASK_EFFECTS: Record<string, (ctx: TaskContext, task: TaskNode) => void> = {
  install(ctx, task) {
    const site = siteOf(ctx, task);
    const platform = ctx.hostmaster.platforms.get(site.platform);
    // provision-save runs first; a failed install rolls the alias and site directory back.
    site.aliasSaved = true;
    const profile = platform?.profiles.get(site.profile);
    if (!platform || !profile) {
      site.aliasSaved = false;
      site.status = SITE_DISABLED;
      throw new TaskFailure(`The profile ${site.profile} is not available on platform ${platform?.name ?? site.platform}.`);
    }
    site.drupal = installDrupal(profile.spec, { uri: site.uri, adminMail: ctx.hostmaster.options.adminMail, now: ctx.now });
    site.drupal.outbox.push({ to: ctx.hostmaster.options.adminMail, uid: 1, kind: "install", subject: `Your new site ${site.uri} has been created.`, at: ctx.now });
    site.status = SITE_ENABLED;
    site.applied = { aliases: [...site.aliases], https: site.https };
    site.verified = ctx.now;
    ctx.log(`Installed site ${site.uri} with profile ${site.profile}.`, "success");
  },
  verify(ctx, task) {
    verify(ctx, siteOf(ctx, task));
  },
  disable(ctx, task) {
    const site = siteOf(ctx, task);
    installed(site);
    site.status = SITE_DISABLED;
    ctx.log(`Disabled site ${site.uri}.`, "success");
  },
  enable(ctx, task) {
    const site = siteOf(ctx, task);
    installed(site);
    site.status = SITE_ENABLED;
    ctx.log(`Enabled site ${site.uri}.`, "success");
  },
  backup(ctx, task) {
    backup(ctx, siteOf(ctx, task), task);
  },
  delete(ctx, task) {
    const site = siteOf(ctx, task);
    backup(ctx, site, task);
    site.drupal = undefined;
    site.aliasSaved = false;
    site.status = SITE_DELETED;
    // hosting deletes the context row, so the URI can be used again; the node stays (status -2).
    ctx.hostmaster.contexts.delete(site.uri);
    ctx.log(`Deleted site ${site.uri}.`, "success");
  },
  migrate(ctx, task) {
    const site = siteOf(ctx, task);
    // hosting_migrate's pre-task hook builds the new context from these, as its form sends them.
    if (typeof task.args["new_uri"] !== "string" || task.args["new_uri"] === "" || task.args["new_db_server"] === undefined) {
      throw new TaskFailure("Could not find the alias @. Cannot load node id to find its context.");
    }
    const target = ctx.hostmaster.platforms.get(Number(task.args["target_platform"]));
    if (!target) throw new TaskFailure(`Target platform ${String(task.args["target_platform"])} does not exist.`);
    if (!target.profiles.has(site.profile)) throw new TaskFailure(`The profile ${site.profile} is not available on platform ${target.name}.`);
    backup(ctx, site, task);
    const from = site.uri;
    const refused = renameSite(ctx.hostmaster, site, task.args["new_uri"]);
    if (refused !== undefined) throw new TaskFailure(refused);
    site.platform = target.nid;
    verify(ctx, site);
    ctx.log(`Migrated site ${from} to ${target.name}${from === site.uri ? "" : ` as ${site.uri}`}.`, "success");
  },
  clone(ctx, task) {
    const source = siteOf(ctx, task);
    const newUri = task.args["new_uri"];
    if (typeof newUri !== "string" || newUri === "") throw new TaskFailure("Could not find the alias @. Cannot load node id to find its context.");
    installed(source);
    backup(ctx, source, task);
    const refused = cloneSite(ctx.hostmaster, source, newUri, Number(task.args["target_platform"]), ctx.now);
    if (refused !== undefined) throw new TaskFailure(refused);
    // provision-clone's call-backs, run inline in this task (their time is the clone's, durations.ts).
    ctx.log(`Verified platform ${ctx.hostmaster.platforms.get(Number(task.args["target_platform"]))?.name ?? ""}`, "success");
    ctx.log(`Verified site ${source.uri}`, "success");
    ctx.log(`Cloned site ${source.uri} as ${newUri}.`, "success");
  },
};
