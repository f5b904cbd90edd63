// Pure: the catalog as the shop shows it. Items with a price are grouped by their Stripe product
// (one product, a monthly and a yearly price), and each product by what it sells: a kit, an
// add-on feature, a theme, extra users, a support upgrade, HTTPS.
import type { Catalog, CatalogItem, CatalogKit, PriceInterval } from "../catalog.ts";

export type Period = "month" | "year";
export const PERIODS: readonly Period[] = ["month", "year"];

export type OptionKind = "addon" | "theme" | "users" | "support" | "https";
export const OPTION_KINDS: readonly OptionKind[] = ["addon", "theme", "users", "support", "https"];

export interface PricedItem {
  /** The catalog item key, which is the Stripe price's lookup key. */
  lookupKey: string;
  amount: number;
  item: CatalogItem;
}

export interface OfferProduct {
  key: string;
  name: string;
  description: string | null;
  prices: Partial<Record<PriceInterval, PricedItem>>;
}

export interface OfferKit extends OfferProduct {
  kitName: string;
  kit: CatalogKit;
}

export interface OfferOption extends OfferProduct {
  kind: OptionKind;
}

export interface Offer {
  currency: string;
  managedZone: string;
  kits: OfferKit[];
  options: Record<OptionKind, OfferOption[]>;
}

export function buildOffer(catalog: Catalog): Offer {
  const products = new Map<string, OfferProduct & { first: CatalogItem }>();
  for (const [lookupKey, item] of Object.entries(catalog.items)) {
    if (item.price === undefined) continue;
    const key = item.price.product;
    const info = catalog.products[key];
    if (info === undefined) continue;
    const product = products.get(key) ?? { key, name: info.name, description: info.description ?? null, prices: {}, first: item };
    product.prices[item.price.interval] ??= { lookupKey, amount: item.price.amount, item };
    products.set(key, product);
  }
  const kits: OfferKit[] = [];
  const options: Record<OptionKind, OfferOption[]> = { addon: [], theme: [], users: [], support: [], https: [] };
  for (const { first, ...product } of products.values()) {
    if (first.kit !== undefined) {
      const kit = catalog.kits[first.kit];
      if (kit !== undefined) kits.push({ ...product, kitName: first.kit, kit });
      continue;
    }
    const kind = kindOf(first);
    options[kind].push({ ...product, kind });
  }
  return { currency: catalog.currency, managedZone: catalog.managedZone, kits, options };
}

function kindOf(item: CatalogItem): OptionKind {
  if (item.theme !== undefined) return "theme";
  if (item.usersPerUnit !== undefined) return "users";
  if (item.support !== undefined) return "support";
  if (item.https !== undefined && item.features === undefined) return "https";
  return "addon";
}

/** The price of a product for a billing period: a one-time price serves both. */
export function priceFor(product: OfferProduct, period: Period): (PricedItem & { interval: PriceInterval }) | undefined {
  const recurring = product.prices[period];
  if (recurring !== undefined) return { ...recurring, interval: period };
  const once = product.prices.once;
  return once === undefined ? undefined : { ...once, interval: "once" };
}
