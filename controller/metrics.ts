// Prometheus metrics with controller-runtime's exact names, labels and buckets (so the
// kubebuilder dashboards work unchanged), plus the operator's own domain metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { CommandEvent } from "../reconcilers/aegir/driver.ts";
import type { QueueObserver } from "./workqueue.ts";

/** controller_runtime_reconcile_time_seconds buckets (pkg/internal/controller/metrics). */
export const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5,
  4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** workqueue histograms: ExponentialBuckets(1e-8, 10, 12). */
export const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

export class ControllerMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly terminalErrors: Counter<"controller">;
  readonly reconcilePanics: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly maxConcurrent: Gauge<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly queueDepth: Gauge<"name" | "controller" | "priority">;
  readonly queueAdds: Counter<"name" | "controller">;
  readonly queueDuration: Histogram<"name" | "controller">;
  readonly workDuration: Histogram<"name" | "controller">;
  readonly unfinishedWork: Gauge<"name" | "controller">;
  readonly longestRunning: Gauge<"name" | "controller">;
  readonly queueRetries: Counter<"name" | "controller">;
  readonly restRequests: Counter<"code" | "method" | "host">;
  readonly leaderStatus: Gauge<"name">;
  readonly drushCommands: Counter<"server" | "command" | "outcome">;
  readonly drushDuration: Histogram<"server" | "command">;
  readonly sshConnections: Gauge<"server">;
  readonly sitesByReady: Gauge<"status">;
  readonly timeToFirstReady: Histogram;
  readonly stuckTasks: Gauge<"server" | "type" | "task">;
  readonly backupTasks: Counter<"server" | "kind">;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const r = [registry];
    collectDefaultMetrics({ register: registry });
    this.reconcileTotal = new Counter({ name: "controller_runtime_reconcile_total", help: "Total number of reconciliations per controller", labelNames: ["controller", "result"], registers: r });
    this.reconcileErrors = new Counter({ name: "controller_runtime_reconcile_errors_total", help: "Total number of reconciliation errors per controller", labelNames: ["controller"], registers: r });
    this.terminalErrors = new Counter({ name: "controller_runtime_terminal_reconcile_errors_total", help: "Total number of terminal reconciliation errors per controller", labelNames: ["controller"], registers: r });
    this.reconcilePanics = new Counter({ name: "controller_runtime_reconcile_panics_total", help: "Total number of reconciliation panics per controller", labelNames: ["controller"], registers: r });
    this.reconcileTime = new Histogram({ name: "controller_runtime_reconcile_time_seconds", help: "Length of time per reconciliation per controller", labelNames: ["controller"], buckets: RECONCILE_BUCKETS, registers: r });
    this.maxConcurrent = new Gauge({ name: "controller_runtime_max_concurrent_reconciles", help: "Maximum number of concurrent reconciles per controller", labelNames: ["controller"], registers: r });
    this.activeWorkers = new Gauge({ name: "controller_runtime_active_workers", help: "Number of currently used workers per controller", labelNames: ["controller"], registers: r });
    this.queueDepth = new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue", labelNames: ["name", "controller", "priority"], registers: r });
    this.queueAdds = new Counter({ name: "workqueue_adds_total", help: "Total number of adds handled by workqueue", labelNames: ["name", "controller"], registers: r });
    this.queueDuration = new Histogram({ name: "workqueue_queue_duration_seconds", help: "How long in seconds an item stays in workqueue before being requested", labelNames: ["name", "controller"], buckets: WORKQUEUE_BUCKETS, registers: r });
    this.workDuration = new Histogram({ name: "workqueue_work_duration_seconds", help: "How long in seconds processing an item from workqueue takes", labelNames: ["name", "controller"], buckets: WORKQUEUE_BUCKETS, registers: r });
    this.unfinishedWork = new Gauge({ name: "workqueue_unfinished_work_seconds", help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration", labelNames: ["name", "controller"], registers: r });
    this.longestRunning = new Gauge({ name: "workqueue_longest_running_processor_seconds", help: "How many seconds has the longest running processor for workqueue been running", labelNames: ["name", "controller"], registers: r });
    this.queueRetries = new Counter({ name: "workqueue_retries_total", help: "Total number of retries handled by workqueue", labelNames: ["name", "controller"], registers: r });
    this.restRequests = new Counter({ name: "rest_client_requests_total", help: "Number of HTTP requests, partitioned by status code, method, and host", labelNames: ["code", "method", "host"], registers: r });
    this.leaderStatus = new Gauge({ name: "leader_election_master_status", help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master", labelNames: ["name"], registers: r });
    this.drushCommands = new Counter({ name: "aegir_drush_commands_total", help: "drush commands run on Aegir servers, by command and outcome", labelNames: ["server", "command", "outcome"], registers: r });
    this.drushDuration = new Histogram({ name: "aegir_drush_command_duration_seconds", help: "Duration of drush commands on Aegir servers", labelNames: ["server", "command"], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300], registers: r });
    this.sshConnections = new Gauge({ name: "aegir_ssh_pool_connections", help: "Open SSH connections per Aegir server", labelNames: ["server"], registers: r });
    this.sitesByReady = new Gauge({ name: "aegir_hostedsites", help: "HostedSites by the status of their Ready condition", labelNames: ["status"], registers: r });
    this.timeToFirstReady = new Histogram({ name: "aegir_hostedsite_time_to_first_ready_seconds", help: "Time from a HostedSite's creation to its first Ready=True", buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200], registers: r });
    this.stuckTasks = new Gauge({ name: "aegir_stuck_task_seconds", help: "How long each Aegir task stuck in Processing has been running, by task id", labelNames: ["server", "type", "task"], registers: r });
    this.backupTasks = new Counter({ name: "aegir_backup_tasks_queued_total", help: "Backup and backup-delete tasks the backup controller queued", labelNames: ["server", "kind"], registers: r });
  }

  /** Pre-initialise a controller's series, as controller-runtime does. */
  registerController(controller: string, maxConcurrent: number): void {
    for (const result of ["success", "error", "requeue", "requeue_after"] as const) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    this.terminalErrors.inc({ controller }, 0);
    this.reconcilePanics.inc({ controller }, 0);
    this.maxConcurrent.set({ controller }, maxConcurrent);
    this.activeWorkers.set({ controller }, 0);
  }

  queueObserver(controller: string): QueueObserver {
    const labels = { name: controller, controller };
    this.queueDepth.set({ ...labels, priority: "" }, 0);
    this.queueAdds.inc(labels, 0);
    this.queueRetries.inc(labels, 0);
    return {
      add: () => this.queueAdds.inc(labels),
      get: (seconds) => this.queueDuration.observe(labels, seconds),
      done: (seconds) => this.workDuration.observe(labels, seconds),
      retry: () => this.queueRetries.inc(labels),
      depth: (n) => this.queueDepth.set({ ...labels, priority: "" }, n),
    };
  }

  /** Refresh the in-flight gauges from the queue's processing set (client-go does it every 500 ms). */
  updateUnfinished(controller: string, inFlight: ReadonlyMap<string, number>, now: number): void {
    const ages = [...inFlight.values()].map((started) => (now - started) / 1000);
    const labels = { name: controller, controller };
    this.unfinishedWork.set(labels, ages.reduce((a, b) => a + b, 0));
    this.longestRunning.set(labels, ages.length ? Math.max(...ages) : 0);
  }

  drushObserver(server: string): (event: CommandEvent) => void {
    return (event) => {
      const command = event.command;
      this.drushCommands.inc({ server, command, outcome: event.outcome });
      this.drushDuration.observe({ server, command }, event.seconds);
    };
  }
}
