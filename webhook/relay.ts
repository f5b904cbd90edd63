// The relay: applies the newest HostedSite of each outbox row to Kubernetes, and keeps retrying
// with backoff while the API is unavailable. A lease (not a held transaction) marks the row being
// applied, so the worker can record a newer version meanwhile; the relay then applies that too.
import type pg from "pg";
import type { Logger } from "../common/logger.ts";
import { backoffDelayMs, type BackoffPolicy } from "./backoff.ts";
import { itemsOf, type OrderManifest } from "./hostedspace-manifest.ts";
import type { WebhookMetrics } from "./metrics.ts";
import { startWorkLoop, type WorkLoop } from "./work-loop.ts";

/** The one Kubernetes call the relay needs; a fake in tests, client-node in production. */
export interface SiteApplier {
  apply(manifest: OrderManifest): Promise<void>;
}

export interface RelayOptions {
  pool: pg.Pool;
  applier: SiteApplier;
  logger: Logger;
  metrics: WebhookMetrics;
  backoff: BackoffPolicy;
  /** Longer than any apply can take: after it, another relay may take the row over. */
  leaseMs: number;
  concurrency: number;
  pollMs: number;
}

const CLAIM = `
UPDATE outbox o SET leased_until = now() + $1 * interval '1 millisecond'
  FROM (SELECT subscription_id FROM outbox
         WHERE applied_version < version AND next_attempt_at <= now()
           AND (leased_until IS NULL OR leased_until < now())
         ORDER BY next_attempt_at
         LIMIT 1
           FOR UPDATE SKIP LOCKED) c
 WHERE o.subscription_id = c.subscription_id
RETURNING o.subscription_id, o.version, o.manifest, o.attempts`;

export function startRelay(options: RelayOptions): WorkLoop {
  return startWorkLoop({
    name: "relay",
    concurrency: options.concurrency,
    pollMs: options.pollMs,
    errorPauseMs: Math.min(options.backoff.maxMs, 1_000),
    logger: options.logger,
    step: () => relayNext(options),
  });
}

/** Applies one due outbox row; resolves false when none was due. */
export async function relayNext(options: RelayOptions): Promise<boolean> {
  const { pool, logger, metrics } = options;
  const claimed = await pool.query<{ subscription_id: string; version: string; manifest: OrderManifest; attempts: number }>(CLAIM, [
    options.leaseMs,
  ]);
  const row = claimed.rows[0];
  if (row === undefined) return false;
  const { subscription_id: subscriptionId, version, manifest } = row;
  // Every object of an order carries the subscription's name.
  const { metadata } = itemsOf(manifest)[0] ?? { metadata: { namespace: "", name: "" } };
  const log = logger.child({ subscription: subscriptionId, hostedsite: `${metadata.namespace}/${metadata.name}`, version: Number(version) });
  try {
    await options.applier.apply(manifest);
  } catch (error) {
    const attempt = row.attempts + 1;
    const delay = backoffDelayMs(attempt, options.backoff);
    const message = error instanceof Error ? error.message : String(error);
    metrics.relayFailures.inc();
    log.warn({ err: message, attempt, retryInMs: delay }, "applying HostedSite failed; will retry");
    await release(
      pool,
      `UPDATE outbox SET attempts = attempts + 1, last_error = $3, leased_until = NULL,
              next_attempt_at = CASE WHEN version = $2 THEN now() + $4 * interval '1 millisecond' ELSE next_attempt_at END
        WHERE subscription_id = $1`,
      [subscriptionId, version, message.slice(0, 2000), delay],
    );
    return true;
  }
  metrics.relayApplies.inc();
  log.info("HostedSite applied");
  await release(
    pool,
    `UPDATE outbox SET applied_version = GREATEST(applied_version, $2), attempts = 0, last_error = NULL,
            leased_until = NULL, applied_at = now()
      WHERE subscription_id = $1`,
    [subscriptionId, version],
  );
  return true;
}

const RELEASE_RETRIES_MS = [100, 300, 1_000, 2_000];

/**
 * Records the outcome and gives the lease back, retrying through a database blip: losing this
 * write would hold the row back for the rest of its lease (found by the chaos suite).
 */
async function release(pool: pg.Pool, sql: string, params: unknown[]): Promise<void> {
  for (const wait of [...RELEASE_RETRIES_MS, undefined]) {
    try {
      await pool.query(sql, params);
      return;
    } catch (error) {
      if (wait === undefined) throw error;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
