// Wires the storefront into the webhook service from its configuration: Stripe client for the
// writes, Kubernetes for the sites, the public address for Stripe's return links.
import { createHmac } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { Logger } from "../../common/logger.ts";
import type { Catalog } from "../catalog.ts";
import type { WebhookConfig } from "../config.ts";
import { createStripeClient } from "../stripe-reader.ts";
import { registerStorefront } from "./plugin.ts";
import { kubeSiteDirectory, type SiteDirectory } from "./site-directory.ts";
import { shopStripe } from "./stripe-checkout.ts";

/** Stripe's hosted Checkout and Customer Portal. */
const STRIPE_PAGES = ["https://checkout.stripe.com", "https://billing.stripe.com"];

export interface MountOptions {
  catalog: Catalog;
  pool: pg.Pool;
  logger: Logger;
  /** The service's own address, known once it listens. */
  ownUrl: () => string;
  sites?: SiteDirectory | undefined;
}

export function mountStorefront(app: FastifyInstance, config: WebhookConfig, options: MountOptions): void {
  registerStorefront(app, {
    catalog: options.catalog,
    pool: options.pool,
    stripe: shopStripe(createStripeClient({ apiKey: config.apiKey, apiBase: config.apiBase })),
    sites: options.sites ?? kubeSiteDirectory(config.namespace),
    logger: options.logger,
    prefix: config.storefrontPrefix,
    shopName: config.shopName,
    accent: config.shopAccent,
    dnsTarget: config.shopDnsTarget ?? options.catalog.managedZone,
    publicUrl: () => config.storefrontUrl ?? options.ownUrl(),
    // A local API stub serves its stand-ins for Stripe's pages itself.
    stripeOrigins: config.apiBase === undefined ? STRIPE_PAGES : [config.apiBase.origin],
    // The same on every replica without another secret to manage: derived from the signing secret.
    csrfKey: createHmac("sha256", config.webhookSecrets[0] ?? "").update("storefront form tokens").digest(),
    checkoutRateLimit: config.checkoutRateLimit,
  });
}
