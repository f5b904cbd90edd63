// What `aegir-operator check-server` reads from the simulated server: `drush --version` and
// the conformance php-eval scripts (reconcilers/aegir/conformance/scripts.ts), with knobs that
// break the server the ways real ones are broken.
import type { ConformanceScriptName } from "../../../reconcilers/aegir/conformance/scripts.ts";
import { type Clock, unixTime } from "./clock.ts";
import type { Hostmaster } from "./model.ts";
import { TASK_PROCESSING, TASK_QUEUED } from "./model.ts";
import { type BootstrappedSite, type ScriptEnv, tableMissing } from "./php-scripts.ts";
import { type DrushResult, done, failed, phpJson, printed } from "./result.ts";

/** The server around the hostmaster; the defaults are a healthy Aegir 3. */
export interface ServerKnobs {
  /** What `drush --version` reports: drush 9 and later print a different banner. */
  drushVersion?: string;
  /** The Unix user drush runs as. */
  unixUser?: string;
  /** false: the hosting_queued daemon is not running (and cron dispatch is off). */
  queueDaemon?: boolean;
  /** false: a wrapper around drush swallows standard input. */
  stdinReachesPhp?: boolean;
  /** Per platform context name: modules and their dependencies as their .info files declare them. */
  dependencies?: Record<string, string[]>;
}

/** Dependencies of the simulated platforms' modules that the checks look at (as in their .info files). */
export const KNOWN_DEPENDENCIES: Record<string, string[]> = {
  views: ["ctools"],
  panels: ["ctools"],
  og_ui: ["og"],
  oa_core: ["ctools", "features", "og", "panels", "views"],
  oa_discussion: ["oa_core"],
  oa_events: ["oa_core"],
  oa_wiki: ["oa_core"],
  oa_worktracker: ["oa_core"],
  oa_files: ["oa_core"],
  oa_analytics: ["oa_core"],
  oa_markdown: ["oa_core"],
};

export interface ConformanceEnv {
  hostmaster: Hostmaster;
  clock: Clock;
  database: ScriptEnv["database"];
  server: Required<Omit<ServerKnobs, "dependencies">> & { dependencies: Record<string, string[]> };
}

export function serverKnobs(knobs: ServerKnobs = {}): ConformanceEnv["server"] {
  return { drushVersion: "8.4.12", unixUser: "aegir", queueDaemon: true, stdinReachesPhp: true, ...knobs, dependencies: { ...KNOWN_DEPENDENCIES, ...knobs.dependencies } };
}

/** The test mail is the one conformance script with an effect. */
export const CONFORMANCE_KIND: Record<ConformanceScriptName, "read" | "write"> = { "conformance-hostmaster": "read", "conformance-mail": "write" };

/** `drush --version`, as drush 8 and later drushes print it. */
export function versionBanner(version: string): DrushResult {
  return done(/^8\./.test(version) ? ` Drush Version   :  ${version} \n\n` : `Drush Commandline Tool ${version}\n`);
}

export function runConformanceScript(env: ConformanceEnv, script: ConformanceScriptName, site: BootstrappedSite, stdin: string): DrushResult {
  if (!site.isHostmaster) return tableMissing(env.database, site, "hosting_task");
  let input: Record<string, unknown>;
  try {
    const value: unknown = JSON.parse(env.server.stdinReachesPhp ? stdin : "");
    if (typeof value !== "object" || value === null) return failed("Standard input is not a JSON object.");
    input = value as Record<string, unknown>;
  } catch {
    return failed("Standard input is not a JSON object.");
  }
  return script === "conformance-hostmaster" ? hostmasterProbe(env, site, input) : done(printed(phpJson({ sent: true })));
}

function hostmasterProbe(env: ConformanceEnv, site: BootstrappedSite, input: Record<string, unknown>): DrushResult {
  const hm = env.hostmaster;
  const now = unixTime(env.clock);
  const stuckAfter = typeof input["stuckAfter"] === "number" ? input["stuckAfter"] : 0;
  const stuck = [...hm.tasks.values()]
    .filter((t) => t.status === TASK_QUEUED || t.status === TASK_PROCESSING)
    .map((t) => ({ nid: t.nid, type: t.type, status: t.status, since: t.status === TASK_PROCESSING ? t.executed : t.created }))
    .filter((t) => t.since < now - stuckAfter)
    .sort((a, b) => a.nid - b.nid);
  const names = Array.isArray(input["platforms"]) ? input["platforms"].filter((n): n is string => typeof n === "string") : [];
  const platforms = names.map((name) => {
    const platform = hm.platformByName(name);
    if (platform === undefined) return { name, exists: false };
    const modules = Object.fromEntries([...platform.modules, ...platform.profiles.keys()].sort().map((m) => [m, env.server.dependencies[m] ?? []]));
    return { name, exists: true, root: `${hm.options.aegirRoot}/platforms/${name}`, status: platform.status, modules, themes: [...platform.themes].sort() };
  });
  const enabled = site.drupal.modules;
  return done(
    printed(
      phpJson({
        nonce: typeof input["nonce"] === "string" ? input["nonce"] : "",
        user: env.server.unixUser,
        modules: Object.fromEntries(["hosting_alias", "hosting_https", "hosting_queued"].map((m) => [m, enabled.includes(m)])),
        queue: { daemonStarted: env.server.queueDaemon ? now - 60 : 0, dispatchEnabled: false, tasksEnabled: true },
        now,
        stuck,
        platforms,
      }),
    ),
  );
}
