// The service catalog: which Stripe price (by lookup key, or by a product metadata value) sells
// which part of a HostedSite spec, and, for the items the shop sells, the Stripe product and
// price (name, description, amount, interval) that `catalog sync` creates. Loaded from YAML and
// validated with zod; every problem names the field, e.g. `items.addon_events.features[0]: must
// be a machine name ...`.
import { readFile } from "node:fs/promises";
import * as yaml from "js-yaml";
import { z } from "zod";
import { formatPath } from "../crds/manifests.ts";
import { BackupPolicy } from "../crds/backups.ts";
import { HttpsMode, MAX_USER_QUOTA, Support } from "../crds/hostedsite.ts";
import { dns1123Label, fqdn, machineName, uniqueList } from "../crds/primitives.ts";
import { duration } from "./config.ts";

export const DEFAULT_CATALOG_FILE = new URL("./default-catalog.yaml", import.meta.url);

const ITEM_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

const Kit = z.strictObject({
  profile: machineName(),
  platform: machineName().optional(),
  features: uniqueList(machineName(), 64).default([]),
  theme: machineName().optional(),
  https: HttpsMode.default("Disabled"),
  /** Users included with the kit; per-user items add to it. */
  userQuota: z
    .int({ error: "must be a whole number" })
    .min(0, { error: "must be at least 0" })
    .max(MAX_USER_QUOTA, { error: `must be at most ${MAX_USER_QUOTA}` }),
  support: Support,
  /**
   * A demo kit: the order becomes a HostedSpace in this shared HostedSite instead of a site of its
   * own, open for `days`; userQuota is its member quota. Upgrading to another kit creates the site.
   */
  space: z
    .strictObject({
      hostedSite: dns1123Label(),
      days: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).max(366, { error: "must be at most 366" }),
    })
    .optional(),
});

/** What the Stripe product shows the customer (Checkout, invoices, the Customer Portal, the shop). */
const Product = z.strictObject({
  name: z.string().trim().min(1, { error: "must not be empty" }).max(120, { error: "must be at most 120 characters" }),
  description: z.string().trim().min(1, { error: "must not be empty" }).max(500, { error: "must be at most 500 characters" }).optional(),
});

export const PRICE_INTERVALS = ["month", "year", "once"] as const;

/** The Stripe price an item is: its lookup key is the item key. */
const Price = z.strictObject({
  product: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, { error: "must name a product under products (a-z, 0-9, _)" }),
  /** In the currency's smallest unit (cents), as Stripe counts. */
  amount: z.int({ error: "must be a whole number of the currency's smallest unit (cents)" }).min(0, { error: "must be at least 0" }).max(99_999_999, { error: "must be at most 99999999" }),
  /** `once`: a one-time line item bought with the subscription. */
  interval: z.enum(PRICE_INTERVALS),
});

const ItemParts = ["kit", "features", "theme", "usersPerUnit", "support", "https"] as const;

const Item = z
  .strictObject({
    kit: dns1123Label().optional(),
    features: uniqueList(machineName(), 64).optional(),
    theme: machineName().optional(),
    /** Quota added per unit of the item's quantity (a per-user price). */
    usersPerUnit: z
      .int({ error: "must be a whole number" })
      .min(1, { error: "must be at least 1" })
      .max(MAX_USER_QUOTA, { error: `must be at most ${MAX_USER_QUOTA}` })
      .optional(),
    support: Support.optional(),
    https: HttpsMode.optional(),
    price: Price.optional(),
  })
  .refine((item) => ItemParts.some((k) => item[k] !== undefined), {
    error: `must sell something: set at least one of ${ItemParts.join(", ")}`,
    // A misspelt key is already reported as unrecognized; do not pile a second message on it.
    when: (payload) => payload.issues.length === 0,
  });

/** What a site does while a payment is disputed: only flagged (an annotation), or suspended too. */
const DisputeAction = z.enum(["flag", "suspend"], { error: "must be flag or suspend" });

/** The seller's rules for what Stripe leaves to the seller. Safe defaults: flag, never surprise. */
const Policies = z.strictObject({
  disputes: z
    .strictObject({
      /** While a dispute is open (from charge.dispute.created until it is closed). */
      open: DisputeAction.default("flag"),
      /** Once it is closed as lost: the money went back to the card holder. A won dispute clears it. */
      lost: DisputeAction.default("flag"),
    })
    .prefault({}),
  pausedCollection: z
    .strictObject({
      /** How long a subscription whose payment collection is paused keeps its site up before it is suspended. */
      grace: duration("30d"),
    })
    .prefault({}),
});

/**
 * Backup schedule and retention per support tier, written into each ordered site's spec.backups
 * (so a support upgrade changes the schedule too). A tier left out gets the controller's default.
 */
const TierBackups = z.strictObject({
  Basic: BackupPolicy.optional(),
  Standard: BackupPolicy.optional(),
  Premium: BackupPolicy.optional(),
});

const fieldKey = z.string().regex(/^[a-zA-Z0-9_]{1,40}$/, { error: "must be a Checkout custom field / metadata key (letters, digits, _)" });

export const Catalog = z
  .strictObject({
    /** Subdomains are created under this zone: `<subdomain>.<managedZone>`. */
    managedZone: fqdn(),
    domain: z
      .strictObject({
        subdomainField: fieldKey.default("subdomain"),
        customDomainField: fieldKey.default("domain"),
      })
      .default({ subdomainField: "subdomain", customDomainField: "domain" }),
    /** Product metadata key naming a catalog item, for prices without a known lookup key. */
    productMetadataKey: fieldKey.default("aegir_item"),
    /** ISO 4217 code, lowercase as Stripe writes it; the currency of every price. */
    currency: z.string().regex(/^[a-z]{3}$/, { error: "must be a lowercase ISO 4217 currency code like usd or eur" }).default("usd"),
    products: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, { error: "must be a product key (a-z, 0-9, _)" }), Product).default({}),
    kits: z.record(dns1123Label(), Kit).refine((kits) => Object.keys(kits).length > 0, { error: "must define at least one kit" }),
    items: z.record(z.string().regex(ITEM_KEY, { error: "must be a Stripe lookup key or metadata value (A-Z a-z 0-9 _ . : -)" }), Item),
    policies: Policies.prefault({}),
    backups: TierBackups.default({}),
  })
  .superRefine((catalog, ctx) => {
    for (const [key, item] of Object.entries(catalog.items)) {
      if (item.kit !== undefined && !(item.kit in catalog.kits)) {
        ctx.addIssue({ code: "custom", path: ["items", key, "kit"], message: `names kit "${item.kit}", which is not defined under kits` });
      }
      if (item.price !== undefined && !(item.price.product in catalog.products)) {
        ctx.addIssue({ code: "custom", path: ["items", key, "price", "product"], message: `names product "${item.price.product}", which is not defined under products` });
      }
      if (item.kit !== undefined && item.price?.interval === "once") {
        ctx.addIssue({ code: "custom", path: ["items", key, "price", "interval"], message: "a kit is a subscription: its price must be monthly or yearly" });
      }
    }
  });

export type Catalog = z.infer<typeof Catalog>;
export type CatalogKit = z.infer<typeof Kit>;
export type CatalogItem = z.infer<typeof Item>;
export type CatalogProduct = z.infer<typeof Product>;
export type CatalogPrice = z.infer<typeof Price>;
export type SellerPolicies = z.infer<typeof Policies>;
export type PriceInterval = CatalogPrice["interval"];

export class CatalogError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source}: invalid service catalog:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "CatalogError";
    this.problems = problems;
  }
}

/** Parses catalog YAML; throws CatalogError listing every problem with its field path. */
export function parseCatalog(text: string, source: string): Catalog {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    const where = error instanceof yaml.YAMLException && error.mark ? `line ${error.mark.line + 1}, column ${error.mark.column + 1}: ` : "";
    const reason = error instanceof yaml.YAMLException ? error.reason : String(error);
    throw new CatalogError(source, [`${where}YAML syntax error: ${reason}`]);
  }
  const result = Catalog.safeParse(doc);
  if (!result.success) {
    throw new CatalogError(
      source,
      result.error.issues.map((issue) => `${issue.path.length > 0 ? `${formatPath(issue.path)}: ` : ""}${issue.message}`),
    );
  }
  return result.data;
}

export async function loadCatalog(file: string | URL = DEFAULT_CATALOG_FILE): Promise<Catalog> {
  const source = typeof file === "string" ? file : "default catalog";
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CatalogError(source, [`cannot read: ${error instanceof Error ? error.message : String(error)}`]);
  }
  return parseCatalog(text, source);
}
