// drush 8 command lines, as argv arrays. Pure: values are validated here (again: the driver
// never trusts that a caller validated) and every value is its own argument.
import { z } from "zod";
import { DRUPAL_ROLE_PATTERN, DRUPAL_USERNAME_PATTERN, email, machineName } from "../../crds/primitives.ts";
import { DRUSH_ALIAS_PATTERN } from "../../crds/aegirserver.ts";
import { SCRIPTS, type ScriptName } from "./scripts.ts";

const alias = z.string().max(254).regex(new RegExp(DRUSH_ALIAS_PATTERN), { error: "must be a drush alias like @example.com" });
const role = z.string().max(64).regex(new RegExp(DRUPAL_ROLE_PATTERN), { error: "must be a Drupal role name" });
const userName = z.string().max(60).regex(new RegExp(DRUPAL_USERNAME_PATTERN), { error: "must be a Drupal user name" });
const variableName = z.string().max(128).regex(/^[a-z][a-z0-9_]*$/, { error: "must be a variable machine name" });
const variableValue = z.union([z.int(), z.string().max(1024).regex(/^[A-Za-z0-9_.:/ -]*$/, { error: "must be plain text" })]);

/** A validated value; the error names the argument, never a secret. */
export function validated<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new TypeError(`${name}: ${result.error.issues[0]?.message ?? "invalid"}`);
  return result.data;
}

export interface Command {
  argv: string[];
  /** JSON for the script's standard input. */
  stdin?: string;
  /** The drush subcommand, for logs and metrics (never a value). */
  name: string;
}

export class Commands {
  readonly drush: string;

  constructor(drush = "drush") {
    this.drush = drush;
  }

  private drushAt(target: string, subcommand: string, ...rest: string[]): Command {
    return { argv: [this.drush, validated(alias, target, "alias"), subcommand, ...rest], name: subcommand };
  }

  /** `drush @target php-eval <constant script>` with its input as JSON on stdin. */
  php(target: string, script: ScriptName, input: Record<string, unknown> = {}): Command {
    return { ...this.drushAt(target, "php-eval", SCRIPTS[script]), stdin: JSON.stringify(input), name: `php-eval:${script}` };
  }

  pmDisable(target: string, extensions: readonly string[]): Command {
    return this.drushAt(target, "pm-disable", "-y", ...extensions.map((m, i) => validated(machineName(), m, `extensions[${i}]`)));
  }

  /** `vset --exact` sets exactly this variable (no "similar names" prompt). */
  variableSet(target: string, name: string, value: string | number): Command {
    const v = validated(variableValue, value, "value");
    const format = typeof v === "number" ? "integer" : "string";
    return this.drushAt(target, "variable-set", "--exact", `--format=${format}`, validated(variableName, name, "name"), String(v));
  }

  userCreate(target: string, name: string, mail: string): Command {
    return this.drushAt(target, "user-create", validated(userName, name, "name"), `--mail=${validated(email(), mail, "mail")}`);
  }

  userAddRole(target: string, roleName: string, name: string): Command {
    return this.drushAt(target, "user-add-role", validated(role, roleName, "role"), validated(userName, name, "name"));
  }

  userRemoveRole(target: string, roleName: string, name: string): Command {
    return this.drushAt(target, "user-remove-role", validated(role, roleName, "role"), validated(userName, name, "name"));
  }
}
