// PostgreSQL: a domain held for one browser's Checkout Session. Taking a hold is one statement,
// so of two checkouts for the same free domain exactly one gets it; a hold ends when it expires,
// when creating the session fails, or when the session's order exists (the order holds it then).
import { createHash } from "node:crypto";
import type pg from "pg";

/** The holder id of a browser: a hash of its form-token cookie (the cookie itself is never stored). */
export function holderOf(cookie: string): string {
  return createHash("sha256").update(cookie).digest("base64url");
}

/**
 * Holds `domain` for `holder` until `expiresAt`, unless an order has it or another holder's hold
 * is still running; the holder's own earlier hold is renewed. False: not held.
 */
export async function holdDomain(pool: pg.Pool, domain: string, holder: string, expiresAt: Date): Promise<boolean> {
  await pool.query("DELETE FROM domain_reservations WHERE expires_at <= now()");
  const held = await pool.query(
    `INSERT INTO domain_reservations (domain, holder, expires_at)
     SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM orders WHERE domain = $1)
     ON CONFLICT (domain) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at, checkout_session_id = NULL, created_at = now()
       WHERE domain_reservations.expires_at <= now() OR domain_reservations.holder = EXCLUDED.holder
     RETURNING domain`,
    [domain, holder, expiresAt],
  );
  return held.rowCount === 1;
}

/** Records the Checkout Session a hold is for. */
export async function attachSession(pool: pg.Pool, domain: string, holder: string, checkoutSessionId: string): Promise<void> {
  await pool.query("UPDATE domain_reservations SET checkout_session_id = $3 WHERE domain = $1 AND holder = $2", [domain, holder, checkoutSessionId]);
}

/** The session could not be created: the domain is free again. */
export async function releaseHold(pool: pg.Pool, domain: string, holder: string): Promise<void> {
  await pool.query("DELETE FROM domain_reservations WHERE domain = $1 AND holder = $2 AND checkout_session_id IS NULL", [domain, holder]);
}

/** The session's order exists: it holds the domain now (or was parked, and then it is free again). */
export async function releaseSession(pool: pg.Pool, checkoutSessionId: string): Promise<void> {
  await pool.query("DELETE FROM domain_reservations WHERE checkout_session_id = $1", [checkoutSessionId]);
}

/** Whether someone other than `holder` holds `domain` now. */
export async function heldByOther(pool: pg.Pool, domain: string, holder: string | null): Promise<boolean> {
  const rows = await pool.query("SELECT 1 FROM domain_reservations WHERE domain = $1 AND expires_at > now() AND holder IS DISTINCT FROM $2", [domain, holder]);
  return rows.rowCount !== 0;
}
