// drush 8 as the simulated server runs it: argv → alias resolution → bootstrap → command, with
// drush's own messages and exit codes. prepare() only parses (for counting and fault matching);
// the returned run() applies the command to the model.
import { conformanceScriptName } from "../../../reconcilers/aegir/conformance/scripts.ts";
import { isEnforceQuotaScript } from "../../../reconcilers/aegir/quota.ts";
import { scriptName } from "../../../reconcilers/aegir/scripts.ts";
import { unixTime } from "./clock.ts";
import { CONFORMANCE_KIND, type ConformanceEnv, runConformanceScript, versionBanner } from "./conformance.ts";
import { type DrupalSite, addUser, findUser, userByMail, userByName } from "./drupal.ts";
import type { LogLevel } from "./drush-log.ts";
import { type BootstrappedSite, type ScriptEnv, SCRIPT_KIND, runScript } from "./php-scripts.ts";
import { enforceQuota } from "./quota.ts";
import type { Random } from "./random.ts";
import { mailFailure, siteName } from "./php-scripts.ts";
import { type DrushResult, done, failed, printed, uncaught } from "./result.ts";
import type { CommandKind } from "./stats.ts";

export interface CommandEnv extends ScriptEnv, ConformanceEnv {
  random: Random;
  /** The hostmaster site's context name (`hostmaster`); `@hm` is its extra alias. */
  hostmasterContext: string;
  /** Accepted argv[0] values besides any path ending in `/drush`. */
  drush: string;
}

export interface PreparedCommand {
  name: string;
  kind: CommandKind;
  alias: string | undefined;
  /** Only php-eval reads its standard input. */
  readsStdin: boolean;
  run(stdin: string): DrushResult;
}

type Log = Array<[string, LogLevel]>;
type Options = Map<string, string | true>;

interface Handler {
  kind: CommandKind;
  options: readonly string[];
  run(env: CommandEnv, site: BootstrappedSite, args: string[], options: Options, stdin: string): DrushResult;
}

const GLOBAL_OPTIONS = ["y", "yes", "n", "no", "uri", "l", "root", "r", "verbose", "v", "debug", "d", "quiet", "q", "strict", "nocolor", "simulate", "s"];

const ALIASES: Record<string, string> = { en: "pm-enable", dis: "pm-disable", vset: "variable-set", ucrt: "user-create", urol: "user-add-role", urrol: "user-remove-role", ublk: "user-block", uublk: "user-unblock", uli: "user-login", ev: "php-eval", eval: "php-eval" };

export function prepare(env: CommandEnv, argv: readonly string[]): PreparedCommand {
  const [binary, ...rest] = argv;
  if (binary === undefined || (binary !== env.drush && !binary.endsWith("/drush") && binary !== "drush")) {
    const word = binary ?? "";
    return { name: "invalid", kind: "invalid", alias: undefined, readsStdin: false, run: () => ({ code: 127, stdout: "", stderr: `sh: 1: ${word}: not found\n` }) };
  }
  if (rest.length === 1 && rest[0] === "--version") return { name: "version", kind: "read", alias: undefined, readsStdin: false, run: () => versionBanner(env.server.drushVersion) };
  const alias = rest[0]?.startsWith("@") ? rest.shift() : undefined;
  const commandIndex = rest.findIndex((w) => !w.startsWith("-"));
  const typed = commandIndex === -1 ? undefined : (rest.splice(commandIndex, 1)[0] as string);
  const command = typed === undefined ? undefined : (ALIASES[typed] ?? typed);
  const handler = command === undefined ? undefined : HANDLERS[command];
  if (command === undefined || handler === undefined) {
    const shown = [typed ?? "", ...rest.filter((w) => !w.startsWith("-"))].join(" ").trim();
    return { name: command ?? "none", kind: "invalid", alias, readsStdin: false, run: () => failed(`The drush command '${shown}' could not be found.  Run \`drush cache-clear drush\` to clear the commandfile cache if you have installed new extensions.`) };
  }
  const options: Options = new Map();
  const args: string[] = [];
  for (const word of rest) {
    const option = /^--?([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(word);
    if (option) options.set(option[1] as string, option[2] ?? true);
    else args.push(word);
  }
  let name = command;
  let kind = handler.kind;
  if (command === "php-eval") {
    const script = scriptName(args[0] ?? "");
    const check = conformanceScriptName(args[0] ?? "");
    name = `php-eval:${script ?? check ?? (isEnforceQuotaScript(args[0] ?? "") ? "enforce-quota" : "unknown")}`;
    kind = script ? SCRIPT_KIND[script] : check ? CONFORMANCE_KIND[check] : "write";
  }
  return {
    name,
    kind,
    alias,
    readsStdin: command === "php-eval",
    run(stdin) {
      const unknown = [...options.keys()].find((o) => !GLOBAL_OPTIONS.includes(o) && !handler.options.includes(o) && !(o.startsWith("no-") && handler.options.includes(o.slice(3))));
      if (unknown !== undefined) return failed(`Unknown option: --${unknown}.  See \`drush help ${command}\` for available options. To suppress this error, add the option --strict=0.`);
      const site = bootstrap(env, alias);
      if (typeof site === "string") return failed(site);
      if (site === undefined) {
        return done("", [
          [`Command ${command} needs a higher bootstrap level to run - you will need to invoke drush from a more functional Drupal environment to run this command.`, "error"],
          [`The drush command '${[typed ?? command, ...args].join(" ")}' could not be executed.`, "error"],
        ], 1);
      }
      return handler.run(env, site, args, options, stdin);
    },
  };
}

/** The bootstrapped site; a string is drush's error; undefined: no Drupal site to bootstrap. */
function bootstrap(env: CommandEnv, alias: string | undefined): BootstrappedSite | string | undefined {
  if (alias === undefined) return undefined;
  const name = alias === "@hm" ? env.hostmasterContext : alias.slice(1);
  const nid = env.hostmaster.context(name);
  const node = nid === undefined ? undefined : env.hostmaster.sites.get(nid);
  // A site's alias file is written when its install task starts and removed on delete.
  if (nid === undefined || (node !== undefined && !node.aliasSaved)) return `Could not find the alias ${alias}`;
  if (!node?.drupal) return undefined;
  return { node, drupal: node.drupal, isHostmaster: name === env.hostmasterContext };
}

function confirmed(options: Options): boolean {
  return options.has("y") || options.has("yes");
}

/** drush_confirm() with nothing on stdin: the user did not say yes. */
const aborted = (stdout: string): DrushResult => done(`${stdout}Do you really want to continue? (y/n): \n`, [["Aborting.", "cancel"]], 75);

function pmEnable({ node, drupal }: BootstrappedSite, args: string[], options: Options, env: CommandEnv): DrushResult {
  const platform = env.hostmaster.platforms.get(node.platform);
  const log: Log = [];
  const wanted: string[] = [];
  const names = args.flatMap((a) => a.split(",")).filter(Boolean);
  const onPlatform = (name: string) => (platform?.modules.has(name) ?? false) || (platform?.themes.has(name) ?? false);
  // What is not on the platform, or a dependency that is not, drush tries to download from
  // drupal.org; without access to it, the whole command fails and nothing is enabled.
  const absent = [...new Set(names.flatMap((name) => (onPlatform(name) ? (platform?.dependencies.get(name) ?? []) : [name])).filter((n) => !onPlatform(n)))];
  if (absent.length > 0) return downloadFailed(absent);
  for (const name of names) {
    const isModule = platform?.modules.has(name) ?? false;
    if ((isModule && drupal.modules.includes(name)) || (!isModule && drupal.themes.includes(name))) log.push([`${name} is already enabled.`, "ok"]);
    else if (!wanted.includes(name)) wanted.push(name);
  }
  if (wanted.length === 0) return done("", [...log, ["There were no extensions that could be enabled.", "ok"]]);
  const permissions = wanted.flatMap((name) => {
    const defined = MODULE_PERMISSIONS[name];
    return defined === undefined ? [] : [`${name} defines the following permissions: ${defined.join(", ")}`];
  });
  const stdout = printed(`The following extensions will be enabled: ${wanted.join(", ")}`);
  if (!confirmed(options)) return aborted(stdout);
  for (const name of wanted) {
    if (platform?.modules.has(name)) drupal.modules.push(name);
    else drupal.themes.push(name);
    log.push([`${name} was enabled successfully.`, "ok"]);
  }
  return done(`${stdout}Do you really want to continue? (y/n): y\n${permissions.map(printed).join("")}`, log);
}

/** hook_permission() of modules the simulated platforms carry, as pm-enable lists them. */
const MODULE_PERMISSIONS: Record<string, string[]> = {
  forum: ["administer forums"],
  blog: ["create blog content", "edit own blog content", "edit any blog content", "delete own blog content", "delete any blog content"],
};

/** pm-enable's attempt to download a project without access to updates.drupal.org. */
function downloadFailed(names: string[]): DrushResult {
  const first = names[0] as string;
  return done("", [
    ...names.map((name): [string, LogLevel] => [`${name} was not found.`, "warning"]),
    ['simplexml_load_file(): I/O warning : failed to load external entity "" Project.php:96', "warning"],
    [`Failed to get available update data from https://updates.drupal.org/release-history/${first}/7.x`, "error"],
  ], 1);
}

function pmDisable({ node, drupal }: BootstrappedSite, args: string[], options: Options, env: CommandEnv): DrushResult {
  const platform = env.hostmaster.platforms.get(node.platform);
  const log: Log = [];
  const wanted: string[] = [];
  for (const name of args.flatMap((a) => a.split(",")).filter(Boolean)) {
    const isModule = platform?.modules.has(name) ?? false;
    // drush 8 says nothing about a name it does not know here.
    if (!isModule && !(platform?.themes.has(name) ?? false)) continue;
    else if (isModule ? !drupal.modules.includes(name) : !drupal.themes.includes(name)) log.push([`${name} is already disabled.`, "ok"]);
    else if (!isModule && drupal.variables.get("theme_default") === name) log.push([`${name} is the default theme and can't be disabled.`, "warning"]);
    else if (!wanted.includes(name)) wanted.push(name);
  }
  if (wanted.length === 0) return done("", [...log, ["There were no extensions that could be disabled.", "ok"]]);
  const stdout = printed(`The following extensions will be disabled: ${wanted.join(", ")}`);
  if (!confirmed(options)) return aborted(stdout);
  for (const name of wanted) {
    drupal.modules = drupal.modules.filter((m) => m !== name);
    drupal.themes = drupal.themes.filter((t) => t !== name);
    log.push([`${name} was disabled successfully.`, "ok"]);
  }
  return done(`${stdout}Do you really want to continue? (y/n): y\n`, log);
}

function variableSet(drupal: DrupalSite, args: string[], options: Options): DrushResult {
  const [name, raw] = args;
  if (name === undefined) return failed("You must specify a variable name.");
  if (raw === undefined) return failed("No value specified.");
  const format = options.get("format");
  let value: unknown = raw;
  if (format === "integer") value = Number.parseInt(raw, 10) || 0;
  else if (format === "json") {
    try {
      value = JSON.parse(raw) as unknown;
    } catch {
      return failed(`Could not decode the JSON value for ${name}.`);
    }
  } else if (format !== undefined && format !== "string" && format !== true && format !== "auto") return failed(`Unknown format: ${String(format)}.`);
  drupal.variables.set(name, value);
  return done("", [[`${name} was set to ${typeof value === "string" ? `"${value}"` : JSON.stringify(value)}.`, "success"]]);
}

/** drush's UserList: arguments (comma lists of uids, names, mails) plus --name/--uid/--mail. */
function users(drupal: DrupalSite, args: string[], options: Options): { users: ReturnType<typeof findUser>[]; missing?: string } {
  const keys = [...args.flatMap((a) => a.split(",")), ...["name", "uid", "mail"].flatMap((o) => String(options.get(o) ?? "").split(","))].filter(Boolean);
  const found = [];
  for (const key of keys) {
    const user = findUser(drupal, key);
    if (!user) return { users: [], missing: key };
    found.push(user);
  }
  return { users: found };
}

/** Drush\User\UserList's exception for a user that does not exist, as drush 8 logs it. */
function noSuchUser(key: string, caller: string, line: number): DrushResult {
  return uncaught(`Drush\\User\\UserListException: Unable to find a matching user for ${key}. in /usr/local/share/drush/lib/Drush/User/UserList.php:114`, [
    "/usr/local/share/drush/lib/Drush/User/UserList.php(15): Drush\\User\\UserList::getFromParameters()",
    `/usr/local/share/drush/commands/user/user.drush.inc(${line}): Drush\\User\\UserList->__construct()`,
    `/usr/local/share/drush/includes/command.inc(422): ${caller}()`,
  ]);
}

function role(drupal: DrupalSite, args: string[], options: Options, add: boolean): DrushResult {
  const [roleName, ...rest] = args;
  if (roleName === undefined) return failed("You must specify a role.");
  const caller = add ? "drush_user_add_role" : "drush_user_remove_role";
  // drush 8 loads the role before the users.
  if (!drupal.roles.includes(roleName) && roleName !== "authenticated user") {
    return uncaught(`Drush\\Role\\RoleException: Could not find the role: ${roleName} in /usr/local/share/drush/lib/Drush/Role/RoleBase.php:49`, [
      "[internal function]: Drush\\Role\\RoleBase->__construct()",
      "/usr/local/share/drush/includes/drush.inc(117): ReflectionClass->newInstanceArgs()",
      "/usr/local/share/drush/commands/core/role.drush.inc(289): drush_get_class()",
      `/usr/local/share/drush/commands/user/user.drush.inc(${add ? 282 : 307}): drush_role_get_class()`,
      `/usr/local/share/drush/includes/command.inc(422): ${caller}()`,
    ]);
  }
  const { users: found, missing } = users(drupal, rest, options);
  if (missing !== undefined) return noSuchUser(missing, caller, add ? 283 : 308);
  if (found.length === 0) return failed("You must specify a user.");
  const log: Log = [];
  for (const user of found) {
    if (!user) continue;
    if (add && !user.roles.includes(roleName)) user.roles.push(roleName);
    if (!add) user.roles = user.roles.filter((r) => r !== roleName);
    // drush 8 words it so, and reports success whether or not anything changed.
    log.push([add ? `Added role ${roleName} role to ${user.name}` : `Removed ${roleName} role from ${user.name}`, "success"]);
  }
  return done("", log);
}

function block(env: CommandEnv, drupal: DrupalSite, args: string[], options: Options, status: 0 | 1): DrushResult {
  const { users: found, missing } = users(drupal, args, options);
  if (missing !== undefined) return noSuchUser(missing, status ? "drush_user_unblock" : "drush_user_block", status ? 273 : 263);
  if (found.length === 0) return failed("You must specify a user.");
  const log: Log = [];
  let code = 0;
  for (const user of found) {
    if (!user) continue;
    const activated = status === 1 && user.status === 0;
    user.status = status;
    // user_save() mails "Account details … (approved)" when an account becomes active.
    if (!activated) continue;
    if (env.faults.takeMail()) {
      log.push(...mailFailure(drupal, user.mail));
      code = 1;
    } else drupal.outbox.push({ to: user.mail, uid: user.uid, kind: "status_activated", subject: `Account details for ${user.name} at ${siteName(drupal)} (approved)`, at: unixTime(env.clock) });
  }
  return done("", [...log, [`${status ? "Unblocked" : "Blocked"} user(s): ${found.map((u) => u?.name).join(", ")}`, "success"]], code);
}

function userCreate(env: CommandEnv, drupal: DrupalSite, args: string[], options: Options): DrushResult {
  const [name] = args;
  if (name === undefined) return failed("You must specify a user name.");
  const mail = options.get("mail");
  if (typeof mail === "string" && userByMail(drupal, mail)) return failed(`There is already a user account with the email ${mail}`);
  if (userByName(drupal, name)) return failed(`There is already a user account with the name ${name}`);
  const user = addUser(drupal, { name, mail: typeof mail === "string" ? mail : "", now: unixTime(env.clock) });
  const rows: Array<[string, string]> = [
    ["User ID", String(user.uid)],
    ["User name", user.name],
    ["User mail", user.mail],
    ["User roles", "authenticated user"],
    ["User status", "active"],
  ];
  const width = Math.max(...rows.map(([, v]) => v.length));
  return done(`${rows.map(([k, v]) => ` ${k.padEnd(14)}:  ${v.padEnd(width)} \n`).join("")}\n`);
}

function userLogin(env: CommandEnv, site: BootstrappedSite, args: string[], options: Options): DrushResult {
  const [who = "1"] = args;
  // drush 8 falls back to the superuser for a name it cannot find, and says nothing.
  const user = findUser(site.drupal, who) ?? site.drupal.users.get(1);
  if (!user) return failed(`Unable to find a matching user for ${who}.`);
  const uri = options.get("uri") ?? options.get("l");
  const base = typeof uri === "string" ? uri.replace(/\/+$/, "") : `http://${site.node.uri}`;
  // drush 8 appends /login so the link logs in without the confirmation form.
  return done(printed(`${base}/user/reset/${user.uid}/${unixTime(env.clock)}/${env.random.token()}/login`));
}

function phpEval(env: CommandEnv, site: BootstrappedSite, args: string[], stdin: string): DrushResult {
  const check = conformanceScriptName(args[0] ?? "");
  if (check) return runConformanceScript(env, check, site, stdin);
  if (isEnforceQuotaScript(args[0] ?? "")) return enforceQuota(site.drupal, stdin, unixTime(env.clock));
  const script = scriptName(args[0] ?? "");
  // Arbitrary PHP cannot run here; fail the way a broken snippet fails drush.
  if (!script) {
    return uncaught("Error: Call to undefined function aegir_simulator_foreign_code() in /usr/local/share/drush/commands/core/core.drush.inc(1178) : eval()'d code:1", [
      "/usr/local/share/drush/commands/core/core.drush.inc(1178): eval()",
      "/usr/local/share/drush/includes/command.inc(422): drush_core_php_eval()",
    ]);
  }
  return runScript(env, script, site, stdin);
}

const HANDLERS: Record<string, Handler> = {
  "pm-enable": { kind: "write", options: ["resolve-dependencies", "skip"], run: (env, site, args, options) => pmEnable(site, args, options, env) },
  "pm-disable": { kind: "write", options: [], run: (env, site, args, options) => pmDisable(site, args, options, env) },
  "variable-set": { kind: "write", options: ["exact", "format", "always-set"], run: (_env, site, args, options) => variableSet(site.drupal, args, options) },
  "user-create": { kind: "write", options: ["mail", "password"], run: (env, site, args, options) => userCreate(env, site.drupal, args, options) },
  "user-add-role": { kind: "write", options: ["name", "uid", "mail"], run: (_env, site, args, options) => role(site.drupal, args, options, true) },
  "user-remove-role": { kind: "write", options: ["name", "uid", "mail"], run: (_env, site, args, options) => role(site.drupal, args, options, false) },
  "user-block": { kind: "write", options: ["name", "uid", "mail"], run: (env, site, args, options) => block(env, site.drupal, args, options, 0) },
  "user-unblock": { kind: "write", options: ["name", "uid", "mail"], run: (env, site, args, options) => block(env, site.drupal, args, options, 1) },
  "user-login": { kind: "read", options: ["browser", "uid", "name", "mail", "redirect-port"], run: (env, site, args, options) => userLogin(env, site, args, options) },
  "php-eval": { kind: "write", options: [], run: (env, site, args, _options, stdin) => phpEval(env, site, args, stdin) },
};
