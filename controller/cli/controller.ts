// `aegir-operator controller`: run the reconcilers against the cluster in KUBECONFIG (or the
// pod's service account) until SIGTERM.
import { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import { ConfigError, LogLevel, bool, describeOptions, durationSeconds, loadConfig, parseArgs, port } from "../../common/config.ts";
import { createLogger } from "../../common/logger.ts";
import { startManager } from "../manager.ts";
import { type Command, USAGE_ERROR } from "./command.ts";

export const CONTROLLER_OPTIONS = {
  kubeconfig: { flag: "kubeconfig", env: "KUBECONFIG", schema: z.string().optional(), description: "kubeconfig file (default: in-cluster service account)" },
  bindAddress: { flag: "bind-address", env: "BIND_ADDRESS", schema: z.string().default("0.0.0.0"), description: "address for metrics and probes" },
  metricsPort: { flag: "metrics-port", env: "METRICS_PORT", schema: port(8080), description: "port serving /metrics" },
  probePort: { flag: "health-probe-port", env: "HEALTH_PROBE_PORT", schema: port(8081), description: "port serving /healthz and /readyz" },
  leaderElect: { flag: "leader-elect", env: "LEADER_ELECT", schema: bool(true), description: "elect a leader through a Lease (run several replicas)" },
  leaseNamespace: { flag: "leader-election-namespace", env: "POD_NAMESPACE", schema: z.string().default("aegir-operator"), description: "namespace of the Lease" },
  leaseName: { flag: "leader-election-id", env: "LEADER_ELECTION_ID", schema: z.string().default("aegir-operator.hosting.openatria.com"), description: "name of the Lease" },
  leaseDuration: { flag: "leader-election-lease-duration", env: "LEADER_ELECTION_LEASE_DURATION", schema: durationSeconds(15), description: "seconds a lease lasts unrenewed before another replica takes it" },
  renewDeadline: { flag: "leader-election-renew-deadline", env: "LEADER_ELECTION_RENEW_DEADLINE", schema: durationSeconds(10), description: "seconds the leader keeps trying to renew before it gives up" },
  retryPeriod: { flag: "leader-election-retry-period", env: "LEADER_ELECTION_RETRY_PERIOD", schema: durationSeconds(2), description: "seconds between lease attempts" },
  identity: { flag: "identity", env: "POD_NAME", schema: z.string().optional(), description: "this replica's identity in the Lease (default host_pid)" },
  maxConcurrentReconciles: { flag: "max-concurrent-reconciles", env: "MAX_CONCURRENT_RECONCILES", schema: z.coerce.number().int().min(1).max(256).default(8), description: "HostedSite workers" },
  gracefulShutdown: { flag: "graceful-shutdown-timeout", env: "GRACEFUL_SHUTDOWN_TIMEOUT", schema: durationSeconds(30), description: "seconds in-flight drush calls get on SIGTERM" },
  pollInterval: { flag: "poll-interval", env: "POLL_INTERVAL", schema: durationSeconds(60), description: "seconds between looks at a converged site" },
  driftCheck: { flag: "drift-check-interval", env: "DRIFT_CHECK_INTERVAL", schema: durationSeconds(1800), description: "seconds between deep reads of a converged site" },
  progressPoll: { flag: "progress-poll", env: "PROGRESS_POLL", schema: durationSeconds(5), description: "seconds between looks while Aegir works on a site" },
  sshKeyFile: { flag: "ssh-key-file", env: "AEGIR_SSH_KEY_FILE", schema: z.string().optional(), description: "SSH private key file, instead of the AegirServers' Secrets" },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", schema: LogLevel, description: "fatal, error, warn, info, debug or trace" },
} as const;

export const controllerCommand: Command = {
  name: "controller",
  usage: `usage: aegir-operator controller [options]\n\n${describeOptions(CONTROLLER_OPTIONS)}`,

  async run(argv, io) {
    let config;
    try {
      config = loadConfig(CONTROLLER_OPTIONS, parseArgs(argv, new Set(["leader-elect"])).flags, process.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stderr.write(`controller: ${error.message}\n`);
      return USAGE_ERROR;
    }
    const log = createLogger({ name: "controller", level: config.logLevel });
    const kc = new KubeConfig();
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromCluster();
    const manager = await startManager(
      {
        bindAddress: config.bindAddress,
        metricsPort: config.metricsPort,
        probePort: config.probePort,
        leaderElect: config.leaderElect,
        leaseNamespace: config.leaseNamespace,
        leaseName: config.leaseName,
        leaseDurationMs: config.leaseDuration * 1000,
        renewDeadlineMs: config.renewDeadline * 1000,
        retryPeriodMs: config.retryPeriod * 1000,
        ...(config.identity ? { identity: config.identity } : {}),
        maxConcurrentReconciles: config.maxConcurrentReconciles,
        gracefulShutdownMs: config.gracefulShutdown * 1000,
        ...(config.sshKeyFile ? { sshKeyFile: config.sshKeyFile } : {}),
        reconciler: { pollIntervalMs: config.pollInterval * 1000, driftCheckMs: config.driftCheck * 1000, progressPollMs: config.progressPoll * 1000 },
      },
      kc,
      log,
    );
    log.info({ metricsPort: manager.metricsPort, probePort: manager.probePort, leaderElect: config.leaderElect }, "controller started");
    const onSignal = (signal: string) => {
      log.info({ signal }, "shutting down");
      void manager.stop();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    const how = await manager.done;
    if (how === "lost") {
      // controller-runtime skips the graceful stop when the lease is lost: another replica leads now.
      log.error("leadership lost; exiting");
      log.flush();
      process.exit(1);
    }
    log.flush();
    return 0;
  },
};
