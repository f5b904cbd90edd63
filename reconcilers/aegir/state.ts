// What the driver reports about a server and a site, and the wire formats it reads them from.
import { z } from "zod";

export const SITE_STATUS = { "-2": "deleted", "-1": "disabled", "0": "queued", "1": "enabled" } as const;
export const TASK_STATUS = { "-1": "processing", "0": "queued", "1": "succeeded", "2": "failed", "3": "warning" } as const;
export const HTTPS_MODE = { "0": "Disabled", "1": "Enabled", "2": "Required" } as const;

export type HttpsMode = (typeof HTTPS_MODE)[keyof typeof HTTPS_MODE];
export const TASK_TYPES = ["install", "verify", "disable", "enable", "delete", "backup", "migrate", "import", "login-reset", "restore", "clone", "backup-delete"] as const;
export type TaskType = (typeof TASK_TYPES)[number];

const code = <T extends Record<string, string>>(table: T) =>
  z.int().transform((n, ctx) => {
    const value = table[String(n)];
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: `unknown code ${n}` });
      return z.NEVER;
    }
    return value as T[keyof T];
  });

export const TaskWire = z.object({
  nid: z.int(),
  type: z.string(),
  status: code(TASK_STATUS),
  executed: z.int(),
  delta: z.int(),
  /** Pool work started in its own process (createSite/queueTask with background), queued or processing: not hosting-queued's. */
  background: z.boolean().default(false),
});

export const ServerStatusWire = z.object({
  sites: z.array(
    z.object({
      nid: z.int(),
      uri: z.string(),
      status: code(SITE_STATUS),
      verified: z.int(),
      platform: z.string(),
      profile: z.string(),
      aliases: z.array(z.string()),
      /** null: the hostmaster has no hosting_https, so nothing is known about https. */
      https: code(HTTPS_MODE).nullable(),
      tasks: z.array(TaskWire),
    }),
  ),
  platforms: z.array(z.object({ name: z.string(), status: z.int(), profiles: z.array(z.string()) })),
  queue: z.object({ queued: z.int(), processing: z.int() }),
  /** The hosting_https module is enabled on the hostmaster. */
  https: z.boolean(),
});

export type Task = z.infer<typeof TaskWire>;
export type ServerStatus = z.infer<typeof ServerStatusWire>;
export type SiteSummary = ServerStatus["sites"][number];

export const AccountWire = z.object({
  uid: z.int(),
  name: z.string(),
  mail: z.string(),
  status: z.int().transform((s) => (s === 1 ? ("active" as const) : ("blocked" as const))),
  roles: z.array(z.string()),
});
export type Account = z.infer<typeof AccountWire>;

const WelcomeMarker = z.object({ state: z.enum(["sending", "sent", "failed"]), at: z.int() });
export type WelcomeMarker = z.infer<typeof WelcomeMarker>;

export const SiteStateWire = z.object({
  modules: z.array(z.string()),
  /** Modules present on the platform, enabled or not. */
  available: z.array(z.string()),
  themes: z.array(z.string()),
  availableThemes: z.array(z.string()),
  theme: z.string(),
  userLimit: z.union([z.int(), z.string().regex(/^\d+$/).transform(Number)]).nullable(),
  roles: z.array(z.string()),
  activeUsers: z.int(),
  owner: AccountWire.nullable(),
  /** Welcome-mail markers by uid. */
  welcome: z.record(z.string(), WelcomeMarker),
});
export type SiteState = z.infer<typeof SiteStateWire>;

export const FindAccountWire = z.object({ account: AccountWire.nullable() });
/** `background`: the task was started in its own process (pool work); older scripts' output has no such field. */
export const CreatedWire = z.object({ nid: z.int(), task: z.int(), background: z.boolean().default(false) });
export const QueuedWire = z.object({ nid: z.int(), background: z.boolean().default(false) });
/** Why run-task-beside left a task to hosting-queued. */
export const RUN_BESIDE_REFUSALS = ["not-queued", "queue-idle", "site-busy", "customer-task-running"] as const;
export type RunBesideRefusal = (typeof RUN_BESIDE_REFUSALS)[number];
export const RunBesideWire = z.discriminatedUnion("started", [
  z.object({ started: z.literal(true) }),
  z.object({ started: z.literal(false), reason: z.enum(RUN_BESIDE_REFUSALS) }),
]);
export interface RunBesideResult {
  started: boolean;
  reason?: RunBesideRefusal;
}
export const WelcomeWire = z.object({ uid: z.int(), sent: z.boolean(), marker: WelcomeMarker });
export type WelcomeResult = z.infer<typeof WelcomeWire>;
export const EnabledWire = z.object({ enabled: z.array(z.string()), missing: z.array(z.string()), missingDependencies: z.record(z.string(), z.array(z.string())) });
export const ScrubWire = z.object({ variables: z.array(z.string()), users: z.int(), remaining: z.array(z.string()) });
export type ScrubResult = z.infer<typeof ScrubWire>;
export const ThemeSetWire = z.object({ theme: z.string(), missing: z.array(z.string()) });

/** A site's pending task (queued or processing), if any: Aegir runs one at a time per site. */
export function pendingTask(site: SiteSummary): Task | undefined {
  return site.tasks.find((t) => t.status === "queued" || t.status === "processing");
}

/** The most recent task of a type. */
export function lastTask(site: SiteSummary, type: string): Task | undefined {
  return site.tasks.filter((t) => t.type === type).sort((a, b) => b.nid - a.nid)[0];
}

/** Sites that count against capacity: live ones, not the hostmaster front end itself. */
export function hostedSites(status: ServerStatus): SiteSummary[] {
  return status.sites.filter((s) => s.status !== "deleted" && s.profile !== "hostmaster");
}

/** How many of the server's tasks are queued or running ahead of the site's pending task in hosting-queued's serial queue (pool work run in the background is not). */
export function tasksAhead(status: ServerStatus, site: SiteSummary): number {
  const mine = pendingTask(site);
  if (mine === undefined) return 0;
  return status.sites.flatMap((s) => s.tasks).filter((t) => (t.status === "queued" || t.status === "processing") && !t.background && t.nid < mine.nid).length;
}

/** One row of hosting_site_backups; `at` in Unix seconds. */
export const BackupWire = z.object({ bid: z.int(), uri: z.string(), file: z.string(), at: z.int() });
export const SiteBackupsWire = z.object({ backups: z.array(BackupWire) });
export type Backup = z.infer<typeof BackupWire>;
