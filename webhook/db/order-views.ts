// Read-mostly views of the ledger for people and metrics: orders with their trouble (parked,
// dead or stuck events, an outbox the relay cannot apply), one order in full, and the re-queue
// of an order's processing (`aegir-operator orders retry`).
import type pg from "pg";
import { deadKind, parkKind } from "../order-reasons.ts";
import { manifestSpecField } from "./manifest-fields.ts";

type Db = pg.Pool | pg.PoolClient;

export interface OrderSummary {
  subscription: string;
  /** The order's state; "unknown" when only events exist (its first processing never succeeded). */
  state: string;
  reason: string | null;
  subscriptionStatus: string | null;
  domain: string | null;
  customer: string | null;
  /** The HostedSite the order produced (namespace/name); null while it has none. */
  site: string | null;
  /** Events given up on, and events still retried, with the latest error among them. */
  deadEvents: number;
  pendingEvents: number;
  lastError: string | null;
  updatedAt: Date | null;
}

// Events are grouped only where they are not processed: that part of the table stays small.
const SUMMARY = `
WITH ev AS (
  SELECT subscription_id,
         count(*) FILTER (WHERE state = 'dead')::int AS dead,
         count(*) FILTER (WHERE state = 'pending')::int AS pending,
         (array_agg(last_error ORDER BY received_at DESC) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error
    FROM stripe_events
   WHERE state <> 'processed' AND subscription_id LIKE 'sub\\_%'
   GROUP BY subscription_id
)
SELECT coalesce(o.subscription_id, ev.subscription_id) AS subscription, coalesce(o.state, 'unknown') AS state, o.reason,
       o.subscription_status, o.domain, o.customer_id AS customer,
       CASE WHEN o.provisioned THEN o.site_namespace || '/' || o.site_name END AS site,
       coalesce(ev.dead, 0) AS dead, coalesce(ev.pending, 0) AS pending, ev.last_error, o.updated_at
  FROM orders o FULL JOIN ev ON ev.subscription_id = o.subscription_id`;

interface SummaryRow {
  subscription: string;
  state: string;
  reason: string | null;
  subscription_status: string | null;
  domain: string | null;
  customer: string | null;
  site: string | null;
  dead: number;
  pending: number;
  last_error: string | null;
  updated_at: Date | null;
}

const summaryOf = (r: SummaryRow): OrderSummary => ({
  subscription: r.subscription,
  state: r.state,
  reason: r.reason,
  subscriptionStatus: r.subscription_status,
  domain: r.domain,
  customer: r.customer,
  site: r.site,
  deadEvents: r.dead,
  pendingEvents: r.pending,
  lastError: r.last_error,
  updatedAt: r.updated_at,
});

export interface ListFilter {
  /** An order state, or "dead" (has dead events) or "trouble" (parked, dead or pending events). */
  state?: string | undefined;
  limit: number;
}

export async function listOrders(db: Db, filter: ListFilter): Promise<OrderSummary[]> {
  const where =
    filter.state === undefined
      ? "TRUE"
      : filter.state === "dead"
        ? "coalesce(ev.dead, 0) > 0"
        : filter.state === "trouble"
          ? "(o.state = 'parked' OR coalesce(ev.dead, 0) > 0 OR coalesce(ev.pending, 0) > 0)"
          : "coalesce(o.state, 'unknown') = $2";
  const params: unknown[] = [filter.limit];
  if (where.includes("$2")) params.push(filter.state);
  const r = await db.query<SummaryRow>(`${SUMMARY} WHERE ${where} ORDER BY o.updated_at DESC NULLS FIRST, 1 LIMIT $1`, params);
  return r.rows.map(summaryOf);
}

export interface OrderEvent {
  id: string;
  kind: string;
  type: string;
  state: string;
  attempts: number;
  lastError: string | null;
  receivedAt: Date;
  nextAttemptAt: Date;
}

export interface OrderDetail extends OrderSummary {
  customerEmail: string | null;
  checkoutSession: string | null;
  pastDueSince: Date | null;
  provisioned: boolean;
  createdAt: Date | null;
  outbox: { version: number; appliedVersion: number; attempts: number; lastError: string | null; appliedAt: Date | null; suspended: boolean | null; expiresAt: string | null } | null;
  /** The latest events and timers of the subscription, newest first. */
  events: OrderEvent[];
}

export async function showOrder(db: Db, subscriptionId: string, eventLimit = 20): Promise<OrderDetail | null> {
  const summary = (await db.query<SummaryRow>(`${SUMMARY} WHERE coalesce(o.subscription_id, ev.subscription_id) = $1`, [subscriptionId])).rows[0];
  const events = (
    await db.query<{ id: string; kind: string; type: string; state: string; attempts: number; last_error: string | null; received_at: Date; next_attempt_at: Date }>(
      "SELECT id, kind, type, state, attempts, last_error, received_at, next_attempt_at FROM stripe_events WHERE subscription_id = $1 ORDER BY received_at DESC LIMIT $2",
      [subscriptionId, eventLimit],
    )
  ).rows;
  if (summary === undefined && events.length === 0) return null;
  const order = (
    await db.query<{ customer_email: string | null; checkout_session_id: string | null; past_due_since: Date | null; provisioned: boolean; created_at: Date }>(
      "SELECT customer_email, checkout_session_id, past_due_since, provisioned, created_at FROM orders WHERE subscription_id = $1",
      [subscriptionId],
    )
  ).rows[0];
  const outbox = (
    await db.query<{ version: string; applied_version: string; attempts: number; last_error: string | null; applied_at: Date | null; suspended: boolean | null; expires_at: string | null }>(
      `SELECT version, applied_version, attempts, last_error, applied_at, (${manifestSpecField("x", "suspended")})::boolean AS suspended, ${manifestSpecField("x", "expiresAt")} AS expires_at
         FROM outbox x WHERE subscription_id = $1`,
      [subscriptionId],
    )
  ).rows[0];
  const base = summary === undefined ? untroubled(subscriptionId) : summaryOf(summary);
  return {
    ...base,
    customerEmail: order?.customer_email ?? null,
    checkoutSession: order?.checkout_session_id ?? null,
    pastDueSince: order?.past_due_since ?? null,
    provisioned: order?.provisioned ?? false,
    createdAt: order?.created_at ?? null,
    outbox:
      outbox === undefined
        ? null
        : {
            version: Number(outbox.version),
            appliedVersion: Number(outbox.applied_version),
            attempts: outbox.attempts,
            lastError: outbox.last_error,
            appliedAt: outbox.applied_at,
            suspended: outbox.suspended,
            expiresAt: outbox.expires_at,
          },
    events: events.map((e) => ({ id: e.id, kind: e.kind, type: e.type, state: e.state, attempts: e.attempts, lastError: e.last_error, receivedAt: e.received_at, nextAttemptAt: e.next_attempt_at })),
  };
}

// No order row and only processed events (e.g. reviews that found nothing to order).
function untroubled(subscription: string): OrderSummary {
  return { subscription, state: "unknown", reason: null, subscriptionStatus: null, domain: null, customer: null, site: null, deadEvents: 0, pendingEvents: 0, lastError: null, updatedAt: null };
}

export interface RetryResult {
  /** Dead events made pending again. */
  revived: number;
  /** Pending events and timers made due now. */
  hastened: number;
  /** A review queued because nothing was pending (a parked order, after its cause was fixed). */
  reviewQueued: boolean;
  /** The outbox row made due now (the relay was backing off). */
  relayHastened: boolean;
}

/** Re-queues an order's processing now: nothing is decided here, the inbox worker re-reads Stripe. */
export async function retryOrder(db: pg.PoolClient, subscriptionId: string, now = new Date()): Promise<RetryResult> {
  const revived = await db.query("UPDATE stripe_events SET state = 'pending', next_attempt_at = now() WHERE subscription_id = $1 AND state = 'dead'", [subscriptionId]);
  const hastened = await db.query("UPDATE stripe_events SET next_attempt_at = now() WHERE subscription_id = $1 AND state = 'pending' AND next_attempt_at > now()", [
    subscriptionId,
  ]);
  const pending = await db.query("SELECT 1 FROM stripe_events WHERE subscription_id = $1 AND state = 'pending' LIMIT 1", [subscriptionId]);
  let reviewQueued = false;
  if (pending.rowCount === 0) {
    await db.query(
      `INSERT INTO stripe_events (id, kind, type, subscription_id, payload) VALUES ($1, 'timer', 'review.operator_retry', $2, '{}'::jsonb) ON CONFLICT (id) DO NOTHING`,
      [`retry:${subscriptionId}:${now.toISOString()}`, subscriptionId],
    );
    reviewQueued = true;
  }
  await db.query("INSERT INTO subscription_locks (subscription_id) VALUES ($1) ON CONFLICT DO NOTHING", [subscriptionId]);
  const relay = await db.query("UPDATE outbox SET next_attempt_at = now() WHERE subscription_id = $1 AND applied_version < version AND next_attempt_at > now()", [subscriptionId]);
  return { revived: revived.rowCount ?? 0, hastened: hastened.rowCount ?? 0, reviewQueued, relayHastened: (relay.rowCount ?? 0) > 0 };
}

/** Parked orders by reason kind (metric). */
export async function parkedByKind(db: Db): Promise<Map<string, number>> {
  const r = await db.query<{ reason: string | null; n: number }>("SELECT reason, count(*)::int AS n FROM orders WHERE state = 'parked' GROUP BY reason");
  const counts = new Map<string, number>();
  for (const row of r.rows) counts.set(parkKind(row.reason), (counts.get(parkKind(row.reason)) ?? 0) + row.n);
  return counts;
}

/** Subscriptions with dead events by the kind of their latest error (metric). */
export async function deadByKind(db: Db): Promise<Map<string, number>> {
  const r = await db.query<{ last_error: string | null }>(
    "SELECT DISTINCT ON (subscription_id) last_error FROM stripe_events WHERE state = 'dead' ORDER BY subscription_id, received_at DESC",
  );
  const counts = new Map<string, number>();
  for (const row of r.rows) counts.set(deadKind(row.last_error), (counts.get(deadKind(row.last_error)) ?? 0) + 1);
  return counts;
}
