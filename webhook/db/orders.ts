// The order ledger's SQL: what the inbox worker loads before deciding, and how it saves the
// decision (order row, outbox manifest, grace timer) inside the worker's transaction.
import type pg from "pg";
import type { HostedSiteSpecInput } from "../../crds/hostedsite.ts";
import type { OrderManifest } from "../hostedspace-manifest.ts";
import type { OrderRecord, OrderState, StoredOrder } from "../order-decision.ts";

interface OrderRow {
  state: OrderState;
  customer_email: string | null;
  domain: string | null;
  checkout_session_id: string | null;
  past_due_since: Date | null;
  provisioned: boolean;
}

export async function loadOrder(client: pg.PoolClient, subscriptionId: string): Promise<StoredOrder | null> {
  const row = (
    await client.query<OrderRow>("SELECT state, customer_email, domain, checkout_session_id, past_due_since, provisioned FROM orders WHERE subscription_id = $1", [
      subscriptionId,
    ])
  ).rows[0];
  if (row === undefined) return null;
  return { state: row.state, customerEmail: row.customer_email, domain: row.domain, checkoutSessionId: row.checkout_session_id, pastDueSince: row.past_due_since, provisioned: row.provisioned };
}

/** The HostedSite spec last handed to the relay, if any (alone, or in a List beside a HostedSpace). */
export async function loadLastSpec(client: pg.PoolClient, subscriptionId: string): Promise<HostedSiteSpecInput | null> {
  const r = await client.query<{ spec: HostedSiteSpecInput }>(
    `SELECT COALESCE(item, manifest)->'spec' AS spec FROM outbox
       LEFT JOIN LATERAL (SELECT i AS item FROM jsonb_array_elements(CASE WHEN manifest->>'kind' = 'List' THEN manifest->'items' END) i WHERE i->>'kind' = 'HostedSite') s ON true
      WHERE subscription_id = $1 AND (manifest->>'kind' <> 'List' OR item IS NOT NULL)`,
    [subscriptionId],
  );
  return r.rows[0]?.spec ?? null;
}

/** The other subscription holding `domain`, if any. */
export async function domainOwner(client: pg.PoolClient, domain: string, subscriptionId: string): Promise<string | null> {
  const r = await client.query<{ subscription_id: string }>("SELECT subscription_id FROM orders WHERE domain = $1 AND subscription_id <> $2", [
    domain,
    subscriptionId,
  ]);
  return r.rows[0]?.subscription_id ?? null;
}

export interface LastEvent {
  id: string;
  type: string;
}

/** Records that events were seen without changing the order (a redelivered Checkout Session). */
export async function touchOrder(client: pg.PoolClient, subscriptionId: string, last: LastEvent): Promise<void> {
  await client.query("UPDATE orders SET last_event_id = $2, last_event_type = $3, updated_at = now() WHERE subscription_id = $1", [subscriptionId, last.id, last.type]);
}

export interface OrderPlacement {
  subscriptionId: string;
  namespace: string;
  siteName: string;
}

export async function saveOrder(client: pg.PoolClient, at: OrderPlacement, o: OrderRecord, last: LastEvent): Promise<void> {
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
      at.subscriptionId,
      o.customerId,
      o.customerEmail,
      o.checkoutSessionId,
      o.domain,
      o.options === null ? null : JSON.stringify(o.options),
      at.namespace,
      at.siteName,
      o.state,
      o.reason,
      o.subscriptionStatus,
      o.pastDueSince,
      o.provisioned,
      last.id,
      last.type,
    ],
  );
}

/** Hands a manifest to the relay; resolves true when it differs from the last one (a new version). */
export async function saveManifest(client: pg.PoolClient, subscriptionId: string, manifest: OrderManifest): Promise<boolean> {
  const written = await client.query(
    `INSERT INTO outbox (subscription_id, manifest) VALUES ($1, $2)
     ON CONFLICT (subscription_id) DO UPDATE SET
       manifest = excluded.manifest, version = outbox.version + 1, attempts = 0,
       next_attempt_at = now(), last_error = NULL, updated_at = now()
     WHERE outbox.manifest IS DISTINCT FROM excluded.manifest`,
    [subscriptionId, JSON.stringify(manifest)],
  );
  return (written.rowCount ?? 0) > 0;
}

/** A durable timer: re-evaluate at `at` (the end of a grace period) even if Stripe sends nothing. */
export async function scheduleReview(client: pg.PoolClient, subscriptionId: string, at: Date): Promise<void> {
  await client.query(
    `INSERT INTO stripe_events (id, kind, type, subscription_id, payload, next_attempt_at)
     VALUES ($1, 'timer', 'timer.grace_period_ended', $2, '{}'::jsonb, $3) ON CONFLICT (id) DO NOTHING`,
    [`timer:grace:${subscriptionId}:${at.toISOString()}`, subscriptionId, at],
  );
}
