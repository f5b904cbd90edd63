// Thin adapter for `catalog sync`: reads the catalog's products and prices from Stripe and
// applies a plan's actions, one API call each.
import Stripe from "stripe";
import { z } from "zod";
import type { Catalog } from "./catalog.ts";
import { productId, type RemoteCatalog, type RemotePrice, type RemoteProduct, type SyncAction } from "./catalog-sync.ts";

const StripeProduct = z.object({ id: z.string(), name: z.string(), description: z.string().nullable().optional(), active: z.boolean() });
const StripePrice = z.object({
  id: z.string(),
  product: z.union([z.string(), z.object({ id: z.string() }).transform((p) => p.id)]),
  lookup_key: z.string().nullable().optional(),
  currency: z.string(),
  unit_amount: z.int().nullable().optional(),
  type: z.enum(["recurring", "one_time"]),
  recurring: z.object({ interval: z.string(), interval_count: z.int() }).nullable().optional(),
  active: z.boolean(),
});

/** Stripe's `lookup_keys` filter takes at most 10 keys per request. */
const LOOKUP_KEYS_PER_LIST = 10;

export async function readRemoteCatalog(stripe: Stripe, catalog: Catalog): Promise<RemoteCatalog> {
  const products: RemoteProduct[] = [];
  const prices = new Map<string, RemotePrice>();
  for (const key of Object.keys(catalog.products)) {
    const id = productId(key);
    const product = await stripe.products.retrieve(id).catch((error: unknown) => {
      if (error instanceof Stripe.errors.StripeError && error.statusCode === 404) return null;
      throw error;
    });
    if (product === null) continue;
    const p = StripeProduct.parse(product);
    products.push({ id: p.id, name: p.name, description: p.description ?? null, active: p.active });
    for await (const price of stripe.prices.list({ product: id, limit: 100 })) prices.set(price.id, remotePrice(price));
  }
  // A lookup key may also sit on a price of another product (made by hand): it is transferred too.
  const keys = Object.entries(catalog.items).flatMap(([key, item]) => (item.price === undefined ? [] : [key]));
  for (let i = 0; i < keys.length; i += LOOKUP_KEYS_PER_LIST) {
    for await (const price of stripe.prices.list({ lookup_keys: keys.slice(i, i + LOOKUP_KEYS_PER_LIST), limit: 100 })) prices.set(price.id, remotePrice(price));
  }
  return { products, prices: [...prices.values()] };
}

function remotePrice(raw: unknown): RemotePrice {
  const p = StripePrice.parse(raw);
  const recurring = p.recurring;
  let interval: RemotePrice["interval"] = null;
  if (p.type === "one_time") interval = "once";
  else if (recurring != null && recurring.interval_count === 1 && (recurring.interval === "month" || recurring.interval === "year")) interval = recurring.interval;
  return { id: p.id, product: p.product, lookupKey: p.lookup_key ?? null, currency: p.currency, amount: p.unit_amount ?? null, interval, active: p.active };
}

export async function applySyncAction(stripe: Stripe, action: SyncAction): Promise<void> {
  switch (action.kind) {
    case "create-product":
      await stripe.products.create({ id: action.productId, name: action.name, ...(action.description === null ? {} : { description: action.description }) });
      return;
    case "update-product":
      // An empty string is how Stripe's API unsets a description.
      await stripe.products.update(action.productId, { name: action.name, description: action.description ?? "", active: true });
      return;
    case "create-price": {
      const { terms } = action;
      await stripe.prices.create({
        product: action.productId,
        currency: terms.currency,
        unit_amount: terms.amount,
        lookup_key: action.lookupKey,
        ...(action.replaces === null ? {} : { transfer_lookup_key: true }),
        ...(terms.interval === "once" ? {} : { recurring: { interval: terms.interval } }),
      });
      return;
    }
    case "activate-price":
      await stripe.prices.update(action.priceId, { active: true });
      return;
  }
}
