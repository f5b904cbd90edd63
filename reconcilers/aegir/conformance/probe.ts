// Reads what the conformance checks judge, over any CommandRunner: drush's version, the
// hostmaster's status and probe script, each platform's roles (from a site installed from its
// profile) and, when asked, a test mail. Only reads, except that mail. A step that fails is
// recorded as its AegirError; the checks decide what that means.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { AegirServerSpec } from "../../../crds/aegirserver.ts";
import { email } from "../../../crds/primitives.ts";
import { AegirDriver } from "../driver.ts";
import { AegirError } from "../errors.ts";
import { classifyFailure, parseJsonOutput } from "../output.ts";
import type { CommandResult, CommandRunner } from "../runner.ts";
import { hostedSites, type ServerStatus } from "../state.ts";
import { CONFORMANCE_SCRIPTS, type ConformanceScriptName } from "./scripts.ts";

/** A queued or running task older than this is stuck (hosting's own queue lock times out after an hour). */
export const STUCK_AFTER_SECONDS = 4 * 3600;

export const HostmasterProbeWire = z.object({
  nonce: z.string(),
  user: z.string(),
  modules: z.record(z.string(), z.boolean()),
  queue: z.object({ daemonStarted: z.int(), dispatchEnabled: z.boolean(), tasksEnabled: z.boolean() }),
  now: z.int(),
  stuck: z.array(z.object({ nid: z.int(), type: z.string(), status: z.int(), since: z.int() })),
  platforms: z.array(
    z.union([
      z.object({ name: z.string(), exists: z.literal(false) }),
      z.object({
        name: z.string(),
        exists: z.literal(true),
        root: z.string(),
        status: z.int(),
        modules: z.record(z.string(), z.array(z.string())),
        themes: z.array(z.string()),
      }),
    ]),
  ),
});
export type HostmasterProbe = z.infer<typeof HostmasterProbeWire>;

const MailWire = z.object({ sent: z.boolean() });

/** The roles of one site installed from the platform's profile, or null when there is none yet. */
export type PlatformRoles = { site: string; roles: string[] } | null;

export type Step<T> = { ok: true; value: T } | { ok: false; error: AegirError };

export interface Observation {
  /** The first command: did SSH connect and authenticate with the pinned host key? */
  drushVersion: Step<string>;
  serverStatus?: Step<ServerStatus>;
  /** The nonce sent on standard input, to compare with the one echoed. */
  nonce: string;
  hostmaster?: Step<HostmasterProbe>;
  roles: Record<string, Step<PlatformRoles>>;
  mail?: Step<boolean>;
}

export interface ProbeOptions {
  /** Send a test mail to this address. */
  testMailTo?: string;
  timeoutMs?: number;
}

const DRUSH_8 = /^8\./;

export async function probeServer(runner: CommandRunner, spec: AegirServerSpec, options: ProbeOptions = {}): Promise<Observation> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const nonce = randomBytes(12).toString("hex");
  const observation: Observation = { drushVersion: await step(() => drushVersion(runner, spec.drushPath, timeoutMs)), nonce, roles: {} };
  // Nothing else can be trusted to mean the same on another drush, or without a connection.
  if (!observation.drushVersion.ok || !DRUSH_8.test(observation.drushVersion.value)) return observation;
  const driver = new AegirDriver({ runner, drush: spec.drushPath, hostmaster: spec.hostmasterAlias, timeouts: { readMs: timeoutMs } });
  const php = (script: ConformanceScriptName, input: Record<string, unknown>) => runScript(runner, spec, script, input, timeoutMs);
  observation.serverStatus = await step(() => driver.serverStatus());
  if (!observation.serverStatus.ok) return observation;
  const status = observation.serverStatus.value;
  const platforms = spec.platforms.map((p) => p.name);
  observation.hostmaster = await step(async () => HostmasterProbeWire.parse(await php("conformance-hostmaster", { nonce, platforms, stuckAfter: STUCK_AFTER_SECONDS })));
  for (const platform of spec.platforms) {
    observation.roles[platform.name] = await step(async () => {
      const site = hostedSites(status).find((s) => s.platform === platform.name && s.profile === platform.profile && s.status === "enabled");
      if (site === undefined) return null;
      return { site: site.uri, roles: (await driver.siteState(site.uri, { name: "", mail: "" })).roles };
    });
  }
  if (options.testMailTo !== undefined) {
    const to = email().parse(options.testMailTo);
    observation.mail = await step(async () => MailWire.parse(await php("conformance-mail", { to })).sent);
  }
  return observation;
}

async function step<T>(run: () => Promise<T>): Promise<Step<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    if (error instanceof AegirError) return { ok: false, error };
    if (error instanceof z.ZodError) return { ok: false, error: new AegirError("OutputNotUnderstood", `unexpected output: ${error.issues[0]?.path.join(".") ?? ""} ${error.issues[0]?.message ?? ""}`.trim()) };
    throw error;
  }
}

/** `drush --version`: drush 8 prints ` Drush Version   :  8.4.12`, later ones `Drush Commandline Tool 9.7.2`. */
async function drushVersion(runner: CommandRunner, drush: string, timeoutMs: number): Promise<string> {
  const result = await checked(runner, [drush, "--version"], "version", timeoutMs);
  const version = /\b(\d+\.\d+\.\d+\S*)/.exec(result.stdout)?.[1];
  if (version === undefined) throw new AegirError("OutputNotUnderstood", `drush --version printed no version: ${result.stdout.trim().slice(0, 200)}`, { command: "version" });
  return version;
}

async function runScript(runner: CommandRunner, spec: AegirServerSpec, script: ConformanceScriptName, input: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
  const name = `php-eval:${script}`;
  const result = await checked(runner, [spec.drushPath, spec.hostmasterAlias, "php-eval", CONFORMANCE_SCRIPTS[script]], name, timeoutMs, JSON.stringify(input));
  return parseJsonOutput(name, result.stdout, z.unknown());
}

async function checked(runner: CommandRunner, argv: string[], name: string, timeoutMs: number, stdin?: string): Promise<CommandResult> {
  const result = await runner.run(argv, { timeoutMs, ...(stdin === undefined ? {} : { stdin }) });
  if (result.code !== 0) throw classifyFailure(name, result);
  return result;
}
