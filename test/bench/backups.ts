// Scenario 5: a night of daily backups. 1,000 Premium sites on 4 servers, each server's sites
// due in the 01:00–07:00 UTC window, while new orders arrive every 10 minutes per server. The
// backup reconcilers run against the simulated Aegir on a virtual clock with benchmark task
// durations (backup 20 s, backup-delete 5 s, install 180 s, 1 s before each task; drush commands
// take no time here, their cost is the burst scenario's). Measured: how long each new order's
// install waited in the queue beyond hosting-queued's own pause, against one backup's duration.
import { createLogger } from "../../common/logger.ts";
import type { HostedSiteStatus } from "../../crds/hostedsite.ts";
import type { HostedSite } from "../../crds/kinds.ts";
import { AegirDriver } from "../../reconcilers/aegir/driver.ts";
import { BackupReconciler } from "../../reconcilers/backups/reconciler.ts";
import { DAY2_TASK_LATENCY } from "../harness/aegir/backups.ts";
import { AegirSimulator, BENCHMARK_LATENCY } from "../harness/aegir/index.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";
import { VirtualClock } from "./virtual-clock.ts";

export interface BackupBenchResult {
  sites: number;
  servers: number;
  backups: number;
  installs: number;
  maxInstallDelaySeconds: number;
  backupSeconds: number;
  lastBackupAt: string;
}

export async function runBackupBench(options: { sites: number; servers: number }): Promise<BackupBenchResult> {
  const start = Date.parse("2027-03-02T00:30:00Z");
  const end = Date.parse("2027-03-02T08:00:00Z");
  const clock = new VirtualClock(start);
  const latency = { ...BENCHMARK_LATENCY, commandMs: 0, commands: {}, tasks: { ...BENCHMARK_LATENCY.tasks, ...DAY2_TASK_LATENCY } };
  const perServer = Math.ceil(options.sites / options.servers);
  const log = createLogger({ name: "bench", level: "silent" });
  const installs: number[] = [];
  let backups = 0;
  let lastBackup = 0;
  const pending: Array<() => Promise<void>> = [];

  for (let s = 0; s < options.servers; s++) {
    const name = `aegir-${s + 1}`;
    const uris = Array.from({ length: perServer }, (_, i) => `site-${s}-${i}.example.com`);
    const sim = new AegirSimulator({ sites: uris.map((uri) => ({ uri })), clock, latency });
    // Yesterday's backup of every site, taken after yesterday's window: tonight each is due at its own slot.
    for (const site of sim.hostmaster.sites.values()) if (site.uri !== "aegir.example.com") site.backups.push({ file: `/var/aegir/backups/${site.uri}-yesterday.tar.gz`, at: start / 1000 - 86_400 + 7 * 3_600, task: sim.hostmaster.allocate() });
    const sites = new Map<string, HostedSite>(
      uris.map((uri, i) => [uri, { ...hostedSite({ domain: uri, support: { tier: "Premium" } }, { name: `s-${s}-${i}` }), status: { server: name } }]),
    );
    const driver = new AegirDriver({ runner: sim.runner() });
    const reconciler = new BackupReconciler({
      sites: () => [...sites.values()],
      driver: () => driver,
      store: {
        updateStatus: (site: HostedSite, status: HostedSiteStatus) => {
          const next = { ...site, status };
          sites.set(site.spec.domain, next);
          return Promise.resolve(next);
        },
      },
      events: { record: () => {} },
      now: () => new Date(clock.now()),
      log,
      config: { pollIntervalMs: 60_000, progressPollMs: 5_000, stuckFactor: 3 },
      onQueued: (_server, action) => {
        if (action.kind !== "backup") return;
        backups++;
        lastBackup = clock.now();
      },
    });
    const look = () => pending.push(async () => clock.schedule(look, (await reconciler.reconcile(name)).requeueAfterMs ?? 60_000) && undefined);
    look();
    // A new order every 10 minutes: its install's wait in the queue is what customers feel.
    let order = 0;
    const newOrder = () => {
      const uri = `order-${s}-${order++}.example.com`;
      pending.push(async () => {
        const { task } = await driver.createSite({ uri, platform: "platform_openatrium2652", profile: "openatrium", aliases: [], https: "Disabled" });
        const node = sim.hostmaster.tasks.get(task)!;
        const watch = () => (node.executed > 0 ? installs.push(node.executed * 1000 - node.created * 1000) : clock.schedule(watch, 1_000));
        watch();
      });
      clock.schedule(newOrder, 600_000);
    };
    clock.schedule(newOrder, 600_000 + s * 150_000);
  }

  for (;;) {
    while (pending.length > 0) await pending.shift()!();
    if (!clock.step(end)) break;
  }
  const pause = latency.taskStartDelayMs;
  return {
    sites: perServer * options.servers,
    servers: options.servers,
    backups,
    installs: installs.length,
    maxInstallDelaySeconds: Math.max(0, ...installs.map((ms) => ms - pause)) / 1000,
    backupSeconds: (latency.tasks.backup ?? 0) / 1000,
    lastBackupAt: new Date(lastBackup).toISOString(),
  };
}
