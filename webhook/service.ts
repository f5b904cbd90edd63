// Wires the webhook together: database (given or embedded), migrations, catalog, Stripe reader,
// inbox worker, relay and HTTP server; and takes them down again in the right order.
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { Logger } from "../common/logger.ts";
import type { BackoffPolicy } from "./backoff.ts";
import { loadCatalog, type Catalog } from "./catalog.ts";
import type { WebhookConfig } from "./config.ts";
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from "./db/embedded-postgres.ts";
import { migrate } from "./db/migrate.ts";
import { createPool } from "./db/pool.ts";
import { inboxDepth, pruneProcessedEvents, stuckEvents } from "./inbox.ts";
import { startInboxWorker } from "./inbox-worker.ts";
import { APPLY_TIMEOUT_MS, kubeApplier } from "./kube-applier.ts";
import { createMetrics, type WebhookMetrics } from "./metrics.ts";
import { startRelay, type SiteApplier } from "./relay.ts";
import { buildServer } from "./server.ts";
import { createStripeClient, stripeReader, type StripeReader } from "./stripe-reader.ts";
import { startWorkLoop, type WorkLoop } from "./work-loop.ts";
import { mountStorefront } from "./storefront/mount.ts";
import type { SiteDirectory } from "./storefront/site-directory.ts";

export interface WebhookService {
  /** e.g. http://127.0.0.1:8090 */
  url: string;
  app: FastifyInstance;
  pool: pg.Pool;
  metrics: WebhookMetrics;
  catalog: Catalog;
  stop(): Promise<void>;
}

export interface ServiceOverrides {
  /** Replaces the client-node applier (tests, sandbox). */
  applier?: SiteApplier;
  reader?: StripeReader;
  pollMs?: number;
  relayLeaseMs?: number;
  /** Replaces the storefront's client-node reads of HostedSites. */
  sites?: SiteDirectory;
}

export async function startWebhookService(config: WebhookConfig, logger: Logger, overrides: ServiceOverrides = {}): Promise<WebhookService> {
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.warn({ err: error instanceof Error ? error.message : String(error) }, "shutdown step failed"));
    }
  };
  try {
    const catalog = await loadCatalog(config.catalog);

    let connectionString = config.databaseUrl;
    if (connectionString === undefined) {
      const pgLog = logger.child({ component: "embedded-postgres" });
      const embedded: EmbeddedPostgresServer = await startEmbeddedPostgres({
        dir: config.postgresDir,
        port: config.postgresPort,
        onLog: (m) => pgLog.debug(m.trim()),
      });
      cleanups.push(() => embedded.stop());
      logger.info({ dir: config.postgresDir, port: embedded.port }, "embedded PostgreSQL started");
      connectionString = embedded.connectionString;
    }
    const pool = createPool({ connectionString, max: config.workers + 16, logger });
    cleanups.push(() => pool.end());
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info({ versions: applied }, "database migrations applied");

    const metrics = createMetrics({ inboxDepth: () => inboxDepth(pool), stuckEvents: () => stuckEvents(pool, config.maxAttempts) });
    const reader = overrides.reader ?? stripeReader(createStripeClient({ apiKey: config.apiKey, apiBase: config.apiBase }));
    const backoff: BackoffPolicy = { baseMs: config.retryBase, maxMs: config.retryMax };
    const pollMs = overrides.pollMs ?? 1_000;

    const relay: WorkLoop = startRelay({
      pool,
      applier: overrides.applier ?? kubeApplier(),
      logger: logger.child({ component: "relay" }),
      metrics,
      backoff,
      // Longer than an apply may take (the applier gives up after APPLY_TIMEOUT_MS), and no longer:
      // a lease whose release is lost (database restart) holds its order back this long.
      leaseMs: overrides.relayLeaseMs ?? 2 * APPLY_TIMEOUT_MS,
      concurrency: 2,
      pollMs,
    });
    cleanups.push(() => relay.stop());
    const worker = startInboxWorker({
      pool,
      reader,
      catalog,
      policy: { pastDueGraceMs: config.pastDueGrace, expireAfterMs: config.expireAfter },
      namespace: config.namespace,
      logger: logger.child({ component: "inbox" }),
      metrics,
      maxAttempts: config.maxAttempts,
      backoff,
      concurrency: config.workers,
      pollMs,
      onOutbox: () => relay.wake(),
    });
    cleanups.push(() => worker.stop());

    const pruneLog = logger.child({ component: "retention" });
    const pruner = startWorkLoop({
      name: "retention",
      concurrency: 1,
      pollMs: 3_600_000,
      errorPauseMs: 60_000,
      logger: pruneLog,
      step: async () => {
        const pruned = await pruneProcessedEvents(pool, config.retention);
        if (pruned > 0) pruneLog.info({ pruned }, "old processed events forgotten");
        return false;
      },
    });
    cleanups.push(() => pruner.stop());

    const app = buildServer({
      pool,
      secrets: config.webhookSecrets,
      toleranceSeconds: Math.floor(config.tolerance / 1000),
      bodyLimit: config.bodyLimit,
      metrics,
      logger: logger.child({ component: "http" }),
      onStored: () => worker.wake(),
    });
    let url = "";
    if (config.storefront) mountStorefront(app, config, { catalog, pool, logger: logger.child({ component: "storefront" }), ownUrl: () => url, sites: overrides.sites });
    cleanups.push(() => app.close());
    url = await app.listen({ host: config.host, port: config.port });
    logger.info({ url, namespace: config.namespace, workers: config.workers, storefront: config.storefront ? `${url}${config.storefrontPrefix}/` : false }, "stripe webhook listening");
    return { url, app, pool, metrics, catalog, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
