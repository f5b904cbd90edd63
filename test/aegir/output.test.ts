// Parsing drush 8's output: log lines as Drush\Log\Logger prints them (level on the first
// line of a wrapped message, colours on a terminal), JSON on stdout, error classification.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { classifyFailure, firstSentence, parseJsonOutput, parseLog } from "../../reconcilers/aegir/output.ts";
import { logLine } from "../harness/aegir/index.ts";

const pad = (message: string, level: string) => `${message.padEnd(69)}${`[${level}]`.padStart(11)}`;
const colour = (message: string, level: string, code: string) => `${message.padEnd(69)}\x1b[${code}m\x1b[1m[${level}]\x1b[0m`;

describe("parseLog", () => {
  it("reads drush's padded lines", () => {
    const stderr = [pad("oa_wiki is already enabled.", "ok"), pad("There were no extensions that could be enabled.", "ok"), ""].join("\n");
    expect(parseLog(stderr)).toEqual([
      { level: "ok", message: "oa_wiki is already enabled." },
      { level: "ok", message: "There were no extensions that could be enabled." },
    ]);
  });

  it("joins a wrapped message: the level is on its first line, the rest follows", () => {
    const long = "a_rather_long_premium_feature_module_name_from_the_catalog_x was not found.";
    const stderr = logLine(long, "warning") + logLine("There were no extensions that could be enabled.", "ok");
    expect(stderr.split("\n")).toHaveLength(4);
    expect(parseLog(stderr)).toEqual([
      { level: "warning", message: long },
      { level: "ok", message: "There were no extensions that could be enabled." },
    ]);
  });

  it("strips colour codes (drush on a terminal), even when the message fills the line", () => {
    const stderr = [colour("oa_x was not found.", "warning", "1;33;40"), `${"x".repeat(75)} was not found.\x1b[1;33;40m\x1b[1m[warning]\x1b[0m`, colour("Done.", "success", "1;32;40")].join("\n");
    expect(parseLog(stderr)).toEqual([
      { level: "warning", message: "oa_x was not found." },
      { level: "warning", message: `${"x".repeat(75)} was not found.` },
      { level: "success", message: "Done." },
    ]);
  });

  it("keeps lines outside drush's log (PHP errors, the shell) as level unknown", () => {
    const stderr = `PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted\n${logLine("Drush command terminated abnormally due to an unrecoverable error.", "error")}`;
    expect(parseLog(stderr)).toEqual([
      { level: "unknown", message: "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted" },
      { level: "error", message: "Drush command terminated abnormally due to an unrecoverable error." },
    ]);
    expect(parseLog("sh: 1: drush: not found\n")).toEqual([{ level: "unknown", message: "sh: 1: drush: not found" }]);
  });
});

describe("firstSentence", () => {
  it("keeps an exception's message without its class, place and stack trace", () => {
    const logged = "Drush\\Role\\RoleException: Could not find the role: editor in /usr/local/share/drush/lib/Drush/Role/RoleBase.php:49 Stack trace: #0 [internal function]: Drush\\Role\\RoleBase->__construct() #1 {main}";
    expect(firstSentence(logged)).toBe("Could not find the role: editor");
    expect(firstSentence("Unable to find a matching user for nobody. in /usr/local/share/drush/lib/Drush/User/UserList.php:114")).toBe("Unable to find a matching user for nobody.");
    expect(firstSentence("There is already a user account with the name jane")).toBe("There is already a user account with the name jane");
  });

  it("role and user exceptions become short condition messages (RoleNotOnSite, UnknownUser)", () => {
    const trace = "\nStack trace:\n#0 /usr/local/share/drush/includes/command.inc(422): drush_user_add_role()\n#1 {main}";
    const role = classifyFailure("user-add-role", { code: 1, stdout: "", stderr: logLine(`Drush\\Role\\RoleException: Could not find the role: editor in /usr/local/share/drush/lib/Drush/Role/RoleBase.php:49${trace}`, "error") });
    expect(role).toMatchObject({ reason: "RoleNotOnSite", message: "Could not find the role: editor" });
    const user = classifyFailure("user-add-role", { code: 1, stdout: "", stderr: logLine(`Drush\\User\\UserListException: Unable to find a matching user for nobody. in /usr/local/share/drush/lib/Drush/User/UserList.php:114${trace}`, "error") });
    expect(user).toMatchObject({ reason: "UnknownUser", message: "Unable to find a matching user for nobody." });
  });

  it("the hostmaster's refusals of pool work in the background are NotPoolWork, permanent (the driver and the server disagree)", () => {
    for (const message of ["shop.example.com is not a site of the pool zone pool.invalid: only pool work runs in the background.", "A migrate task is no pool work: only a clone, verify or delete runs in the background."]) {
      expect(classifyFailure("php-eval:queue-task", { code: 1, stdout: "", stderr: logLine(message, "error") })).toMatchObject({ reason: "NotPoolWork", kind: "permanent" });
    }
  });
});

describe("parseJsonOutput", () => {
  const schema = z.object({ nid: z.int() });

  it("takes the last JSON line, ignoring PHP notices before it", () => {
    expect(parseJsonOutput("php-eval:queue-task", 'Notice: Undefined index: x in eval() (line 3)\n{"nid":42}\n', schema)).toEqual({ nid: 42 });
  });

  it("rejects missing, malformed and off-schema output as OutputNotUnderstood", () => {
    for (const stdout of ["", "nothing here\n", "{nid: 42}\n", '{"nid":"42"}\n']) {
      expect(() => parseJsonOutput("php-eval:queue-task", stdout, schema)).toThrow(expect.objectContaining({ reason: "OutputNotUnderstood" }) as Error);
    }
  });

  it("understands PHP's escaped slashes", () => {
    expect(parseJsonOutput("x", '{"file":"\\/var\\/aegir\\/backups\\/a.tar.gz"}\n', z.object({ file: z.string() }))).toEqual({ file: "/var/aegir/backups/a.tar.gz" });
  });
});

describe("classifyFailure", () => {
  const fail = (stderr: string, code: number | null = 1) => classifyFailure("cmd", { code, stdout: "", stderr, ...(code === null ? { signal: "KILL" } : {}) });

  it.each([
    [logLine("Could not find the alias @acme.example.com", "error"), "UnknownSite"],
    [logLine("load on system too heavy (41.27 38.90 30.12), aborting", "error"), "ServerOverloaded"],
    [logLine("Task 123 of acme.example.com is still queued or running.", "error"), "TaskPending"],
    [logLine("This task is not queued, use --force", "error"), "TaskPending"],
    [logLine("Site acme.example.com already exists.", "error"), "SiteExists"],
    [logLine("Site acme.example.com does not exist.", "error"), "UnknownSite"],
    [logLine("Platform platform_x does not exist.", "error"), "UnknownPlatform"],
    [logLine("Profile commons is not on platform platform_openatrium2652.", "error"), "ProfileNotOnPlatform"],
    [logLine("Could not find the role: manager", "error"), "RoleNotOnSite"],
    [logLine("There is already a user account with the name jane", "error"), "UserExists"],
    [logLine("There is already a user account with the email jane@example.com", "error"), "UserExists"],
    [logLine("Unable to find a matching user for jane.", "error"), "UnknownUser"],
    [logLine("The drush command 'pm-enbale oa_wiki' could not be found.  Run `drush cache-clear drush` to clear the commandfile cache if you have installed new extensions.", "error"), "DrushFailed"],
  ])("%j → %s", (stderr, reason) => {
    expect(fail(stderr).reason).toBe(reason);
  });

  it("describes unclassified failures by exit status and the first error", () => {
    expect(fail(`PHP Fatal error:  boom\n${logLine("Drush command terminated abnormally due to an unrecoverable error.", "error")}`, 255).message).toBe(
      "drush cmd crashed (PHP fatal error): Drush command terminated abnormally due to an unrecoverable error.",
    );
    expect(fail("", null).message).toBe("drush cmd was killed (KILL): no output");
    expect(fail("sh: 1: drush: not found\n", 127).message).toBe("drush cmd exited with status 127: sh: 1: drush: not found");
  });
});
