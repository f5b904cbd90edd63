// The storefront's options, part of `aegir-operator webhook`'s (see ../config.ts).
import { z } from "zod";
import { bool } from "../../common/config.ts";
import { contrastRatio, MIN_TEXT_CONTRAST } from "./contrast.ts";
import { TrustProxy } from "./trust-proxy.ts";

/** Form-token keys, current first: the others are still accepted while a key is rotated. */
const formKeys = z
  .string()
  .optional()
  .transform((v) => (v ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""))
  .pipe(z.array(z.string().min(32, { error: "each key must be at least 32 characters (e.g. openssl rand -base64 32)" })).max(4, { error: "at most 4 keys (the current one, then previous ones)" }));

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
  trustProxy: {
    flag: "trust-proxy",
    env: "TRUST_PROXY",
    schema: TrustProxy,
    description: "proxies whose X-Forwarded-For names the client (for the checkout rate limit): their number in front of this service, or their addresses/CIDRs comma-separated (default none: the peer address)",
  },
  storefrontFormKeys: {
    flag: "storefront-form-key",
    env: "STOREFRONT_FORM_KEY",
    schema: formKeys,
    description: "key signing the shop's form tokens, required with --storefront; while rotating, the new key, a comma, then the previous one",
    secret: true,
  },
};
