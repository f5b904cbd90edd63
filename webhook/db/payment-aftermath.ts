// The ledger's SQL for the seller policies: a charge's disputes and refunds as Stripe reports
// them, the review that makes the charge's subscription re-decide, and the paused-collection clock.
import type pg from "pg";
import type { ChargeAftermath } from "../stripe-payments.ts";
import type { DisputeFact } from "../policies.ts";

/** Upserts the charge's disputes and refunds under its subscription, in the caller's transaction. */
export async function recordAftermath(client: pg.PoolClient, subscriptionId: string, a: ChargeAftermath): Promise<void> {
  for (const d of a.disputes) {
    await client.query(
      `INSERT INTO order_disputes (dispute_id, subscription_id, charge_id, status, reason, amount, currency, opened_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (dispute_id) DO UPDATE SET status = excluded.status, reason = excluded.reason, amount = excluded.amount, updated_at = now()`,
      [d.id, subscriptionId, d.chargeId, d.status, d.reason, d.amount, d.currency, d.created],
    );
  }
  for (const r of a.refunds) {
    await client.query(
      `INSERT INTO order_refunds (refund_id, subscription_id, charge_id, amount, currency, status, refunded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (refund_id) DO UPDATE SET amount = excluded.amount, status = excluded.status`,
      [r.id, subscriptionId, r.chargeId, r.amount, r.currency, r.status, r.created],
    );
  }
}

/** Queues a re-decision of the subscription, processed like any of its events (see fanOutCustomer). */
export async function queuePaymentReview(client: pg.PoolClient, subscriptionId: string, eventId: string): Promise<void> {
  await client.query(
    `WITH review AS (
       INSERT INTO stripe_events (id, kind, type, subscription_id, payload)
       VALUES ('review:' || $2 || ':' || $1, 'timer', 'review.payment_changed', $1, '{}'::jsonb)
       ON CONFLICT (id) DO NOTHING RETURNING subscription_id
     )
     INSERT INTO subscription_locks (subscription_id) SELECT subscription_id FROM review ON CONFLICT DO NOTHING`,
    [subscriptionId, eventId],
  );
}

export interface StoredPolicyFacts {
  collectionPausedSince: Date | null;
  disputes: DisputeFact[];
}

export async function loadPolicyFacts(client: pg.PoolClient, subscriptionId: string): Promise<StoredPolicyFacts> {
  const paused = await client.query<{ since: Date | null }>("SELECT collection_paused_since AS since FROM orders WHERE subscription_id = $1", [subscriptionId]);
  const disputes = await client.query<{ id: string; status: string; reason: string | null; amount: string; currency: string }>(
    "SELECT dispute_id AS id, status, reason, amount::text, currency FROM order_disputes WHERE subscription_id = $1 ORDER BY opened_at, dispute_id",
    [subscriptionId],
  );
  return {
    collectionPausedSince: paused.rows[0]?.since ?? null,
    disputes: disputes.rows.map((d) => ({ id: d.id, status: d.status, reason: d.reason, amount: Number(d.amount), currency: d.currency })),
  };
}

/** After saveOrder: since when the order's payment collection is paused (null: it is not). */
export async function saveCollectionPausedSince(client: pg.PoolClient, subscriptionId: string, since: Date | null): Promise<void> {
  await client.query("UPDATE orders SET collection_paused_since = $2 WHERE subscription_id = $1", [subscriptionId, since]);
}
