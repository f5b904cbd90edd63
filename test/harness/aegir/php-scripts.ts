// The operator's php-eval scripts (reconcilers/aegir/scripts.ts), executed against the model
// with the semantics of their PHP: same lookups, same errors, same JSON.
import { BACKGROUND_TASK_TYPES, BACKGROUND_TASKS_VARIABLE, type ScriptName } from "../../../reconcilers/aegir/scripts.ts";
import { queueBackupTaskScript, siteBackupsScript } from "./backups.ts";
import { type Clock, unixTime } from "./clock.ts";
import { type DrupalSite, type DrupalUser, userByMail, userByName } from "./drupal.ts";
import type { Faults } from "./faults.ts";
import { type Hostmaster, type PlatformNode, type SiteNode, type TaskNode, SITE_QUEUED, TASK_PROCESSING, TASK_QUEUED } from "./model.ts";
import { type DrushResult, done, failed, phpJson, printed, uncaught } from "./result.ts";
import { SPACE_SCRIPT_KIND, runSpaceScript } from "./spaces.ts";
import { scrubPlaceholder } from "./scrub.ts";
import type { TaskQueue } from "./tasks.ts";

export interface ScriptEnv {
  hostmaster: Hostmaster;
  /** The sites' database engine: it words the errors. Aegir runs MySQL/MariaDB. */
  database: "mysql" | "sqlite";
  tasks: TaskQueue;
  clock: Clock;
  faults: Faults;
}

/** The site drush bootstrapped: its node and Drupal, and whether it is the hostmaster. */
export interface BootstrappedSite {
  node: SiteNode;
  drupal: DrupalSite;
  isHostmaster: boolean;
}

type Input = Record<string, unknown>;

export const SCRIPT_KIND: Record<ScriptName, "read" | "write"> = {
  "server-status": "read",
  "create-site": "write",
  "update-site": "write",
  "queue-task": "write",
  "run-task-beside": "write",
  "site-state": "read",
  "find-account": "read",
  "welcome-mail": "write",
  "enable-modules": "write",
  "set-theme": "write",
  ...SPACE_SCRIPT_KIND,
  "site-backups": "read",
  "queue-backup-task": "write",
  "scrub-placeholder": "write",
};

/** The first hosting table each hostmaster script queries: on a plain site it does not exist. */
const HOSTMASTER_TABLE: Partial<Record<ScriptName, string>> = {
  "server-status": "hosting_site",
  "create-site": "hosting_context",
  "update-site": "hosting_context",
  "queue-task": "hosting_context",
  "run-task-beside": "hosting_task",
  "site-backups": "hosting_site_backups",
  "queue-backup-task": "hosting_context",
};

/** A hostmaster script run on a plain site: the query of a hosting table throws, worded by the database. */
export function tableMissing(database: ScriptEnv["database"], site: BootstrappedSite, table: string): DrushResult {
  const error = database === "sqlite" ? `General error: 1 no such table: ${table}` : `Base table or view not found: 1146 Table '${dbName(site.node.uri)}.${table}' doesn't exist`;
  const state = database === "sqlite" ? "HY000" : "42S02";
  return uncaught(`PDOException: SQLSTATE[${state}]: ${error} in /var/aegir/platforms/drupal7/includes/database/${database}/database.inc:265`, PDO_TRACE(database));
}

export function runScript(env: ScriptEnv, script: ScriptName, site: BootstrappedSite, stdin: string): DrushResult {
  const table = HOSTMASTER_TABLE[script];
  if (table !== undefined && !site.isHostmaster) return tableMissing(env.database, site, table);
  const input = parseInput(stdin);
  if (input === undefined) return failed("Standard input is not a JSON object.");
  switch (script) {
    case "server-status":
      return serverStatus(env);
    case "create-site":
      return createSite(env, input);
    case "update-site":
      return updateSite(env, input);
    case "queue-task":
      return queueTask(env, input);
    case "run-task-beside":
      return runTaskBeside(env, input);
    case "site-state":
      return siteState(site.drupal, env.hostmaster.platforms.get(site.node.platform), input);
    case "find-account":
      return done(printed(phpJson({ account: account(site.drupal, str(input, "name"), str(input, "mail")) })));
    case "welcome-mail":
      return welcomeMail(env, site.drupal, input);
    case "enable-modules":
      return enableModules(site.drupal, env.hostmaster.platforms.get(site.node.platform), input);
    case "set-theme":
      return setTheme(site.drupal, env.hostmaster.platforms.get(site.node.platform), input);
    case "scrub-placeholder":
      return done(printed(phpJson(scrubPlaceholder(site.drupal, str(input, "placeholder"), str(input, "uri"), typeof input["zone"] === "string" ? input["zone"] : undefined))));
    case "site-backups":
      return siteBackupsScript(env.hostmaster);
    case "queue-backup-task":
      return queueBackupTaskScript(env.hostmaster, env.tasks, input);
    default:
      return runSpaceScript(env, script, site, input);
  }
}

/** Where a query of php-eval code fails, as drush prints the trace (install paths as in the README of the recordings). */
function PDO_TRACE(database: "mysql" | "sqlite"): string[] {
  return [
    `/var/aegir/platforms/drupal7/includes/database/${database}/database.inc(265): PDO->prepare()`,
    "/var/aegir/platforms/drupal7/includes/database/database.inc(2467): DatabaseConnection->query()",
    "/usr/local/share/drush/commands/core/core.drush.inc(1178) : eval()'d code(3): db_query()",
    "/usr/local/share/drush/commands/core/core.drush.inc(1178): eval()",
    "/usr/local/share/drush/includes/command.inc(422): drush_core_php_eval()",
  ];
}

/** provision's database name: the URI without punctuation, at most 16 characters. */
function dbName(uri: string): string {
  return uri.replace(/[^a-z0-9]/g, "").slice(0, 16);
}

/** json_decode(…, TRUE) then is_array(): objects and arrays pass. */
function parseInput(stdin: string): Input | undefined {
  try {
    const value: unknown = JSON.parse(stdin);
    return typeof value === "object" && value !== null ? (value as Input) : undefined;
  } catch {
    return undefined;
  }
}

/** `$in['key']` as PHP would use it in a string context (missing → ''). */
function str(input: Input, key: string): string {
  const value = input[key];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

/** `(int) $in['key']` */
function int(input: Input, key: string): number {
  const value = input[key];
  const n = typeof value === "number" ? value : typeof value === "string" ? Number.parseInt(value, 10) : 0;
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

function stringList(input: Input, key: string): string[] {
  const value = input[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function httpsCode(n: number): 0 | 1 | 2 {
  return n === 1 || n === 2 ? n : 0;
}

/** Queued or processing. */
const pending = (task: TaskNode) => task.status === TASK_QUEUED || task.status === TASK_PROCESSING;

/** `$in['background']` when set (isset: null is absent). */
function backgroundInput(input: Input): unknown {
  const value = input["background"];
  return value === null ? undefined : value;
}

/** _aegir_operator_in_zone(): a site's name under the placeholder zone (not the zone itself). */
function inZone(name: string, zone: string): boolean {
  return name.length > zone.length + 1 && name.endsWith(`.${zone}`);
}

/** _aegir_operator_not_pool_work(): the error message, or undefined when every name is under the zone. */
function notPoolWork(background: unknown, uris: unknown[]): string | undefined {
  const b = typeof background === "object" && background !== null ? (background as Input) : {};
  const { alias, zone } = b;
  if (typeof alias !== "string" || alias === "" || typeof zone !== "string" || zone === "") return "Expected the hostmaster alias and the placeholder zone of the pool work.";
  for (const value of uris) {
    const uri = typeof value === "string" ? value : "";
    if (!inZone(uri, zone)) return `${uri} is not a site of the pool zone ${zone}: only pool work runs in the background.`;
  }
  return undefined;
}

/**
 * _aegir_operator_start_in_background(): the task marked Processing and its nid recorded (tasks no
 * longer pending pruned), then run by its own hosting-task --force process, beside the daemon
 * (which takes only queued tasks).
 */
function startInBackground(env: ScriptEnv, task: TaskNode): void {
  const hm = env.hostmaster;
  const live = [...hm.backgroundTasks()].filter((nid) => {
    const listed = hm.tasks.get(nid);
    return listed !== undefined && pending(listed);
  });
  hm.variables.set(BACKGROUND_TASKS_VARIABLE, [...new Set([...live, task.nid])]);
  task.background = true;
  env.tasks.runNow(task);
}

function serverStatus(env: ScriptEnv): DrushResult {
  const hm = env.hostmaster;
  const background = hm.backgroundTasks();
  const nameOf = new Map([...hm.contexts].map(([name, nid]) => [nid, name]));
  const https = hm.moduleEnabled("hosting_https");
  const sites = new Map<number, Record<string, unknown> & { tasks: unknown[] }>();
  for (const site of [...hm.sites.values()].sort((a, b) => a.nid - b.nid)) {
    const platform = nameOf.get(site.platform);
    if (platform === undefined) continue; // INNER JOIN on the platform's context
    sites.set(site.nid, {
      nid: site.nid,
      uri: site.uri,
      status: site.status,
      verified: site.verified,
      platform,
      profile: site.profile,
      aliases: [...site.aliases].sort(),
      https: https ? site.https : null,
      tasks: [],
    });
  }
  const latest = new Map<string, number>();
  for (const task of hm.tasks.values()) {
    const key = `${task.rid}:${task.type}`;
    latest.set(key, Math.max(latest.get(key) ?? 0, task.nid));
  }
  const queue = { queued: 0, processing: 0 };
  for (const task of [...hm.tasks.values()].sort((a, b) => a.nid - b.nid)) {
    if (!pending(task) && latest.get(`${task.rid}:${task.type}`) !== task.nid) continue;
    if (task.status === TASK_QUEUED) queue.queued++;
    if (task.status === TASK_PROCESSING) queue.processing++;
    sites.get(task.rid)?.tasks.push({ nid: task.nid, type: task.type, status: task.status, executed: task.executed, delta: task.delta, background: background.has(task.nid) && pending(task) });
  }
  const platforms = [...hm.platforms.values()]
    .sort((a, b) => a.nid - b.nid)
    .map((p) => ({ name: p.name, status: p.status, profiles: [...p.profiles.keys()].sort() }));
  return done(printed(phpJson({ sites: [...sites.values()], platforms, queue, https })));
}

function createSite(env: ScriptEnv, input: Input): DrushResult {
  const hm = env.hostmaster;
  const uri = str(input, "uri");
  const background = backgroundInput(input);
  const refused = background === undefined ? undefined : notPoolWork(background, [input["uri"]]);
  if (refused !== undefined) return failed(refused);
  if (hm.context(uri) !== undefined) return failed(`Site ${uri} already exists.`);
  const platformName = str(input, "platform");
  const platformNid = hm.context(platformName);
  if (platformNid === undefined) return failed(`Platform ${platformName} does not exist.`);
  const profileName = str(input, "profile");
  // The package lookup joins on the platform's nid: any other kind of context has no profiles.
  const aliases = stringList(input, "aliases");
  const taken = [uri, ...aliases].find((domain) => !hm.domainAllowed(domain));
  if (taken !== undefined) return failed(`Domain ${taken} is already in use by another site.`);
  if (!hm.platforms.get(platformNid)?.profiles.has(profileName)) return failed(`Profile ${profileName} is not on platform ${platformName}.`);
  const node = hm.addSite({ uri, status: SITE_QUEUED, platform: platformNid, profile: profileName, aliases, https: httpsCode(int(input, "https")) });
  // hosting_site's insert hook queues the install.
  const task = env.tasks.add(node.nid, "install");
  if (background === undefined) return done(printed(phpJson({ nid: node.nid, task: task.nid })));
  startInBackground(env, task);
  return done(printed(phpJson({ nid: node.nid, task: task.nid, background: true })));
}

function updateSite(env: ScriptEnv, input: Input): DrushResult {
  const uri = str(input, "uri");
  const node = env.hostmaster.siteByUri(uri);
  if (!node) return failed(`Site ${uri} does not exist.`);
  const aliases = stringList(input, "aliases");
  const taken = aliases.find((domain) => !env.hostmaster.domainAllowed(domain, node.nid));
  if (taken !== undefined) return failed(`Domain ${taken} is already in use by another site.`);
  node.aliases = aliases;
  node.https = httpsCode(int(input, "https"));
  // Every later node_save of a site node queues a verify.
  const task = env.tasks.add(node.nid, "verify");
  return done(printed(phpJson({ nid: node.nid, task: task.nid })));
}

function queueTask(env: ScriptEnv, input: Input): DrushResult {
  const hm = env.hostmaster;
  const uri = str(input, "uri");
  const background = backgroundInput(input);
  if (background !== undefined) {
    // Pool work only: a spare's clone, verify or delete (a spare's migrate is a claim's rename).
    if (!(BACKGROUND_TASK_TYPES as readonly string[]).includes(String(input["type"]))) return failed(`A ${String(input["type"])} task is no pool work: only a clone, verify or delete runs in the background.`);
    // A clone's copy is the task's site too.
    const copies = input["newUri"] !== undefined && input["newUri"] !== null && input["type"] === "clone";
    const refused = notPoolWork(background, copies ? [input["uri"], input["newUri"]] : [input["uri"]]);
    if (refused !== undefined) return failed(refused);
  }
  const nid = hm.context(uri);
  if (nid === undefined) return failed(`Site ${uri} does not exist.`);
  const busy = hm.pendingTasks(nid)[0];
  if (busy) return failed(`Task ${busy.nid} of ${uri} is still queued or running.`);
  const type = str(input, "type");
  const args: Record<string, string | number> = {};
  // hosting_clone is a feature a hostmaster may have off (it is by default): no clone task type then.
  if (type === "clone" && !hm.moduleEnabled("hosting_clone")) return failed("Task type clone is not available: the hosting_clone feature is disabled.");
  if (type === "migrate" || type === "clone") {
    const target = str(input, "targetPlatform");
    const targetNid = hm.context(target);
    if (targetNid === undefined) return failed(`Platform ${target} does not exist.`);
    const site = hm.sites.get(nid);
    const newUri = typeof input["newUri"] === "string" ? input["newUri"] : (site?.uri ?? "");
    // hosting_migrate's and hosting_clone's form validation: the new name must be free (a clone's, of the source's too).
    if (!hm.domainAllowed(newUri, type === "clone" ? undefined : nid)) return failed(`Domain ${newUri} is already in use by another site.`);
    Object.assign(args, { target_platform: targetNid, new_uri: newUri, new_db_server: site?.dbServer ?? 0 });
  }
  const task = env.tasks.add(nid, type, args);
  if (background === undefined) return done(printed(phpJson({ nid: task.nid })));
  startInBackground(env, task);
  return done(printed(phpJson({ nid: task.nid, background: true })));
}

/** The title of the node a task is for: a site's URI, else its context name (platforms, servers). */
function nodeTitle(hm: Hostmaster, nid: number): string {
  const site = hm.sites.get(nid);
  if (site) return site.uri;
  for (const [name, n] of hm.contexts) if (n === nid) return name;
  return "";
}

/**
 * run-task-beside: the same decisions, on the model; hosting-task's own process is the queue's
 * express lane. Tasks started in the background do not occupy hosting-queued.
 */
function runTaskBeside(env: ScriptEnv, input: Input): DrushResult {
  const hm = env.hostmaster;
  const { nid, zone, alias } = input;
  if (!Number.isInteger(nid) || (nid as number) <= 0 || typeof zone !== "string" || zone === "" || typeof alias !== "string" || alias === "") {
    return failed("Expected a task nid, a placeholder zone and the hostmaster alias.");
  }
  const running = [...hm.tasks.values()].filter((t) => t.status === TASK_PROCESSING).sort((a, b) => a.nid - b.nid);
  const task = hm.tasks.get(nid as number);
  if (!task) return failed(`Task ${String(nid)} does not exist.`);
  const answer = (reason: string) => done(printed(phpJson({ started: false, reason })));
  if (task.status !== TASK_QUEUED) return answer("not-queued");
  if (running.some((r) => r.rid === task.rid)) return answer("site-busy");
  // What hosting-queued runs: not the pool work started in the background.
  const background = hm.backgroundTasks();
  const daemon = running.filter((r) => !background.has(r.nid));
  if (daemon.length === 0) return answer("queue-idle");
  // A spare's migrate is a claim's rename, not pool work.
  if (daemon.some((r) => r.type === "migrate" || !inZone(nodeTitle(hm, r.rid), zone))) return answer("customer-task-running");
  env.tasks.runNow(task);
  return done(printed(phpJson({ started: true })));
}

function account(drupal: DrupalSite, name: string, mail: string): Record<string, unknown> | null {
  const user: DrupalUser | undefined = (name ? userByName(drupal, name) : undefined) ?? (mail ? userByMail(drupal, mail) : undefined);
  if (!user) return null;
  return { uid: user.uid, name: user.name, mail: user.mail, status: user.status, roles: [...user.roles] };
}

function siteState(drupal: DrupalSite, platform: PlatformNode | undefined, input: Input): DrushResult {
  const owner = typeof input["owner"] === "object" && input["owner"] !== null ? (input["owner"] as Input) : {};
  const welcome = drupal.variables.get("aegir_operator_welcome") ?? {};
  return done(
    printed(
      phpJson({
        modules: moduleList(drupal),
        available: [...new Set([...(platform?.modules ?? []), ...drupal.modules])].sort(),
        themes: [...drupal.themes].sort(),
        availableThemes: [...(platform?.themes ?? [])].sort(),
        theme: drupal.variables.get("theme_default") ?? "",
        userLimit: drupal.variables.get("user_limit") ?? null,
        roles: ["authenticated user", ...drupal.roles],
        activeUsers: [...drupal.users.values()].filter((u) => u.uid > 1 && u.status === 1).length,
        owner: account(drupal, str(owner, "name"), str(owner, "mail")),
        welcome,
      }),
    ),
  );
}

/** module_list(): ORDER BY weight, name; block weighs -5 and the profile 1000 in D7. */
function moduleList(drupal: DrupalSite): string[] {
  const weight = (m: string) => (m === "block" ? -5 : m === drupal.profile ? 1000 : 0);
  return [...drupal.modules].sort((a, b) => weight(a) - weight(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A module's dependencies, transitively (system_rebuild_module_data()'s `requires`), present or not. */
function requires(platform: PlatformNode | undefined, module: string): string[] {
  const seen = new Set<string>();
  const walk = (m: string) => {
    for (const dep of platform?.dependencies.get(m) ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      walk(dep);
    }
  };
  walk(module);
  return [...seen];
}

function enableModules(drupal: DrupalSite, platform: PlatformNode | undefined, input: Input): DrushResult {
  const wanted = stringList(input, "modules");
  const onPlatform = (m: string) => platform?.modules.has(m) ?? false;
  const missing = wanted.filter((m) => !onPlatform(m));
  const dependencies: Record<string, string[]> = {};
  for (const module of wanted.filter(onPlatform)) {
    const absent = requires(platform, module).filter((d) => !onPlatform(d));
    if (absent.length > 0) dependencies[module] = absent;
  }
  const enabled: string[] = [];
  if (missing.length === 0 && Object.keys(dependencies).length === 0) {
    // module_enable($modules, TRUE): dependencies first.
    for (const module of wanted.flatMap((m) => [...requires(platform, m).reverse(), m])) {
      if (!drupal.modules.includes(module)) {
        drupal.modules.push(module);
        enabled.push(module);
      }
    }
  }
  return done(printed(phpJson({ enabled, missing, missingDependencies: dependencies })));
}

function setTheme(drupal: DrupalSite, platform: PlatformNode | undefined, input: Input): DrushResult {
  const theme = str(input, "theme");
  const bases = platform?.baseThemes.get(theme) ?? [];
  const missing = platform?.themes.has(theme) ? bases.filter((b) => !platform.themes.has(b)) : [theme];
  if (missing.length === 0) {
    for (const t of [...bases, theme]) if (!drupal.themes.includes(t)) drupal.themes.push(t);
    drupal.variables.set("theme_default", theme);
  }
  return done(printed(phpJson({ theme: drupal.variables.get("theme_default") ?? "", missing })));
}

export function siteName(drupal: DrupalSite): string {
  const name = drupal.variables.get("site_name");
  return typeof name === "string" ? name : "";
}

/** What drush logs when Drupal cannot send a mail. */
export function mailFailure(drupal: DrupalSite, to: string): Array<[string, "error"]> {
  const from = drupal.variables.get("site_mail");
  return [
    [`WD mail: Error sending e-mail (from ${typeof from === "string" ? from : ""} to ${to}).`, "error"],
    ["Unable to send e-mail. Contact the site administrator if the problem persists.", "error"],
  ];
}

type WelcomeMarkers = Record<string, { state: string; at: number }>;

function welcomeMail(env: ScriptEnv, drupal: DrupalSite, input: Input): DrushResult {
  const name = str(input, "name");
  const user = userByName(drupal, name);
  if (!user) return failed(`Unable to find a matching user for ${name}.`);
  const role = input["role"];
  if (user.uid <= 1 || (role !== undefined && !(typeof role === "string" && user.roles.includes(role)))) return failed(`${user.name} is not an owner account with the ${String(role)} role.`);
  const markers = { ...((drupal.variables.get("aegir_operator_welcome") ?? {}) as WelcomeMarkers) };
  const existing = markers[String(user.uid)];
  if (existing) return done(printed(phpJson({ uid: user.uid, sent: false, marker: existing })));
  const now = unixTime(env.clock);
  markers[String(user.uid)] = { state: "sending", at: now };
  drupal.variables.set("aegir_operator_welcome", { ...markers });
  const sent = !env.faults.takeMail();
  if (sent) drupal.outbox.push({ to: user.mail, uid: user.uid, kind: "register_admin_created", subject: `An administrator created an account for you at ${siteName(drupal)}`, at: now });
  markers[String(user.uid)] = { state: sent ? "sent" : "failed", at: now };
  drupal.variables.set("aegir_operator_welcome", markers);
  const stdout = printed(phpJson({ uid: user.uid, sent, marker: markers[String(user.uid)] }));
  // drupal_mail() logs the failure through watchdog, which drush shows as an error: exit 1.
  return sent ? done(stdout) : done(stdout, mailFailure(drupal, user.mail), 1);
}
