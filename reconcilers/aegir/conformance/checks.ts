// The conformance checks: pure judgements of what probeServer() observed against what the
// AegirServer spec and the catalog need, one row per check with the remedy for a failure.
import type { AegirServerSpec } from "../../../crds/aegirserver.ts";
import type { ConditionInput } from "../../../crds/conditions.ts";
import { QUOTA_MODULE } from "../../hostedsite/plan.ts";
import type { AegirError, Reason } from "../errors.ts";
import type { HostmasterProbe, Observation } from "./probe.ts";

export type CheckStatus = "pass" | "fail" | "warn" | "skip";

export interface CheckRow {
  /** Stable key, e.g. `platform:platform_openatrium2652`. */
  id: string;
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a failure or warning. */
  remedy?: string;
}

/** Features and themes the catalog can sell on sites of each install profile. */
export type Sellable = Map<string, { features: Set<string>; themes: Set<string> }>;

/** The daemon restarts itself every hosting_queued_process_lifetime (1 h); older means it is gone. */
const DAEMON_FRESH_SECONDS = 2 * 3600;

const CONNECTION_REASONS: ReadonlySet<Reason> = new Set(["HostKeyMismatch", "AuthenticationFailed", "ConnectionRefused", "ConnectionLost", "CommandTimeout"]);

export function evaluate(spec: AegirServerSpec, sellable: Sellable, o: Observation): CheckRow[] {
  const rows: CheckRow[] = [];
  const row = (id: string, check: string, status: CheckStatus, detail: string, remedy?: string) =>
    rows.push({ id, check, status, detail, ...(remedy === undefined || status === "pass" || status === "skip" ? {} : { remedy }) });
  const where = `${spec.user}@${spec.host}:${spec.port}`;

  const version = o.drushVersion;
  const connectionError = !version.ok && CONNECTION_REASONS.has(version.error.reason) ? version.error : undefined;
  if (connectionError) row("ssh", "SSH reachable with the pinned host key", "fail", connectionError.message, sshRemedy(connectionError, spec));
  else row("ssh", "SSH reachable with the pinned host key", "pass", `${where}, host key ${spec.hostKeySHA256}`);

  const hostmaster = o.hostmaster;
  const skipped = (why: string) => (id: string, check: string) => row(id, check, "skip", why);
  let skip: ((id: string, check: string) => void) | undefined = connectionError ? skipped("needs SSH") : undefined;

  if (skip) skip("drush", "drush 8.x");
  else if (!version.ok) {
    row("drush", "drush 8.x", "fail", version.error.message, `install drush 8 on the server, or set spec.drushPath to it (now ${spec.drushPath})`);
    skip = skipped("needs drush 8");
  } else if (!/^8\./.test(version.value)) {
    row("drush", "drush 8.x", "fail", `drush ${version.value}: Aegir 3 and the operator's command lines need drush 8`, `install drush 8.4 (what Aegir 3.x uses) and point spec.drushPath at it (now ${spec.drushPath})`);
    skip = skipped("needs drush 8");
  } else row("drush", "drush 8.x", "pass", `drush ${version.value}`);

  const status = o.serverStatus;
  if (skip) skip("hostmaster", `${spec.hostmasterAlias} bootstraps`);
  else if (status && !status.ok) {
    row("hostmaster", `${spec.hostmasterAlias} bootstraps`, "fail", status.error.message, `check spec.hostmasterAlias: \`drush ${spec.hostmasterAlias} status\` must bootstrap the hostmaster as ${spec.user}`);
    skip = skipped(`needs ${spec.hostmasterAlias}`);
  } else if (status?.ok) row("hostmaster", `${spec.hostmasterAlias} bootstraps`, "pass", `${status.value.sites.length} site(s), ${status.value.platforms.length} platform(s)`);

  if (skip) skip("stdin", "php-eval receives standard input");
  else if (hostmaster && !hostmaster.ok) {
    const noStdin = /Standard input is not a JSON object/.test(hostmaster.error.message);
    row("stdin", "php-eval receives standard input", "fail", hostmaster.error.message, noStdin ? STDIN_REMEDY : "run the command by hand with --debug to see why the probe failed");
    skip = skipped("needs the hostmaster probe");
  } else if (hostmaster?.ok && hostmaster.value.nonce !== o.nonce) {
    row("stdin", "php-eval receives standard input", "fail", "the probe did not echo the input it was sent", STDIN_REMEDY);
    skip = skipped("needs the hostmaster probe");
  } else row("stdin", "php-eval receives standard input", "pass", "the JSON input arrived");

  const probe = skip ? undefined : hostmaster?.ok ? hostmaster.value : undefined;
  if (probe === undefined) skip?.("user", "runs as the aegir user, not root");
  else row("user", "runs as the aegir user, not root", probe.user === "root" ? "fail" : "pass", `drush runs as ${probe.user}`, "log in as the aegir user: provision refuses to run as root");
  for (const module of ["hosting_alias", "hosting_https"]) {
    const check = `hosting module ${module} enabled`;
    if (probe === undefined) skip?.(`module:${module}`, check);
    else row(`module:${module}`, check, probe.modules[module] ? "pass" : "fail", probe.modules[module] ? "enabled" : "not enabled on the hostmaster", `enable it: \`drush ${spec.hostmasterAlias} pm-enable -y ${module}\` (admin/hosting/features)`);
  }
  if (probe === undefined) {
    skip?.("queue", "task queue runs (hosting_queued daemon or cron dispatch)");
    skip?.("stuck", "no task stuck for hours");
  } else {
    queueRows(probe, spec, row);
  }

  for (const [i, platform] of spec.platforms.entries()) {
    const check = `platform ${platform.name} exists, is enabled and carries ${platform.profile}`;
    if (probe === undefined || !status?.ok) {
      skip?.(`platform:${platform.name}`, check);
      skip?.(`extensions:${platform.name}`, `platform ${platform.name} carries the quota module and what the catalog sells`);
      skip?.(`role:${platform.name}`, `owner role "${platform.ownerRole}" exists in ${platform.profile}`);
      continue;
    }
    const found = status.value.platforms.find((p) => p.name === platform.name);
    const scanned = probe.platforms.find((p) => p.name === platform.name);
    const fix = `create and verify the platform in Aegir, or correct spec.platforms[${i}]`;
    if (found === undefined || scanned === undefined || !scanned.exists) row(`platform:${platform.name}`, check, "fail", "no such platform on the server", fix);
    else if (found.status !== 1) row(`platform:${platform.name}`, check, "fail", "locked or not enabled in Aegir", "unlock or re-verify the platform in Aegir");
    else if (!found.profiles.includes(platform.profile)) row(`platform:${platform.name}`, check, "fail", `profiles: ${found.profiles.join(", ") || "none"}`, `build the platform with the ${platform.profile} profile, verify it, or correct spec.platforms[${i}].profile`);
    else row(`platform:${platform.name}`, check, "pass", scanned.root);

    const wanted = sellable.get(platform.profile) ?? { features: new Set<string>(), themes: new Set<string>() };
    const extensionsCheck = `platform ${platform.name} carries the quota module and what the catalog sells`;
    if (scanned === undefined || !scanned.exists) row(`extensions:${platform.name}`, extensionsCheck, "skip", "no such platform");
    else {
      const problems = missingExtensions(scanned.modules, scanned.themes, [QUOTA_MODULE, ...wanted.features], [...wanted.themes]);
      const count = 1 + wanted.features.size + wanted.themes.size;
      if (problems.length === 0) row(`extensions:${platform.name}`, extensionsCheck, "pass", `${count} extension(s) and their dependencies present`);
      else row(`extensions:${platform.name}`, extensionsCheck, "fail", problems.join("; "), "add them to the platform's build (makefile) and verify the platform in Aegir: the operator never lets drush download modules");
    }

    const roles = o.roles[platform.name];
    const roleCheck = `owner role "${platform.ownerRole}" exists in ${platform.profile}`;
    if (roles === undefined) row(`role:${platform.name}`, roleCheck, "skip", "not read");
    else if (!roles.ok) row(`role:${platform.name}`, roleCheck, "fail", roles.error.message, "run the command by hand with --debug to see why the site could not be read");
    else if (roles.value === null) row(`role:${platform.name}`, roleCheck, "warn", `no enabled site from ${platform.profile} on the platform to read roles from`, `install one site from ${platform.profile} on ${platform.name}, then check again`);
    else if (!roles.value.roles.includes(platform.ownerRole)) row(`role:${platform.name}`, roleCheck, "fail", `${roles.value.site} has ${roles.value.roles.join(", ")}`, `add the role to the profile (or a feature it enables), or set spec.platforms[${i}].ownerRole to an existing role`);
    else row(`role:${platform.name}`, roleCheck, "pass", `read from ${roles.value.site}`);
  }

  const mail = o.mail;
  if (mail === undefined) row("mail", "mail can be sent", "skip", "not asked for (--send-test-mail ADDRESS)");
  else if (!mail.ok) row("mail", "mail can be sent", "fail", mail.error.message, MAIL_REMEDY);
  else row("mail", "mail can be sent", mail.value ? "pass" : "fail", mail.value ? "Drupal's mail system accepted the test mail: check it arrived" : "Drupal's mail system refused the test mail", MAIL_REMEDY);
  return rows;
}

const STDIN_REMEDY = "drush php-eval must read the command's standard input: use the drush 8 phar with PHP CLI, and no wrapper that closes or replaces stdin";
const MAIL_REMEDY = "configure the server's mail transport (PHP sendmail_path, or an SMTP module on the platforms)";

function sshRemedy(error: AegirError, spec: AegirServerSpec): string {
  switch (error.reason) {
    case "HostKeyMismatch":
      return `compare \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the server with spec.hostKeySHA256; update the manifest only if the server really was re-keyed`;
    case "AuthenticationFailed":
      return `add the public half of the operator's key to ~${spec.user}/.ssh/authorized_keys on the server`;
    default:
      return `check spec.host and spec.port, the firewall, and that sshd runs on ${spec.host}`;
  }
}

type Row = (id: string, check: string, status: CheckStatus, detail: string, remedy?: string) => void;

function queueRows(probe: HostmasterProbe, spec: AegirServerSpec, row: Row): void {
  const q = probe.queue;
  const check = "task queue runs (hosting_queued daemon or cron dispatch)";
  const age = probe.now - q.daemonStarted;
  if (!q.tasksEnabled) row("queue", check, "fail", "the tasks queue is disabled (hosting_queue_tasks_enabled)", "enable the tasks queue at admin/hosting/queues");
  else if (probe.modules["hosting_queued"] && q.daemonStarted > 0 && age < DAEMON_FRESH_SECONDS) row("queue", check, "pass", `hosting_queued daemon last started ${Math.round(age / 60)} min ago`);
  else if (q.dispatchEnabled) row("queue", check, "pass", "cron dispatch enabled (hosting_dispatch_enabled); the crontab itself cannot be seen from here");
  else row("queue", check, "fail", probe.modules["hosting_queued"] ? "hosting_queued is enabled but its daemon has not started for hours" : "neither the hosting_queued daemon nor cron dispatch runs tasks", `start the hosting-queued service, or run \`drush ${spec.hostmasterAlias} hosting-setup\` to install the dispatch crontab`);
  if (probe.stuck.length === 0) row("stuck", "no task stuck for hours", "pass", "none");
  else {
    const list = probe.stuck.map((t) => `task ${t.nid} (${t.type}) ${t.status === -1 ? "processing" : "queued"} for ${Math.round((probe.now - t.since) / 3600)} h`);
    row("stuck", "no task stuck for hours", "fail", list.join("; "), `read the task log; run it with \`drush ${spec.hostmasterAlias} hosting-task NID --force\` or delete the task node, then restart hosting-queued`);
  }
}

/** Missing modules and themes, and dependencies (of the wanted modules, transitively) the platform lacks. */
export function missingExtensions(modules: Record<string, string[]>, themes: readonly string[], wantedModules: readonly string[], wantedThemes: readonly string[]): string[] {
  const problems: string[] = [];
  const absent = wantedModules.filter((m) => !(m in modules));
  if (absent.length > 0) problems.push(`module(s) not on the platform: ${absent.join(", ")}`);
  /** Missing dependency → the wanted modules that need it. */
  const lacking = new Map<string, Set<string>>();
  for (const module of wantedModules.filter((m) => m in modules)) {
    const seen = new Set<string>([module]);
    const queue = [module];
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      for (const dep of modules[name] ?? []) {
        if (seen.has(dep)) continue;
        seen.add(dep);
        if (dep in modules) queue.push(dep);
        else lacking.set(dep, (lacking.get(dep) ?? new Set()).add(module));
      }
    }
  }
  for (const [dep, by] of [...lacking].sort(([a], [b]) => a.localeCompare(b))) problems.push(`dependency ${dep} not on the platform (needed by ${[...by].sort().join(", ")})`);
  const absentThemes = wantedThemes.filter((t) => !themes.includes(t));
  if (absentThemes.length > 0) problems.push(`theme(s) not on the platform: ${absentThemes.join(", ")}`);
  return problems;
}

/** The check rows as one AegirServer condition: Conformant. */
export function conformanceCondition(rows: readonly CheckRow[]): ConditionInput {
  const failed = rows.filter((r) => r.status === "fail");
  if (failed.length === 0) return { type: "Conformant", status: "True", reason: "AllChecksPassed", message: `${rows.filter((r) => r.status === "pass").length} check(s) passed` };
  const message = failed.map((r) => `${r.check}: ${r.detail}`).join("; ");
  return { type: "Conformant", status: "False", reason: "ChecksFailed", message: message.length > 1000 ? `${message.slice(0, 999)}…` : message };
}

