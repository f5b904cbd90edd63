// The inbox worker's SQL on stripe_events: claim a subscription, read its due events, and settle
// them (processed, or failed with a retry time).
import type pg from "pg";

export interface PendingEvent {
  id: string;
  kind: "stripe" | "timer";
  type: string;
  checkout_session_id: string | null;
  attempts: number;
}

// The lock row of `subscription_locks` (FOR UPDATE SKIP LOCKED) makes one worker own a subscription
// until its transaction ends, in this process or any other.
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

/** Locks the subscription with the most overdue event; null when nothing is due. */
export async function claimSubscription(client: pg.PoolClient): Promise<string | null> {
  const claimed = await client.query<{ subscription_id: string }>(CLAIM_SUBSCRIPTION);
  return claimed.rows[0]?.subscription_id ?? null;
}

export async function pendingEvents(client: pg.PoolClient, subscriptionId: string): Promise<PendingEvent[]> {
  return (await client.query<PendingEvent>(PENDING_EVENTS, [subscriptionId])).rows;
}

export async function markProcessed(client: pg.PoolClient, ids: readonly string[]): Promise<void> {
  await client.query("UPDATE stripe_events SET state = 'processed', processed_at = now(), last_error = NULL WHERE id = ANY($1)", [ids]);
}

export interface Failure {
  message: string;
  permanent: boolean;
  retryInMs: number;
}

/**
 * Records a failed attempt; resolves how many of the events were dead-lettered by it. Only a
 * permanent error kills a Stripe event: Stripe already has its 2xx and never resends, so an outage
 * of any length must end in processing, not in a dead letter. Timers never die.
 */
export async function markFailed(client: pg.PoolClient, ids: readonly string[], f: Failure): Promise<number> {
  const updated = await client.query<{ state: string }>(
    `UPDATE stripe_events
        SET attempts = attempts + 1, last_error = $2,
            state = CASE WHEN $3 AND kind = 'stripe' THEN 'dead' ELSE 'pending' END,
            next_attempt_at = now() + $4 * interval '1 millisecond'
      WHERE id = ANY($1) RETURNING state`,
    [ids, f.message.slice(0, 2000), f.permanent, f.retryInMs],
  );
  return updated.rows.filter((r) => r.state === "dead").length;
}

/**
 * A customer event (e-mail or name changed, customer deleted) concerns every subscription of the
 * customer: each order not ended gets a review row, processed like any event of its subscription
 * (a re-read of Stripe). The customer's events are settled. Resolves how many reviews were queued.
 */
export async function fanOutCustomer(client: pg.PoolClient, customerId: string, ids: readonly string[]): Promise<number> {
  const queued = await client.query<{ n: number }>(
    `WITH reviews AS (
       INSERT INTO stripe_events (id, kind, type, subscription_id, payload)
       SELECT 'review:' || $2 || ':' || subscription_id, 'timer', 'review.customer_changed', subscription_id, '{}'::jsonb
         FROM orders WHERE customer_id = $1 AND state <> 'ended'
       ON CONFLICT (id) DO NOTHING
       RETURNING subscription_id
     ), locks AS (
       INSERT INTO subscription_locks (subscription_id) SELECT subscription_id FROM reviews ON CONFLICT DO NOTHING
     )
     SELECT count(*)::int AS n FROM reviews`,
    [customerId, ids.at(-1)],
  );
  await markProcessed(client, ids);
  return queued.rows[0]?.n ?? 0;
}
