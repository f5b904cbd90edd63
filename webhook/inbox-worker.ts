// The inbox worker. It owns one subscription at a time by locking that subscription's row in
// `subscription_locks` (FOR UPDATE SKIP LOCKED), so two events of one subscription are never
// processed concurrently, in this process or any other. It re-reads the subscription from Stripe,
// decides, and writes the order, the outbox row and the events' new state in one transaction.
import type pg from "pg";
import type { Logger } from "../common/logger.ts";
import type { HostedSiteSpecInput } from "../crds/hostedsite.ts";
import { backoffDelayMs, type BackoffPolicy } from "./backoff.ts";
import type { Catalog } from "./catalog.ts";
import { siteName } from "./hostedsite-manifest.ts";
import type { LifecyclePolicy } from "./lifecycle.ts";
import type { WebhookMetrics } from "./metrics.ts";
import { decideOrder, type Decision, type OrderState, type StoredOrder } from "./order-decision.ts";
import { PermanentError, type StripeReader } from "./stripe-reader.ts";
import { startWorkLoop, type WorkLoop } from "./work-loop.ts";

export interface InboxWorkerOptions {
  pool: pg.Pool;
  reader: StripeReader;
  catalog: Catalog;
  policy: LifecyclePolicy;
  namespace: string;
  logger: Logger;
  metrics: WebhookMetrics;
  /** After this many failed attempts an event is dead-lettered with its last error. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  concurrency: number;
  pollMs: number;
  /** Called when an outbox row was written, so the relay need not wait for its poll. */
  onOutbox?: () => void;
  now?: () => Date;
}

interface PendingEvent {
  id: string;
  kind: "stripe" | "timer";
  type: string;
  checkout_session_id: string | null;
  attempts: number;
}

interface OrderRow {
  state: OrderState;
  domain: string | null;
  checkout_session_id: string | null;
  past_due_since: Date | null;
  provisioned: boolean;
}

const CLAIM_SUBSCRIPTION = `
SELECT e.subscription_id
  FROM stripe_events e JOIN subscription_locks l USING (subscription_id)
 WHERE e.state = 'pending' AND e.next_attempt_at <= now()
 ORDER BY e.next_attempt_at
 LIMIT 1
   FOR UPDATE OF l SKIP LOCKED`;

// Every pending Stripe event of the subscription is settled by one re-read of the current state,
// including events waiting for a retry; timers only once they are due.
const PENDING_EVENTS = `
SELECT id, kind, type, checkout_session_id, attempts
  FROM stripe_events
 WHERE subscription_id = $1 AND state = 'pending' AND (kind = 'stripe' OR next_attempt_at <= now())
 ORDER BY received_at
   FOR UPDATE`;

export function startInboxWorker(options: InboxWorkerOptions): WorkLoop {
  return startWorkLoop({
    name: "inbox",
    concurrency: options.concurrency,
    pollMs: options.pollMs,
    errorPauseMs: Math.min(options.backoff.maxMs, 1_000),
    logger: options.logger,
    step: () => processNextSubscription(options),
  });
}

/** Processes one subscription's due events; resolves false when nothing was due. */
export async function processNextSubscription(options: InboxWorkerOptions): Promise<boolean> {
  const { pool, logger, metrics } = options;
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query("BEGIN");
    const claimed = await client.query<{ subscription_id: string }>(CLAIM_SUBSCRIPTION);
    const subscriptionId = claimed.rows[0]?.subscription_id;
    if (subscriptionId === undefined) {
      await client.query("COMMIT");
      return false;
    }
    const events = (await client.query<PendingEvent>(PENDING_EVENTS, [subscriptionId])).rows;
    if (events.length === 0) {
      await client.query("COMMIT");
      return true;
    }
    const started = performance.now();
    const ids = events.map((e) => e.id);
    const last = events.at(-1) as PendingEvent;
    const log = logger.child({ subscription: subscriptionId, events: ids.length, lastEvent: last.id });

    await client.query("SAVEPOINT work");
    let outcome: string;
    let wroteOutbox = false;
    try {
      const result = await handleSubscription(client, options, subscriptionId, events);
      outcome = result.outcome;
      wroteOutbox = result.wroteOutbox;
      await client.query("UPDATE stripe_events SET state = 'processed', processed_at = now(), last_error = NULL WHERE id = ANY($1)", [ids]);
      const level = outcome === "parked" ? "warn" : "info";
      log[level]({ outcome, state: result.state, reason: result.reason, site: siteName(subscriptionId) }, "subscription processed");
      if (outcome === "parked") metrics.ordersParked.inc();
    } catch (error) {
      await client.query("ROLLBACK TO SAVEPOINT work");
      const message = errorMessage(error);
      const permanent = error instanceof PermanentError;
      const attempts = Math.max(...events.map((e) => e.attempts)) + 1;
      const delay = backoffDelayMs(attempts, options.backoff);
      const updated = await client.query<{ state: string }>(
        `UPDATE stripe_events
            SET attempts = attempts + 1, last_error = $2,
                state = CASE WHEN $3 OR attempts + 1 >= $4 THEN 'dead' ELSE 'pending' END,
                next_attempt_at = now() + $5 * interval '1 millisecond'
          WHERE id = ANY($1) RETURNING state`,
        [ids, message.slice(0, 2000), permanent, options.maxAttempts, delay],
      );
      const dead = updated.rows.filter((r) => r.state === "dead").length;
      outcome = dead > 0 ? "dead" : "retry";
      if (dead > 0) {
        metrics.deadLettered.inc(dead);
        log.error({ outcome, err: message, deadLettered: dead }, "inbox events dead-lettered");
      } else {
        log.warn({ outcome, err: message, attempt: attempts, retryInMs: delay }, "processing failed; will retry");
      }
    }
    await client.query("COMMIT");
    metrics.processingDuration.observe({ outcome }, (performance.now() - started) / 1000);
    if (wroteOutbox) options.onOutbox?.();
    return true;
  } catch (error) {
    broken = true;
    await client.query("ROLLBACK").then(
      () => (broken = false),
      () => undefined,
    );
    throw error;
  } finally {
    client.release(broken);
  }
}

interface Handled {
  outcome: "processed" | "parked" | "duplicate";
  state: OrderState;
  reason: string | null;
  wroteOutbox: boolean;
}

async function handleSubscription(client: pg.PoolClient, options: InboxWorkerOptions, subscriptionId: string, events: PendingEvent[]): Promise<Handled> {
  const orderRow = (
    await client.query<OrderRow>(
      "SELECT state, domain, checkout_session_id, past_due_since, provisioned FROM orders WHERE subscription_id = $1",
      [subscriptionId],
    )
  ).rows[0];
  const existing: StoredOrder | null =
    orderRow === undefined
      ? null
      : {
          state: orderRow.state,
          domain: orderRow.domain,
          checkoutSessionId: orderRow.checkout_session_id,
          pastDueSince: orderRow.past_due_since,
          provisioned: orderRow.provisioned,
        };
  const last = events.at(-1) as PendingEvent;

  // The same Checkout Session can arrive as several events (completed, async_payment_succeeded,
  // redeliveries with new ids): once its order is provisioned, they bring nothing new.
  const sessionIds = [...new Set(events.flatMap((e) => (e.checkout_session_id === null ? [] : [e.checkout_session_id])))];
  const onlySessionEvents = events.every((e) => e.kind === "stripe" && e.checkout_session_id !== null);
  if (existing?.provisioned === true && onlySessionEvents && sessionIds.length === 1 && sessionIds[0] === existing.checkoutSessionId) {
    await client.query("UPDATE orders SET last_event_id = $2, last_event_type = $3, updated_at = now() WHERE subscription_id = $1", [
      subscriptionId,
      last.id,
      last.type,
    ]);
    return { outcome: "duplicate", state: existing.state, reason: null, wroteOutbox: false };
  }

  const { reader } = options;
  const subscription = await reader.subscription(subscriptionId);
  const sessionId = sessionIds.at(-1) ?? existing?.checkoutSessionId ?? null;
  const checkout = sessionId !== null ? await reader.checkoutSession(sessionId) : await reader.checkoutSessionOf(subscriptionId);
  if (checkout !== null && checkout.subscriptionId !== null && checkout.subscriptionId !== subscriptionId) {
    throw new PermanentError(`checkout session ${checkout.id} belongs to ${checkout.subscriptionId}, not ${subscriptionId}`);
  }
  const customer = checkout?.email ? null : await reader.customer(subscription.customerId);
  const lastSpec = (
    await client.query<{ spec: HostedSiteSpecInput }>("SELECT manifest->'spec' AS spec FROM outbox WHERE subscription_id = $1", [subscriptionId])
  ).rows[0]?.spec;

  let decision = decideOrder({
    catalog: options.catalog,
    policy: options.policy,
    namespace: options.namespace,
    now: (options.now ?? (() => new Date()))(),
    subscription,
    checkout,
    customer,
    existing,
    lastSpec: lastSpec ?? null,
  });
  if (decision.order.domain !== null && existing?.domain == null) {
    const owner = await client.query<{ subscription_id: string }>("SELECT subscription_id FROM orders WHERE domain = $1 AND subscription_id <> $2", [
      decision.order.domain,
      subscriptionId,
    ]);
    const other = owner.rows[0]?.subscription_id;
    if (other !== undefined) decision = domainTaken(decision, other);
  }

  const o = decision.order;
  await client.query(
    `INSERT INTO orders (subscription_id, customer_id, customer_email, checkout_session_id, domain, options, site_namespace, site_name,
                         state, reason, subscription_status, past_due_since, provisioned, last_event_id, last_event_type)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (subscription_id) DO UPDATE SET
       customer_id = excluded.customer_id, customer_email = excluded.customer_email,
       checkout_session_id = excluded.checkout_session_id, domain = excluded.domain,
       options = COALESCE(excluded.options, orders.options), state = excluded.state, reason = excluded.reason,
       subscription_status = excluded.subscription_status, past_due_since = excluded.past_due_since,
       provisioned = excluded.provisioned, last_event_id = excluded.last_event_id,
       last_event_type = excluded.last_event_type, updated_at = now()`,
    [
      subscriptionId,
      o.customerId,
      o.customerEmail,
      o.checkoutSessionId,
      o.domain,
      o.options === null ? null : JSON.stringify(o.options),
      options.namespace,
      siteName(subscriptionId),
      o.state,
      o.reason,
      o.subscriptionStatus,
      o.pastDueSince,
      o.provisioned,
      last.id,
      last.type,
    ],
  );

  let wroteOutbox = false;
  if (decision.manifest !== null) {
    const written = await client.query(
      `INSERT INTO outbox (subscription_id, manifest) VALUES ($1, $2)
       ON CONFLICT (subscription_id) DO UPDATE SET
         manifest = excluded.manifest, version = outbox.version + 1, attempts = 0,
         next_attempt_at = now(), last_error = NULL, updated_at = now()
       WHERE outbox.manifest IS DISTINCT FROM excluded.manifest`,
      [subscriptionId, JSON.stringify(decision.manifest)],
    );
    wroteOutbox = (written.rowCount ?? 0) > 0;
  }
  if (decision.reviewAt !== null) {
    // A durable timer: re-evaluate when the grace period ends even if Stripe sends nothing.
    await client.query(
      `INSERT INTO stripe_events (id, kind, type, subscription_id, payload, next_attempt_at)
       VALUES ($1, 'timer', 'timer.grace_period_ended', $2, '{}'::jsonb, $3) ON CONFLICT (id) DO NOTHING`,
      [`timer:grace:${subscriptionId}:${decision.reviewAt.toISOString()}`, subscriptionId, decision.reviewAt],
    );
  }
  return { outcome: o.state === "parked" ? "parked" : "processed", state: o.state, reason: o.reason, wroteOutbox };
}

function domainTaken(decision: Decision, other: string): Decision {
  return {
    order: { ...decision.order, state: "parked", domain: null, reason: `domain ${decision.order.domain} is already taken by subscription ${other}` },
    manifest: null,
    reviewAt: null,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
