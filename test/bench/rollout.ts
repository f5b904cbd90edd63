// Scenario 8: a platform rollout. 1,000 sites on 4 servers move from one Open Atrium platform to
// another, each backed up first, in rolling batches of two per server. The rollout reconciler
// runs against the simulated Aegir on a virtual clock with benchmark task durations (backup
// 20 s, migrate 120 s, hosting-queued's 1 s before each task; drush commands take no time here),
// polling every 5 s; the HostedSite controller's part, queueing the migrate the platform
// annotation asks for, is its real plan (resolveDesired + plan) applied as soon as the annotation
// is written. Measured: the rollout's duration against the serial-queue bound, the sum of the
// busiest server's backup and migrate durations (Aegir runs one task at a time per server).
import { createLogger } from "../../common/logger.ts";
import type { HostedSite, PlatformRollout } from "../../crds/kinds.ts";
import { PlatformRolloutSpec, type PlatformRolloutStatus } from "../../crds/platformrollout.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { resolveDesired } from "../../reconcilers/hostedsite/desired.ts";
import { plan } from "../../reconcilers/hostedsite/plan.ts";
import { planContext } from "../../reconcilers/hostedsite/context.ts";
import { PlatformRolloutReconciler } from "../../reconcilers/platformrollout/reconciler.ts";
import { AegirSimulator, BENCHMARK_LATENCY, openAtriumPlatform } from "../harness/aegir/index.ts";
import { aegirServer, hostedSite } from "../hostedsite/fixtures.ts";
import { VirtualClock } from "./virtual-clock.ts";

const OLD = "platform_openatrium2652";
const NEW = "platform_openatrium2700";

export interface RolloutBenchResult {
  sites: number;
  servers: number;
  migrated: number;
  failed: number;
  durationSeconds: number;
  /** Sum of the busiest server's backup and migrate durations. */
  boundSeconds: number;
  /** Most tasks ever waiting (queued, not started) in one server's queue. */
  maxQueued: number;
}

export async function runRolloutBench(options: { sites: number; servers: number }): Promise<RolloutBenchResult> {
  const start = Date.parse("2027-03-02T00:00:00Z");
  const clock = new VirtualClock(start);
  const latency = { ...BENCHMARK_LATENCY, commandMs: 0, commands: {} };
  const perServer = Math.ceil(options.sites / options.servers);
  const log = createLogger({ name: "bench", level: "silent" });
  const pending: Array<() => Promise<void>> = [];
  const sites = new Map<string, HostedSite>();
  const sims = new Map<string, AegirSimulator>();
  const drivers = new Map<string, AegirDriver>();
  const servers = Array.from({ length: options.servers }, (_, s) => aegirServer(`aegir-${s + 1}`, { platforms: [{ name: OLD, profile: "openatrium" }, { name: NEW, profile: "openatrium" }] }));

  for (const server of servers) {
    const name = server.metadata.name;
    const uris = Array.from({ length: perServer }, (_, i) => `site-${name}-${i}.example.com`);
    const sim = new AegirSimulator({ platforms: [openAtriumPlatform(), openAtriumPlatform({ name: NEW })], sites: uris.map((uri) => ({ uri, platform: OLD })), clock, latency });
    sims.set(name, sim);
    drivers.set(name, new AegirDriver({ runner: sim.runner() }));
    for (const [i, uri] of uris.entries()) {
      const site = { ...hostedSite({ domain: uri }, { name: `s-${name}-${i}`, labels: { wave: "1" } }), status: { server: name, platform: OLD } };
      sites.set(`customers/${site.metadata.name}`, site);
    }
  }
  const driver = (server: string) => drivers.get(server)!;
  let maxQueued = 0;
  const sample = () => {
    for (const sim of sims.values()) maxQueued = Math.max(maxQueued, [...sim.hostmaster.tasks.values()].filter((t) => t.status === 0).length);
  };

  /** What the HostedSite controller does when the annotation changes: its plan's MigrateSite, queued. */
  const hostedSiteReconcile = async (key: string) => {
    const site = sites.get(key)!;
    const server = site.status!.server!;
    const resolved = resolveDesired(site, server, servers, new Date(clock.now()));
    if ("error" in resolved) throw new Error(resolved.message);
    const summary = (await driver(server).serverStatus()).sites.find((s) => s.uri === site.spec.domain);
    const observed = { site: summary, deep: undefined, tracker: undefined };
    for (const op of plan(resolved.desired, observed, planContext(site, observed, new Date(clock.now()), new Set())).operations) {
      if (op.kind === "MigrateSite") await driver(server).queueTask(site.spec.domain, "migrate", { targetPlatform: op.platform });
    }
    sample();
  };

  let rollout: PlatformRollout = {
    apiVersion: "hosting.openatria.com/v1alpha1",
    kind: "PlatformRollout",
    metadata: { name: "upgrade", generation: 1 },
    spec: PlatformRolloutSpec.parse({ fromPlatform: OLD, toPlatform: NEW, selector: { matchLabels: { wave: "1" } }, batchSize: 2 * options.servers, pauseAfterFailures: 0 }),
  };
  let completeAt: number | undefined;
  const reconciler = new PlatformRolloutReconciler({
    store: {
      updateStatus: (r: PlatformRollout, status: PlatformRolloutStatus) => {
        rollout = { ...r, status };
        if (completeAt === undefined && status.remaining === 0) completeAt = clock.now();
        return Promise.resolve(rollout);
      },
      annotateSite: (namespace, name, annotations) => {
        const key = `${namespace}/${name}`;
        const site = sites.get(key)!;
        const merged = { ...site.metadata.annotations };
        for (const [k, v] of Object.entries(annotations)) if (v === null) delete merged[k];
        else merged[k] = v;
        sites.set(key, { ...site, metadata: { ...site.metadata, annotations: merged } });
        pending.push(() => hostedSiteReconcile(key));
        return Promise.resolve();
      },
    },
    sites: () => [...sites.values()],
    driver,
    events: { record: () => {} },
    now: () => new Date(clock.now()),
    log,
    progressPollMs: 5_000,
    pollIntervalMs: 60_000,
  });

  const look = () =>
    pending.push(async () => {
      const { requeueAfterMs } = await reconciler.reconcile(rollout);
      sample();
      if (completeAt === undefined) clock.schedule(look, requeueAfterMs ?? 5_000);
    });
  look();
  for (;;) {
    while (pending.length > 0) await pending.shift()!();
    if (!clock.step(Number.POSITIVE_INFINITY)) break;
  }

  // The bound: the busiest server's backups and migrates back to back, as Aegir ran them.
  const busiest = Math.max(
    ...[...sims.values()].map((sim) => [...sim.hostmaster.tasks.values()].filter((t) => t.type === "backup" || t.type === "migrate").reduce((sum, t) => sum + t.delta, 0)),
  );
  return {
    sites: perServer * options.servers,
    servers: options.servers,
    migrated: rollout.status?.done ?? 0,
    failed: rollout.status?.failed ?? 0,
    durationSeconds: ((completeAt ?? clock.now()) - start) / 1000,
    boundSeconds: busiest,
    maxQueued,
  };
}
