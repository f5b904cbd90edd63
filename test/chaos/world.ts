// The whole system under chaos, on 127.0.0.1: the fake Kubernetes API server, the simulated
// Aegir behind an SSH server, PostgreSQL, the Stripe stub, two webhook replicas sharing the
// database, and two controller replicas as real processes. It injects the schedule's faults,
// records every write with the replica that sent it and every change of the leader lease, and
// takes the snapshot the invariants are checked on.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeConfig } from "@kubernetes/client-node";
import { loadConfig } from "../../common/config.ts";
import { createLogger } from "../../common/logger.ts";
import { API_VERSION } from "../../crds/group.ts";
import { CREATE_PENDING_ANNOTATION } from "../../reconcilers/hostedsite/names.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { SUBSCRIPTION_LABEL } from "../../webhook/hostedsite-manifest.ts";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import { startWebhookService, type WebhookService } from "../../webhook/service.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { TASK_PROCESSING, TASK_QUEUED } from "../harness/aegir/model.ts";
import { registerAegirServer } from "../harness/aegir-server.ts";
import { type FakeApiServer, type KubeObject, startFakeApiServer } from "../harness/kube/index.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { startTestSshServer, type TestSshServer } from "../harness/ssh/server.ts";
import { type StripeStub, startStripeStub } from "../harness/stripe/stub.ts";
import { startTestPostgres, type TestPostgres } from "../webhook/support.ts";
import { Customers } from "./customers.ts";
import type { HostedSiteView, LeaseChange, Snapshot, WriteView } from "./invariants.ts";
import { ReplicaSet } from "./replicas.ts";
import type { Fault, OpsSitePlan, Schedule } from "./schedule.ts";
import { socketOwner } from "./socket-owner.ts";

const TRACKER = "support.openatria.com";
const OWNER_ROLE = "manager";
const WEBHOOK_SECRET = "whsec_chaos_signing_secret";
const STRIPE_KEY = "sk_test_chaos";
const LEASE_NAME = "aegir-operator.hosting.openatria.com";
const API_WRITES = new Set(["create", "update", "patch", "delete", "deletecollection"]);
type Moment = Extract<Fault, { kind: "kill-on" }>["moment"];

/** Faults actually injected, by kind (a kill-on counts when it fired). */
export type InjectedCounts = Record<string, number>;

interface OpsSite extends OpsSitePlan {
  email: string;
  deletedAt: number | null;
}

export class ChaosWorld {
  readonly dir = mkdtempSync(join(tmpdir(), "aegir-chaos-"));
  readonly injected: InjectedCounts = {};
  readonly writes: WriteView[] = [];
  readonly leases: LeaseChange[] = [];
  readonly opsSites: OpsSite[] = [];
  api!: FakeApiServer;
  sim!: AegirSimulator;
  ssh!: TestSshServer;
  customers!: Customers;
  replicas!: ReplicaSet;
  private pg!: TestPostgres;
  private stripe!: StripeStub;
  private webhooks: WebhookService[] = [];
  private readonly stops: Array<() => Promise<void> | void> = [];
  private readonly armed = new Set<Moment>();
  private holder: string | undefined;
  /** When a HostedSite or AegirServer last changed. */
  lastChangeAt = Date.now();
  private pgRestart: Promise<void> | undefined;
  private readonly schedule: Schedule;

  constructor(schedule: Schedule) {
    this.schedule = schedule;
  }

  async start(): Promise<this> {
    try {
      await this.startParts();
    } catch (error) {
      await this.stop();
      throw error;
    }
    return this;
  }

  private async startParts(): Promise<void> {
    this.sim = new AegirSimulator({
      platforms: [openAtriumPlatform({ extraRoles: [OWNER_ROLE], extraThemes: ["oa_mercury", "oa_corporate"] })],
      sites: [{ uri: TRACKER, roles: ["customer", "customer standard", "customer premium"] }],
      // Aegir's proportions, shortened so a schedule converges in seconds.
      latency: { commandMs: 5, tasks: { install: 1_200, verify: 300, backup: 300, delete: 400, disable: 200, enable: 200 }, defaultTaskMs: 300, taskStartDelayMs: 100 },
      seed: this.schedule.seed,
      abandonedCommandsApply: this.schedule.abandonedCommandsApply,
    });
    this.stops.push(() => this.sim.close());
    const key = generateKeyPair();
    this.ssh = await startTestSshServer({ handler: this.sim.execHandler(), authorizedKey: key.publicKey });
    this.stops.push(() => this.ssh.close());

    this.api = await startFakeApiServer({ namespaces: ["customers", "aegir-operator"] });
    this.stops.push(() => this.api.close());
    const kubeconfig = join(this.dir, "kubeconfig");
    this.api.writeKubeconfig(kubeconfig, "customers");
    // Short command timeouts: an injected hang costs seconds, not the production five minutes.
    registerAegirServer(this.api, { name: "aegir-1", ssh: this.ssh, privateKey: key.privateKey, maxSites: 100, tracker: TRACKER, commandTimeouts: { readSeconds: 3, writeSeconds: 5 } });
    this.record();

    this.pg = await startTestPostgres();
    this.stops.push(() => this.pg.stop());
    const databaseUrl = await this.pg.freshDatabase();
    this.stripe = await startStripeStub(STRIPE_KEY);
    this.stops.push(() => this.stripe.close());
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    // CHAOS_LOG_DIR keeps every log of a run: the replicas' and the webhooks' (at debug), per seed.
    const logDir = process.env.CHAOS_LOG_DIR ? join(process.env.CHAOS_LOG_DIR, `seed-${this.schedule.seed}`) : undefined;
    if (logDir !== undefined) mkdirSync(logDir, { recursive: true });
    const log = logDir
      ? createLogger({ name: "chaos-webhook", level: "debug", destination: createWriteStream(join(logDir, "webhook.log")) })
      : createLogger({ name: "chaos-webhook", level: "silent" });
    for (let i = 0; i < 2; i++) {
      const flags = new Map([
        ["host", "127.0.0.1"],
        ["port", "0"],
        ["webhook-secrets", WEBHOOK_SECRET],
        ["stripe-api-key", STRIPE_KEY],
        ["stripe-api-base", this.stripe.url],
        ["database-url", databaseUrl],
        ["namespace", "customers"],
        ["past-due-grace", "1s"],
        ["expire-after", "1s"],
        ["retry-base", "100ms"],
        ["retry-max", "1s"],
        // Never dead-letter during a chaos run: an outage of a minute must not lose an order.
        ["max-attempts", "1000"],
      ]);
      const webhook = await startWebhookService(loadConfig(WEBHOOK_OPTIONS, flags, {}), log.child({ replica: i }), { applier: kubeApplier(kc) });
      this.webhooks.push(webhook);
      this.stops.push(() => webhook.stop());
    }
    this.customers = new Customers(this.stripe, () => this.webhooks.map((w) => w.url), WEBHOOK_SECRET, this.schedule.seed);
    this.stops.push(() => this.customers.stop());

    this.replicas = new ReplicaSet({
      kubeconfig,
      ...(logDir === undefined ? {} : { logDir }),
      count: 2,
    });
    this.replicas.start();
    this.stops.push(() => this.replicas.stop());
  }

  /** Leader changes, writes with their sender, and the armed kill moments. */
  private record(): void {
    const seen = new Map<string, Set<string>>();
    this.stops.push(
      this.api.objects.onChange((type, object) => {
        if (object.kind === "Lease" && object.metadata.name === LEASE_NAME) {
          const holder = (object.spec as { holderIdentity?: string } | undefined)?.holderIdentity ?? "";
          if (holder !== this.holder) this.leases.push({ at: Date.now(), holder });
          this.holder = holder;
        }
        if (object.kind === "HostedSite" || object.kind === "AegirServer") this.lastChangeAt = Date.now();
        if (object.kind !== "HostedSite" || type === "DELETED") return;
        const name = object.metadata.name ?? "";
        const had = seen.get(name) ?? new Set<string>();
        const now = new Set(Object.keys(object.metadata.annotations ?? {}));
        seen.set(name, now);
        // Killed while the API server is still answering the intent's write: the intent is stored, the next step never runs.
        if (now.has(CREATE_PENDING_ANNOTATION) && !had.has(CREATE_PENDING_ANNOTATION)) this.fire("create-intent");
      }),
    );
    // Controller requests name their replica in the user agent. SSH commands are attributed by
    // who holds the connection, looked up as it is accepted (a command needs a live client to
    // finish the SSH handshake first).
    const sshSenders = new Map<number, string>();
    this.stops.push(
      this.ssh.onConnection((clientPort) => {
        const pid = socketOwner(clientPort, this.ssh.port, this.replicas.pids());
        if (pid === undefined) sshSenders.delete(clientPort);
        else sshSenders.set(clientPort, this.replicas.identityOf(pid) ?? `pid ${pid}`);
      }),
    );
    this.stops.push(
      this.api.requests.onRequest((r) => {
        if (!API_WRITES.has(r.verb) || (r.resource !== "hostedsites" && r.resource !== "aegirservers")) return;
        // The webhook replicas run in this process with client-node's agent; only controller writes are checked.
        const identity = /^aegir-operator-controller \((.+)\)$/.exec(r.userAgent)?.[1];
        if (identity === undefined && !r.userAgent.startsWith("aegir-operator-controller")) return;
        this.writes.push({ at: Date.now(), via: "api", what: `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ""} ${r.name ?? ""}`, identity });
      }),
    );
    this.stops.push(
      this.sim.stats.onCommand((c) => {
        if (c.kind !== "write" || c.clientPort === undefined) return;
        this.writes.push({ at: c.at, via: "ssh", what: `${c.name} ${c.alias ?? ""}`, identity: sshSenders.get(c.clientPort) });
      }),
    );
    const tasks = setInterval(() => {
      const running = [...this.sim.hostmaster.tasks.values()].filter((t) => t.status === TASK_PROCESSING).map((t) => t.type);
      if (running.includes("install")) this.fire("install-running");
      if (running.includes("backup")) this.fire("deletion-backup");
    }, 50);
    this.stops.push(() => clearInterval(tasks));
  }

  private fire(moment: Moment): void {
    if (!this.armed.delete(moment)) return;
    if (this.killLeader()) this.count(`kill-on-${moment}`);
  }

  private count(kind: string): void {
    this.injected[kind] = (this.injected[kind] ?? 0) + 1;
  }

  private killLeader(): boolean {
    return this.holder !== undefined && this.replicas.kill(this.holder);
  }

  inject(fault: Fault): void {
    const { api, sim } = this;
    switch (fault.kind) {
      case "api-watch-drop":
        api.faults.dropWatches(fault.how);
        break;
      case "api-watch-expired":
        api.faults.expireWatchHistory();
        api.faults.dropWatches("end");
        break;
      case "api-error":
        if (fault.status === 409) api.faults.conflictNext({ resource: fault.resource, verb: ["update", "patch"] }, fault.count);
        else api.faults.failNext({ resource: fault.resource }, { status: fault.status, ...(fault.status === 429 ? { retryAfterSeconds: 1 } : {}) }, fault.count);
        break;
      case "api-unavailable":
        void api.faults.unavailable(fault.mode, fault.forMs);
        break;
      case "ssh-drop":
        this.ssh.dropConnections();
        break;
      case "drush": {
        const match = { command: fault.command };
        if (fault.fault === "fail") sim.faults.failNext({ match, exitCode: 255, stderr: "PHP Fatal error:  MySQL server has gone away\n" });
        else if (fault.fault === "overload") sim.faults.overload({ match });
        else if (fault.fault === "hang") sim.faults.hang({ match });
        else sim.faults.drop({ match, applied: fault.fault === "drop-applied" });
        break;
      }
      case "task-fail":
        sim.faults.failTask({ type: fault.type });
        break;
      case "postgres-restart":
        if (this.pgRestart !== undefined) return;
        this.pgRestart = (async () => {
          await this.pg.server.stop();
          await sleep(fault.downMs);
          await this.pg.server.start();
        })().finally(() => (this.pgRestart = undefined));
        break;
      case "stripe-api-error":
        this.stripe.fail(fault.count, 500);
        break;
      case "kill": {
        const target = fault.target === "leader" ? this.holder : this.replicas.identitiesRunning().find((i) => i !== this.holder);
        if (target === undefined || !this.replicas.kill(target)) return;
        break;
      }
      case "kill-on":
        this.armed.add(fault.moment);
        return;
    }
    this.count(fault.kind === "drush" ? `drush-${fault.fault}` : fault.kind === "api-error" ? `api-${fault.status}` : fault.kind);
  }

  /** Faults stop: the API server back, nothing armed, PostgreSQL up. */
  async calm(): Promise<void> {
    this.armed.clear();
    this.api.faults.clear();
    await this.api.faults.available();
    this.sim.faults.clear();
    this.stripe.fail(0);
    await this.pgRestart;
  }

  applyOpsSite(plan: OpsSitePlan): void {
    const email = `owner@${plan.domain}`;
    this.opsSites.push({ ...plan, email, deletedAt: null });
    this.api.objects.create(
      {
        apiVersion: API_VERSION,
        kind: "HostedSite",
        metadata: { name: plan.name, namespace: "customers" },
        spec: { domain: plan.domain, profile: "openatrium", features: ["oa_wiki"], userQuota: 10, support: { tier: "Standard" }, owner: { email } },
      },
      { manager: "kubectl-client-side-apply" },
    );
  }

  deleteOpsSite(name: string): void {
    const site = this.opsSites.find((o) => o.name === name);
    if (site === undefined || site.deletedAt !== null) return;
    site.deletedAt = Date.now();
    this.api.objects.delete({ apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers", name });
  }

  /** For a run that did not converge: each site not Ready, its conditions and its Aegir side. */
  describeUnready(): string[] {
    const { aegirSites } = this.snapshot();
    const lines: string[] = [];
    for (const o of this.hostedSites()) {
      const conditions = conditionsOf(o);
      if (conditions.some((c) => c.type === "Ready" && c.status === "True")) continue;
      const domain = view(o).domain;
      const annotations = Object.keys(o.metadata.annotations ?? {}).filter((k) => k.startsWith("hosting.")).join(",");
      const nodes = aegirSites.filter((a) => a.uri === domain).map((a) => `node ${a.nid} status ${a.status} tasks [${a.tasks.map((t) => `${t.type}:${t.status}`).join(" ")}]`);
      lines.push(
        `${o.metadata.name ?? ""} (${domain}) gen ${o.metadata.generation ?? "?"} rv ${o.metadata.resourceVersion ?? "?"} annotations [${annotations}]: ` +
          `${conditions.map((c) => `${c.type}=${c.status}/${c.reason}`).join(" ")}; Aegir: ${nodes.join("; ") || "no site node"}`,
      );
    }
    return lines;
  }

  /** No task queued or running on the Aegir server. */
  aegirIdle(): boolean {
    return [...this.sim.hostmaster.tasks.values()].every((t) => t.status !== TASK_QUEUED && t.status !== TASK_PROCESSING);
  }

  /** Records which fields of HostedSites and AegirServers change from now on, until stop(). */
  watchChanges(): { stop(): string[] } {
    const last = new Map<string, unknown>();
    for (const kind of ["HostedSite", "AegirServer"]) for (const o of this.api.objects.list(API_VERSION, kind)) last.set(`${kind}/${o.metadata.name ?? ""}`, o);
    const changes: string[] = [];
    const unsubscribe = this.api.objects.onChange((_type, o) => {
      if (o.kind !== "HostedSite" && o.kind !== "AegirServer") return;
      const key = `${o.kind}/${o.metadata.name ?? ""}`;
      changes.push(`${key}: ${changedPaths(last.get(key), o).join(", ")}`);
      last.set(key, o);
    });
    const taskStatus = new Map([...this.sim.hostmaster.tasks.values()].map((t) => [t.nid, t.status]));
    return {
      stop: () => {
        unsubscribe();
        for (const t of this.sim.hostmaster.tasks.values()) {
          if (taskStatus.get(t.nid) === t.status) continue;
          changes.push(`Aegir task ${t.nid} ${t.type} of ${this.sim.hostmaster.sites.get(t.rid)?.uri ?? t.rid}: status ${taskStatus.get(t.nid) ?? "new"} -> ${t.status}`);
        }
        return changes;
      },
    };
  }

  hostedSiteOf(subscription: string): KubeObject | undefined {
    return this.hostedSites().find((o) => o.metadata.labels?.[SUBSCRIPTION_LABEL] === subscription);
  }

  private hostedSites(): KubeObject[] {
    return this.api.objects.list(API_VERSION, "HostedSite", { namespace: "customers" });
  }

  snapshot(): Snapshot {
    const hostmasterUri = [...this.sim.hostmaster.sites.values()][0]?.uri;
    const tasks = [...this.sim.hostmaster.tasks.values()];
    const tracker = this.sim.site(TRACKER);
    return {
      orders: this.customers.orders.map((o) => ({ id: o.plan.id, subscription: o.subscription, email: o.email, status: o.changed ? o.plan.final : "active" })),
      opsSites: this.opsSites.map((o) => ({ name: o.name, domain: o.domain, email: o.email, deletedAt: o.deletedAt })),
      hostedSites: this.hostedSites().map(view),
      aegirSites: [...this.sim.hostmaster.sites.values()]
        .filter((s) => s.uri !== hostmasterUri && s.uri !== TRACKER)
        .map((s) => ({
          nid: s.nid,
          uri: s.uri,
          status: s.status,
          tasks: tasks.filter((t) => t.rid === s.nid).map((t) => ({ nid: t.nid, type: t.type, status: t.status, created: t.created })),
          welcomeMails: s.drupal?.outbox.filter((m) => m.kind === "register_admin_created").map((m) => m.to) ?? [],
          users: [...(s.drupal?.users.values() ?? [])].map((u) => ({ uid: u.uid, mail: u.mail, roles: [...u.roles], status: u.status })),
        })),
      trackerAccounts: [...(tracker?.drupal?.users.values() ?? [])].filter((u) => u.uid > 1).map((u) => u.mail),
      ownerRole: OWNER_ROLE,
      writes: [...this.writes],
      leases: [...this.leases],
      now: Date.now(),
    };
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) {
      try {
        await stop();
      } catch {
        // Keep stopping the rest.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const conditionsOf = (o: KubeObject) => ((o.status ?? {}) as { conditions?: Array<{ type: string; status: string; reason: string }> }).conditions ?? [];

function view(o: KubeObject): HostedSiteView {
  const spec = (o.spec ?? {}) as { domain?: string; owner?: { email?: string }; suspended?: boolean; expiresAt?: string };
  const status = (o.status ?? {}) as { observedGeneration?: number };
  const ready = conditionsOf(o).find((c) => c.type === "Ready");
  return {
    name: o.metadata.name ?? "",
    subscription: o.metadata.labels?.[SUBSCRIPTION_LABEL],
    domain: spec.domain ?? "",
    email: spec.owner?.email ?? "",
    suspended: spec.suspended === true,
    expiresAt: spec.expiresAt,
    ready: ready === undefined ? undefined : { status: ready.status, reason: ready.reason },
    deleting: o.metadata.deletionTimestamp !== undefined,
    observedCurrent: status.observedGeneration === o.metadata.generation,
  };
}

/** Paths whose values differ between two objects (metadata.resourceVersion and managedFields left out). */
function changedPaths(a: unknown, b: unknown, path = ""): string[] {
  if (path === ".metadata.resourceVersion" || path === ".metadata.managedFields") return [];
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [`${path || "."} ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`));
}
