// What a simulated drush run produces, and helpers to build it in drush's formats.
import { type LogLevel, logLine } from "./drush-log.ts";

export interface DrushResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function done(stdout = "", log: ReadonlyArray<readonly [string, LogLevel]> = [], code = 0): DrushResult {
  return { code, stdout, stderr: log.map(([m, l]) => logLine(m, l)).join("") };
}

/** drush_set_error(): the message at error level (never the error code), exit 1. */
export function failed(message: string, before: ReadonlyArray<readonly [string, LogLevel]> = []): DrushResult {
  return done("", [...before, [message, "error"]], 1);
}

/**
 * An uncaught exception or PHP Error thrown inside drush 8 on PHP 8: drush logs it with its
 * stack trace at error level and exits 1 (not 255: PHP 8 throws where PHP 5 died).
 */
export function uncaught(message: string, trace: readonly string[]): DrushResult {
  const frames = [...trace, "{main}"].map((f, i) => `#${i} ${f}`);
  return done("", [[`${message}\nStack trace:\n${frames.join("\n")}`, "error"]], 1);
}

/** PHP's json_encode() defaults: `/` and non-ASCII characters escaped. */
export function phpJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("/", "\\/")
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** drush_print(): the text and a newline on stdout. */
export function printed(text: string): string {
  return `${text}\n`;
}

/** The connection dropped mid-command (an injected fault). */
export class ConnectionDropped extends Error {
  constructor(command: string) {
    super(`connection dropped while running ${command}`);
    this.name = "ConnectionDropped";
  }
}
