// Loads what deciding one subscription needs: its stored order and last spec from the ledger, its
// current state from Stripe (never from the event payloads), and who holds the domain it asks for.
import type pg from "pg";
import type { Catalog } from "./catalog.ts";
import { loadDemoSpec } from "./db/order-spaces.ts";
import { domainOwner, loadLastSpec } from "./db/orders.ts";
import { requestedDomain, type DecisionInput, type StoredOrder } from "./order-decision.ts";
import { PermanentError, type StripeReader } from "./stripe-reader.ts";

export type StripeInputs = Pick<DecisionInput, "subscription" | "checkout" | "customer" | "lastSpec" | "domainOwner">;

export async function loadOrderInputs(
  client: pg.PoolClient,
  reader: StripeReader,
  catalog: Catalog,
  subscriptionId: string,
  existing: StoredOrder | null,
  /** The Checkout Session named by the events being processed, if any. */
  eventSessionId: string | null,
): Promise<StripeInputs> {
  const subscription = await reader.subscription(subscriptionId);
  const sessionId = eventSessionId ?? existing?.checkoutSessionId ?? null;
  const checkout = sessionId !== null ? await reader.checkoutSession(sessionId) : await reader.checkoutSessionOf(subscriptionId);
  if (checkout !== null && checkout.subscriptionId !== null && checkout.subscriptionId !== subscriptionId) {
    throw new PermanentError(`checkout session ${checkout.id} belongs to ${checkout.subscriptionId}, not ${subscriptionId}`);
  }
  const customer = await reader.customer(subscription.customerId);
  // A demo's outbox holds only its space: the spec that space was made from stands in.
  const lastSpec = (await loadLastSpec(client, subscriptionId)) ?? (await loadDemoSpec(client, subscriptionId));
  const domain = requestedDomain(catalog, subscription, checkout, existing);
  return { subscription, checkout, customer, lastSpec, domainOwner: domain === null ? null : await domainOwner(client, domain, subscriptionId) };
}
