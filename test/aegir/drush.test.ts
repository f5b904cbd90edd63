// The simulator answers drush command lines in drush 8's formats.
import { describe, expect, it } from "vitest";
import { Commands } from "../../reconcilers/aegir/commands.ts";
import { SERVER_STATUS_PHP, SITE_STATE_PHP } from "../../reconcilers/aegir/scripts.ts";
import { logLine } from "../harness/aegir/index.ts";
import { installedSite, simulated } from "./setup.ts";

const commands = new Commands();
const A = "@acme.example.com";

async function site() {
  const { sim, driver } = simulated();
  await installedSite(sim, driver);
  return sim;
}

describe("drush commands", () => {
  it("pm-enable: missing → the download from drupal.org fails, exit 1, nothing enabled; already enabled → ok; enabled → stdout prompt and ok lines", async () => {
    const sim = await site();
    expect(await sim.exec(["drush", A, "pm-enable", "-y", "oa_markdown", "nope"])).toEqual({
      code: 1,
      stdout: "",
      stderr:
        logLine("nope was not found.", "warning") +
        logLine('simplexml_load_file(): I/O warning : failed to load external entity "" Project.php:96', "warning") +
        logLine("Failed to get available update data from https://updates.drupal.org/release-history/nope/7.x", "error"),
    });
    expect(sim.site("acme.example.com")?.drupal?.modules).not.toContain("oa_markdown");
    expect((await sim.exec(["drush", A, "pm-enable", "-y", "oa_wiki"])).stderr).toBe(logLine("oa_wiki is already enabled.", "ok") + logLine("There were no extensions that could be enabled.", "ok"));
    expect(await sim.exec(["drush", A, "pm-enable", "-y", "oa_markdown", "oa_analytics"])).toEqual({
      code: 0,
      stdout: "The following extensions will be enabled: oa_markdown, oa_analytics\nDo you really want to continue? (y/n): y\n",
      stderr: logLine("oa_markdown was enabled successfully.", "ok") + logLine("oa_analytics was enabled successfully.", "ok"),
    });
  });

  it("pm-enable without -y asks, reads no answer and aborts (exit 75)", async () => {
    const sim = await site();
    const result = await sim.exec(["drush", A, "pm-enable", "oa_markdown"]);
    expect(result).toMatchObject({ code: 75, stderr: logLine("Aborting.", "cancel") });
    expect(sim.site("acme.example.com")?.drupal?.modules).not.toContain("oa_markdown");
  });

  it("the log layout is 80 columns: message padded to 69, level right-aligned in 11", async () => {
    const sim = await site();
    const [line] = (await sim.exec(["drush", A, "pm-enable", "-y", "nope"])).stderr.split("\n");
    expect(line).toBe("nope was not found.                                                    [warning]");
    expect(line).toHaveLength(80);
  });

  it("variable-set, user-create output and errors", async () => {
    const sim = await site();
    expect((await sim.exec(commands.variableSet(A, "theme_default", "oa_radix").argv)).stderr).toBe(logLine('theme_default was set to "oa_radix".', "success"));
    expect((await sim.exec(commands.variableSet(A, "user_limit", 5).argv)).stderr).toBe(logLine("user_limit was set to 5.", "success"));
    const created = await sim.exec(commands.userCreate(A, "jane", "jane@example.com").argv);
    expect(created).toMatchObject({ code: 0, stderr: "" });
    expect(created.stdout).toBe(" User ID       :  2                  \n User name     :  jane               \n User mail     :  jane@example.com   \n User roles    :  authenticated user \n User status   :  active             \n\n");
    expect(await sim.exec(commands.userCreate(A, "jane", "jane2@example.com").argv)).toEqual({ code: 1, stdout: "", stderr: logLine("There is already a user account with the name jane", "error") });
    const noRole = await sim.exec(commands.userAddRole(A, "manager", "ghost").argv);
    expect(noRole.code).toBe(1);
    expect(noRole.stderr).toMatch(/^Drush\\Role\\RoleException: Could not find the role: manager in +\[error\]\n\/usr\/local\/share\/drush\/lib\/Drush\/Role\/RoleBase\.php:49\nStack trace:\n#0 /);
    const noUser = await sim.exec(["drush", A, "user-block", "ghost"]);
    expect(noUser.code).toBe(1);
    expect(noUser.stderr).toContain("Drush\\User\\UserListException: Unable to find a matching user for");
    expect((await sim.exec(commands.userAddRole(A, "editor", "jane").argv)).stderr).toBe(logLine("Added role editor role to jane", "success"));
    expect((await sim.exec(commands.userRemoveRole(A, "manager", "jane").argv)).code).toBe(1);
    expect((await sim.exec(commands.userRemoveRole(A, "editor", "jane").argv)).stderr).toBe(logLine("Removed editor role from jane", "success"));
  });

  it("unknown alias, command and option: drush's errors, exit 1", async () => {
    const sim = await site();
    expect(await sim.exec(["drush", "@nope.example.com", "pm-enable", "-y", "x"])).toEqual({ code: 1, stdout: "", stderr: logLine("Could not find the alias @nope.example.com", "error") });
    expect((await sim.exec(["drush", A, "pm-enbale", "-y", "x"])).stderr).toContain("The drush command 'pm-enbale x' could not be found.");
    expect((await sim.exec(["drush", A, "user-block", "--force", "jane"])).stderr).toContain("Unknown option: --force.");
  });

  it("platform aliases exist but cannot bootstrap a site", async () => {
    const sim = await site();
    const result = await sim.exec(["drush", "@platform_openatrium2652", "php-eval", SITE_STATE_PHP], { stdin: "{}" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Command php-eval needs a higher bootstrap level to run");
  });

  it("php-eval: a PHP Error or a PDOException exits 1 on PHP 8, as real drush 8 does; bad stdin is an error", async () => {
    const sim = await site();
    expect(await sim.exec(["drush", A, "php-eval", "print 1;"])).toMatchObject({ code: 1 });
    expect(sim.stats.records.at(-1)?.name).toBe("php-eval:unknown");
    const wrongSite = await sim.exec(["drush", A, "php-eval", SERVER_STATUS_PHP], { stdin: "{}" });
    expect(wrongSite.code).toBe(1);
    expect(wrongSite.stderr).toContain("Table 'acmeexamplecom.hosting_site' doesn't exist");
    expect(await sim.exec(["drush", A, "php-eval", SITE_STATE_PHP], { stdin: "not json" })).toEqual({ code: 1, stdout: "", stderr: logLine("Standard input is not a JSON object.", "error") });
  });

  it("php-eval output is PHP's json_encode (escaped slashes) on one line", async () => {
    const sim = await site();
    const result = await sim.exec(["drush", "@hm", "php-eval", SERVER_STATUS_PHP], { stdin: "{}" });
    expect(result.stdout.split("\n")).toHaveLength(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ queue: { queued: 0, processing: 0 } });
  });

  it("another binary is not drush: exit 127 like a shell", async () => {
    const sim = await site();
    expect(await sim.exec(["php", "-r", "1;"])).toEqual({ code: 127, stdout: "", stderr: "sh: 1: php: not found\n" });
  });

  it("counts commands by name and kind", async () => {
    const sim = await site();
    sim.stats.reset();
    await sim.exec(["drush", "@hm", "php-eval", SERVER_STATUS_PHP], { stdin: "{}" });
    await sim.exec(["drush", A, "pm-enable", "-y", "oa_markdown"]);
    await sim.exec(["drush", A, "user-login", "admin", "--no-browser", "--uri=https://acme.example.com"]);
    expect(sim.stats.counts()).toEqual({ total: 3, reads: 2, writes: 1, byName: { "php-eval:server-status": 1, "pm-enable": 1, "user-login": 1 } });
    expect(sim.stats.count("php-eval")).toBe(1);
  });
});
