// The backup controller: one key per AegirServer, polled on the schedule its sites' backups
// need (a server is read once per look, whatever its site count), with the stuck-task gauge.
import { BackupReconciler } from "../../reconcilers/backups/reconciler.ts";
import type { StuckTask } from "../../reconcilers/aegir/stuck-tasks.ts";
import { KubeHostedSiteStore } from "../kube/stores.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";
import { cachedController, runnable } from "./cached-controller.ts";

/** A Processing task is reported stuck after this many times its type's usual duration. */
const STUCK_FACTOR = 3;

export function setupBackups(infra: Infrastructure): Runnable {
  const { metrics } = infra;
  const reported = new Map<string, StuckTask[]>();
  const reconciler = new BackupReconciler({
    sites: () => infra.sites.list(),
    driver: (server) => infra.drivers.driver(server),
    store: new KubeHostedSiteStore(infra.rest),
    events: infra.events,
    now: infra.now,
    log: infra.log,
    config: {
      pollIntervalMs: infra.reconciler.pollIntervalMs ?? 60_000,
      progressPollMs: infra.reconciler.progressPollMs ?? 5_000,
      stuckFactor: STUCK_FACTOR,
    },
    onStuck: (server, stuck) => {
      for (const task of reported.get(server) ?? []) metrics.stuckTasks.remove({ server, type: task.type, task: String(task.nid) });
      for (const task of stuck) metrics.stuckTasks.set({ server, type: task.type, task: String(task.nid) }, task.runningSeconds);
      reported.set(server, [...stuck]);
    },
    onQueued: (server, action) => {
      metrics.backupTasks.inc({ server, kind: action.kind });
      infra.statusCache.invalidate(server);
    },
  });
  const controller = cachedController(infra, { name: "backups", get: (key) => infra.servers.get(key), reconcile: (server) => reconciler.reconcile(server.metadata.name) });
  infra.watchServers((key) => controller.enqueue(key));
  return runnable(controller);
}
