// The AegirServer controller: one worker, watching AegirServers; reachability and conformance.
import { probeServer } from "../../reconcilers/aegir/conformance/probe.ts";
import { ConformanceMonitor } from "../../reconcilers/aegirserver/conformance.ts";
import { AegirServerReconciler } from "../../reconcilers/aegirserver/reconciler.ts";
import { KubeAegirServerStore } from "../kube/stores.ts";
import type { Infrastructure, Runnable } from "../runnable.ts";
import { cachedController, runnable } from "./cached-controller.ts";

export function setupAegirServer(infra: Infrastructure): Runnable {
  const reconciler = new AegirServerReconciler({
    store: new KubeAegirServerStore(infra.rest),
    statusCache: infra.statusCache,
    conformance: new ConformanceMonitor({
      probe: (server) => probeServer(infra.drivers.runner(server.metadata.name), server.spec, { timeoutMs: server.spec.commandTimeouts.readSeconds * 1000 }),
      now: Date.now,
    }),
    now: infra.now,
    log: infra.log,
    ...(infra.reconciler.pollIntervalMs ? { pollIntervalMs: infra.reconciler.pollIntervalMs } : {}),
  });
  const controller = cachedController(infra, { name: "aegirserver", get: (key) => infra.servers.get(key), reconcile: (server) => reconciler.reconcile(server) });
  infra.watchServers((key) => controller.enqueue(key));
  return runnable(controller);
}
