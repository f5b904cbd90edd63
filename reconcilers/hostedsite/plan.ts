// plan(desired, observed): the drush operations still needed, in order. Pure, so every rule
// is unit-tested without a server, and `aegir-operator plan` prints exactly what a reconcile
// would do.
import type { Account, SiteState, SiteSummary } from "../aegir/state.ts";
import { lastTask, pendingTask } from "../aegir/state.ts";
import type { Desired } from "./desired.ts";

/** What an operation converges; each has a status condition. */
export type Aspect = "site" | "features" | "theme" | "quota" | "owner" | "support";

/** The module that makes a Drupal 7 site refuse users beyond `user_limit`. */
export const QUOTA_MODULE = "user_limit";

export type Operation =
  | { kind: "CreateSite"; aspect: "site" }
  | { kind: "QueueTask"; aspect: "site"; task: "enable" | "disable" | "backup" | "delete" }
  | { kind: "MigrateSite"; aspect: "site"; platform: string }
  | { kind: "UpdateSite"; aspect: "site"; aliases: string[]; https: Desired["https"] }
  | { kind: "EnableModules"; aspect: "features" | "quota"; modules: string[] }
  | { kind: "DisableModules"; aspect: "features"; modules: string[] }
  | { kind: "SetTheme"; aspect: "theme"; theme: string }
  | { kind: "EnforceUserQuota"; aspect: "quota"; limit: number; keep: string[] }
  | { kind: "CreateOwner"; aspect: "owner"; name: string; mail: string }
  | { kind: "AddOwnerRole"; aspect: "owner"; role: string; name: string }
  | { kind: "SendWelcome"; aspect: "owner"; name: string; role: string }
  | { kind: "CreateTrackerAccount"; aspect: "support"; name: string; mail: string }
  | { kind: "AddTrackerRole"; aspect: "support"; role: string; name: string }
  | { kind: "RemoveTrackerRole"; aspect: "support"; role: string; name: string };

export interface Observed {
  /** The site in the server's batched status; undefined when Aegir has no (live) site. */
  site: SiteSummary | undefined;
  /** The deep read, when one was made this reconcile. */
  deep: SiteState | undefined;
  /** The owner's tracker account: null when absent, undefined when not read this reconcile. */
  tracker: Account | null | undefined;
}

export interface PlanContext {
  now: Date;
  /** Features the operator enabled before (status.appliedFeatures). */
  appliedFeatures: readonly string[];
  /** Aspects that failed permanently at this generation: not retried until the spec changes. */
  blocked: ReadonlySet<Aspect>;
  /** When a create was last attempted (annotation), if its outcome is not yet visible. */
  createPendingSince: Date | undefined;
  /** status.owner.welcomedAt is set. */
  welcomed: boolean;
  /** Active users the previous deep read saw (status.users.active; 0 before any). */
  activeUsersSeen: number;
}

/** Why nothing (more) can be done now; the reconciler requeues. */
export interface Wait {
  reason: "Creating" | "Installing" | "TaskRunning" | "Deleting";
  message: string;
  /** When to look again, if sooner than the regular poll. */
  retryAfterMs?: number;
}

/** Something the plan can already tell will not work: a permanent condition, no command tried. */
export interface Problem {
  aspect: Aspect;
  reason: string;
  message: string;
}

export interface Plan {
  operations: Operation[];
  problems: Problem[];
  wait: Wait | undefined;
  /** Deletion finished in Aegir (or is not wanted): the finalizer may go. */
  released: boolean;
}

/** Task types during which drush commands against the site itself make no sense. */
const SITE_BUSY_TASKS = new Set(["install", "delete", "migrate"]);

export function plan(desired: Desired, observed: Observed, ctx: PlanContext): Plan {
  if (desired.deleting) return planDeletion(desired, observed);
  const operations: Operation[] = [];
  const site = observed.site;

  if (site === undefined) {
    if (ctx.blocked.has("site")) return { operations, problems: [], wait: undefined, released: false };
    const since = ctx.createPendingSince;
    if (since !== undefined && ctx.now.getTime() - since.getTime() < desired.createSettleMs) {
      const retryAfterMs = desired.createSettleMs - (ctx.now.getTime() - since.getTime());
      return { operations, problems: [], wait: { reason: "Creating", message: "Waiting for the new site to appear in Aegir", retryAfterMs }, released: false };
    }
    return { operations: [{ kind: "CreateSite", aspect: "site" }], problems: [], wait: undefined, released: false };
  }

  const pending = pendingTask(site);
  let wait: Wait | undefined;
  if (site.status === "queued" || pending?.type === "install") {
    return { operations, problems: [], wait: { reason: "Installing", message: "Aegir is installing the site" }, released: false };
  }
  if (pending !== undefined) wait = { reason: "TaskRunning", message: `Aegir is running the site's ${pending.type} task` };

  // Hostmaster changes: Aegir runs one task per site at a time, so at most one per plan.
  if (pending === undefined && !ctx.blocked.has("site")) {
    const hostmaster = hostmasterOperation(desired, site);
    if (hostmaster !== undefined) operations.push(hostmaster);
  }

  const siteBusy = pending !== undefined && SITE_BUSY_TASKS.has(pending.type);
  const problems: Problem[] = [];
  if (site.https === null && desired.https !== "Disabled") {
    problems.push({ aspect: "site", reason: "HttpsUnavailable", message: "The Aegir server has no hosting_https module, so the site is served over http only" });
  }
  if (observed.deep !== undefined && !siteBusy) operations.push(...siteOperations(desired, observed.deep, ctx, problems));
  if (observed.tracker !== undefined && desired.support !== undefined && !ctx.blocked.has("support")) {
    operations.push(...trackerOperations(desired, observed.tracker));
  }
  return { operations, problems, wait, released: false };
}

function hostmasterOperation(desired: Desired, site: SiteSummary): Operation | undefined {
  // A rollout's migrate is queued once: after it ran (failed: Aegir rolled back) the rollout decides.
  const rolloutMigrated = desired.migrateAfter !== undefined && (lastTask(site, "migrate")?.nid ?? 0) > desired.migrateAfter;
  if (site.platform !== desired.platform && !rolloutMigrated) return { kind: "MigrateSite", aspect: "site", platform: desired.platform };
  if (desired.enabled && site.status === "disabled") return { kind: "QueueTask", aspect: "site", task: "enable" };
  if (!desired.enabled && site.status === "enabled") return { kind: "QueueTask", aspect: "site", task: "disable" };
  const aliases = [...site.aliases].sort();
  // https null: the hostmaster has no hosting_https; a verify would not change that.
  const httpsDiffers = site.https !== null && site.https !== desired.https;
  if (httpsDiffers || aliases.join(",") !== desired.aliases.join(",")) {
    return { kind: "UpdateSite", aspect: "site", aliases: desired.aliases, https: desired.https };
  }
  return undefined;
}

function siteOperations(desired: Desired, deep: SiteState, ctx: PlanContext, problems: Problem[]): Operation[] {
  const ops: Operation[] = [];
  const enabled = new Set(deep.modules);
  if (!ctx.blocked.has("features")) {
    const missing = desired.features.filter((f) => !enabled.has(f));
    // Only what the platform carries; the enable script checks the dependencies as well.
    const absent = missing.filter((f) => !deep.available.includes(f));
    if (absent.length > 0) problems.push({ aspect: "features", reason: "ModuleNotOnPlatform", message: `Module ${absent.join(", ")} not available on the site's platform` });
    else if (missing.length > 0) ops.push({ kind: "EnableModules", aspect: "features", modules: missing });
    const wanted = new Set(desired.features);
    const removed = ctx.appliedFeatures.filter((f) => !wanted.has(f) && enabled.has(f)).sort();
    if (removed.length > 0) ops.push({ kind: "DisableModules", aspect: "features", modules: removed });
  }
  if (desired.theme !== undefined && deep.theme !== desired.theme && !ctx.blocked.has("theme")) {
    if (!deep.availableThemes.includes(desired.theme)) {
      problems.push({ aspect: "theme", reason: "ThemeNotOnPlatform", message: `Theme ${desired.theme} not available on the site's platform` });
    } else ops.push({ kind: "SetTheme", aspect: "theme", theme: desired.theme });
  }
  if (!ctx.blocked.has("quota")) {
    if (!enabled.has(QUOTA_MODULE) && !deep.available.includes(QUOTA_MODULE)) {
      problems.push({ aspect: "quota", reason: "ModuleNotOnPlatform", message: `The platform lacks the ${QUOTA_MODULE} module that enforces the user quota` });
    } else if (!enabled.has(QUOTA_MODULE)) ops.push({ kind: "EnableModules", aspect: "quota", modules: [QUOTA_MODULE] });
    // The operator enforces the quota itself (nothing shows that user_limit stops user_save()):
    // when it is set, to set the module's limit and record its start on the site (one script),
    // and when accounts beyond it appeared (accounts older than the quota stay active, so over
    // quota alone would repeat it forever).
    if (deep.userLimit !== desired.userQuota || (deep.activeUsers > desired.userQuota && deep.activeUsers > ctx.activeUsersSeen)) {
      ops.push({ kind: "EnforceUserQuota", aspect: "quota", limit: desired.userQuota, keep: [desired.owner.name] });
    }
  }
  if (!ctx.blocked.has("owner") && (deep.owner === null || deep.owner.uid !== 1)) {
    if (!deep.roles.includes(desired.owner.role)) {
      problems.push({ aspect: "owner", reason: "RoleNotOnSite", message: `The site has no ${desired.owner.role} role; set the platform's ownerRole or spec.owner.role to a role it has` });
    } else ops.push(...ownerOperations(desired, deep, ctx));
  }
  return ops;
}

function ownerOperations(desired: Desired, deep: SiteState, ctx: PlanContext): Operation[] {
  const { name, mail, role } = desired.owner;
  const owner = deep.owner;
  if (owner === null) {
    // Role and welcome in the same pass: the operations stop at the first failure, and the welcome
    // script itself sends only to an account other than uid 1 holding the role. A new account has
    // no marker yet (uids are never reused).
    const ops: Operation[] = [
      { kind: "CreateOwner", aspect: "owner", name, mail },
      { kind: "AddOwnerRole", aspect: "owner", role, name },
    ];
    if (!ctx.welcomed) ops.push({ kind: "SendWelcome", aspect: "owner", name, role });
    return ops;
  }
  const ops: Operation[] = [];
  if (!owner.roles.includes(role)) ops.push({ kind: "AddOwnerRole", aspect: "owner", role, name: owner.name });
  // The site's own marker is what prevents a second mail; status only saves a command.
  if (!ctx.welcomed && deep.welcome[String(owner.uid)] === undefined) ops.push({ kind: "SendWelcome", aspect: "owner", name: owner.name, role });
  return ops;
}

function trackerOperations(desired: Desired, account: Account | null): Operation[] {
  const support = desired.support;
  if (support === undefined) return [];
  // Support ends with the site: expired or deleted sites keep the account but lose the role.
  const grant = !desired.expired && !desired.deleting;
  if (account === null) {
    // The role in the same pass, by the name just created (the operations stop at a failure).
    return grant
      ? [
          { kind: "CreateTrackerAccount", aspect: "support", name: support.account, mail: support.mail },
          { kind: "AddTrackerRole", aspect: "support", role: support.role, name: support.account },
        ]
      : [];
  }
  const ops: Operation[] = [];
  for (const role of support.tierRoles) {
    const want = grant && role === support.role;
    const has = account.roles.includes(role);
    if (want && !has) ops.push({ kind: "AddTrackerRole", aspect: "support", role, name: account.name });
    if (!want && has) ops.push({ kind: "RemoveTrackerRole", aspect: "support", role, name: account.name });
  }
  return ops;
}

function planDeletion(desired: Desired, observed: Observed): Plan {
  const operations: Operation[] = [];
  if (observed.tracker !== undefined && desired.support !== undefined) operations.push(...trackerOperations(desired, observed.tracker));
  const site = observed.site;
  if (desired.deletionPolicy === "Retain" || site === undefined || site.status === "deleted") {
    // Released only once the tracker role is gone too (or the tracker was not read: next time).
    const trackerDone = desired.support === undefined || (observed.tracker !== undefined && operations.length === 0);
    return { operations, problems: [], wait: undefined, released: trackerDone };
  }
  const pending = pendingTask(site);
  if (pending !== undefined) {
    return { operations, problems: [], wait: { reason: "Deleting", message: `Aegir is running the site's ${pending.type} task` }, released: false };
  }
  // Aegir wants a site disabled before deletion; a backup comes before the delete (which
  // backs up once more itself: belt and braces for a customer's data).
  if (site.status === "enabled") operations.push({ kind: "QueueTask", aspect: "site", task: "disable" });
  else if (!backedUpSinceDisable(site)) operations.push({ kind: "QueueTask", aspect: "site", task: "backup" });
  else operations.push({ kind: "QueueTask", aspect: "site", task: "delete" });
  return { operations, problems: [], wait: undefined, released: false };
}

/** A backup succeeded after the latest disable, so the data as it was when taken down is kept. */
function backedUpSinceDisable(site: SiteSummary): boolean {
  const latest = (type: string) => site.tasks.filter((t) => t.type === type).sort((a, b) => b.nid - a.nid)[0];
  const backup = latest("backup");
  const disable = latest("disable");
  return backup !== undefined && backup.status === "succeeded" && (disable === undefined || backup.nid > disable.nid);
}

/** Operations that change something (all of them: plan never contains reads). */
export function describeOperation(op: Operation): string {
  switch (op.kind) {
    case "CreateSite":
      return "create the site in the hostmaster (queues its install)";
    case "QueueTask":
      return `queue a ${op.task} task`;
    case "MigrateSite":
      return `migrate the site to platform ${op.platform}`;
    case "UpdateSite":
      return `set aliases [${op.aliases.join(", ")}] and https ${op.https} (queues a verify)`;
    case "EnableModules":
      return `enable ${op.modules.join(", ")}`;
    case "DisableModules":
      return `disable ${op.modules.join(", ")}`;
    case "SetTheme":
      return `make ${op.theme} the default theme`;
    case "EnforceUserQuota":
      return `set the user limit to ${op.limit} and enforce it: block accounts created beyond it (never ${op.keep.join(", ")})`;
    case "CreateOwner":
      return `create the owner account ${op.name} <${op.mail}>`;
    case "AddOwnerRole":
      return `give ${op.name} the ${op.role} role`;
    case "SendWelcome":
      return `send the welcome mail to ${op.name}`;
    case "CreateTrackerAccount":
      return `create the support tracker account ${op.name} <${op.mail}>`;
    case "AddTrackerRole":
      return `give ${op.name} the ${op.role} role on the support tracker`;
    case "RemoveTrackerRole":
      return `take the ${op.role} role from ${op.name} on the support tracker`;
  }
}
