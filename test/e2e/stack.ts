// The stack for end-to-end tests: the fake Kubernetes API server, the simulated Aegir behind
// an SSH server, an AegirServer pointing at it, and controller replicas as child processes.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_VERSION } from "../../crds/group.ts";
import { type AegirSimulator } from "../harness/aegir/index.ts";
import { SITE_DELETED, type SiteNode } from "../harness/aegir/model.ts";
import { DEFAULT_PLACEHOLDER_ZONE } from "../../crds/sitepool.ts";
import { afterAll, beforeAll } from "vitest";
import { Kubectl, startFakeApiServer, type FakeApiServer } from "../harness/kube/index.ts";
import { registerAegirServer } from "../harness/aegir-server.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { startTestSshServer, type TestSshServer } from "../harness/ssh/server.ts";
import { simulator, TRACKER } from "../hostedsite/harness.ts";

const ROOT = join(import.meta.dirname, "../..");

export interface Replica {
  child: ChildProcess;
  logs(): string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** The command line of a test controller replica: loopback, any free ports, fast polls, a short lease. */
export function controllerArgs(kubeconfig: string, identity: string): string[] {
  return [
    "controller/bin.ts",
    "controller",
    `--kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    "--metrics-port=0",
    "--health-probe-port=0",
    "--leader-election-namespace=aegir-operator",
    `--identity=${identity}`,
    "--leader-election-lease-duration=3",
    "--leader-election-renew-deadline=2",
    "--leader-election-retry-period=0.5",
    "--poll-interval=2",
    "--progress-poll=0.2",
    "--graceful-shutdown-timeout=5",
  ];
}

export class Stack {
  readonly dir = mkdtempSync(join(tmpdir(), "aegir-e2e-"));
  api!: FakeApiServer;
  ssh!: TestSshServer;
  readonly sim: AegirSimulator;
  readonly kubeconfig = join(this.dir, "kubeconfig");
  readonly replicas: Replica[] = [];

  /** `autoRunTasks: false`: Aegir tasks stay queued until the test drains them. */
  constructor(options: { autoRunTasks?: boolean } = {}) {
    this.sim = simulator(1, options.autoRunTasks ?? true);
  }

  async start(): Promise<this> {
    const client = generateKeyPair();
    this.ssh = await startTestSshServer({ handler: this.sim.execHandler(), authorizedKey: client.publicKey });
    this.api = await startFakeApiServer({ namespaces: ["customers", "aegir-operator"] });
    this.api.writeKubeconfig(this.kubeconfig, "customers");
    // The controller reads the SSH key from the AegirServer's Secret, as in a cluster.
    registerAegirServer(this.api, { name: "aegir-1", ssh: this.ssh, privateKey: client.privateKey, maxSites: 50, tracker: TRACKER });
    return this;
  }

  /** Start a controller replica (`aegir-operator controller`) with fast polls and a short lease; `extra` flags last. */
  controller(identity: string, extra: readonly string[] = []): Replica {
    const child = spawn(process.execPath, [...controllerArgs(this.kubeconfig, identity), ...extra], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const lines: string[] = [];
    child.stdout.on("data", (c: Buffer) => lines.push(...c.toString().split("\n").filter(Boolean)));
    child.stderr.on("data", (c: Buffer) => lines.push(...c.toString().split("\n").filter(Boolean)));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const replica = { child, logs: () => lines, exited };
    this.replicas.push(replica);
    return replica;
  }

  hostedSite(name: string, domain: string, spec: Record<string, unknown> = {}): string {
    return JSON.stringify({
      apiVersion: API_VERSION,
      kind: "HostedSite",
      metadata: { name, namespace: "customers" },
      spec: { domain, profile: "openatrium", features: ["oa_wiki"], userQuota: 10, support: { tier: "Standard" }, owner: { email: `owner@${domain}` }, ...spec },
    });
  }

  async stop(): Promise<void> {
    for (const r of this.replicas) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    await Promise.all(this.replicas.map((r) => r.exited));
    await this.api?.close();
    await this.ssh?.close();
    this.sim.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Poll until `check` returns a value, or fail with what it last saw. */
/** The simulated hostmaster's spares (sites under the default placeholder zone), deleted ones left out. */
export function liveSpares(sim: AegirSimulator): SiteNode[] {
  return [...sim.hostmaster.sites.values()].filter((s) => s.status !== SITE_DELETED && s.uri.endsWith(`.${DEFAULT_PLACEHOLDER_ZONE}`));
}

export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface StackInUse<S extends Stack> {
  stack: S;
  /** kubectl on the stack's API server, namespace `customers` (set once the stack has started). */
  kubectl: Kubectl;
}

/** A stack and a kubectl for the enclosing describe block: started before its tests (then `ready`), stopped after. */
export function useStack<S extends Stack>(stack: S, ready?: (stack: S) => void): StackInUse<S> {
  const inUse = { stack } as StackInUse<S>;
  beforeAll(async () => {
    await stack.start();
    inUse.kubectl = new Kubectl(stack.api, "customers");
    ready?.(stack);
  });
  afterAll(async () => {
    (inUse.kubectl as Kubectl | undefined)?.dispose();
    await stack.stop();
  });
  return inUse;
}
