// The Aegir driver: every read and change the reconcilers make on an Aegir server, as drush
// commands run through a CommandRunner (SSH in production, the simulator in tests).
import { z } from "zod";
import { BACKUP_FILE_PATTERN } from "../../crds/hostedsiterestore.ts";
import { DRUPAL_ROLE_PATTERN, DRUPAL_USERNAME_PATTERN, fqdn, machineName } from "../../crds/primitives.ts";
import { Commands, type Command, validated } from "./commands.ts";
import { AegirError } from "./errors.ts";
import { classifyFailure, hasJsonOutput, parseJsonOutput } from "./output.ts";
import { type QuotaResult, QuotaWire, enforceQuotaCommand } from "./quota.ts";
import type { CommandResult, CommandRunner } from "./runner.ts";
import { BACKGROUND_TASK_TYPES, type ScriptName } from "./scripts.ts";
import {
  type Account,
  type Backup,
  CreatedWire,
  EnabledWire,
  FindAccountWire,
  type HttpsMode,
  QueuedWire,
  type RunBesideResult,
  RunBesideWire,
  type ScrubResult,
  ScrubWire,
  type ServerStatus,
  SiteBackupsWire,
  ServerStatusWire,
  type SiteState,
  SiteStateWire,
  ThemeSetWire,
  type WelcomeResult,
  WelcomeWire,
} from "./state.ts";

export type CommandOutcome = "success" | "error" | "timeout" | "connection";

/** One finished command, for metrics and logs. `command` is the drush subcommand only. */
export interface CommandEvent {
  command: string;
  outcome: CommandOutcome;
  seconds: number;
  reason?: string;
}

export interface DriverOptions {
  runner: CommandRunner;
  /** drush on the server (AegirServer spec.drushPath). */
  drush?: string;
  /** The hostmaster site alias (AegirServer spec.hostmasterAlias). */
  hostmaster?: string;
  /** Per-command time limits: reads and quick writes, and drush commands that bootstrap modules. */
  timeouts?: { readMs?: number; writeMs?: number };
  onCommand?: (event: CommandEvent) => void;
}

export type QueueableTask = "verify" | "disable" | "enable" | "backup" | "delete" | "migrate" | "clone";

export interface NewSite {
  uri: string;
  platform: string;
  profile: string;
  aliases: string[];
  https: HttpsMode;
}

/**
 * Pool work run in the background, outside hosting-queued: `zone` is the pool's placeholder zone
 * (e.g. `pool.invalid`), under which every site the task is for must be.
 */
export interface InBackground {
  zone: string;
}

/** The task types queueTask runs in the background: a spare's clone, delete or verify (an install is createSite's). */
const BACKGROUND_TASKS: ReadonlySet<QueueableTask> = new Set(BACKGROUND_TASK_TYPES);

const HTTPS_CODE: Record<HttpsMode, number> = { Disabled: 0, Enabled: 1, Required: 2 };

/** Built once: building a zod schema costs more than using it, and every reconcile validates a domain. */
const FQDN = fqdn();
const MACHINE_NAME = machineName();
const DRUPAL_USERNAME = z.string().max(60).regex(new RegExp(DRUPAL_USERNAME_PATTERN), { error: "must be a Drupal user name" });
const ROLE_NAME = z.string().max(64).regex(new RegExp(DRUPAL_ROLE_PATTERN), { error: "must be a Drupal role name" });
const TASK_NID = z.int().positive({ error: "must be a positive integer (a task's node id)" });
const BACKUP_FILE = z.string().max(1024).regex(new RegExp(BACKUP_FILE_PATTERN), { error: "must be a backup file path ending in .tar.gz" });

/** Drush alias of a customer site: `@` and its domain, validated. */
export function siteAlias(uri: string): string {
  return `@${FQDN.parse(uri)}`;
}

export class AegirDriver {
  private readonly runner: CommandRunner;
  private readonly commands: Commands;
  private readonly hostmaster: string;
  private readonly readMs: number;
  private readonly writeMs: number;
  private readonly onCommand: ((event: CommandEvent) => void) | undefined;

  constructor(options: DriverOptions) {
    this.runner = options.runner;
    this.commands = new Commands(options.drush);
    this.hostmaster = options.hostmaster ?? "@hostmaster";
    this.readMs = options.timeouts?.readMs ?? 60_000;
    this.writeMs = options.timeouts?.writeMs ?? 300_000;
    this.onCommand = options.onCommand;
  }

  // --- reads ---------------------------------------------------------------------------

  /** Every site, platform and pending task of the server: one command, whatever the site count. */
  async serverStatus(): Promise<ServerStatus> {
    return this.json(this.commands.php(this.hostmaster, "server-status"), ServerStatusWire, this.readMs);
  }

  /** The deep read of one site: modules, themes, quota, roles, user count, the owner's account. */
  async siteState(uri: string, owner: { name: string; mail: string }): Promise<SiteState> {
    return this.json(this.commands.php(siteAlias(uri), "site-state", { owner }), SiteStateWire, this.readMs);
  }

  /** An account on any site (the support tracker) by name, else by mail. */
  async findAccount(site: string, who: { name?: string; mail?: string }): Promise<Account | null> {
    const out = await this.json(this.commands.php(site, "find-account", { name: who.name ?? "", mail: who.mail ?? "" }), FindAccountWire, this.readMs);
    return out.account;
  }

  /** Every backup of every site on the server, oldest first: one command, whatever the site count. */
  async siteBackups(): Promise<Backup[]> {
    return (await this.json(this.commands.php(this.hostmaster, "site-backups"), SiteBackupsWire, this.readMs)).backups;
  }

  // --- hostmaster writes -------------------------------------------------------------------

  /**
   * Create the site node in the hostmaster, which queues its install task. Not idempotent.
   *
   * With `background` (pool work: a spare's install, `uri` under `background.zone`) the install
   * does not wait for hosting-queued: the php-eval that created the node starts it at once in its
   * own low-priority process, and `background: true` says so. What that means and rests on, and
   * what is unverified: queueTask().
   */
  async createSite(site: NewSite, options: { background?: InBackground } = {}): Promise<{ nid: number; task: number; background: boolean }> {
    const uri = FQDN.parse(site.uri);
    const input = {
      uri,
      platform: site.platform,
      profile: site.profile,
      aliases: site.aliases.map((a) => FQDN.parse(a)),
      https: HTTPS_CODE[site.https],
      ...(options.background === undefined ? {} : { background: this.inBackground(options.background, { uri }) }),
    };
    return this.json(this.commands.php(this.hostmaster, "create-site", input), CreatedWire, this.writeMs);
  }

  /** Change aliases and https on the site node; Aegir queues the verify that applies them. */
  async updateSite(uri: string, change: { aliases: string[]; https: HttpsMode }): Promise<{ nid: number; task: number }> {
    const input = { uri: FQDN.parse(uri), aliases: change.aliases.map((a) => FQDN.parse(a)), https: HTTPS_CODE[change.https] };
    return this.json(this.commands.php(this.hostmaster, "update-site", input), CreatedWire, this.writeMs);
  }

  /**
   * Queue a hostmaster task for the site; refused (TaskPending) while another one is queued or
   * running. A migrate with newUri renames the site; a clone copies it as newUri (refused as
   * TaskUnavailable where the hostmaster has hosting_clone off).
   *
   * With `background` (pool work: a spare's clone, delete or verify; `uri`, and a clone's `newUri`,
   * under `background.zone`) the task does not wait for hosting-queued, which runs queued tasks
   * strictly one at a time, so a customer's task queued meanwhile is not held up behind it. The
   * php-eval that queued the task marks it Processing, as hosting-task's validate does, and starts
   * it at once in a process of its own, `nohup nice -n 19 [/usr/bin/ionice -c 3] drush <hostmaster
   * alias> hosting-task <nid> --force` (ionice where the server has it; --force runs a task that is
   * Processing): hosting-queued takes only queued tasks, and a run of it the daemon picked up
   * just before fails with HOSTING_TASK_RUNNING (its hosting_task_execute passes no --force) and
   * changes nothing, so the task runs once. The nid is recorded on the hostmaster too:
   * serverStatus() shows the task `background`, and runTaskBeside() does not count it as
   * hosting-queued's. `background: true` in the result: started (launched, not finished; follow
   * it in serverStatus()). Another task type, a zone that is no FQDN or a name outside the zone is
   * a TypeError naming the field, and nothing is sent; the hostmaster checks the names again and
   * creates nothing then.
   *
   * UNVERIFIED on a real hostmaster (read from hosting's and drush's code only), as runTaskBeside:
   * the process forked from php-eval (drush_build_drush_command(), detached with nohup) outliving
   * the SSH session, and two provision processes at once on one server (hosting-queued runs tasks
   * strictly one at a time; BOA too; hosting's cron dispatch, hosting_tasks_queue(), forks up to 5
   * tasks of different sites at once). Besides: nice and ionice lower only the provision process's
   * CPU and IO priority, not the work MySQL does for it (a clone's dump and import, an install's
   * tables), and ionice's idle class only means something to an IO scheduler that has one (BFQ).
   * A fork that never starts leaves the task Processing: a stuck task (stuck-tasks.ts reports it).
   */
  async queueTask(
    uri: string,
    type: QueueableTask,
    options: { targetPlatform?: string; newUri?: string; background?: InBackground } = {},
  ): Promise<{ nid: number; background: boolean }> {
    if ((type === "migrate" || type === "clone") && options.targetPlatform === undefined) throw new TypeError(`${type} needs a target platform`);
    if (type === "clone" && options.newUri === undefined) throw new TypeError("clone needs a new domain (newUri)");
    if (options.newUri !== undefined && type !== "migrate" && type !== "clone") throw new TypeError("only a migrate or a clone takes a new domain");
    if (options.background !== undefined && !BACKGROUND_TASKS.has(type)) throw new TypeError(`background: only pool work runs in the background (a clone, delete or verify), not a ${type}`);
    const site = FQDN.parse(uri);
    const newUri = options.newUri === undefined ? undefined : validated(FQDN, options.newUri, "newUri");
    const input = {
      uri: site,
      type,
      ...(options.targetPlatform === undefined ? {} : { targetPlatform: validated(MACHINE_NAME, options.targetPlatform, "targetPlatform") }),
      ...(newUri === undefined ? {} : { newUri }),
      ...(options.background === undefined ? {} : { background: this.inBackground(options.background, newUri === undefined ? { uri: site } : { uri: site, newUri }) }),
    };
    return this.json(this.commands.php(this.hostmaster, "queue-task", input), QueuedWire, this.writeMs);
  }

  /**
   * The express lane: start queued task `nid` now, in its own `drush @hostmaster hosting-task
   * <nid>` process, while hosting-queued is busy with pool work. For a customer's task (the rename
   * of a warm-pool spare) queued behind a refill, which would otherwise wait for the refill to
   * finish. The hostmaster decides on its own database, not on a cached status: it starts the task
   * only while every task Aegir is processing is for a site under `zone` (the pool's placeholder
   * zone, e.g. `pool.invalid`) and none is for the task's own site; otherwise `started: false`
   * with the reason (`queue-idle`: nothing runs, hosting-queued takes it within seconds). Started
   * means launched, not finished: follow the task in serverStatus(). UnknownTask for a nid that is
   * no task.
   *
   * UNVERIFIED on a real hostmaster: the process forked from php-eval (drush_build_drush_command(),
   * detached with nohup), and two provision processes at once on one server (hosting-queued runs
   * tasks strictly one at a time; BOA too). Read from hosting's code only.
   */
  async runTaskBeside(nid: number, zone: string): Promise<RunBesideResult> {
    const input = { nid: validated(TASK_NID, nid, "nid"), zone: validated(FQDN, zone, "zone"), alias: this.hostmaster };
    return this.json(this.commands.php(this.hostmaster, "run-task-beside", input), RunBesideWire, this.writeMs);
  }

  /** Queue Aegir's restore of one of the site's backups (by file); refused (TaskPending) while another task is queued or running. */
  async queueRestore(uri: string, file: string): Promise<{ nid: number }> {
    return this.queueBackupTask(uri, "restore", [file]);
  }

  /** Queue one backup-delete task for these backup files of the site. */
  async queueBackupDelete(uri: string, files: readonly string[]): Promise<{ nid: number }> {
    if (files.length === 0) throw new TypeError("backup-delete needs at least one file");
    return this.queueBackupTask(uri, "backup-delete", files);
  }

  private async queueBackupTask(uri: string, type: "restore" | "backup-delete", files: readonly string[]): Promise<{ nid: number }> {
    const input = { uri: FQDN.parse(uri), type, files: files.map((f, i) => validated(BACKUP_FILE, f, `files[${i}]`)) };
    return this.json(this.commands.php(this.hostmaster, "queue-backup-task", input), QueuedWire, this.writeMs);
  }

  // --- site writes -----------------------------------------------------------------------

  /**
   * Enable modules through module_enable(), all or none: a module the platform lacks, or one
   * whose dependencies it lacks, is a permanent ModuleNotOnPlatform and nothing is enabled.
   */
  async enableModules(uri: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const modules = names.map((m, i) => validated(MACHINE_NAME, m, `modules[${i}]`));
    const out = await this.json(this.commands.php(siteAlias(uri), "enable-modules", { modules }), EnabledWire, this.writeMs);
    const problems = [
      ...(out.missing.length > 0 ? [`${out.missing.join(", ")} not on the site's platform`] : []),
      ...Object.entries(out.missingDependencies).map(([module, deps]) => `${module} needs ${deps.join(", ")}, which the platform lacks`),
    ];
    if (problems.length > 0) throw new AegirError("ModuleNotOnPlatform", `Module ${problems.join("; ")}`, { command: "php-eval:enable-modules" });
  }

  async disableModules(uri: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.check(this.commands.pmDisable(siteAlias(uri), names), this.writeMs);
  }

  /** Enable the theme and its base themes and make it the default, if the platform has them all. */
  async setDefaultTheme(uri: string, theme: string): Promise<void> {
    const name = validated(MACHINE_NAME, theme, "theme");
    const out = await this.json(this.commands.php(siteAlias(uri), "set-theme", { theme: name }), ThemeSetWire, this.writeMs);
    if (out.missing.length > 0) throw new AegirError("ThemeNotOnPlatform", `Theme ${out.missing.join(", ")} not available on the site's platform`, { command: "php-eval:set-theme" });
  }

  async setVariable(uri: string, name: string, value: string | number): Promise<void> {
    await this.check(this.commands.variableSet(siteAlias(uri), name, value), this.writeMs);
  }

  async createUser(site: string, name: string, mail: string): Promise<void> {
    await this.check(this.commands.userCreate(site, name, mail), this.writeMs);
  }

  async addRole(site: string, role: string, name: string): Promise<void> {
    await this.check(this.commands.userAddRole(site, role, name), this.writeMs);
  }

  async removeRole(site: string, role: string, name: string): Promise<void> {
    await this.check(this.commands.userRemoveRole(site, role, name), this.writeMs);
  }

  /** Record the quota on the site and block the accounts created beyond it, never uid 1 or those kept (quota.ts). */
  async enforceUserQuota(uri: string, limit: number, keep: readonly string[]): Promise<QuotaResult> {
    return this.json(enforceQuotaCommand(this.commands.drush, siteAlias(uri), limit, keep), QuotaWire, this.writeMs);
  }

  /**
   * Send the site's own welcome mail to the account, at most once (the site keeps a marker), and
   * only if it is not uid 1 and holds `role` (checked in the same bootstrap, so a plan that
   * created the account and granted the role a moment ago needs no read in between).
   */
  async sendWelcomeMail(uri: string, name: string, role: string): Promise<WelcomeResult> {
    const input = { name: validated(DRUPAL_USERNAME, name, "name"), role: validated(ROLE_NAME, role, "role") };
    // A failed mail is logged as an error, so drush exits 1 after the script printed its marker.
    return this.json(this.commands.php(siteAlias(uri), "welcome-mail", input), WelcomeWire, this.writeMs, { jsonOnFailure: true });
  }

  /** One of the operator's php-eval scripts on a site (the space driver's entry point). */
  async script<T>(uri: string, name: ScriptName, input: Record<string, unknown>, schema: z.ZodType<T>, kind: "read" | "write"): Promise<T> {
    return this.json(this.commands.php(siteAlias(uri), name, input), schema, kind === "read" ? this.readMs : this.writeMs);
  }

  /**
   * After a spare was renamed to this site: no trace of its placeholder domain may stay, nor (with
   * `zone`, the pool's placeholder zone) of any other spare's, which a cloned spare carries (scripts.ts).
   */
  async scrubPlaceholder(uri: string, placeholder: string, zone?: string): Promise<ScrubResult> {
    const input = { uri: FQDN.parse(uri), placeholder: validated(FQDN, placeholder, "placeholder"), ...(zone === undefined ? {} : { zone: validated(FQDN, zone, "zone") }) };
    return this.json(this.commands.php(siteAlias(uri), "scrub-placeholder", input), ScrubWire, this.writeMs);
  }

  // --- plumbing --------------------------------------------------------------------------

  /** The scripts' `background` input, once the zone is an FQDN and every named site is under it (TypeError naming the field otherwise). */
  private inBackground(background: InBackground, sites: Record<string, string>): { alias: string; zone: string } {
    const zone = validated(FQDN, background.zone, "background.zone");
    const suffix = `.${zone}`;
    for (const [field, name] of Object.entries(sites)) {
      if (name.length <= suffix.length || !name.endsWith(suffix)) throw new TypeError(`${field}: must be a site of the pool zone (a name under ${suffix}) to run in the background`);
    }
    return { alias: this.hostmaster, zone };
  }

  private async json<T>(command: Command, schema: z.ZodType<T>, timeoutMs: number, options: { jsonOnFailure?: boolean } = {}): Promise<T> {
    const result = await this.check(command, timeoutMs, options.jsonOnFailure === true ? (r) => r.code === 1 && hasJsonOutput(r.stdout) : undefined);
    return parseJsonOutput(command.name, result.stdout, schema);
  }

  /** Run a command; a non-zero exit becomes a classified AegirError unless `accept` takes the result. */
  private async check(command: Command, timeoutMs: number, accept?: (result: CommandResult) => boolean): Promise<CommandResult> {
    const started = performance.now();
    const done = (outcome: CommandOutcome, reason?: string) =>
      this.onCommand?.({ command: command.name, outcome, seconds: (performance.now() - started) / 1000, ...(reason ? { reason } : {}) });
    let result: CommandResult;
    try {
      result = await this.runner.run(command.argv, { timeoutMs, ...(command.stdin === undefined ? {} : { stdin: command.stdin }) });
    } catch (error) {
      // A refused argument (NUL byte) is a bug in the caller, not a network problem.
      if (error instanceof TypeError) throw error;
      const reason = error instanceof AegirError ? error.reason : "ConnectionLost";
      done(reason === "CommandTimeout" ? "timeout" : "connection", reason);
      throw error instanceof AegirError ? error : new AegirError("ConnectionLost", String(error), { command: command.name, cause: error });
    }
    if (result.code !== 0 && accept?.(result) !== true) {
      const error = classifyFailure(command.name, result);
      done("error", error.reason);
      throw error;
    }
    done("success");
    return result;
  }
}
