// The storefront's options, part of `aegir-operator webhook`'s (see ../config.ts).
import { z } from "zod";
import { bool } from "../../common/config.ts";
import { contrastRatio, MIN_TEXT_CONTRAST } from "./contrast.ts";

export const STOREFRONT_OPTIONS = {
  storefront: { flag: "storefront", env: "STOREFRONT", schema: bool(false), description: "serve the shop pages (catalog, cart, checkout, order progress) (default false)" },
  storefrontPrefix: {
    flag: "storefront-prefix",
    env: "STOREFRONT_PREFIX",
    schema: z.string().regex(/^\/[a-z0-9-]{1,40}$/, { error: "must be one path segment like /shop" }).default("/shop"),
    description: "path the shop is served under (default /shop)",
  },
  storefrontUrl: {
    flag: "storefront-url",
    env: "STOREFRONT_URL",
    schema: z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL" })
      .optional()
      .transform((u) => (u === undefined ? undefined : u.replace(/\/$/, ""))),
    description: "address customers reach this service at, for Stripe's return links; its own address when unset",
  },
  shopName: { flag: "shop-name", env: "SHOP_NAME", schema: z.string().trim().min(1).max(60).default("Open Atrium Hosting"), description: "the seller's name on every page (default Open Atrium Hosting)" },
  shopAccent: {
    flag: "shop-accent",
    env: "SHOP_ACCENT",
    schema: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, { error: "must be a colour like #1d4ed8" })
      .refine((c) => contrastRatio(c, "#ffffff") >= MIN_TEXT_CONTRAST, { error: `must be dark enough for white text (contrast at least ${MIN_TEXT_CONTRAST}:1)` })
      .default("#1d4ed8"),
    description: "the seller's brand colour for buttons and headings (default #1d4ed8)",
  },
  shopDnsTarget: {
    flag: "shop-dns-target",
    env: "SHOP_DNS_TARGET",
    schema: z.string().regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, { error: "must be a host name" }).optional(),
    description: "host an own domain's CNAME record points to; the catalog's managed zone when unset",
  },
  checkoutRateLimit: {
    flag: "checkout-rate-limit",
    env: "CHECKOUT_RATE_LIMIT",
    schema: z.coerce.number().int().min(1).max(10_000).default(10),
    description: "checkouts one client address may start per minute (default 10)",
  },
};
