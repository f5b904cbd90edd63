// Pure: a customer's choice, read from the shop's form, checked field by field, and priced.
// The combination is checked with the webhook's own mapping and domain rules, so whatever the
// shop lets through to Stripe is an order the webhook provisions as quoted.
import { SupportTier } from "../../crds/hostedsite.ts";
import type { Catalog, PriceInterval } from "../catalog.ts";
import { mapPurchase, type SpecParts } from "../catalog-mapping.ts";
import { resolveDomain } from "../domain.ts";
import { PERIODS, priceFor, type Offer, type OfferKit, type OfferOption, type OfferProduct, type OptionKind, type Period } from "./offer.ts";

export type SiteChoice = "subdomain" | "own";

export interface Choice {
  period: Period;
  kit: string;
  addons: string[];
  theme: string;
  support: string;
  https: string;
  /** Extra users: quantity per users product. */
  quantities: Record<string, number>;
  site: SiteChoice;
  subdomain: string;
  domain: string;
}

export interface Problem {
  /** The form field at fault (its input's name), or "form" for the form as a whole. */
  field: string;
  message: string;
}

export interface Line {
  product: OfferProduct;
  lookupKey: string;
  quantity: number;
  /** Unit amount, in the currency's smallest unit. */
  amount: number;
  interval: PriceInterval;
}

export interface Quote {
  choice: Choice;
  kit: OfferKit | undefined;
  lines: Line[];
  /** Per period, and once. */
  recurringTotal: number;
  oneTimeTotal: number;
  /** The site's domain, when one was entered and is valid. */
  domain: string | null;
  /** Where the webhook reads the domain: Checkout Session (and subscription) metadata. */
  domainMetadata: Record<string, string>;
  parts: SpecParts | null;
  problems: Problem[];
}

export const MAX_EXTRA_QUANTITY = 10_000;
/** Fields the shop's forms send besides the choice itself. */
const PASS_THROUGH = new Set(["csrf", "cancelled"]);
const SINGLE = ["period", "kit", "theme", "support", "https", "site", "subdomain", "domain"] as const;
const TIER_RANK = Object.fromEntries(SupportTier.options.map((t, i) => [t, i])) as Record<string, number>;

/** The choice a form (or query string) makes; every field not understood is a problem. */
export function readChoice(offer: Offer, form: URLSearchParams): { choice: Choice; problems: Problem[] } {
  const problems: Problem[] = [];
  const one = (name: (typeof SINGLE)[number]): string => {
    const values = form.getAll(name);
    if (values.length > 1) problems.push({ field: name, message: `${name} was sent ${values.length} times; choose one` });
    return (values[0] ?? "").trim();
  };
  const usersProducts = new Set(offer.options.users.map((o) => o.key));
  const quantities: Record<string, number> = {};
  for (const name of new Set(form.keys())) {
    if ((SINGLE as readonly string[]).includes(name) || name === "addon" || PASS_THROUGH.has(name)) continue;
    const product = name.startsWith("qty_") ? name.slice(4) : undefined;
    if (product === undefined || !usersProducts.has(product)) {
      problems.push({ field: "form", message: `the form sent a field this shop does not have (${printable(name)}); reload the page and try again` });
      continue;
    }
    const raw = (form.get(name) ?? "").trim();
    const quantity = raw === "" ? 0 : Number(raw);
    if (!/^\d{1,6}$/.test(raw === "" ? "0" : raw) || quantity > MAX_EXTRA_QUANTITY) {
      problems.push({ field: name, message: `enter a whole number of ${productName(offer, product)} from 0 to ${MAX_EXTRA_QUANTITY}` });
      continue;
    }
    quantities[product] = quantity;
  }

  const periodRaw = one("period") || "month";
  const period = (PERIODS as readonly string[]).includes(periodRaw) ? (periodRaw as Period) : "month";
  if (period !== periodRaw) problems.push({ field: "period", message: "choose monthly or yearly billing" });

  const kit = one("kit");
  if (kit !== "" && !offer.kits.some((k) => k.key === kit)) problems.push({ field: "kit", message: `there is no kit "${printable(kit)}"; choose one of ${offer.kits.map((k) => k.name).join(", ")}` });

  const known = (kind: OptionKind, value: string, field: string) => {
    if (value !== "" && !offer.options[kind].some((o) => o.key === value)) problems.push({ field, message: `there is no ${field} "${printable(value)}" in this shop` });
    return value;
  };
  const addons = [...new Set(form.getAll("addon").map((a) => a.trim()))].filter((a) => known("addon", a, "addon") !== "");
  const theme = known("theme", one("theme"), "theme");
  const support = known("support", one("support"), "support");
  const https = known("https", one("https"), "https");

  const siteRaw = one("site") || "subdomain";
  const site: SiteChoice = siteRaw === "own" ? "own" : "subdomain";
  if (siteRaw !== site) problems.push({ field: "site", message: "choose a subdomain or your own domain" });

  return { choice: { period, kit, addons, theme, support, https, quantities, site, subdomain: one("subdomain"), domain: one("domain") }, problems };
}

/** Prices the choice and checks the combination; `requireComplete` for checkout (kit and domain needed). */
export function quote(catalog: Catalog, offer: Offer, read: { choice: Choice; problems: Problem[] }, requireComplete: boolean): Quote {
  const { choice } = read;
  const problems = [...read.problems];
  const kit = offer.kits.find((k) => k.key === choice.kit);
  const lines: Line[] = [];
  const add = (product: OfferProduct, field: string, quantity: number) => {
    const price = priceFor(product, choice.period);
    if (price === undefined) {
      problems.push({ field, message: `${product.name} is not sold with ${choice.period === "month" ? "monthly" : "yearly"} billing` });
      return;
    }
    lines.push({ product, lookupKey: price.lookupKey, quantity, amount: price.amount, interval: price.interval });
  };

  if (kit === undefined) {
    if (requireComplete && choice.kit === "") problems.push({ field: "kit", message: "choose a kit" });
  } else {
    add(kit, "kit", 1);
    for (const key of choice.addons) {
      const addon = find(offer.options.addon, key);
      if (addon === undefined) continue;
      const features = priceFor(addon, choice.period)?.item.features ?? [];
      if (features.length > 0 && features.every((f) => kit.kit.features.includes(f))) {
        problems.push({ field: "addon", message: `${addon.name} is already included in ${kit.name}` });
      } else add(addon, "addon", 1);
    }
    const theme = find(offer.options.theme, choice.theme);
    if (theme !== undefined) {
      if (priceFor(theme, choice.period)?.item.theme === kit.kit.theme) problems.push({ field: "theme", message: `${theme.name} is already included in ${kit.name}` });
      else add(theme, "theme", 1);
    }
    const support = find(offer.options.support, choice.support);
    const upgrade = support === undefined ? undefined : priceFor(support, choice.period)?.item.support;
    if (support !== undefined && upgrade !== undefined) {
      const [up, base] = [TIER_RANK[upgrade.tier] ?? 0, TIER_RANK[kit.kit.support.tier] ?? 0];
      const better = up > base || (up === base && upgrade.hours === "24x7" && kit.kit.support.hours !== "24x7");
      if (!better) {
        problems.push({ field: "support", message: `${support.name} is not an upgrade of ${kit.name}'s ${kit.kit.support.tier} support` });
      } else add(support, "support", 1);
    }
    const https = find(offer.options.https, choice.https);
    if (https !== undefined) {
      if (kit.kit.https === "Required") problems.push({ field: "https", message: `${kit.name} already serves every visit over HTTPS` });
      else add(https, "https", 1);
    }
    for (const users of offer.options.users) {
      const quantity = choice.quantities[users.key] ?? 0;
      if (quantity > 0) add(users, `qty_${users.key}`, quantity);
    }
  }

  let parts: SpecParts | null = null;
  if (kit !== undefined && problems.length === 0) {
    const mapped = mapPurchase(
      catalog,
      lines.map((l) => ({ priceId: l.lookupKey, lookupKey: l.lookupKey, productMetadata: {}, quantity: l.quantity })),
    );
    if (mapped.ok) parts = mapped.parts;
    else problems.push({ field: "form", message: `this combination cannot be sold: ${mapped.reason}` });
  }

  const { domain, domainMetadata } = siteDomain(catalog, choice, requireComplete, problems);
  const total = (once: boolean) => lines.filter((l) => (l.interval === "once") === once).reduce((sum, l) => sum + l.amount * l.quantity, 0);
  return { choice, kit, lines, recurringTotal: total(false), oneTimeTotal: total(true), domain, domainMetadata, parts, problems };
}

function siteDomain(catalog: Catalog, choice: Choice, required: boolean, problems: Problem[]): { domain: string | null; domainMetadata: Record<string, string> } {
  const field = choice.site === "own" ? "domain" : "subdomain";
  const typed = choice.site === "own" ? choice.domain : choice.subdomain;
  if (typed === "") {
    if (required) problems.push({ field, message: choice.site === "own" ? "enter your domain, like intranet.example.com" : "choose a subdomain, like acme" });
    return { domain: null, domainMetadata: {} };
  }
  const key = choice.site === "own" ? catalog.domain.customDomainField : catalog.domain.subdomainField;
  const resolved = resolveDomain(catalog, [{ [key]: typed }]);
  if (!resolved.ok) {
    problems.push({ field, message: resolved.reason });
    return { domain: null, domainMetadata: {} };
  }
  const value = choice.site === "own" ? resolved.domain : resolved.domain.slice(0, -(catalog.managedZone.length + 1));
  return { domain: resolved.domain, domainMetadata: { [key]: value } };
}

/** The choice as a query string, for links back to the cart. */
export function choiceQuery(choice: Choice): string {
  const q = new URLSearchParams({ period: choice.period, kit: choice.kit });
  for (const a of choice.addons) q.append("addon", a);
  for (const [name, value] of [["theme", choice.theme], ["support", choice.support], ["https", choice.https]] as const) if (value !== "") q.set(name, value);
  for (const [product, quantity] of Object.entries(choice.quantities)) if (quantity > 0) q.set(`qty_${product}`, String(quantity));
  q.set("site", choice.site);
  if (choice.subdomain !== "") q.set("subdomain", choice.subdomain);
  if (choice.domain !== "") q.set("domain", choice.domain);
  return q.toString();
}

function find(options: readonly OfferOption[], key: string): OfferOption | undefined {
  return key === "" ? undefined : options.find((o) => o.key === key);
}

function productName(offer: Offer, key: string): string {
  return offer.options.users.find((o) => o.key === key)?.name.toLowerCase() ?? key;
}

/** Form values go back onto the page and into logs: short and printable. */
function printable(value: string): string {
  const cleaned = value.replace(/[^\x20-\x7e]/g, "?");
  return cleaned.length > 40 ? `${cleaned.slice(0, 40)}...` : cleaned;
}
