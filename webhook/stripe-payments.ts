// A payment's aftermath as Stripe reports it: the charge, its refunds and disputes, and the
// subscription whose invoice it paid. Zod-validated views and the thin SDK adapter that reads them.
// Since 2025-03-31.basil a charge no longer names its invoice: the way back is the charge's
// PaymentIntent, the invoice payment made with it, and that invoice's parent subscription.
import type Stripe from "stripe";
import { z } from "zod";
import { InvoiceObject, idOf, ref } from "./stripe-objects.ts";
import { call } from "./stripe-reader.ts";

const unixDate = z.int().transform((t) => new Date(t * 1000));
const Currency = z.string().regex(/^[a-z]{3}$/);

export const StripeCharge = z
  .object({ id: idOf("ch"), payment_intent: ref("pi").nullable().optional(), customer: ref("cus").nullable().optional() })
  .transform((c) => ({ id: c.id, paymentIntent: c.payment_intent ?? null, customerId: c.customer ?? null }));

export const StripeRefund = z
  .object({ id: idOf("re"), charge: ref("ch"), amount: z.int().min(0), currency: Currency, status: z.string().max(64).nullable(), created: unixDate })
  .transform((r) => ({ id: r.id, chargeId: r.charge, amount: r.amount, currency: r.currency, status: r.status ?? "unknown", created: r.created }));
export type RefundView = z.output<typeof StripeRefund>;
export const StripeRefundList = z.object({ data: z.array(StripeRefund), has_more: z.boolean() }).transform((l) => l.data);

export const StripeDispute = z
  .object({
    id: idOf("dp"),
    charge: ref("ch"),
    amount: z.int().min(0),
    currency: Currency,
    status: z.string().max(64),
    reason: z.string().max(64).nullable().optional(),
    created: unixDate,
  })
  .transform((d) => ({ id: d.id, chargeId: d.charge, amount: d.amount, currency: d.currency, status: d.status, reason: d.reason ?? null, created: d.created }));
export type DisputeView = z.output<typeof StripeDispute>;
const StripeDisputeList = z.object({ data: z.array(StripeDispute), has_more: z.boolean() }).transform((l) => l.data);

export const StripeInvoice = InvoiceObject.extend({ id: idOf("in") }).transform((i) => ({
  id: i.id,
  subscriptionId: i.parent?.subscription_details?.subscription ?? i.subscription ?? null,
}));
const InvoicePaymentList = z.object({ data: z.array(z.object({ invoice: z.union([idOf("in"), StripeInvoice]) })) });

export interface ChargeAftermath {
  chargeId: string;
  /** The subscription whose invoice the charge paid; null for a payment outside any subscription. */
  subscriptionId: string | null;
  refunds: RefundView[];
  disputes: DisputeView[];
}

export interface PaymentReader {
  charge(id: string): Promise<ChargeAftermath>;
}

const PAGE = 100;

export function paymentReader(stripe: Stripe): PaymentReader {
  return {
    async charge(id) {
      const charge = StripeCharge.parse(await call(() => stripe.charges.retrieve(id)));
      return {
        chargeId: charge.id,
        subscriptionId: charge.paymentIntent === null ? null : await subscriptionPaidBy(stripe, charge.paymentIntent),
        refunds: await all((startingAfter) => stripe.refunds.list({ charge: id, limit: PAGE, ...startingAfter }), StripeRefundList),
        disputes: await all((startingAfter) => stripe.disputes.list({ charge: id, limit: PAGE, ...startingAfter }), StripeDisputeList),
      };
    },
  };
}

async function subscriptionPaidBy(stripe: Stripe, paymentIntent: string): Promise<string | null> {
  const payments = InvoicePaymentList.parse(
    await call(() => stripe.invoicePayments.list({ payment: { type: "payment_intent", payment_intent: paymentIntent }, limit: 1, expand: ["data.invoice"] })),
  );
  const invoice = payments.data[0]?.invoice;
  if (invoice === undefined) return null;
  return typeof invoice === "string" ? StripeInvoice.parse(await call(() => stripe.invoices.retrieve(invoice))).subscriptionId : invoice.subscriptionId;
}

/** Every page of a list, by `starting_after`. */
async function all<T extends { id: string }>(
  fetchPage: (startingAfter: { starting_after?: string }) => Promise<unknown>,
  schema: z.ZodType<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const raw = (await call(() => fetchPage(out.length === 0 ? {} : { starting_after: (out.at(-1) as T).id }))) as { has_more?: unknown };
    const page = schema.parse(raw);
    out.push(...page);
    if (raw.has_more !== true || page.length === 0) return out;
  }
}
