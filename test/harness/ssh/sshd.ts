// A real OpenSSH sshd for tests: private config, host key and authorized_keys in a temp dir,
// listening on 127.0.0.1 at a free port, logging in as the user running the tests, with a PATH
// for remote commands chosen by the test (so its own `drush` comes first).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { generateKeyPair, type KeyPair } from "./keys.ts";
import { freePort } from "./ports.ts";

export const SSHD_PATH = "/usr/sbin/sshd";
export const SSHD_MISSING = `${SSHD_PATH} not found: install openssh-server (apt-get install openssh-server) to run the real-sshd tests`;

export function sshdAvailable(): boolean {
  return existsSync(SSHD_PATH);
}

export interface SshdOptions {
  /** Directories searched first for remote commands. */
  path?: string[];
  /** sshd's MaxSessions (default 10). */
  maxSessions?: number;
}

export interface RealSshd {
  readonly host: string;
  readonly port: number;
  /** The account commands run as: whoever runs the tests. */
  readonly user: string;
  /** Host key fingerprint, OpenSSH form. */
  readonly fingerprint: string;
  /** The key sshd accepts, and where it is stored. */
  readonly clientKey: KeyPair;
  readonly clientKeyPath: string;
  /** The PATH remote commands see. */
  readonly remotePath: string;
  /** sshd's own log so far (LogLevel VERBOSE). */
  log(): string;
  /** Stops sshd and the sessions it started, and removes its directory. */
  stop(): Promise<void>;
}

const SYSTEM_PATH = ["/usr/local/bin", "/usr/bin", "/bin"];

export async function startSshd(options: SshdOptions = {}): Promise<RealSshd> {
  if (!sshdAvailable()) throw new Error(SSHD_MISSING);
  const dir = mkdtempSync(join(tmpdir(), "aegir-sshd-"));
  try {
    return await launch(dir, options);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(dir: string, options: SshdOptions): Promise<RealSshd> {
  const hostKey = generateKeyPair({ comment: "sshd-host" });
  const clientKey = generateKeyPair({ comment: "sshd-client" });
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), content, { mode: 0o600 });
    return join(dir, name);
  };
  const hostKeyPath = file("host_ed25519", hostKey.privateKey);
  const clientKeyPath = file("client_ed25519", clientKey.privateKey);
  const authorizedKeys = file("authorized_keys", `${clientKey.publicKey}\n`);
  const remotePath = [...(options.path ?? []), ...SYSTEM_PATH].join(":");
  // Run as root, sshd needs its privilege separation directory (the init script makes it).
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true });

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = file(
      "sshd_config",
      [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${hostKeyPath}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        // The temp dir is under world-writable /tmp, which StrictModes refuses.
        "StrictModes no",
        // SHLVL=1 keeps bash from sourcing ~/.bashrc for every exec (tens of ms each).
        `SetEnv SHLVL=1 PATH=${remotePath}`,
        `MaxSessions ${options.maxSessions ?? 10}`,
        "LogLevel VERBOSE",
        "",
      ].join("\n"),
    );
    const { child, log, ready } = spawnSshd(config);
    const started = await ready;
    if (started === "listening") return handle({ dir, port, child, log, clientKey, clientKeyPath, remotePath, fingerprint: hostKey.fingerprint });
    // Another process may have taken the port between probing and binding.
    if (!/Bind to port|Address already in use/.test(log()) || attempt === 3) throw new Error(`sshd did not start:\n${log()}`);
  }
}

function spawnSshd(config: string): { child: ChildProcess; log: () => string; ready: Promise<"listening" | "exited"> } {
  const child = spawn(SSHD_PATH, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let text = "";
  const ready = new Promise<"listening" | "exited">((resolve) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("Server listening on")) resolve("listening");
    });
    child.once("exit", () => resolve("exited"));
    child.once("error", (error) => {
      text += `${error.message}\n`;
      resolve("exited");
    });
  });
  return { child, log: () => text, ready };
}

interface Running {
  dir: string;
  port: number;
  child: ChildProcess;
  log: () => string;
  clientKey: KeyPair;
  clientKeyPath: string;
  remotePath: string;
  fingerprint: string;
}

function handle(running: Running): RealSshd {
  const { child, dir } = running;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    host: "127.0.0.1",
    port: running.port,
    user: userInfo().username,
    fingerprint: running.fingerprint,
    clientKey: running.clientKey,
    clientKeyPath: running.clientKeyPath,
    remotePath: running.remotePath,
    log: running.log,
    async stop() {
      // Each connection has its own sshd process in its own session, which outlives the listener.
      const pids = child.pid === undefined ? [] : [...childrenOf(child.pid), child.pid];
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {
          // Already gone.
        }
      }
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Processes whose parent is `pid`, from /proc (empty where there is none). */
function childrenOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Fields after the parenthesised command name: state, then the parent's pid.
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      return parent === pid ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}
