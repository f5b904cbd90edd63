// Running the real kubectl against a fake server, isolated from the user's own configuration: a
// private kubeconfig, HOME and discovery cache, so nothing lands in ~/.kube.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeApiServer } from "./server.ts";

/** Server-side field validation through OpenAPI v3 is what the fake relies on (kubectl >= 1.27). */
const MIN_MINOR = 27;

/** Why kubectl cannot be used here, or undefined when it can. */
export function kubectlUnavailableReason(): string | undefined {
  let output: string;
  try {
    output = execFileSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return "install kubectl (>= 1.27) to run these tests, e.g. with .ci/install-kube-tools";
  }
  const minor = Number.parseInt((JSON.parse(output) as { clientVersion?: { minor?: string } }).clientVersion?.minor ?? "0", 10);
  return minor >= MIN_MINOR ? undefined : `kubectl 1.${minor} is too old: install kubectl >= 1.${MIN_MINOR} to run these tests (.ci/install-kube-tools)`;
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningKubectl {
  child: ChildProcessWithoutNullStreams;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains the text (rejects when kubectl exits or the timeout passes first). */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  exited: Promise<KubectlResult>;
}

export class Kubectl {
  readonly dir: string;
  readonly kubeconfig: string;
  private readonly running = new Set<ChildProcessWithoutNullStreams>();

  /** Writes a kubeconfig for the server (current namespace `namespace`) into a new temporary directory. */
  constructor(server: FakeApiServer, namespace = "default") {
    this.dir = mkdtempSync(join(tmpdir(), "fake-kubectl-"));
    mkdirSync(join(this.dir, "home"));
    this.kubeconfig = join(this.dir, "kubeconfig");
    server.writeKubeconfig(this.kubeconfig, namespace);
  }

  /** `--cache-dir` for discovery and OpenAPI caches; pass it when running kubectl yourself. */
  get cacheDir(): string {
    return join(this.dir, "cache");
  }

  /** Environment for kubectl processes (KUBECONFIG and a private HOME), for pipelines run through a shell. */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: this.kubeconfig, HOME: join(this.dir, "home") };
  }

  /** Starts kubectl; for commands that run on (watches) or that the test interacts with. */
  start(args: readonly string[], stdin?: string): RunningKubectl {
    const child = spawn("kubectl", [`--cache-dir=${this.cacheDir}`, ...args], { env: this.env() });
    this.running.add(child);
    let stdout = "";
    let stderr = "";
    const outputWaiters = new Set<() => void>();
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      for (const w of [...outputWaiters]) w();
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(stdin ?? "");
    const exited = new Promise<KubectlResult>((resolve) =>
      child.on("close", (code) => {
        this.running.delete(child);
        for (const w of [...outputWaiters]) w();
        resolve({ code, stdout, stderr });
      }),
    );
    return {
      child,
      stdout: () => stdout,
      stderr: () => stderr,
      exited,
      waitForOutput: (text, timeoutMs = 10_000) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => finish(new Error(`kubectl did not print ${JSON.stringify(text)} within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`)), timeoutMs);
          const finish = (error?: Error) => {
            clearTimeout(timer);
            outputWaiters.delete(check);
            if (error) reject(error);
            else resolve();
          };
          const check = () => {
            if (stdout.includes(text)) finish();
            else if (child.exitCode !== null) finish(new Error(`kubectl exited (${child.exitCode}) before printing ${JSON.stringify(text)}; stderr: ${stderr}`));
          };
          outputWaiters.add(check);
          check();
        }),
    };
  }

  /** Runs kubectl to completion. */
  run(args: readonly string[], stdin?: string): Promise<KubectlResult> {
    return this.start(args, stdin).exited;
  }

  /** Kills kubectl processes still running and removes the directory. */
  dispose(): void {
    for (const child of this.running) child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
