// Injected failures. A rule matches commands by name (`pm-enable`, `php-eval:create-site`, or
// `php-eval` for every script) and/or alias, fires `times` times (optionally only with a
// seeded probability), and then is gone.
import type { Random } from "./random.ts";

export interface CommandMatcher {
  /** Exact command name, `php-eval` for any script, or a pattern tested against the name. */
  command?: string | RegExp;
  /** The drush alias the command targets, e.g. `@hostmaster`. */
  alias?: string;
}

interface RuleOptions {
  match?: CommandMatcher;
  /** How many matching commands it hits (default 1; Infinity for all). */
  times?: number;
  /** Fire only with this probability per matching command (seeded). */
  probability?: number;
}

export type CommandFault =
  | { kind: "fail"; exitCode: number; stdout: string; stderr: string }
  | { kind: "overload" }
  /** The connection drops mid-command; `applied`: the command had taken effect by then. */
  | { kind: "drop"; applied: boolean }
  /** The command never finishes; the client gives up (timeout) or goes away. */
  | { kind: "hang" };

interface Rule<T> {
  match: CommandMatcher;
  remaining: number;
  probability: number;
  fault: T;
}

export interface TaskFaultOptions {
  /** Task type (`install`); any type when absent. */
  type?: string;
  /** The site's URI; any site when absent. */
  uri?: string;
  times?: number;
  /** The error the task logs. */
  message?: string;
}

export class Faults {
  private readonly random: Random;
  private commandRules: Array<Rule<CommandFault>> = [];
  private taskRules: Array<Rule<string> & { type?: string; uri?: string }> = [];
  private mailFailures = 0;

  constructor(random: Random) {
    this.random = random;
  }

  /** The next matching commands exit with this status and print this on stderr. */
  failNext(options: RuleOptions & { exitCode?: number; stderr?: string; stdout?: string } = {}): void {
    this.add(options, { kind: "fail", exitCode: options.exitCode ?? 1, stdout: options.stdout ?? "", stderr: options.stderr ?? "" });
  }

  /** provision's load guard: `load on system too heavy (…), aborting`, exit 1. */
  overload(options: RuleOptions = {}): void {
    this.add(options, { kind: "overload" });
  }

  drop(options: RuleOptions & { applied?: boolean } = {}): void {
    this.add(options, { kind: "drop", applied: options.applied ?? false });
  }

  hang(options: RuleOptions = {}): void {
    this.add(options, { kind: "hang" });
  }

  /** The next matching tasks fail (an install failure also rolls the site back, as provision does). */
  failTask(options: TaskFaultOptions = {}): void {
    this.taskRules.push({
      match: {},
      remaining: options.times ?? 1,
      probability: 1,
      fault: options.message ?? `Injected failure of the ${options.type ?? "task"} task.`,
      ...(options.type === undefined ? {} : { type: options.type }),
      ...(options.uri === undefined ? {} : { uri: options.uri }),
    });
  }

  /** The next `times` mails a site sends fail (drupal_mail returns FALSE). */
  failMail(times = 1): void {
    this.mailFailures += times;
  }

  clear(): void {
    this.commandRules = [];
    this.taskRules = [];
    this.mailFailures = 0;
  }

  takeMail(): boolean {
    if (this.mailFailures <= 0) return false;
    this.mailFailures--;
    return true;
  }

  /** The fault for this command, if a rule fires (consuming one of its times). */
  takeCommand(name: string, alias: string | undefined): CommandFault | undefined {
    for (const rule of this.commandRules) {
      if (rule.remaining <= 0 || !matches(rule.match, name, alias)) continue;
      if (!this.random.chance(rule.probability)) continue;
      rule.remaining--;
      this.commandRules = this.commandRules.filter((r) => r.remaining > 0);
      return rule.fault;
    }
    return undefined;
  }

  takeTask(type: string, uri: string | undefined): string | undefined {
    for (const rule of this.taskRules) {
      if (rule.remaining <= 0 || (rule.type !== undefined && rule.type !== type) || (rule.uri !== undefined && rule.uri !== uri)) continue;
      rule.remaining--;
      this.taskRules = this.taskRules.filter((r) => r.remaining > 0);
      return rule.fault;
    }
    return undefined;
  }

  private add(options: RuleOptions, fault: CommandFault): void {
    const times = options.times ?? 1;
    if (!(times > 0)) throw new RangeError("times must be > 0");
    this.commandRules.push({ match: options.match ?? {}, remaining: times, probability: options.probability ?? 1, fault });
  }
}

function matches(match: CommandMatcher, name: string, alias: string | undefined): boolean {
  if (match.alias !== undefined && match.alias !== alias) return false;
  const { command } = match;
  if (command === undefined) return true;
  if (typeof command !== "string") return command.test(name);
  return command === name || (command === "php-eval" && name.startsWith("php-eval:"));
}
