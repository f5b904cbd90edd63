// The simulated Aegir server: a hostmaster with platforms, sites and a serial task queue,
// answering drush 8 command lines the way the real server does, with injectable faults and
// latency. Reach it in-process (runner()), from a test SSH server (execHandler()) or from a
// drush shim behind a real sshd (listen()).
import type { CommandRunner } from "../../../reconcilers/aegir/runner.ts";
import type { ExecHandler } from "../ssh/types.ts";
import { type Clock, sleep, systemClock, unixTime } from "./clock.ts";
import { type CommandEnv, prepare } from "./commands.ts";
import { addUser, installDrupal } from "./drupal.ts";
import { logLine } from "./drush-log.ts";
import { type ServerKnobs, serverKnobs } from "./conformance.ts";
import { createExecHandler } from "./exec-handler.ts";
import { Faults } from "./faults.ts";
import { type SimulatorServer, type ListenOptions, listen } from "./http-server.ts";
import { Latency, type LatencyOptions, type LatencyPreset } from "./latency.ts";
import { Hostmaster, type SiteNode, SITE_ENABLED } from "./model.ts";
import { type PlatformSpec, hostmasterPlatform, openAtriumPlatform } from "./platforms.ts";
import { Random } from "./random.ts";
import { ConnectionDropped, type DrushResult } from "./result.ts";
import { createRunner } from "./runner.ts";
import { type StateView, stateView } from "./state-view.ts";
import { CommandStats } from "./stats.ts";
import { TaskQueue } from "./tasks.ts";

/** A site that exists before the test starts (the provider's support tracker, say). */
export interface ExistingSiteSpec {
  uri: string;
  /** Platform context name; default: the first configured platform. */
  platform?: string;
  /** Default: the platform's first profile. */
  profile?: string;
  /** Roles besides the profile's. */
  roles?: string[];
  /** Modules enabled besides the profile's. */
  modules?: string[];
  users?: Array<{ name: string; mail: string; roles?: string[]; status?: 0 | 1 }>;
  aliases?: string[];
  https?: 0 | 1 | 2;
}

export interface SimulatorOptions {
  hostmaster?: {
    /** The hostmaster's URI (its site node's title). */
    uri?: string;
    /** Mail of the Aegir user owning tasks: uid 1's mail on every site installed. */
    adminMail?: string;
    aegirRoot?: string;
    /** false: the hostmaster lacks the hosting_https module. Default true. */
    https?: boolean;
    /** false: the hosting_clone feature is off (as on a fresh hostmaster), so clone tasks are refused. Default true. */
    clone?: boolean;
  };
  /** The sites' database engine, which words database errors. Default mysql, as on Aegir. */
  database?: "mysql" | "sqlite";
  /** Customer platforms; default one Open Atrium 2 platform. platform_hostmaster is always there. */
  platforms?: PlatformSpec[];
  sites?: ExistingSiteSpec[];
  /** argv[0] accepted besides `drush` and any path ending in `/drush` (AegirServer spec.drushPath). */
  drush?: string;
  latency?: LatencyOptions | LatencyPreset;
  clock?: Clock;
  /** Seed of every random choice (login hashes, probabilistic faults). */
  seed?: number;
  /** false: tasks stay queued until drainTasks(). Default true (they run on the clock). */
  autoRunTasks?: boolean;
  /** The server around the hostmaster (drush version, Unix user, queue daemon): see conformance.ts. */
  server?: ServerKnobs;
  /** A command whose client went away (timeout, dropped channel) before it finished: did it take effect? Default false. */
  abandonedCommandsApply?: boolean;
}

export interface ExecOptions {
  /** Standard input, or how to read it (only php-eval reads it, like drush). */
  stdin?: string | (() => Promise<string>);
  /** The client went away: the command stops (and its effect is applied only if configured). */
  signal?: AbortSignal;
  /** The SSH client's TCP port, recorded with the command. */
  clientPort?: number;
}

export class AegirSimulator {
  readonly hostmaster: Hostmaster;
  readonly faults: Faults;
  readonly tasks: TaskQueue;
  readonly stats = new CommandStats();
  readonly clock: Clock;
  readonly latency: Latency;
  private readonly env: CommandEnv;
  private readonly applyAbandoned: boolean;

  constructor(options: SimulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.applyAbandoned = options.abandonedCommandsApply ?? false;
    const random = new Random(options.seed ?? 1);
    // Its own sequence, so drawing durations does not shift the login hashes and faults of a seed.
    const durations = new Random((options.seed ?? 1) ^ 0x5eed);
    this.latency = new Latency(options.latency ?? "unit", () => durations.next());
    this.faults = new Faults(random);
    const uri = options.hostmaster?.uri ?? "aegir.example.com";
    this.hostmaster = new Hostmaster({ uri, adminMail: options.hostmaster?.adminMail ?? `aegir@${uri}`, aegirRoot: options.hostmaster?.aegirRoot ?? "/var/aegir" });
    this.tasks = new TaskQueue({
      hostmaster: this.hostmaster,
      clock: this.clock,
      latency: this.latency,
      autoRun: options.autoRunTasks ?? true,
      fault: (task) => this.faults.takeTask(task.type, this.hostmaster.sites.get(task.rid)?.uri),
    });
    this.env = { hostmaster: this.hostmaster, tasks: this.tasks, clock: this.clock, faults: this.faults, database: options.database ?? "mysql", random, hostmasterContext: "hostmaster", drush: options.drush ?? "drush", server: serverKnobs(options.server) };

    const hostmasterPlatformNode = this.hostmaster.addPlatform(hostmasterPlatform());
    for (const spec of options.platforms ?? [openAtriumPlatform()]) this.hostmaster.addPlatform(spec);
    const hostmasterSite = this.addInstalledSite({ uri, platform: hostmasterPlatformNode.name, profile: "hostmaster" }, "hostmaster");
    if (options.hostmaster?.https === false && hostmasterSite.drupal) hostmasterSite.drupal.modules = hostmasterSite.drupal.modules.filter((m) => m !== "hosting_https");
    if (options.hostmaster?.clone !== false && hostmasterSite.drupal) hostmasterSite.drupal.modules.push("hosting_clone");
    for (const site of options.sites ?? []) this.addInstalledSite(site);
  }

  /** Run one drush command line. Rejects with ConnectionDropped or the signal's reason; resolves otherwise. */
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<DrushResult> {
    const { signal } = options;
    const command = prepare(this.env, argv);
    const record = this.stats.add({
      name: command.name,
      kind: command.kind,
      alias: command.alias,
      argv: [...argv],
      at: this.clock.now(),
      outcome: "running",
      code: null,
      ...(options.clientPort === undefined ? {} : { clientPort: options.clientPort }),
    });
    const fault = this.faults.takeCommand(command.name, command.alias);
    let stdin = "";
    const abandon = (error: unknown): never => {
      if (this.applyAbandoned && fault?.kind !== "fail" && fault?.kind !== "overload") command.run(stdin);
      record.outcome = "aborted";
      throw error;
    };
    try {
      if (command.readsStdin) stdin = typeof options.stdin === "function" ? await options.stdin() : (options.stdin ?? "");
      await sleep(this.clock, this.latency.command(command.name), signal);
      if (fault?.kind === "hang") await new Promise<never>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
    } catch (error) {
      return abandon(error);
    }
    let result: DrushResult;
    if (fault?.kind === "fail") result = { code: fault.exitCode, stdout: fault.stdout, stderr: fault.stderr };
    else if (fault?.kind === "overload") result = { code: 1, stdout: "", stderr: logLine("load on system too heavy (41.27 38.90 30.12), aborting", "error") };
    else if (fault?.kind === "drop") {
      if (fault.applied) command.run(stdin);
      record.outcome = "dropped";
      throw new ConnectionDropped(command.name);
    } else result = command.run(stdin);
    record.outcome = "exited";
    record.code = result.code;
    return result;
  }

  /** In-process CommandRunner for the driver; honours timeoutMs on the simulator's clock. */
  runner(): CommandRunner {
    return createRunner(this);
  }

  /** The remote side for the test SSH servers. */
  execHandler(): ExecHandler {
    return createExecHandler(this);
  }

  /** Serve the drush shim's endpoint and GET /state on 127.0.0.1. */
  listen(options: ListenOptions = {}): Promise<SimulatorServer> {
    return listen(this, options);
  }

  state(): StateView {
    return stateView(this.hostmaster, this.clock.now(), this.stats.counts());
  }

  /** The live site node of a URI (undefined once deleted). */
  site(uri: string): SiteNode | undefined {
    return this.hostmaster.siteByUri(uri);
  }

  /** Every site node with this URI, deleted ones included, oldest first. */
  siteNodes(uri: string): SiteNode[] {
    return [...this.hostmaster.sites.values()].filter((s) => s.uri === uri);
  }

  /** Run every queued task now, in queue order. */
  drainTasks(): void {
    this.tasks.drain();
  }

  /** Resolves when the queue is empty (with fake timers, advance them meanwhile). */
  idle(): Promise<void> {
    return this.tasks.idle();
  }

  /** Stop the task queue's timers. */
  close(): void {
    this.tasks.stop();
  }

  private addInstalledSite(spec: ExistingSiteSpec, context = spec.uri): SiteNode {
    const platform = spec.platform === undefined ? [...this.hostmaster.platforms.values()].find((p) => p.name !== "platform_hostmaster") : this.hostmaster.platformByName(spec.platform);
    if (!platform) throw new Error(`site ${spec.uri}: no platform ${spec.platform ?? ""}`);
    const profile = spec.profile === undefined ? [...platform.profiles.values()][0] : platform.profiles.get(spec.profile);
    if (!profile) throw new Error(`site ${spec.uri}: platform ${platform.name} has no profile ${spec.profile ?? ""}`);
    const now = unixTime(this.clock);
    const https = spec.https ?? 0;
    const aliases = spec.aliases ?? [];
    const node = this.hostmaster.addSite({ uri: spec.uri, status: SITE_ENABLED, platform: platform.nid, profile: profile.spec.name, aliases, https }, context);
    const drupal = installDrupal({ ...profile.spec, roles: [...profile.spec.roles, ...(spec.roles ?? [])], defaultModules: [...profile.spec.defaultModules, ...(spec.modules ?? [])] }, { uri: spec.uri, adminMail: this.hostmaster.options.adminMail, now });
    for (const user of spec.users ?? []) addUser(drupal, { ...user, now });
    Object.assign(node, { drupal, aliasSaved: true, verified: now, applied: { aliases: [...aliases], https } });
    return node;
  }
}
