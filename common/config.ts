// Configuration from flags and environment, validated with zod. Precedence: flag > env > default.
// Every option is declared once with its flag, env var and schema, so help text, parsing and
// error messages cannot drift apart.
import { z } from "zod";
import { formatPath } from "../crds/manifests.ts";

export interface OptionSpec<T extends z.ZodType = z.ZodType> {
  /** Long flag without dashes, e.g. `metrics-port`. */
  flag: string;
  /** Environment variable, e.g. `METRICS_PORT`. */
  env?: string;
  schema: T;
  description: string;
  /** Never echoed back in errors or logs. */
  secret?: boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type ConfigOf<S extends OptionSpecs> = { [K in keyof S]: z.infer<S[K]["schema"]> };

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface ParsedArgs {
  flags: Map<string, string>;
  positionals: string[];
}

/** `--name value`, `--name=value`, and `--flag` (boolean true). `--` ends the flags. */
export function parseArgs(argv: readonly string[], booleanFlags: ReadonlySet<string> = new Set()): ParsedArgs {
  const flags = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (eq !== -1) flags.set(name, arg.slice(eq + 1));
    else if (booleanFlags.has(name)) flags.set(name, "true");
    else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) throw new ConfigError([`--${name}: needs a value`]);
      flags.set(name, value);
      i++;
    }
  }
  return { flags, positionals };
}

/**
 * Resolve every option from flags and env and validate it. All problems are reported at
 * once, each naming the flag and env var; secret values are never echoed.
 */
export function loadConfig<S extends OptionSpecs>(specs: S, flags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): ConfigOf<S> {
  const problems: string[] = [];
  const known = new Set(Object.values(specs).map((s) => s.flag));
  for (const name of flags.keys()) if (!known.has(name)) problems.push(`--${name}: unknown flag`);

  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const raw = flags.get(spec.flag) ?? (spec.env ? env[spec.env] : undefined);
    const result = spec.schema.safeParse(raw === "" ? undefined : raw);
    if (result.success) {
      out[key] = result.data;
      continue;
    }
    const source = `--${spec.flag}${spec.env ? ` / ${spec.env}` : ""}`;
    for (const issue of result.error.issues) {
      const where = issue.path.length > 0 ? ` (${formatPath(issue.path)})` : "";
      const got = raw === undefined ? "not set" : spec.secret ? "value hidden" : `got ${JSON.stringify(raw)}`;
      problems.push(`${source}${where}: ${raw === undefined ? "is required" : issue.message} (${got})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** Help lines for a set of options. */
export function describeOptions(specs: OptionSpecs): string {
  return Object.values(specs)
    .map((s) => `  --${s.flag.padEnd(22)} ${s.description}${s.env ? ` [env ${s.env}]` : ""}`)
    .join("\n");
}

// Schemas for values that arrive as strings.
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const durationSeconds = (fallback: number) => z.coerce.number().positive().max(86_400).default(fallback);
export const LogLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info");
export const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");
