// Controller replicas as real processes (`aegir-operator controller`), kept running the way a
// Deployment's kubelet would: a replica that exits (killed, or leadership lost) is started again
// after a short back-off, under a new identity, so every process is told apart in the records.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { controllerArgs } from "../e2e/stack.ts";

const ROOT = join(import.meta.dirname, "../..");
const RESTART_DELAY_MS = 300;
const LOG_LINES_KEPT = 400;

interface Replica {
  slot: number;
  identity: string;
  child: ChildProcess;
  exited: Promise<void>;
  metricsPort?: number;
}

export interface ReplicaSetOptions {
  kubeconfig: string;
  count: number;
  /** Also write every replica's whole log to `<logDir>/<identity>.log`. */
  logDir?: string;
}

export class ReplicaSet {
  private readonly o: ReplicaSetOptions;
  private readonly live = new Map<number, Replica>();
  /** pid → identity of every replica ever started. */
  private readonly identities = new Map<number, string>();
  private readonly logTail: string[] = [];
  private generation = 0;
  private stopping = false;
  /** Processes started, kills sent. */
  readonly counts = { started: 0, killed: 0, exitedOnTheirOwn: 0 };

  constructor(options: ReplicaSetOptions) {
    this.o = options;
  }

  start(): void {
    for (let slot = 0; slot < this.o.count; slot++) this.spawn(slot);
  }

  /** Pids of the replicas running now. */
  pids(): number[] {
    return [...this.live.values()].map((r) => r.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  identityOf(pid: number): string | undefined {
    return this.identities.get(pid);
  }

  identitiesRunning(): string[] {
    return [...this.live.values()].map((r) => r.identity);
  }

  /** SIGKILL the replica with this identity; false if none runs. */
  kill(identity: string): boolean {
    const replica = [...this.live.values()].find((r) => r.identity === identity);
    if (replica === undefined || replica.child.exitCode !== null) return false;
    this.counts.killed++;
    replica.child.kill("SIGKILL");
    return true;
  }

  /** The workqueue metrics of the running replicas (stuck workers show there), for a failing run's report. */
  async workqueueMetrics(): Promise<string[]> {
    const lines: string[] = [];
    for (const r of this.live.values()) {
      if (r.metricsPort === undefined) continue;
      try {
        const text = await (await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
        for (const line of text.split("\n")) {
          if (/^(workqueue_(depth|adds_total|unfinished_work_seconds|longest_running_processor_seconds)|controller_runtime_(active_workers|reconcile_total)|leader_election_master_status)\{/.test(line)) lines.push(`${r.identity} ${line}`);
        }
      } catch (error) {
        lines.push(`${r.identity} metrics unavailable: ${String(error)}`);
      }
    }
    return lines;
  }

  /** The last lines the replicas logged, for a failing run's report. */
  logs(): string[] {
    return [...this.logTail];
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const all = [...this.live.values()];
    for (const r of all) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    await Promise.all(all.map((r) => r.exited));
  }

  private spawn(slot: number): void {
    const identity = `replica-${slot}-g${++this.generation}`;
    const child = spawn(process.execPath, controllerArgs(this.o.kubeconfig, identity), { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    this.counts.started++;
    if (child.pid !== undefined) this.identities.set(child.pid, identity);
    const file = this.o.logDir === undefined ? undefined : createWriteStream(join(this.o.logDir, `${identity}.log`));
    const keep = (chunk: Buffer) => {
      file?.write(chunk);
      for (const line of chunk.toString().split("\n")) {
        if (!line) continue;
        this.logTail.push(`${identity} ${line}`);
        const port = /"metricsPort":(\d+)/.exec(line)?.[1];
        const replica = this.live.get(slot);
        if (port !== undefined && replica?.child === child) replica.metricsPort = Number(port);
      }
      if (this.logTail.length > LOG_LINES_KEPT) this.logTail.splice(0, this.logTail.length - LOG_LINES_KEPT);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const exited = new Promise<void>((resolve) =>
      child.once("exit", (_code, signal) => {
        if (this.live.get(slot)?.child === child) this.live.delete(slot);
        if (signal !== "SIGKILL") this.counts.exitedOnTheirOwn++;
        if (!this.stopping) setTimeout(() => !this.stopping && this.spawn(slot), RESTART_DELAY_MS);
        resolve();
      }),
    );
    this.live.set(slot, { slot, identity, child, exited });
  }
}
