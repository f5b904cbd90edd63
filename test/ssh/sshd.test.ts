// The SSH pool against a real OpenSSH sshd: what the remote shell makes of our quoting, the
// host key check, signals on timeout, and MaxSessions. Skipped when sshd is not installed.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AegirError } from "../../reconcilers/aegir/errors.ts";
import { SshPool, type SshPoolOptions } from "../../reconcilers/aegir/ssh/pool.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { SSHD_MISSING, sshdAvailable, startSshd, type RealSshd } from "../harness/ssh/sshd.ts";
import { until } from "./fixtures.ts";

const available = sshdAvailable();
if (!available) console.warn(`skipping the real-sshd tests: ${SSHD_MISSING}`);

describe.skipIf(!available)("SshPool against OpenSSH sshd", () => {
  let sshd: RealSshd;
  let dir: string;
  const pools: SshPool[] = [];
  const canary = () => join(dir, "CANARY");
  const record = () => join(dir, "argv.jsonl");

  function pool(options: Partial<SshPoolOptions> = {}): SshPool {
    const p = new SshPool({ host: sshd.host, port: sshd.port, username: sshd.user, hostKeySHA256: sshd.fingerprint, privateKey: { file: sshd.clientKeyPath }, ...options });
    pools.push(p);
    return p;
  }

  function executable(name: string, text: string): void {
    writeFileSync(join(dir, "bin", name), text);
    chmodSync(join(dir, "bin", name), 0o755);
  }

  function recorded(): string[][] {
    if (!existsSync(record())) return [];
    return readFileSync(record(), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as string[]);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "aegir-sshd-test-"));
    mkdirSync(join(dir, "bin"));
    // drush records its argv, one JSON array per call.
    executable("drush", `#!${process.execPath}\nrequire("node:fs").appendFileSync(${JSON.stringify(record())}, JSON.stringify(process.argv.slice(2)) + "\\n");\n`);
    executable("fail", "#!/bin/sh\necho out\necho err >&2\nexit 7\n");
    executable("hang", '#!/bin/sh\necho $$ > "$1"\nexec sleep 30\n');
    executable("pause", "#!/bin/sh\nexec sleep 0.2\n");
    executable("die", "#!/bin/sh\nkill -TERM $$\n");
    sshd = await startSshd({ path: [join(dir, "bin")] });
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close(0)));
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("passes hostile arguments to drush exactly as given, and the shell runs none of them", async () => {
    const touch = `touch ${canary()}`;
    const hostile = [
      "it's",
      `say "hi"`,
      "'",
      '"',
      `'; ${touch}; echo '`,
      `"; ${touch}; echo "`,
      `; ${touch}`,
      `$(${touch})`,
      `\`${touch}\``,
      `a && ${touch}`,
      `a || ${touch}`,
      `a | ${touch}`,
      `a & ${touch}`,
      `line\n${touch}`,
      "\n",
      "-rf",
      "--uri=@hostmaster",
      "*",
      "~",
      "~root",
      "$HOME",
      "${HOME}",
      "\\",
      "back\\slash\\",
      "!!",
      "#not a comment",
      `> ${canary()}`,
      "{a,b}",
      "tab\there",
      "carriage\rreturn",
      "",
      " ",
      "ünïcødé ✓ 🎉",
    ];
    const p = pool();
    const result = await p.run(["drush", ...hostile]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(recorded().at(-1)).toEqual(hostile);
    expect(existsSync(canary())).toBe(false);
  });

  it("refuses NUL in an argument before sending anything", async () => {
    const before = recorded().length;
    await expect(pool().run(["drush", "a\0; touch CANARY"])).rejects.toThrow(TypeError);
    expect(recorded()).toHaveLength(before);
  });

  it("returns stdin, stdout, stderr, the exit status or the killing signal through the remote shell", async () => {
    const p = pool();
    expect(await p.run(["fail"])).toEqual({ code: 7, signal: null, stdout: "out\n", stderr: "err\n" });
    expect((await p.run(["cat"], { stdin: '{"a":"ü"}\n' })).stdout).toBe('{"a":"ü"}\n');
    expect((await p.run(["no-such-command-here"])).code).toBe(127);
    expect(await p.run(["die"])).toEqual({ code: null, signal: "SIGTERM", stdout: "", stderr: "" });
  });

  it("refuses a different host key before authenticating", async () => {
    const from = sshd.log().length;
    const error = await pool({ hostKeySHA256: generateKeyPair().fingerprint })
      .run(["drush", "never"])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AegirError);
    expect((error as AegirError).reason).toBe("HostKeyMismatch");
    expect((error as AegirError).message).toContain(sshd.fingerprint);
    await until(() => sshd.log().slice(from).includes("[preauth]"));
    const log = sshd.log().slice(from);
    expect(log).toContain("Connection from 127.0.0.1");
    expect(log).not.toMatch(/publickey|Accepted|Failed|Starting session/);
    expect(recorded().flat()).not.toContain("never");
  });

  it("reports a key sshd does not accept as AuthenticationFailed", async () => {
    const stranger = generateKeyPair();
    const error = await pool({ privateKey: { secretRef: { namespace: "a", name: "b", key: "c" }, read: () => Promise.resolve(stranger.privateKey) } })
      .run(["drush"])
      .catch((e: unknown) => e);
    expect((error as AegirError).reason).toBe("AuthenticationFailed");
  });

  // sshd only forwards signals to sessions of unprivileged users (root skips privilege separation
  // after login); the aegir user is one, a test running as root is not.
  it("terminates a timed-out command on the server, and counts its channel until sshd closes it", async () => {
    const p = pool({ maxConnections: 1, channelsPerConnection: 1 });
    const pidFile = join(dir, "hang.pid");
    const from = sshd.log().length;
    const started = Date.now();
    const error = await p.run(["hang", pidFile], { timeoutMs: 500 }).catch((e: unknown) => e);
    expect((error as AegirError).reason).toBe("CommandTimeout");
    expect(Date.now() - started).toBeLessThan(1_500);
    const pid = Number(readFileSync(pidFile, "utf8"));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (sshd.user === "root") {
      await until(() => sshd.log().slice(from).includes("session_signal_req"));
      expect(sshd.log().slice(from)).toContain("session signalling requires privilege separation");
      expect(alive()).toBe(true);
      expect(p.metrics().busyChannels).toBe(1);
      process.kill(pid, "SIGKILL");
    }
    await until(() => !alive(), 3_000);
    await until(() => p.metrics().busyChannels === 0);
    expect((await p.run(["fail"])).code).toBe(7);
  });

  it("keeps to the channel cap below MaxSessions, so a burst queues instead of being refused", async () => {
    const p = pool({ maxConnections: 1, channelsPerConnection: 8 });
    const results = await Promise.all(Array.from({ length: 30 }, () => p.run(["pause"])));
    expect(results.map((r) => r.code)).toEqual(Array(30).fill(0));
    expect(p.metrics().openConnections).toBe(1);
  });
});
