// Pure: what a set of purchased Stripe items means as HostedSite spec parts, per the catalog.
// Anything the catalog does not know, or a contradictory combination, yields a reason instead,
// so the order is parked rather than guessed at.
import { MAX_USER_QUOTA, MIN_USER_QUOTA, type HostedSiteSpecInput } from "../crds/hostedsite.ts";
import type { Catalog, CatalogItem } from "./catalog.ts";
import type { PurchasedItem } from "./stripe-objects.ts";

export type SpecParts = Required<Pick<HostedSiteSpecInput, "profile" | "features" | "https" | "userQuota" | "support">> &
  Pick<HostedSiteSpecInput, "platform" | "theme" | "backups">;

export interface ChosenOptions {
  kit: string;
  /** Catalog item keys with their quantities, in purchase order. */
  items: { item: string; quantity: number }[];
}

export type MappingResult = { ok: true; parts: SpecParts; chosen: ChosenOptions } | { ok: false; reason: string };

const HTTPS_RANK = { Disabled: 0, Enabled: 1, Required: 2 } as const;

/** The catalog item a purchased item stands for: its price's lookup key, else its product's metadata. */
export function catalogKeyOf(catalog: Catalog, item: PurchasedItem): string | undefined {
  if (item.lookupKey !== null && Object.hasOwn(catalog.items, item.lookupKey)) return item.lookupKey;
  const byProduct = item.productMetadata[catalog.productMetadataKey];
  if (byProduct !== undefined && Object.hasOwn(catalog.items, byProduct)) return byProduct;
  return undefined;
}

export function mapPurchase(catalog: Catalog, purchased: readonly PurchasedItem[]): MappingResult {
  const unknown: string[] = [];
  const chosen: { key: string; item: CatalogItem; quantity: number }[] = [];
  for (const p of purchased) {
    if (p.quantity === 0) continue;
    const key = catalogKeyOf(catalog, p);
    if (key === undefined) {
      unknown.push(`price ${p.priceId}${p.lookupKey === null ? " (no lookup key)" : ` (lookup key "${p.lookupKey}")`}`);
      continue;
    }
    chosen.push({ key, item: catalog.items[key] as CatalogItem, quantity: p.quantity });
  }
  if (unknown.length > 0) return { ok: false, reason: `items not in the service catalog: ${unknown.join(", ")}` };

  const kits = distinct(chosen.flatMap((c) => (c.item.kit === undefined ? [] : [c.item.kit])));
  if (kits.length === 0) return { ok: false, reason: `no product kit among the items (one of ${Object.keys(catalog.kits).join(", ")} is required)` };
  if (kits.length > 1) return { ok: false, reason: `several product kits in one subscription: ${kits.join(", ")}` };
  const kitName = kits[0] as string;
  const kit = catalog.kits[kitName];
  if (kit === undefined) return { ok: false, reason: `kit "${kitName}" is not defined in the catalog` };

  const themes = distinct(chosen.flatMap((c) => (c.item.theme === undefined ? [] : [c.item.theme])));
  if (themes.length > 1) return { ok: false, reason: `several premium themes: ${themes.join(", ")}` };

  const supports = distinctBy(chosen.flatMap((c) => (c.item.support === undefined ? [] : [c.item.support])), (s) => JSON.stringify(s));
  if (supports.length > 1) return { ok: false, reason: `several support upgrades: ${supports.map((s) => `${s.tier} ${s.hours}`).join(", ")}` };

  const features = distinct([...kit.features, ...chosen.flatMap((c) => c.item.features ?? [])]);
  let https = kit.https;
  for (const c of chosen) if (c.item.https !== undefined && HTTPS_RANK[c.item.https] > HTTPS_RANK[https]) https = c.item.https;
  const userQuota = kit.userQuota + chosen.reduce((sum, c) => sum + (c.item.usersPerUnit ?? 0) * c.quantity, 0);
  if (userQuota < MIN_USER_QUOTA || userQuota > MAX_USER_QUOTA) {
    return { ok: false, reason: `user quota ${userQuota} is outside ${MIN_USER_QUOTA}..${MAX_USER_QUOTA}` };
  }

  const parts: SpecParts = {
    profile: kit.profile,
    features,
    https,
    userQuota,
    support: supports[0] ?? kit.support,
  };
  if (kit.platform !== undefined) parts.platform = kit.platform;
  const theme = themes[0] ?? kit.theme;
  if (theme !== undefined) parts.theme = theme;
  const backups = catalog.backups[parts.support.tier];
  if (backups !== undefined) parts.backups = backups;
  return { ok: true, parts, chosen: { kit: kitName, items: chosen.map((c) => ({ item: c.key, quantity: c.quantity })) } };
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function distinctBy<T>(values: readonly T[], key: (v: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const v of values) if (!seen.has(key(v))) seen.set(key(v), v);
  return [...seen.values()];
}
