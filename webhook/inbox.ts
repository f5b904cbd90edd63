// The inbox: verified events stored durably before Stripe gets its 2xx. One statement, so the
// event and its subscription's lock row appear together or not at all; a redelivered event id
// changes nothing.
import type pg from "pg";

export interface InboxEvent {
  id: string;
  type: string;
  /** The subscription it is processed under, or the customer for customer events (see fanOutCustomer). */
  key: string;
  checkoutSessionId: string | null;
  livemode: boolean;
  apiVersion: string | null;
  /** Unix seconds, as in the event. */
  created: number;
  /** The verified raw JSON body, stored as received. */
  rawJson: string;
}

const STORE_EVENT = `
WITH ev AS (
  INSERT INTO stripe_events (id, type, subscription_id, checkout_session_id, livemode, event_created_at, payload, api_version)
  VALUES ($1, $2, $3, $4, $5, to_timestamp($6), $7::jsonb, $8)
  ON CONFLICT (id) DO NOTHING
  RETURNING subscription_id
), locked AS (
  INSERT INTO subscription_locks (subscription_id) SELECT subscription_id FROM ev ON CONFLICT DO NOTHING
)
SELECT count(*)::int AS stored FROM ev`;

/** "stored" for a new event, "duplicate" when this event id is already in the inbox. */
export async function storeEvent(db: pg.Pool | pg.PoolClient, e: InboxEvent): Promise<"stored" | "duplicate"> {
  const result = await db.query<{ stored: number }>(STORE_EVENT, [
    e.id,
    e.type,
    e.key,
    e.checkoutSessionId,
    e.livemode,
    e.created,
    e.rawJson,
    e.apiVersion,
  ]);
  return result.rows[0]?.stored === 1 ? "stored" : "duplicate";
}

/** Events waiting to be processed, dead letters excluded. */
export async function inboxDepth(db: pg.Pool): Promise<number> {
  const result = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM stripe_events WHERE state = 'pending' AND kind = 'stripe'");
  return result.rows[0]?.n ?? 0;
}

/** Pending events and timers that failed at least `attempts` times: still retried, but worth an alert. */
export async function stuckEvents(db: pg.Pool, attempts: number): Promise<number> {
  const result = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM stripe_events WHERE state = 'pending' AND attempts >= $1", [attempts]);
  return result.rows[0]?.n ?? 0;
}

/**
 * Forgets processed events older than the retention. Stripe redelivers for up to 3 days and
 * allows manual resends for up to 30, so the retention must stay above that for dedup to hold.
 * Dead letters are kept until someone looks at them.
 */
export async function pruneProcessedEvents(db: pg.Pool, retentionMs: number): Promise<number> {
  const result = await db.query(
    "DELETE FROM stripe_events WHERE state = 'processed' AND processed_at < now() - $1 * interval '1 millisecond'",
    [retentionMs],
  );
  return result.rowCount ?? 0;
}
