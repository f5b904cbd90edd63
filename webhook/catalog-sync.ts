// Pure: what `catalog sync` must change in Stripe so that its products and prices match the
// catalog. Prices are immutable in Stripe (amount, currency, interval), so a changed price is a
// new price that takes the lookup key over (transfer_lookup_key); the old one keeps its
// subscriptions. Nothing is ever deleted: prices the catalog no longer names are only reported.
import type { Catalog, PriceInterval } from "./catalog.ts";

export interface RemoteProduct {
  id: string;
  name: string;
  description: string | null;
  active: boolean;
}

export interface RemotePrice {
  id: string;
  product: string;
  lookupKey: string | null;
  currency: string;
  /** null for prices this code cannot compare (tiered, custom amounts). */
  amount: number | null;
  /** null for an interval the catalog cannot express (weekly, every 3 months...). */
  interval: PriceInterval | null;
  active: boolean;
}

export interface RemoteCatalog {
  products: readonly RemoteProduct[];
  prices: readonly RemotePrice[];
}

export interface PriceTerms {
  amount: number;
  currency: string;
  interval: PriceInterval;
}

export type SyncAction =
  | { kind: "create-product"; productId: string; name: string; description: string | null }
  | { kind: "update-product"; productId: string; name: string; description: string | null; active: true; was: RemoteProduct }
  | { kind: "create-price"; lookupKey: string; productId: string; terms: PriceTerms; replaces: RemotePrice | null }
  | { kind: "activate-price"; lookupKey: string; priceId: string };

export interface SyncPlan {
  actions: SyncAction[];
  /** Active prices of the catalog's products that no catalog item names: reported, never deleted. */
  unnamed: RemotePrice[];
}

/** Stripe accepts our own product ids; a stable id makes a product findable without a search. */
export function productId(productKey: string): string {
  return `aegir_${productKey}`;
}

export function planCatalogSync(catalog: Catalog, remote: RemoteCatalog): SyncPlan {
  const actions: SyncAction[] = [];
  const productsById = new Map(remote.products.map((p) => [p.id, p]));
  for (const [key, wanted] of Object.entries(catalog.products)) {
    const id = productId(key);
    const description = wanted.description ?? null;
    const have = productsById.get(id);
    if (have === undefined) actions.push({ kind: "create-product", productId: id, name: wanted.name, description });
    else if (have.name !== wanted.name || have.description !== description || !have.active) {
      actions.push({ kind: "update-product", productId: id, name: wanted.name, description, active: true, was: have });
    }
  }

  const named = new Set<string>();
  for (const [lookupKey, item] of Object.entries(catalog.items)) {
    if (item.price === undefined) continue;
    named.add(lookupKey);
    const terms: PriceTerms = { amount: item.price.amount, currency: catalog.currency, interval: item.price.interval };
    const wantedProduct = productId(item.price.product);
    const holder = remote.prices.find((p) => p.lookupKey === lookupKey);
    if (holder !== undefined && holder.product === wantedProduct && sameTerms(holder, terms)) {
      if (!holder.active) actions.push({ kind: "activate-price", lookupKey, priceId: holder.id });
      continue;
    }
    actions.push({ kind: "create-price", lookupKey, productId: wantedProduct, terms, replaces: holder ?? null });
  }

  const ours = new Set(Object.keys(catalog.products).map(productId));
  const unnamed = remote.prices.filter((p) => p.active && ours.has(p.product) && (p.lookupKey === null || !named.has(p.lookupKey)));
  return { actions, unnamed };
}

function sameTerms(price: RemotePrice, terms: PriceTerms): boolean {
  return price.amount === terms.amount && price.currency === terms.currency && price.interval === terms.interval;
}

/** `99.00 usd / month`: amounts in the smallest unit shown with two decimals, as most currencies use. */
export function describeTerms(terms: { amount: number | null; currency: string; interval: PriceInterval | null }): string {
  const amount = terms.amount === null ? "(not a fixed amount)" : (terms.amount / 100).toFixed(2);
  const interval = terms.interval === null ? "(other interval)" : terms.interval === "once" ? "once" : `/ ${terms.interval}`;
  return `${amount} ${terms.currency} ${interval}`;
}

/** One line per change, as the CLI prints them. */
export function describeAction(action: SyncAction): string {
  switch (action.kind) {
    case "create-product":
      return `create product ${action.productId} ${JSON.stringify(action.name)}`;
    case "update-product": {
      const changes: string[] = [];
      if (action.was.name !== action.name) changes.push(`name ${JSON.stringify(action.was.name)} -> ${JSON.stringify(action.name)}`);
      if (action.was.description !== action.description) changes.push("description");
      if (!action.was.active) changes.push("reactivated");
      return `update product ${action.productId}: ${changes.join(", ")}`;
    }
    case "create-price":
      return action.replaces === null
        ? `create price ${action.lookupKey}: ${describeTerms(action.terms)} (product ${action.productId})`
        : `replace price ${action.lookupKey}: ${action.replaces.id} ${describeTerms(action.replaces)} -> ${describeTerms(action.terms)} (product ${action.productId}); the old price keeps its subscriptions`;
    case "activate-price":
      return `reactivate price ${action.lookupKey} (${action.priceId})`;
  }
}

export function describeUnnamed(price: RemotePrice): string {
  const key = price.lookupKey === null ? "no lookup key" : `lookup key ${JSON.stringify(price.lookupKey)}`;
  return `not in the catalog, left as is: price ${price.id} (${key}, ${describeTerms(price)}, product ${price.product})`;
}
