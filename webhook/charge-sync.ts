// The inbox worker's step for a charge's events (charge.refunded, charge.dispute.*): re-read the
// charge's refunds and disputes from Stripe, record them on the order whose invoice the charge
// paid, and queue that order's review so the seller policies decide again. Level-triggered: any
// event of the charge, in any order, records the same current state.
import type pg from "pg";
import { queuePaymentReview, recordAftermath } from "./db/payment-aftermath.ts";
import type { PaymentReader } from "./stripe-payments.ts";

export interface ChargeSynced {
  /** The order the charge paid; null when it paid nothing this webhook sells. */
  subscriptionId: string | null;
  disputes: number;
  refunds: number;
}

export async function syncCharge(client: pg.PoolClient, payments: PaymentReader, chargeId: string, lastEventId: string): Promise<ChargeSynced> {
  const aftermath = await payments.charge(chargeId);
  const sub = aftermath.subscriptionId;
  const known = sub !== null && (await client.query("SELECT 1 FROM orders WHERE subscription_id = $1", [sub])).rowCount === 1;
  if (!known) return { subscriptionId: null, disputes: aftermath.disputes.length, refunds: aftermath.refunds.length };
  await recordAftermath(client, sub, aftermath);
  await queuePaymentReview(client, sub, lastEventId);
  return { subscriptionId: sub, disputes: aftermath.disputes.length, refunds: aftermath.refunds.length };
}
