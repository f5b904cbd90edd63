// PostgreSQL reads of the order ledger the inbox worker writes: an order by its Checkout Session,
// and whether a domain is already sold.
import type pg from "pg";
import type { OrderState } from "../order-decision.ts";
import type { LedgerOrder } from "./progress.ts";

interface Row {
  state: OrderState;
  provisioned: boolean;
  customer_email: string | null;
  customer_id: string | null;
  domain: string | null;
  site_namespace: string;
  site_name: string;
}

export async function orderBySession(pool: pg.Pool, checkoutSessionId: string): Promise<LedgerOrder | null> {
  const row = (
    await pool.query<Row>(
      "SELECT state, provisioned, customer_email, customer_id, domain, site_namespace, site_name FROM orders WHERE checkout_session_id = $1",
      [checkoutSessionId],
    )
  ).rows[0];
  if (row === undefined) return null;
  return {
    state: row.state,
    provisioned: row.provisioned,
    customerEmail: row.customer_email,
    customerId: row.customer_id,
    domain: row.domain,
    siteNamespace: row.site_namespace,
    siteName: row.site_name,
  };
}

export async function domainOrdered(pool: pg.Pool, domain: string): Promise<boolean> {
  return (await pool.query("SELECT 1 FROM orders WHERE domain = $1 LIMIT 1", [domain])).rowCount !== 0;
}
