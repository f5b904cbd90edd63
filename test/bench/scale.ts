// Scenario 3: many converged HostedSites, a controller starting cold.
//
// Latency model: the simulated Aegir with the unit preset (drush itself takes no time), reached
// over real SSH (the ssh2 test server on 127.0.0.1, one per simulated server), so what is
// measured is the controller's own cost — list/watch, queueing, SSH channels, parsing, status
// comparison — not Aegir's. (With BENCHMARK_LATENCY every deep read costs ~1 s of drush
// bootstrap, and a cold start deep-reads each site once: N / (servers × cap) seconds on top.)
//
// Setup: one site is converged by the real reconciler on a scratch simulator; its Drupal state
// is cloned onto every site of the S simulators, and its status (with the URL adjusted) is
// stored with each HostedSite in the fake API server, so every site starts Ready and in sync.
// Then the real `aegir-operator controller` runs as a child process (so its RSS is its own,
// read from /proc/<pid>/status), with the AegirServers' SSH keys in Secrets as in a cluster.
//
// Measured: time from spawn to all-synced (every site's first reconcile reached its deep
// read — a fresh controller deep-reads each site once); the child's VmRSS right after; the
// drush writes during that full resync (target 0); then spec changes PATCHed through the API
// one at a time, each timed until the simulator sees that site's deep read (p50/p99).
// BENCH_CHILD_NODE_ARGS passes Node flags to the controller, e.g. "--cpu-prof --cpu-prof-dir=DIR"
// or "--heap-prof --heap-prof-dir=DIR" to profile it.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../common/logger.ts";
import { API_VERSION } from "../../crds/group.ts";
import type { HostedSite } from "../../crds/kinds.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { FINALIZER, trackerUsername } from "../../reconcilers/hostedsite/names.ts";
import { HostedSiteReconciler } from "../../reconcilers/hostedsite/reconciler.ts";
import { ServerStatusCache } from "../../reconcilers/hostedsite/server-status-cache.ts";
import { AegirSimulator, openAtriumPlatform } from "../harness/aegir/index.ts";
import { addUser } from "../harness/aegir/drupal.ts";
import { SITE_ENABLED, type SiteNode } from "../harness/aegir/model.ts";
import { startFakeApiServer, type FakeApiServer } from "../harness/kube/index.ts";
import { MemoryHostedSiteStore } from "../harness/memory-store.ts";
import { generateKeyPair } from "../harness/ssh/keys.ts";
import { startTestSshServer, type TestSshServer } from "../harness/ssh/server.ts";
import { benchServer, benchSite, PLATFORM, TIER_ROLES, TRACKER } from "./convergence.ts";

const ROOT = join(import.meta.dirname, "../..");

export interface ScaleOptions {
  sites: number;
  servers: number;
  maxConcurrentReconciles: number;
  maxConcurrentOperations: number;
  /** Spec changes timed after the sync. */
  patches: number;
  timeoutMs: number;
}

export interface ScaleResult {
  sites: number;
  servers: number;
  populateSeconds: number;
  syncSeconds: number;
  rssMB: number;
  peakRssMB: number;
  /** V8 heap in use after the sync (the controller's nodejs_heap_size_used_bytes). */
  heapUsedMB: number;
  resyncWrites: number;
  resyncReads: number;
  statusWritesDuringSync: number;
  patchP50Ms: number;
  patchP99Ms: number;
  patchesSeen: number;
}

const platforms = () => [openAtriumPlatform({ extraRoles: ["manager"], extraThemes: ["oa_corporate"] })];
const trackerSite = () => [{ uri: TRACKER, roles: Object.values(TIER_ROLES) }];

/** A site converged by the real reconciler on a scratch simulator: its node and its status. */
async function template(): Promise<{ node: SiteNode; site: HostedSite }> {
  const sim = new AegirSimulator({ platforms: platforms(), sites: trackerSite(), autoRunTasks: false });
  const driver = new AegirDriver({ runner: sim.runner() });
  const site = benchSite(0, "aegir-1");
  const store = new MemoryHostedSiteStore(site);
  const reconciler = new HostedSiteReconciler({
    store,
    servers: () => [benchServer("aegir-1", 8, true)],
    sites: () => [store.site],
    driver: () => driver,
    statusCache: new ServerStatusCache({ fetch: () => driver.serverStatus(), now: Date.now, maxAgeMs: 0 }),
    now: () => new Date(),
    log: createLogger({ name: "bench", level: "silent" }),
    events: { record: () => {} },
  });
  for (let round = 0; round < 30; round++) {
    await reconciler.reconcile(store.site);
    sim.drainTasks();
    if (store.site.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True" && c.reason === "Available")) {
      const node = sim.site(site.spec.domain);
      sim.close();
      if (node === undefined) break;
      return { node, site: store.site };
    }
  }
  sim.close();
  throw new Error(`scale: the template site did not converge: ${JSON.stringify(store.site.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function vm(pid: number, field: "VmRSS" | "VmHWM"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return Number(line?.replace(/\D+/g, "") ?? 0) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const dir = mkdtempSync(join(tmpdir(), "aegir-scale-"));
  const sims: AegirSimulator[] = [];
  const ssh: TestSshServer[] = [];
  let api: FakeApiServer | undefined;
  let child: ChildProcess | undefined;
  try {
    const populateStarted = performance.now();
    const t = await template();
    const templateDomain = t.site.spec.domain;
    const client = generateKeyPair();
    api = await startFakeApiServer({ namespaces: ["customers", "aegir-operator"] });
    const kubeconfig = join(dir, "kubeconfig");
    api.writeKubeconfig(kubeconfig, "customers");
    for (let s = 0; s < o.servers; s++) {
      const sim = new AegirSimulator({ platforms: platforms(), sites: s === 0 ? trackerSite() : [], autoRunTasks: true, seed: s + 1 });
      sims.push(sim);
      const server = await startTestSshServer({ handler: sim.execHandler(), authorizedKey: client.publicKey, maxSessions: 64 });
      ssh.push(server);
      const name = `aegir-${s + 1}`;
      api.objects.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `${name}-ssh`, namespace: "aegir-operator" },
        type: "kubernetes.io/ssh-auth",
        data: { "ssh-privatekey": Buffer.from(client.privateKey).toString("base64") },
      });
      const spec = benchServer(name, o.maxConcurrentOperations, s === 0).spec;
      api.objects.create({
        apiVersion: API_VERSION,
        kind: "AegirServer",
        metadata: { name },
        spec: {
          host: "127.0.0.1",
          port: server.port,
          hostKeySHA256: server.fingerprint,
          privateKeySecretRef: { name: `${name}-ssh`, namespace: "aegir-operator" },
          capacity: spec.capacity,
          platforms: [{ name: PLATFORM, profile: "openatrium" }],
          ...(spec.supportTracker ? { supportTracker: spec.supportTracker } : {}),
        },
      });
    }
    const platformNid = (sim: AegirSimulator) => [...sim.hostmaster.platforms.values()].find((p) => p.name === PLATFORM)?.nid ?? 0;
    const statusJson = JSON.stringify(t.site.status);
    const tracker = sims[0]?.site(TRACKER)?.drupal;
    const trackerRole = TIER_ROLES[t.site.spec.support.tier];
    for (let i = 0; i < o.sites; i++) {
      const serverIndex = i % o.servers;
      const sim = sims[serverIndex] as AegirSimulator;
      const site = benchSite(i, `aegir-${serverIndex + 1}`);
      const domain = site.spec.domain;
      const node = sim.hostmaster.addSite({ uri: domain, status: SITE_ENABLED, platform: platformNid(sim), profile: t.node.profile, aliases: [], https: 0 }, domain);
      // Converged includes a current backup: otherwise the backup controller rightly queues one.
      const backups = [{ file: `${domain}-converged.tar.gz`, at: Math.floor(Date.now() / 1000), task: 1_000_000 + i }];
      Object.assign(node, { drupal: structuredClone(t.node.drupal), aliasSaved: true, verified: t.node.verified, applied: { aliases: [], https: 0 }, backups });
      if (tracker) addUser(tracker, { name: trackerUsername(site.spec.owner.email), mail: site.spec.owner.email, roles: [trackerRole], now: Math.floor(Date.now() / 1000) });
      api.objects.create({
        apiVersion: API_VERSION,
        kind: "HostedSite",
        metadata: { name: site.metadata.name, namespace: "customers", finalizers: [FINALIZER], ...(t.site.metadata.annotations ? { annotations: t.site.metadata.annotations } : {}) },
        spec: site.spec,
        status: { ...(JSON.parse(statusJson.replaceAll(templateDomain, domain)) as object), server: `aegir-${serverIndex + 1}` },
      });
    }
    const populateSeconds = (performance.now() - populateStarted) / 1000;
    api.requests.clear();
    sims.forEach((s) => s.stats.reset());

    const metricsPort = await freePort();
    const args = [
      "controller/bin.ts",
      "controller",
      `--kubeconfig=${kubeconfig}`,
      "--bind-address=127.0.0.1",
      `--metrics-port=${metricsPort}`,
      "--health-probe-port=0",
      "--leader-elect=false",
      `--max-concurrent-reconciles=${o.maxConcurrentReconciles}`,
      "--log-level=warn",
    ];
    const started = performance.now();
    const proc = spawn(process.execPath, [...(process.env.BENCH_CHILD_NODE_ARGS ?? "").split(" ").filter(Boolean), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    const stderr: string[] = [];
    proc.stderr?.on("data", (c: Buffer) => stderr.length < 200 && stderr.push(c.toString()));
    proc.stdout?.on("data", (c: Buffer) => stderr.length < 200 && stderr.push(c.toString()));

    // All synced: every site's deep read has reached its simulator.
    const seen = new Set<string>();
    const cursors = sims.map(() => 0);
    const scan = () => {
      sims.forEach((sim, i) => {
        const records = sim.stats.records;
        for (let k = cursors[i] as number; k < records.length; k++) {
          const r = records[k];
          if (r?.name === "php-eval:site-state" && r.alias !== undefined) seen.add(r.alias);
        }
        cursors[i] = records.length;
      });
    };
    const deadline = Date.now() + o.timeoutMs;
    while (seen.size < o.sites) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`scale: ${seen.size} of ${o.sites} sites synced; ${JSON.stringify(sims.map((x) => x.stats.counts().byName))} controller: ${stderr.join("").slice(-2000)}`);
      await sleep(20);
      scan();
    }
    const syncSeconds = (performance.now() - started) / 1000;
    await sleep(200);
    const pid = proc.pid as number;
    const rssMB = vm(pid, "VmRSS");
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const heapUsedMB = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? Number.NaN) / 2 ** 20;
    const counts = sims.map((s) => s.stats.counts());
    const resyncWrites = counts.reduce((n, c) => n + c.writes, 0);
    const resyncReads = counts.reduce((n, c) => n + c.reads, 0);
    const statusWritesDuringSync = api.requests.find({ resource: "hostedsites", subresource: "status" }).filter((r) => r.verb !== "get").length;

    // Spec change → that site's deep read.
    const latencies: number[] = [];
    for (let p = 0; p < o.patches; p++) {
      const i = Math.floor((p * 7919) % o.sites);
      const serverIndex = i % o.servers;
      const sim = sims[serverIndex] as AegirSimulator;
      const domain = `site-${i}.sites.example.com`;
      const mark = sim.stats.records.length;
      const t0 = Date.now();
      const res = await fetch(`${api.url}/apis/${API_VERSION}/namespaces/customers/hostedsites/site-${i}`, {
        method: "PATCH",
        headers: { "content-type": "application/merge-patch+json" },
        body: JSON.stringify({ spec: { userQuota: 20 + p } }),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`scale: PATCH site-${i}: ${res.status}`);
      const waitUntil = Date.now() + 5_000;
      let at: number | undefined;
      while (at === undefined && Date.now() < waitUntil) {
        const hit = sim.stats.records.slice(mark).find((r) => r.name === "php-eval:site-state" && r.alias === `@${domain}`);
        if (hit) at = hit.at;
        else await sleep(1);
      }
      if (at !== undefined) latencies.push(at - t0);
      await sleep(10);
    }
    latencies.sort((a, b) => a - b);
    const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
    const peakRssMB = vm(pid, "VmHWM");
    return {
      sites: o.sites,
      servers: o.servers,
      populateSeconds,
      syncSeconds,
      rssMB,
      peakRssMB,
      heapUsedMB,
      resyncWrites,
      resyncReads,
      statusWritesDuringSync,
      patchP50Ms: pct(0.5),
      patchP99Ms: pct(0.99),
      patchesSeen: latencies.length,
    };
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child?.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await api?.close();
    await Promise.all(ssh.map((s) => s.close()));
    sims.forEach((s) => s.close());
    rmSync(dir, { recursive: true, force: true });
  }
}
