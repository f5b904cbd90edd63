// The simulator behind a test SSH server (execHandler) and behind a real sshd (the drush shim
// over HTTP): both relay output and exit status exactly.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { Commands } from "../../reconcilers/aegir/commands.ts";
import { commandLine } from "../../reconcilers/aegir/shell.ts";
import { AegirSimulator, ConnectionDropped, logLine } from "../harness/aegir/index.ts";

const commands = new Commands();

function streams(stdinText: string | undefined) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (c: Buffer) => out.push(c));
  stderr.on("data", (c: Buffer) => err.push(c));
  // An stdin that never ends unless given: commands other than php-eval must not wait for it.
  const stdin = stdinText === undefined ? new PassThrough() : Readable.from([stdinText]);
  return { stdin, stdout, stderr, out: () => Buffer.concat(out).toString(), err: () => Buffer.concat(err).toString() };
}

function simulator(): AegirSimulator {
  const sim = new AegirSimulator({ sites: [{ uri: "support.example.com", roles: ["support basic"] }] });
  onTestFinished(() => sim.close());
  return sim;
}

describe("execHandler", () => {
  it("runs a quoted command line, feeding stdin to php-eval", async () => {
    const sim = simulator();
    const handler = sim.execHandler();
    const command = commands.php("@support.example.com", "find-account", { name: "admin", mail: "" });
    const io = streams(command.stdin);
    const code = await handler({ command: commandLine(command.argv), ...io, signal: new AbortController().signal, clientPort: 50000 });
    expect(code).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ account: { uid: 1, name: "admin" } });
  });

  it("passes an e-mail address with an apostrophe to drush as one --mail= word", async () => {
    const sim = simulator();
    const io = streams(undefined);
    const code = await sim.execHandler()({ command: commandLine(commands.userCreate("@support.example.com", "sean", "sean.o'brien@example.ie").argv), ...io, signal: new AbortController().signal, clientPort: 50000 });
    expect(code).toBe(0);
    expect(io.out()).toContain("User mail     :  sean.o'brien@example.ie");
  });

  it("does not wait for stdin on commands that do not read it, and relays failures", async () => {
    const sim = simulator();
    const io = streams(undefined);
    const code = await sim.execHandler()({ command: commandLine(commands.userAddRole("@support.example.com", "support premium", "admin").argv), ...io, signal: new AbortController().signal, clientPort: 50000 });
    expect(code).toBe(1);
    expect(io.err()).toContain("Could not find the role: support premium");
  });

  it.each(["drush @x pm-enable -y a; id", "drush @x $(id)", "drush 'unterminated", "drush @x > /tmp/f"])("refuses shell syntax with exit 127: %s", async (command) => {
    const sim = simulator();
    const io = streams("");
    expect(await sim.execHandler()({ command, ...io, signal: new AbortController().signal, clientPort: 50000 })).toBe(127);
    expect(io.err()).toMatch(/^sh: 1: /);
    expect(sim.stats.count()).toBe(0);
  });

  it("a client that goes away mid-command gets 129 and the command has no effect", async () => {
    const sim = new AegirSimulator({ sites: [{ uri: "support.example.com" }], latency: { commandMs: 60_000 } });
    onTestFinished(() => sim.close());
    const controller = new AbortController();
    const io = streams(undefined);
    const pending = sim.execHandler()({ command: commandLine(commands.userCreate("@support.example.com", "jane", "jane@example.com").argv), ...io, signal: controller.signal, clientPort: 50000 });
    controller.abort(new Error("channel closed"));
    expect(await pending).toBe(129);
    expect(sim.site("support.example.com")?.drupal?.users.size).toBe(1);
  });

  it("an injected drop rejects with ConnectionDropped for the SSH server to cut the connection", async () => {
    const sim = simulator();
    sim.faults.drop();
    const io = streams(undefined);
    await expect(sim.execHandler()({ command: commandLine(commands.userCreate("@support.example.com", "bob", "bob@example.com").argv), ...io, signal: new AbortController().signal, clientPort: 50000 })).rejects.toBeInstanceOf(ConnectionDropped);
  });
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runShim(executable: string, args: readonly string[], stdin: string | undefined, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { env: { PATH: process.env["PATH"] ?? "", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (stdin !== undefined) child.stdin.end(stdin);
  });
}

describe("drush shim", () => {
  const shim = fileURLToPath(new URL("../harness/aegir/drush-shim.ts", import.meta.url));

  async function served() {
    const sim = simulator();
    const server = await sim.listen();
    onTestFinished(() => server.close());
    return { sim, server };
  }

  it("forwards argv and stdin, relays stdout and exit status (environment configuration)", async () => {
    const { sim, server } = await served();
    const command = commands.php("@support.example.com", "find-account", { name: "admin", mail: "" });
    const run = await runShim(process.execPath, [shim, ...command.argv.slice(1)], command.stdin, server.env);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toMatchObject({ account: { uid: 1 } });
    expect(sim.stats.records.map((r) => r.name)).toEqual(["php-eval:find-account"]);
  });

  it("relays drush's stderr and non-zero status through the installed sh wrapper (file configuration)", async () => {
    const { server } = await served();
    const dir = mkdtempSync(join(tmpdir(), "aegir-shim-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const drush = server.installShim(dir);
    const run = await runShim(drush, commands.userCreate("@support.example.com", "admin", "x@example.com").argv.slice(1), undefined, {});
    expect(run).toEqual({ code: 1, signal: null, stdout: "", stderr: logLine("There is already a user account with the name admin", "error") });
  });

  it("dies abruptly on an injected connection drop", async () => {
    const { sim, server } = await served();
    sim.faults.drop();
    const run = await runShim(process.execPath, [shim, "@support.example.com", "user-block", "admin"], undefined, server.env);
    expect(run).toMatchObject({ code: null, signal: "SIGKILL" });
  });

  it("refuses commands without the token, and serves GET /state to anyone on loopback", async () => {
    const { server } = await served();
    expect((await fetch(`${server.url}/exec`, { method: "POST", body: "{}" })).status).toBe(401);
    const run = await runShim(process.execPath, [shim, "@hm", "user-block", "admin"], undefined, { ...server.env, AEGIR_SIM_TOKEN: "wrong" });
    expect(run.code).toBe(255);
    expect(run.stderr).toMatch(/^drush shim: simulator answered HTTP 401/);
    const state = (await (await fetch(`${server.url}/state`)).json()) as { sites: Array<{ uri: string }> };
    expect(state.sites.map((s) => s.uri)).toEqual(["aegir.example.com", "support.example.com"]);
  });
});
