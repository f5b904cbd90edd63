// The order ledger's SQL: what the inbox worker loads before deciding, and how it saves the
// decision (order row, outbox manifest, grace timer) inside the worker's transaction.
import type pg from "pg";
import type { HostedSiteSpecInput } from "../../crds/hostedsite.ts";
import type { OrderManifest } from "../hostedspace-manifest.ts";
import { manifestSpecField } from "./manifest-fields.ts";
import type { DomainHolder, DomainRelease, OrderRecord, OrderState, StoredOrder } from "../order-decision.ts";

interface OrderRow {
  state: OrderState;
  customer_email: string | null;
  domain: string | null;
  checkout_session_id: string | null;
  past_due_since: Date | null;
  provisioned: boolean;
  site_name: string;
  domain_released_to: string | null;
}

export async function loadOrder(client: pg.PoolClient, subscriptionId: string): Promise<StoredOrder | null> {
  const row = (
    await client.query<OrderRow>(
      "SELECT state, customer_email, domain, checkout_session_id, past_due_since, provisioned, site_name, domain_released_to FROM orders WHERE subscription_id = $1",
      [subscriptionId],
    )
  ).rows[0];
  if (row === undefined) return null;
  return {
    state: row.state,
    customerEmail: row.customer_email,
    domain: row.domain,
    checkoutSessionId: row.checkout_session_id,
    pastDueSince: row.past_due_since,
    provisioned: row.provisioned,
    siteName: row.site_name,
    domainReleasedTo: row.domain_released_to,
  };
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

interface HolderRow {
  subscription_id: string;
  customer_id: string | null;
  subscription_status: string | null;
  site_name: string;
  expires_at: string | null;
  has_site: boolean;
}

/**
 * The other order holding `domain`, if any. Its row stays locked until the transaction ends, so
 * the holder cannot be decided on meanwhile while the domain may be taken from it.
 */
export async function domainOwner(client: pg.PoolClient, domain: string, subscriptionId: string): Promise<DomainHolder | null> {
  const r = await client.query<HolderRow>(
    `SELECT o.subscription_id, o.customer_id, o.subscription_status, o.site_name,
            ${manifestSpecField("x", "expiresAt")} AS expires_at, x.subscription_id IS NOT NULL AS has_site
       FROM orders o LEFT JOIN outbox x USING (subscription_id)
      WHERE o.domain = $1 AND o.subscription_id <> $2
        FOR UPDATE OF o`,
    [domain, subscriptionId],
  );
  const row = r.rows[0];
  if (row === undefined) return null;
  return {
    subscriptionId: row.subscription_id,
    customerId: row.customer_id,
    subscriptionStatus: row.subscription_status,
    siteName: row.has_site ? row.site_name : null,
    siteExpiresAt: row.expires_at === null ? null : new Date(row.expires_at),
  };
}

/**
 * Takes the domain from the ended order that held it. With the site handed over, that order's
 * outbox row goes too: the relay must never apply its older manifest over the new owner's.
 */
export async function releaseDomain(client: pg.PoolClient, release: DomainRelease, to: string): Promise<void> {
  const how = release.handOver ? "domain and HostedSite handed over" : "domain released";
  await client.query("UPDATE orders SET domain = NULL, domain_released_to = $2, reason = $3, updated_at = now() WHERE subscription_id = $1", [
    release.from,
    to,
    `${how} to subscription ${to}`,
  ]);
  if (release.handOver) await client.query("DELETE FROM outbox WHERE subscription_id = $1", [release.from]);
}

/** Queues a review of the parked orders waiting for `domain`: its holder has ended. */
export async function reviewDomainWaiters(client: pg.PoolClient, domain: string, last: LastEvent): Promise<void> {
  await client.query(
    `INSERT INTO stripe_events (id, kind, type, subscription_id, payload)
     SELECT 'review:domain:' || $2 || ':' || subscription_id, 'timer', 'review.domain_holder_ended', subscription_id, '{}'::jsonb
       FROM orders WHERE wanted_domain = $1 AND state = 'parked'
     ON CONFLICT (id) DO NOTHING`,
    [domain, last.id],
  );
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
}

export async function saveOrder(client: pg.PoolClient, at: OrderPlacement, o: OrderRecord, last: LastEvent): Promise<void> {
  await client.query(
    `INSERT INTO orders (subscription_id, customer_id, customer_email, checkout_session_id, domain, options, site_namespace, site_name,
                         state, reason, subscription_status, past_due_since, provisioned, last_event_id, last_event_type, wanted_domain)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
     ON CONFLICT (subscription_id) DO UPDATE SET
       customer_id = excluded.customer_id, customer_email = excluded.customer_email,
       checkout_session_id = excluded.checkout_session_id, domain = excluded.domain,
       options = COALESCE(excluded.options, orders.options), site_name = excluded.site_name,
       state = excluded.state, reason = excluded.reason,
       subscription_status = excluded.subscription_status, past_due_since = excluded.past_due_since,
       provisioned = excluded.provisioned, last_event_id = excluded.last_event_id,
       last_event_type = excluded.last_event_type, wanted_domain = excluded.wanted_domain, updated_at = now()`,
    [
      at.subscriptionId,
      o.customerId,
      o.customerEmail,
      o.checkoutSessionId,
      o.domain,
      o.options === null ? null : JSON.stringify(o.options),
      at.namespace,
      o.siteName,
      o.state,
      o.reason,
      o.subscriptionStatus,
      o.pastDueSince,
      o.provisioned,
      last.id,
      last.type,
      o.wantedDomain,
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

/** A durable timer: re-evaluate at `at` (the end of a grace period, a domain's release) even if Stripe sends nothing. */
export async function scheduleReview(client: pg.PoolClient, subscriptionId: string, at: Date, why: "grace_period_ended" | "domain_released"): Promise<void> {
  const tag = why === "grace_period_ended" ? "grace" : "domain";
  await client.query(
    `INSERT INTO stripe_events (id, kind, type, subscription_id, payload, next_attempt_at)
     VALUES ($1, 'timer', $2, $3, '{}'::jsonb, $4) ON CONFLICT (id) DO NOTHING`,
    [`timer:${tag}:${subscriptionId}:${at.toISOString()}`, `timer.${why}`, subscriptionId, at],
  );
}
