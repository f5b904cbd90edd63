// Fuzzes how the Aegir driver reads drush: the parsers on arbitrary text, and every driver
// method fed mutated copies of what the simulated Aegir really printed for it (truncated JSON,
// colour codes, re-wrapped lines, [error]/[warning] lines inserted, binary garbage, huge
// output, JSON of the wrong shape, any exit code). A call either returns a value the wire
// schema produced or fails with a classified AegirError; anything else is a bug.
import * as fc from "fast-check";
import type { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { AegirError, REASONS } from "../../reconcilers/aegir/errors.ts";
import { classifyFailure, parseJsonOutput, parseLog } from "../../reconcilers/aegir/output.ts";
import type { CommandResult, CommandRunner } from "../../reconcilers/aegir/runner.ts";
import {
  CreatedWire,
  FindAccountWire,
  QueuedWire,
  type ServerStatus,
  ServerStatusWire,
  SiteStateWire,
  WelcomeWire,
  hostedSites,
  lastTask,
  pendingTask,
  tasksAhead,
} from "../../reconcilers/aegir/state.ts";
import { AegirSimulator, logLine, openAtriumPlatform } from "../harness/aegir/index.ts";
import { fuzz, timeLimit, withinTime } from "./budget.ts";
import type { Json } from "./manifest-arbitraries.ts";
import { applyMutation, hostileValue, mutation } from "./mutate.ts";

const FILE = import.meta.filename;
const RUN_LIMIT_MS = 5_000;
const OWNER = { name: "jane", mail: "jane@example.com" };
const SITE = "acme.example.com";

// ---- what the driver may produce ---------------------------------------------------------------

/** The last line of stdout that looks like JSON: the document the scripts print. */
function jsonLine(stdout: string): string | undefined {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{") || l.startsWith("["))
    .at(-1);
}

/** On success, the value must be exactly what the wire schema makes of the JSON document. */
const fromWire =
  <T>(schema: z.ZodType<T>) =>
  (value: unknown, results: CommandResult[]) => {
    const line = jsonLine(results.at(-1)?.stdout ?? "");
    expect(line, "a JSON document on stdout").toBeDefined();
    expect(value).toEqual(schema.parse(JSON.parse(line as string)));
  };

const nothing = (value: unknown) => expect(value).toBeUndefined();

/** Every error must be the driver's own, classified, with something to say. */
function checkError(error: unknown): void {
  if (!(error instanceof AegirError)) throw new Error(`not an AegirError: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  expect(Object.keys(REASONS)).toContain(error.reason);
  expect(error.kind).toBe(REASONS[error.reason]);
  expect(error.message.trim()).not.toBe("");
}

interface Operation {
  name: string;
  call: (driver: AegirDriver) => Promise<unknown>;
  check: (value: unknown, results: CommandResult[]) => void;
}

const OPERATIONS: Operation[] = [
  {
    name: "serverStatus",
    call: (d) => d.serverStatus(),
    check: (value, results) => {
      fromWire(ServerStatusWire)(value, results);
      // The helpers the reconcilers run on a status must take whatever the schema let through.
      const status = value as ServerStatus;
      for (const site of hostedSites(status)) {
        pendingTask(site);
        lastTask(site, "install");
        expect(tasksAhead(status, site)).toBeGreaterThanOrEqual(0);
      }
    },
  },
  { name: "siteState", call: (d) => d.siteState(SITE, OWNER), check: fromWire(SiteStateWire) },
  { name: "findAccount", call: (d) => d.findAccount("@support.example.com", { name: "jane" }), check: (v, r) => expect(v).toEqual(FindAccountWire.parse(JSON.parse(jsonLine(r.at(-1)?.stdout ?? "") ?? "")).account) },
  { name: "findAccount (none)", call: (d) => d.findAccount("@support.example.com", { name: "nobody" }), check: (v, r) => expect(v).toEqual(FindAccountWire.parse(JSON.parse(jsonLine(r.at(-1)?.stdout ?? "") ?? "")).account) },
  {
    name: "createSite",
    call: (d) => d.createSite({ uri: "new.example.com", platform: "platform_openatrium2652", profile: "openatrium", aliases: ["www.new.example.com"], https: "Enabled" }),
    check: fromWire(CreatedWire),
  },
  {
    name: "createSite (exists)",
    call: (d) => d.createSite({ uri: SITE, platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" }),
    check: fromWire(CreatedWire),
  },
  { name: "updateSite", call: (d) => d.updateSite(SITE, { aliases: ["www.acme.example.com"], https: "Required" }), check: fromWire(CreatedWire) },
  { name: "queueTask", call: (d) => d.queueTask(SITE, "backup"), check: fromWire(QueuedWire) },
  { name: "queueTask (migrate)", call: (d) => d.queueTask(SITE, "migrate", { targetPlatform: "platform_openatrium2652" }), check: fromWire(QueuedWire) },
  { name: "enableModules", call: (d) => d.enableModules(SITE, ["oa_wiki", "oa_events"]), check: nothing },
  { name: "enableModules (missing)", call: (d) => d.enableModules(SITE, ["oa_not_there"]), check: nothing },
  { name: "setDefaultTheme", call: (d) => d.setDefaultTheme(SITE, "oa_theme"), check: nothing },
  { name: "disableModules", call: (d) => d.disableModules(SITE, ["oa_events"]), check: nothing },
  { name: "setVariable", call: (d) => d.setVariable(SITE, "user_limit", 25), check: nothing },
  { name: "createUser", call: (d) => d.createUser(`@${SITE}`, "bob", "bob@example.com"), check: nothing },
  { name: "createUser (exists)", call: (d) => d.createUser(`@${SITE}`, OWNER.name, OWNER.mail), check: nothing },
  { name: "addRole", call: (d) => d.addRole(`@${SITE}`, "manager", OWNER.name), check: nothing },
  { name: "addRole (no role)", call: (d) => d.addRole(`@${SITE}`, "nonexistent", OWNER.name), check: nothing },
  { name: "removeRole", call: (d) => d.removeRole(`@${SITE}`, "editor", OWNER.name), check: nothing },
  { name: "sendWelcomeMail", call: (d) => d.sendWelcomeMail(SITE, OWNER.name, "manager"), check: fromWire(WelcomeWire) },
  { name: "siteState (unknown site)", call: (d) => d.siteState("gone.example.com", OWNER), check: fromWire(SiteStateWire) },
];

/** What the simulated Aegir printed for each command of each operation, in order. */
const recorded = new Map<string, CommandResult[]>();
let simulator: AegirSimulator | undefined;

beforeAll(async () => {
  const sim = new AegirSimulator({
    platforms: [openAtriumPlatform({ extraRoles: ["manager"] })],
    sites: [{ uri: "support.example.com", roles: ["support basic"], users: [{ name: "jane", mail: "jane@example.com", roles: ["support basic"] }] }],
    autoRunTasks: false,
    seed: 7,
  });
  simulator = sim;
  const real = sim.runner();
  let into: CommandResult[] = [];
  const recording: CommandRunner = {
    async run(argv, options) {
      const result = await real.run(argv, options);
      into.push(result);
      return result;
    },
  };
  const driver = new AegirDriver({ runner: recording });
  await driver.createSite({ uri: SITE, platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
  sim.drainTasks();
  await driver.createUser(`@${SITE}`, OWNER.name, OWNER.mail);
  await driver.addRole(`@${SITE}`, "manager", OWNER.name);
  await driver.sendWelcomeMail(SITE, OWNER.name, "manager");
  // A task in the queue, so server-status shows one pending.
  await driver.queueTask(SITE, "verify");
  for (const op of OPERATIONS) {
    into = [];
    await op.call(driver).catch(() => undefined);
    recorded.set(op.name, into);
  }
  // An overloaded server answers every command with provision's load guard.
  sim.faults.overload({ times: 1 });
  into = [];
  await driver.serverStatus().catch(() => undefined);
  recorded.set("overloaded", into);
});

afterAll(() => simulator?.close());

// ---- mutations of drush's output --------------------------------------------------------------

const LEVELS = ["error", "warning", "ok", "success", "notice", "cancel", "status", "debug", "ERROR", "x9"];
const MESSAGES = [
  "Could not find the alias @acme.example.com",
  "load on system too heavy (41.27 38.90 30.12), aborting",
  "Task 12 of acme.example.com is still queued or running.",
  "Site acme.example.com already exists.",
  "Site acme.example.com does not exist.",
  "Platform platform_x does not exist.",
  "Profile commons is not on platform platform_openatrium2652.",
  "Could not find the role: manager",
  "There is already a user account with the name jane",
  "Unable to find a matching user for jane.",
  "oa_wiki was not found.",
  "a_rather_long_premium_feature_module_name_from_the_catalog_that_wraps was not found.",
  "Drush command terminated abnormally due to an unrecoverable error.",
  "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted",
  "",
  " ",
  "[error]",
  "]",
];

type Stream = "stdout" | "stderr";
const stream = fc.constantFrom<Stream>("stdout", "stderr");

type OutputMutation =
  | { op: "truncate"; stream: Stream; at: number }
  | { op: "colour"; stream: Stream; at: number; code: string }
  | { op: "wrap"; stream: Stream; width: number }
  | { op: "log"; stream: Stream; line: number; message: string; level: string; colour: boolean }
  | { op: "garbage"; stream: Stream; at: number; bytes: Uint8Array }
  | { op: "huge"; stream: Stream; kind: "padding" | "repeat" | "brackets" | "json"; size: number; atEnd: boolean }
  | { op: "json"; mutations: Array<{ op: "delete"; pick: number } | { op: "replace"; pick: number; value: Json } | { op: "duplicate"; pick: number }> }
  | { op: "jsonValue"; value: Json }
  | { op: "swap" }
  | { op: "crlf"; stream: Stream };

const outputMutation: fc.Arbitrary<OutputMutation> = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), stream, at: fc.nat() }),
  fc.record({ op: fc.constant("colour" as const), stream, at: fc.nat(), code: fc.constantFrom("\x1b[1;33;40m", "\x1b[0m", "\x1b[1m", "\x1b[", "\x1b[31", "\x1b]0;title\x07") }),
  fc.record({ op: fc.constant("wrap" as const), stream, width: fc.integer({ min: 1, max: 120 }) }),
  fc.record({
    op: fc.constant("log" as const),
    stream,
    line: fc.nat(),
    message: fc.oneof(fc.constantFrom(...MESSAGES), fc.string({ unit: "binary", maxLength: 120 })),
    level: fc.oneof(fc.constantFrom(...LEVELS), fc.stringMatching(/^\w{1,8}$/)),
    colour: fc.boolean(),
  }),
  fc.record({ op: fc.constant("garbage" as const), stream, at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant("huge" as const), stream, kind: fc.constantFrom("padding", "repeat", "brackets", "json"), size: fc.integer({ min: 10_000, max: 400_000 }), atEnd: fc.boolean() }),
  fc.record({ op: fc.constant("json" as const), mutations: fc.array(mutation.filter((m) => m.op === "delete" || m.op === "replace" || m.op === "duplicate"), { minLength: 1, maxLength: 3 }) }) as fc.Arbitrary<OutputMutation>,
  fc.record({ op: fc.constant("jsonValue" as const), value: hostileValue }),
  fc.record({ op: fc.constant("swap" as const) }),
  fc.record({ op: fc.constant("crlf" as const), stream }),
);

const exitCode = fc.oneof(
  { weight: 6, arbitrary: fc.constant("keep" as const) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 2, 75, 126, 127, 255, null) },
  { weight: 1, arbitrary: fc.integer({ min: -1_000, max: 1_000 }) },
);

function mutateOutput(result: CommandResult, m: OutputMutation): CommandResult {
  const out = { ...result };
  switch (m.op) {
    case "truncate":
      out[m.stream] = out[m.stream].slice(0, m.at % (out[m.stream].length + 1));
      break;
    case "colour": {
      const text = out[m.stream];
      const at = m.at % (text.length + 1);
      out[m.stream] = text.slice(0, at) + m.code + text.slice(at);
      break;
    }
    case "wrap": {
      // Re-wrap every line at a width, as a narrow terminal or a log shipper would.
      const re = new RegExp(`(.{${m.width}})`, "g");
      out[m.stream] = out[m.stream]
        .split("\n")
        .map((l) => l.replace(re, "$1\n"))
        .join("\n");
      break;
    }
    case "log": {
      const lines = out[m.stream].split("\n");
      const entry = m.colour ? `${m.message.padEnd(69)}\x1b[1;31;40m\x1b[1m[${m.level}]\x1b[0m\n` : logLine(m.message, m.level as "error");
      lines.splice(m.line % (lines.length + 1), 0, entry.replace(/\n$/, ""));
      out[m.stream] = lines.join("\n");
      break;
    }
    case "garbage": {
      const text = out[m.stream];
      const at = m.at % (text.length + 1);
      out[m.stream] = text.slice(0, at) + Buffer.from(m.bytes).toString("latin1") + text.slice(at);
      break;
    }
    case "huge": {
      const filler =
        m.kind === "padding"
          ? `x${" ".repeat(m.size)}y` // drush pads messages with spaces: a huge padded line
          : m.kind === "repeat"
            ? logLine("oa_wiki was not found.", "warning").repeat(Math.ceil(m.size / 80))
            : m.kind === "brackets"
              ? `${"[".repeat(m.size)}${"]".repeat(m.size)}`
              : `{"a":${"[".repeat(m.size)}${"]".repeat(m.size)}}`;
      out[m.stream] = m.atEnd ? `${out[m.stream]}${filler}\n` : `${filler}\n${out[m.stream]}`;
      break;
    }
    case "json": {
      const line = jsonLine(out.stdout);
      // Paths of a 300k-deep document (a "huge" mutation before) would take the test's memory, not the driver's.
      if (line === undefined || line.length > 50_000) break;
      let root = JSON.parse(line) as Json;
      for (const mutation of m.mutations) root = applyMutation(root, mutation).root;
      out.stdout = out.stdout.replace(line, JSON.stringify(root) ?? "null");
      break;
    }
    case "jsonValue":
      out.stdout = `${out.stdout}${JSON.stringify(m.value) ?? "null"}\n`;
      break;
    case "swap":
      [out.stdout, out.stderr] = [out.stderr, out.stdout];
      break;
    case "crlf":
      out[m.stream] = out[m.stream].replace(/\n/g, "\r\n");
      break;
  }
  return out;
}

function withExitCode(result: CommandResult, code: "keep" | number | null): CommandResult {
  if (code === "keep") return result;
  return code === null ? { ...result, code: null, signal: "KILL" } : { ...result, code };
}

// ---- properties -------------------------------------------------------------------------------

describe("fuzz: drush output parsing", () => {
  const parsers = "the parsers take any text: log lines, failures, JSON";
  it(
    parsers,
    async () => {
      const text = fc.oneof(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.array(fc.oneof(fc.constantFrom(...MESSAGES, "\n", "\x1b[1m", "[error]", "[warning]", " ", "{", "}", "[", "]", '"'), fc.string({ maxLength: 10 })), { maxLength: 40 }).map((t) => t.join("")),
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString("utf8")),
      );
      const schemas: Record<string, z.ZodType> = { ServerStatusWire, SiteStateWire, FindAccountWire, CreatedWire, QueuedWire, WelcomeWire };
      await fuzz(
        parsers,
        FILE,
        300,
        fc.property(text, text, fc.oneof(fc.integer({ min: -5, max: 300 }), fc.constant(null)), fc.constantFrom(...Object.keys(schemas)), (stdout, stderr, code, schema) => {
          for (const entry of parseLog(stderr)) {
            expect(entry.level).toMatch(/^\w+$/);
            expect(entry.level).toBe(entry.level.toLowerCase());
            expect(entry.message).not.toMatch(/\n/);
          }
          const failure = classifyFailure("cmd", { code, signal: code === null ? "KILL" : null, stdout, stderr });
          checkError(failure);
          expect(failure.message).not.toMatch(/\n/);
          try {
            parseJsonOutput("cmd", stdout, schemas[schema] as z.ZodType);
          } catch (error) {
            checkError(error);
            expect((error as AegirError).reason).toBe("OutputNotUnderstood");
          }
        }),
      );
    },
    timeLimit(parsers, 300),
  );

  const driver = "every driver call on mutated real output returns a schema value or a classified AegirError";
  it(
    driver,
    async () => {
      const names = [...recorded.keys()];
      const calls = fc.array(fc.record({ mutations: fc.array(outputMutation, { maxLength: 3 }), code: exitCode }), { minLength: 1, maxLength: 3 });
      await fuzz(
        driver,
        FILE,
        1_000,
        fc.asyncProperty(fc.constantFrom(...names), calls, async (name, perCall) => {
          const op = name === "overloaded" ? (OPERATIONS[0] as Operation) : (OPERATIONS.find((o) => o.name === name) as Operation);
          const real = recorded.get(name) ?? [];
          const served: CommandResult[] = [];
          const runner: CommandRunner = {
            run() {
              const i = served.length;
              const base = real[Math.min(i, real.length - 1)] ?? { code: 0, stdout: "", stderr: "" };
              const spec = perCall[Math.min(i, perCall.length - 1)] ?? { mutations: [], code: "keep" as const };
              const result = withExitCode(spec.mutations.reduce(mutateOutput, base), spec.code);
              served.push(result);
              return Promise.resolve(result);
            },
          };
          const d = new AegirDriver({ runner });
          const outcome = await withinTime(name, RUN_LIMIT_MS, () =>
            op.call(d).then(
              (value) => ({ ok: true as const, value }),
              (error: unknown) => ({ ok: false as const, error }),
            ),
          );
          if (outcome.ok) {
            // Success means every command exited 0, and the value is what the schema made of the output.
            expect(served.every((r) => r.code === 0)).toBe(true);
            op.check(outcome.value, served);
          } else checkError(outcome.error);
        }),
      );
    },
    timeLimit(driver, 1_000),
  );
});
