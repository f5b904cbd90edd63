// The contract with real drush 8: every recorded command line (shared/reference/aegir-transcripts,
// beside the repository) replayed in order on the simulated Aegir must give the same exit
// code, stdout and log lines, and the driver must read the real output correctly.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REASONS } from "../../reconcilers/aegir/errors.ts";
import { classifyFailure, firstSentence, parseLog } from "../../reconcilers/aegir/output.ts";
import { SCRIPTS, type ScriptName } from "../../reconcilers/aegir/scripts.ts";
import { AegirSimulator, drupalPlatform } from "../harness/aegir/index.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const TRANSCRIPTS = path.resolve(repoRoot, "../shared/reference/aegir-transcripts/site-commands.json");

interface Run {
  argv: string[];
  stdin?: string;
  code: number | null;
  stdout: string;
  stderr: string;
}
interface Case {
  label: string;
  runs: Run[];
}

const present = existsSync(TRANSCRIPTS);
if (!present) console.warn(`skipping the drush contract suite: no recordings at ${path.relative(repoRoot, TRANSCRIPTS)} (clone shared/ beside the repository)`);
const cases: Case[] = present ? (JSON.parse(readFileSync(TRANSCRIPTS, "utf8")) as { cases: Case[] }).cases : [];

/** Where the recording and the simulator may differ on purpose, and why. */
const DEVIATIONS: Record<string, string> = {
  // The recording ran on SQLite; Aegir sites run on MySQL/MariaDB, whose collation matches names case-insensitively.
  "findAccount name=JANE (case)": "collation",
};

/** Commands the driver no longer sends: what real drush does with them is why. */
const RETIRED = new Set(["pm-enable", "user-login", "user-block", "user-unblock"]);

/** The reason the driver must give each failing recorded run it can still send. */
const EXPECTED_REASON: Record<string, string> = {
  "createUser jane again (same name, other mail)": "UserExists",
  "createUser bob with jane's mail": "UserExists",
  "addRole editor jane (role absent)": "RoleNotOnSite",
  "addRole administrator nobody (user absent)": "UnknownUser",
  "removeRole editor jane (role absent)": "RoleNotOnSite",
  "sendWelcomeMail nobody": "UnknownUser",
  "serverStatus against a plain site (hostmaster script on non-hostmaster)": "NotAHostmaster",
  "queueTask against a plain site": "NotAHostmaster",
  "siteState nosuch.example.com (unknown alias)": "UnknownSite",
  "createUser on @nosuch.example.com": "UnknownSite",
};

/** The volatile parts the recordings' README lists: timestamps and one-time login hashes. */
function stable(text: string): string {
  return text.replace(/\/user\/reset\/(\d+)\/\d+\/[\w-]+\/login/g, "/user/reset/$1/TIME/HASH/login").replace(/"at":\d+/g, '"at":TIME');
}

/** Log entries without padding, and exceptions compared up to their stack trace. */
function logOf(stderr: string): Array<{ level: string; message: string }> {
  return parseLog(stderr).map((l) => ({ level: l.level, message: l.message.split(" Stack trace:")[0] as string }));
}

/** The recorded php-eval code is the script of its header's name as it was then: replay today's. */
function currentArgv(argv: string[]): string[] {
  if (argv[2] !== "php-eval") return argv;
  const name = /^\/\/ aegir-operator:([a-z-]+) v1\n/.exec(argv[3] ?? "")?.[1] as ScriptName | undefined;
  return name !== undefined && name in SCRIPTS ? [...argv.slice(0, 3), SCRIPTS[name]] : argv;
}

/** site-state fields the simulator models (module lists depend on the platform's build). */
function siteStateFacts(stdout: string): unknown {
  const s = JSON.parse(stdout) as Record<string, unknown>;
  return { theme: s["theme"], userLimit: s["userLimit"], roles: s["roles"], activeUsers: s["activeUsers"], owner: s["owner"], welcome: stable(JSON.stringify(s["welcome"])) };
}

describe.skipIf(!present)("contract with real drush 8 (recorded transcripts)", () => {
  const sim = new AegirSimulator({
    platforms: [drupalPlatform("platform_drupal7", { modules: ["forum", "blog"] })],
    sites: [{ uri: "acme.example.com", profile: "standard" }],
    database: "sqlite",
    autoRunTasks: false,
  });

  it.each(cases.map((c) => [c.label, c] as const))("%s: the simulator prints what drush printed", async (label, c) => {
    for (const run of c.runs) {
      const sim_ = await sim.exec(currentArgv(run.argv), run.stdin === undefined ? {} : { stdin: run.stdin });
      if (DEVIATIONS[label] !== undefined) continue;
      expect({ code: sim_.code, log: logOf(sim_.stderr) }).toEqual({ code: run.code, log: logOf(run.stderr) });
      if (run.argv[3]?.startsWith("// aegir-operator:site-state") && run.code === 0) expect(siteStateFacts(sim_.stdout)).toEqual(siteStateFacts(run.stdout));
      else expect(stable(sim_.stdout)).toBe(stable(run.stdout));
    }
  });

  it.each(cases.flatMap((c) => c.runs.filter((r) => r.code !== 0 && !RETIRED.has(r.argv[2] ?? "")).map((r) => [c.label, r] as const)))(
    "%s: the driver classifies the real failure, with a short message",
    (label, run) => {
      const name = run.argv[2] === "php-eval" ? `php-eval:${/aegir-operator:([a-z-]+)/.exec(run.argv[3] ?? "")?.[1] ?? "unknown"}` : (run.argv[2] ?? "");
      const error = classifyFailure(name, run);
      expect(error.reason).toBe(EXPECTED_REASON[label]);
      expect(error.kind).toBe(REASONS[error.reason]);
      expect(error.message).not.toMatch(/Stack trace|\/usr\/local|\/var\/aegir/);
      expect(error.message).toBe(firstSentence(error.message));
    },
  );

  it("the driver sends none of the commands whose real behaviour is unsafe (uid 1 links, downloads, mails)", () => {
    const sent = new Set(sim.stats.records.map((r) => r.name));
    for (const command of RETIRED) expect(sent.has(command), `${command} was replayed`).toBe(true);
    const source = readFileSync(path.resolve(repoRoot, "reconcilers/aegir/commands.ts"), "utf8");
    for (const command of RETIRED) expect(source).not.toContain(`"${command}"`);
  });
});
