// Reading drush's output: data on stdout (JSON from the operator's scripts), log lines on
// stderr, and the error classification a status condition can show.
import type { z } from "zod";
import { AegirError, type Reason } from "./errors.ts";
import type { CommandResult } from "./runner.ts";

export interface LogLine {
  level: string;
  message: string;
}

/**
 * drush 8 writes each log entry as the message padded to the terminal width followed by the
 * level in brackets (`oa_wiki was not found.        [warning]`); long messages are
 * word-wrapped with the level on the FIRST line, so a line without a level continues the
 * previous entry. Lines before any entry (PHP errors, a shell's complaint) are level "unknown".
 */
export function parseLog(stderr: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of stderr.split("\n")) {
    // Colour codes appear when drush thinks it writes to a terminal.
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\x1b\[[0-9;]*m/g, "").trim();
    if (line === "") continue;
    // Only the level is matched: `^(.*?)\s*\[(\w+)\]$` backtracked quadratically on a long line of padding.
    const match = /\[(\w+)\]$/.exec(line);
    const last = lines.at(-1);
    if (match) lines.push({ level: (match[1] as string).toLowerCase(), message: line.slice(0, match.index).trim() });
    else if (last) last.message = `${last.message} ${line}`;
    else lines.push({ level: "unknown", message: line });
  }
  return lines;
}

/** Messages drush, provision, hosting and the operator's scripts use, and what they mean. */
const PATTERNS: Array<[RegExp, Reason]> = [
  [/Could not find the alias @|The drush command '@[^']*' could not be found/, "UnknownSite"],
  // provision_drush_init(): "load on system too heavy (12.1 9.8 7.5), aborting".
  [/PROVISION_OVERLOAD|load on system too heavy|load average|too high load/i, "ServerOverloaded"],
  [/HOSTING_TASK_RUNNING|is still queued or running|is not queued, use --force/, "TaskPending"],
  [/^Site \S+ already exists\./m, "SiteExists"],
  [/^Domain \S+ is already in use/m, "DomainTaken"],
  // A hostmaster script on a site without the hosting tables (hostmasterAlias is wrong).
  [/no such table: hosting_|Table '[^']*\.hosting_\w+' doesn't exist/, "NotAHostmaster"],
  [/^Site \S+ does not exist\./m, "UnknownSite"],
  [/^Platform \S+ does not exist\./m, "UnknownPlatform"],
  [/^Profile \S+ is not on platform/m, "ProfileNotOnPlatform"],
  [/Could not find the role: /, "RoleNotOnSite"],
  [/There is already a user account with the/, "UserExists"],
  [/Unable to find a matching user/, "UnknownUser"],
  [/^Blueprint .+ is not a space type on this site\./m, "UnknownBlueprint"],
  [/^Space \S+ does not exist\./m, "UnknownSpace"],
  [/^Space \S+ is full: /m, "SpaceFull"],
  [/a space owner must be an ordinary account|^Refusing a login link/m, "OwnerIsSiteAdmin"],
  [/^\S+ is not a backup of \S+\./m, "UnknownBackup"],
  [/^Task \d+ does not exist\./m, "UnknownTask"],
  [/^Task type \S+ is not available/m, "TaskUnavailable"],
  [/is not a site of the pool zone|is no pool work: only/, "NotPoolWork"],
];

/** The error a failed command (non-zero exit) stands for. */
export function classifyFailure(command: string, result: CommandResult): AegirError {
  const log = parseLog(result.stderr);
  // A bare `[error]` (an empty message, or one wrapped onto the next lines) says nothing.
  const errors = log.filter((l) => l.level === "error" && l.message !== "").map((l) => l.message);
  const text = [...errors, result.stderr].join("\n");
  const first = errors[0] === undefined ? firstLine(result.stderr) : firstSentence(errors[0]);
  for (const [pattern, reason] of PATTERNS) {
    if (pattern.test(text)) return new AegirError(reason, first ?? reason, { command });
  }
  const detail = first ?? "no output";
  const what = result.code === 255 ? "crashed (PHP fatal error)" : result.code === null ? `was killed (${result.signal ?? "signal"})` : `exited with status ${result.code}`;
  return new AegirError("DrushFailed", `drush ${command} ${what}: ${detail}`, { command });
}

/**
 * What a condition can show of an error message: drush 8 logs an uncaught exception as
 * `Class\Name: message in /path/file.php:49 Stack trace: #0 …`; only the message is kept.
 */
export function firstSentence(message: string): string {
  // indexOf, not a regex: `\s+Stack` backtracks quadratically over a long run of padding.
  const trace = message.indexOf("Stack trace:");
  const withoutTrace = (trace === -1 ? message : message.slice(0, trace)).trimEnd();
  const withoutPlace = withoutTrace.replace(/ in \/\S+:\d+$/, "").replace(/^(?:[A-Za-z_][\w\\]*(?:Exception|Error)): /, "");
  const sentence = /^.*?[.!?](?=\s|$)/.exec(withoutPlace)?.[0] ?? withoutPlace;
  return sentence.trim();
}

function firstLine(text: string): string | undefined {
  return text.split("\n").find((l) => l.trim() !== "")?.trim();
}

/** Whether stdout carries a JSON document (a script's output), whatever drush did after it. */
export function hasJsonOutput(stdout: string): boolean {
  return jsonLine(stdout) !== undefined;
}

function jsonLine(stdout: string): string | undefined {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith("{") || l.startsWith("["));
}

/**
 * The JSON document a script printed. drush_print writes it as the last line; anything before
 * it on stdout (PHP notices on a misconfigured server) is ignored.
 */
export function parseJsonOutput<T>(command: string, stdout: string, schema: z.ZodType<T>): T {
  const line = jsonLine(stdout);
  if (line === undefined) throw new AegirError("OutputNotUnderstood", `drush ${command} printed no JSON`, { command });
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch (error) {
    throw new AegirError("OutputNotUnderstood", `drush ${command} printed malformed JSON`, { command, cause: error });
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AegirError("OutputNotUnderstood", `drush ${command} output: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim(), { command });
  }
  return parsed.data;
}
