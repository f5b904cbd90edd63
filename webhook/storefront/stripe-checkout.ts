// Thin Stripe adapter for the shop: the prices of a quote by lookup key, the Checkout Session
// (mode subscription; Stripe collects the e-mail) and the Customer Portal session.
import type Stripe from "stripe";
import type { Line } from "./cart.ts";

export interface CheckoutRequest {
  lines: readonly Line[];
  /** The domain, under the keys the webhook reads (session and subscription metadata). */
  metadata: Record<string, string>;
  successUrl: string;
  cancelUrl: string;
}

export interface ShopStripe {
  createCheckout(request: CheckoutRequest): Promise<{ url: string }>;
  portal(customerId: string, returnUrl: string): Promise<{ url: string }>;
}

/** The catalog has not been synced to Stripe (`catalog sync`): a seller's problem, not the customer's. */
export class MissingPriceError extends Error {
  constructor(lookupKeys: string[]) {
    super(`no active Stripe price has the lookup key ${lookupKeys.join(", ")}; run aegir-operator catalog sync`);
    this.name = "MissingPriceError";
  }
}

const LOOKUP_KEYS_PER_LIST = 10;

export function shopStripe(stripe: Stripe): ShopStripe {
  return {
    async createCheckout(request) {
      const keys = [...new Set(request.lines.map((l) => l.lookupKey))];
      const ids = new Map<string, string>();
      for (let i = 0; i < keys.length; i += LOOKUP_KEYS_PER_LIST) {
        const page = await stripe.prices.list({ lookup_keys: keys.slice(i, i + LOOKUP_KEYS_PER_LIST), active: true, limit: 100 });
        for (const price of page.data) if (price.lookup_key != null) ids.set(price.lookup_key, price.id);
      }
      const missing = keys.filter((k) => !ids.has(k));
      if (missing.length > 0) throw new MissingPriceError(missing);
      const session = await stripe.checkout.sessions.create({
        mode: "subscription",
        line_items: request.lines.map((l) => ({ price: ids.get(l.lookupKey) as string, quantity: l.quantity })),
        metadata: request.metadata,
        subscription_data: { metadata: request.metadata },
        success_url: request.successUrl,
        cancel_url: request.cancelUrl,
      });
      if (session.url == null) throw new Error(`checkout session ${session.id} has no url`);
      return { url: session.url };
    },
    async portal(customerId, returnUrl) {
      const session = await stripe.billingPortal.sessions.create({ customer: customerId, return_url: returnUrl });
      return { url: session.url };
    },
  };
}
