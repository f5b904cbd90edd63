// The inbox worker. It owns one subscription at a time (see claimSubscription), so two events of
// one subscription are never processed concurrently, in this process or any other. It loads the
// stored order and re-reads Stripe, decides (pure), and saves the order, the outbox row and the
// events' new state in one transaction.
import type pg from "pg";
import type { Logger } from "../common/logger.ts";
import { backoffDelayMs, type BackoffPolicy } from "./backoff.ts";
import type { Catalog } from "./catalog.ts";
import { claimSubscription, fanOutCustomer, markFailed, markProcessed, pendingEvents, type PendingEvent } from "./db/inbox-events.ts";
import { loadLastSpace, saveDemoSpec } from "./db/order-spaces.ts";
import { loadOrder, releaseDomain, reviewDomainWaiters, saveManifest, saveOrder, scheduleReview, touchOrder } from "./db/orders.ts";
import { loadPolicyFacts, saveCollectionPausedSince } from "./db/payment-aftermath.ts";
import { syncCharge } from "./charge-sync.ts";
import { isDemo, orderManifest } from "./hostedspace-manifest.ts";
import type { LifecyclePolicy } from "./lifecycle.ts";
import type { WebhookMetrics } from "./metrics.ts";
import { decideOrder, isSessionRedelivery, subscriptionEnded, type OrderState } from "./order-decision.ts";
import type { OrderProblem } from "./order-events.ts";
import { loadOrderInputs } from "./order-inputs.ts";
import { applySellerPolicies } from "./policies.ts";
import type { PaymentReader } from "./stripe-payments.ts";
import { PermanentError, type StripeReader } from "./stripe-reader.ts";
import { startWorkLoop, type WorkLoop } from "./work-loop.ts";

export interface InboxWorkerOptions {
  pool: pg.Pool;
  reader: StripeReader;
  /** Reads a charge's refunds and disputes, and the order it paid. */
  payments: PaymentReader;
  catalog: Catalog;
  policy: LifecyclePolicy;
  namespace: string;
  logger: Logger;
  metrics: WebhookMetrics;
  /** After this many failed attempts an event counts as stuck (logged as an error); it keeps retrying. */
  maxAttempts: number;
  backoff: BackoffPolicy;
  concurrency: number;
  pollMs: number;
  /** Called when an outbox row was written, so the relay need not wait for its poll. */
  onOutbox?: () => void;
  /** Told of each order parked and each event dead-lettered (Kubernetes Events). */
  onProblem?: (problem: OrderProblem) => void;
  now?: () => Date;
}

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
    const subscriptionId = await claimSubscription(client);
    if (subscriptionId === null) {
      await client.query("COMMIT");
      return false;
    }
    const events = await pendingEvents(client, subscriptionId);
    if (events.length === 0) {
      await client.query("COMMIT");
      return true;
    }
    const ids = events.map((e) => e.id);
    if (subscriptionId.startsWith("cus_")) {
      const reviews = await fanOutCustomer(client, subscriptionId, ids);
      await client.query("COMMIT");
      logger.info({ customer: subscriptionId, events: ids.length, subscriptions: reviews }, "customer changed: its subscriptions are re-read");
      return true;
    }
    const started = performance.now();
    const last = events.at(-1) as PendingEvent;
    const log = logger.child({ subscription: subscriptionId, events: ids.length, lastEvent: last.id });

    await client.query("SAVEPOINT work");
    let outcome: string;
    let wroteOutbox = false;
    try {
      const result = subscriptionId.startsWith("ch_") ? await handleCharge(client, options, subscriptionId, last) : await handleSubscription(client, options, subscriptionId, events);
      outcome = result.outcome;
      wroteOutbox = result.wroteOutbox;
      await markProcessed(client, ids);
      const level = outcome === "parked" ? "warn" : "info";
      if (result.state === null) log.info({ outcome, reason: result.reason }, "charge processed");
      else log[level]({ outcome, state: result.state, reason: result.reason, site: result.site }, "subscription processed");
      if (outcome === "parked") {
        metrics.ordersParked.inc();
        options.onProblem?.({ subscriptionId, kind: "parked", why: result.reason ?? "", site: result.site ?? undefined });
      }
    } catch (error) {
      await client.query("ROLLBACK TO SAVEPOINT work");
      const message = errorMessage(error);
      const permanent = error instanceof PermanentError;
      const attempts = Math.max(...events.map((e) => e.attempts)) + 1;
      const delay = backoffDelayMs(attempts, options.backoff);
      const dead = await markFailed(client, ids, { message, permanent, retryInMs: delay });
      outcome = dead > 0 ? "dead" : "retry";
      if (dead > 0) {
        metrics.deadLettered.inc(dead);
        log.error({ outcome, err: message, deadLettered: dead }, "inbox events dead-lettered");
        options.onProblem?.({ subscriptionId, kind: "dead", why: message });
      } else {
        // Beyond the budget it keeps retrying; the error level and stripe_webhook_events_stuck alert.
        const level = attempts >= options.maxAttempts ? "error" : "warn";
        log[level]({ outcome, err: message, attempt: attempts, retryInMs: delay }, "processing failed; will retry");
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
  /** Null for a charge's events: they change the order only through the review they queue. */
  state: OrderState | null;
  reason: string | null;
  /** The HostedSite the order produced; null for a charge's events. */
  site: string | null;
  wroteOutbox: boolean;
}

/** Load, decide, save. */
async function handleSubscription(client: pg.PoolClient, options: InboxWorkerOptions, subscriptionId: string, events: PendingEvent[]): Promise<Handled> {
  const existing = await loadOrder(client, subscriptionId);
  const last = events.at(-1) as PendingEvent;
  const batch = events.map((e) => ({ kind: e.kind, checkoutSessionId: e.checkout_session_id }));
  if (isSessionRedelivery(existing, batch)) {
    await touchOrder(client, subscriptionId, last);
    return { outcome: "duplicate", state: existing.state, reason: null, site: existing.siteName, wroteOutbox: false };
  }

  const eventSessionId = batch.findLast((e) => e.checkoutSessionId !== null)?.checkoutSessionId ?? null;
  const loaded = await loadOrderInputs(client, options.reader, options.catalog, subscriptionId, existing, eventSessionId);
  const now = (options.now ?? (() => new Date()))();
  const decided = decideOrder({ catalog: options.catalog, policy: options.policy, namespace: options.namespace, now, existing, ...loaded });
  const stored = await loadPolicyFacts(client, subscriptionId);
  const { subscription } = loaded;
  const { decision, collectionPausedSince } = applySellerPolicies(decided, { now, ...stored, collectionPaused: subscription.collectionPaused, cancelAt: subscription.cancelAt }, options.catalog.policies);

  const o = decision.order;
  if (decision.release !== null) await releaseDomain(client, decision.release, subscriptionId);
  await saveOrder(client, { subscriptionId, namespace: options.namespace }, o, last);
  await saveCollectionPausedSince(client, subscriptionId, collectionPausedSince);
  // A demo kit orders a HostedSpace, and an upgrade from it keeps the space beside the new site.
  const kit = o.options === null ? undefined : options.catalog.kits[o.options.kit];
  const manifest = decision.manifest && orderManifest({ site: decision.manifest, kit, previous: await loadLastSpace(client, subscriptionId), parked: o.state === "parked", now });
  const wroteOutbox = manifest !== null && (await saveManifest(client, subscriptionId, manifest));
  if (manifest !== null) await saveDemoSpec(client, subscriptionId, isDemo(manifest) ? (decision.manifest?.spec ?? null) : null);
  if (decision.reviewAt !== null) await scheduleReview(client, subscriptionId, decision.reviewAt, o.wantedDomain === null ? "grace_period_ended" : "domain_released");
  if (o.domain !== null && subscriptionEnded(o.subscriptionStatus)) await reviewDomainWaiters(client, o.domain, last);
  return { outcome: o.state === "parked" ? "parked" : "processed", state: o.state, reason: o.reason, site: o.siteName, wroteOutbox };
}

/** A charge's events: its refunds and disputes recorded, its order's review queued (see charge-sync.ts). */
async function handleCharge(client: pg.PoolClient, options: InboxWorkerOptions, chargeId: string, last: PendingEvent): Promise<Handled> {
  const synced = await syncCharge(client, options.payments, chargeId, last.id);
  const reason = synced.subscriptionId === null ? "the charge paid no order of this webhook" : `${synced.disputes} dispute(s), ${synced.refunds} refund(s) recorded on ${synced.subscriptionId}`;
  return { outcome: "processed", state: null, reason, site: null, wroteOutbox: false };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
