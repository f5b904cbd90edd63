// The re-sync pass's SQL: what the ledger knows of listed subscriptions, the orders not ended,
// queuing review rows for the inbox worker, and the record of passes.
import type pg from "pg";
import type { LedgerEntry, ReviewRow } from "../resync-plan.ts";

type Db = pg.Pool | pg.PoolClient;

/** Arbitrary constant shared by every replica: the advisory lock key of a re-sync pass. */
export const RESYNC_LOCK_KEY = 4_117_206_552;

export async function ledgerEntries(db: Db, subscriptionIds: readonly string[]): Promise<Map<string, LedgerEntry>> {
  const r = await db.query<{ subscription_id: string; state: LedgerEntry["state"]; subscription_status: string | null; fingerprint: string | null }>(
    `SELECT ids.id AS subscription_id, o.state, o.subscription_status, f.fingerprint
       FROM unnest($1::text[]) AS ids(id)
       LEFT JOIN orders o ON o.subscription_id = ids.id
       LEFT JOIN resync_fingerprints f ON f.subscription_id = ids.id
      WHERE o.subscription_id IS NOT NULL OR f.subscription_id IS NOT NULL`,
    [subscriptionIds],
  );
  return new Map(r.rows.map((row) => [row.subscription_id, { state: row.state, subscriptionStatus: row.subscription_status, fingerprint: row.fingerprint }]));
}

export async function openOrderIds(db: Db): Promise<string[]> {
  return (await db.query<{ subscription_id: string }>("SELECT subscription_id FROM orders WHERE state <> 'ended'")).rows.map((r) => r.subscription_id);
}

/**
 * Queues reviews, one every `spacingMs` from `firstDueAt` (a pass must not crowd out the events
 * arriving meanwhile), and records the fingerprints they were queued for. Review rows are timers:
 * they never die, however long Stripe is unavailable.
 */
export async function queueReviews(db: Db, passId: number, reviews: readonly ReviewRow[], firstDueAt: Date, spacingMs: number): Promise<void> {
  if (reviews.length === 0) return;
  await db.query(
    `WITH r AS (
       SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(subscription_id, type, fingerprint, n)
     ), events AS (
       INSERT INTO stripe_events (id, kind, type, subscription_id, payload, next_attempt_at)
       SELECT 'resync:' || $1::text || ':' || subscription_id, 'timer', type, subscription_id, '{}'::jsonb,
              $5::timestamptz + (n - 1) * $6::float8 * interval '1 millisecond'
         FROM r
       ON CONFLICT (id) DO NOTHING
     ), locks AS (
       INSERT INTO subscription_locks (subscription_id) SELECT subscription_id FROM r ON CONFLICT DO NOTHING
     )
     INSERT INTO resync_fingerprints (subscription_id, fingerprint)
     SELECT subscription_id, fingerprint FROM r WHERE fingerprint IS NOT NULL
     ON CONFLICT (subscription_id) DO UPDATE SET fingerprint = excluded.fingerprint, reviewed_at = now()`,
    [passId, reviews.map((r) => r.subscriptionId), reviews.map((r) => r.type), reviews.map((r) => r.fingerprint), firstDueAt, spacingMs],
  );
}

/** When the latest queued re-sync review is due: a new pass queues after it. */
export async function lastReviewDue(db: Db): Promise<Date | null> {
  const r = await db.query<{ due: Date | null }>("SELECT max(next_attempt_at) AS due FROM stripe_events WHERE state = 'pending' AND id LIKE 'resync:%'");
  return r.rows[0]?.due ?? null;
}

export interface PassCounts {
  listed: number;
  reviews: number;
  unlisted: number;
}

export async function startPass(db: Db): Promise<number> {
  const r = await db.query<{ id: string }>("INSERT INTO resync_passes DEFAULT VALUES RETURNING id");
  return Number(r.rows[0]?.id);
}

export async function finishPass(db: Db, id: number, counts: PassCounts, error: string | null): Promise<void> {
  await db.query("UPDATE resync_passes SET finished_at = now(), listed = $2, reviews = $3, unlisted = $4, error = $5 WHERE id = $1", [
    id,
    counts.listed,
    counts.reviews,
    counts.unlisted,
    error?.slice(0, 2000) ?? null,
  ]);
}

/** Milliseconds since the last pass that finished without error; null if none did. */
export async function sinceLastPass(db: Db): Promise<number | null> {
  const r = await db.query<{ ms: number | null }>(
    "SELECT (extract(epoch FROM now() - max(finished_at)) * 1000)::float8 AS ms FROM resync_passes WHERE finished_at IS NOT NULL AND error IS NULL",
  );
  return r.rows[0]?.ms ?? null;
}
