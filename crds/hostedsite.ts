// HostedSite: one customer's hosted Drupal site, as ordered. The single source of truth for
// the CRD schema (generated from here) and for validation in the CLI, webhook and controller.
import { z } from "zod";
import { BackupPolicy, BackupsStatus } from "./backups.ts";
import { conditionList } from "./conditions.ts";
import {
  DISPLAY_NAME_PATTERN,
  DRUPAL_ROLE_PATTERN,
  DRUPAL_USERNAME_PATTERN,
  dns1123Subdomain,
  email,
  fqdn,
  machineName,
  rfc3339,
  uniqueList,
} from "./primitives.ts";

export const HttpsMode = z.enum(["Disabled", "Enabled", "Required"]);
export const SupportTier = z.enum(["Basic", "Standard", "Premium"]);
export const SupportHours = z.enum(["8x5", "24x7"]);
export const SupportChannel = z.enum(["email", "phone", "forum"]);
export const DeletionPolicy = z.enum(["Delete", "Retain"]);
export const OrderSource = z.enum(["stripe", "manual"]);

export const MIN_USER_QUOTA = 1;
export const MAX_USER_QUOTA = 100_000;
export const MAX_FEATURES = 64;
export const MAX_ALIASES = 16;
/** Names the site itself uses: the customer's account must never be (or shadow) uid 1. */
export const RESERVED_USERNAMES = ["admin", "root", "aegir", "anonymous"] as const;

const reservedUsernameRule = `!(self in [${RESERVED_USERNAMES.map((n) => `'${n}'`).join(", ")}])`;

export const Support = z
  .strictObject({
    tier: SupportTier.meta({ description: "Support tier; grants the matching role on the provider's support tracker" }),
    hours: SupportHours.default("8x5").meta({ description: "Support hours: 8x5 (business hours) or 24x7" }),
    channels: uniqueList(SupportChannel, 3)
      .min(1, { error: "must name at least one channel" })
      .default(["email"])
      .meta({ description: "Channels the customer may use" }),
  })
  .meta({ description: "The support contract that comes with the site" });

export const Owner = z
  .strictObject({
    email: email().meta({ description: "The customer's e-mail; receives the site's welcome mail" }),
    name: z
      .string()
      .max(60, { error: "must be at most 60 characters" })
      .regex(new RegExp(DRUPAL_USERNAME_PATTERN), {
        error: "must be a user name of lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
      })
      .refine((n) => !(RESERVED_USERNAMES as readonly string[]).includes(n), {
        error: `must not be one of the reserved names ${RESERVED_USERNAMES.join(", ")}`,
      })
      .optional()
      .meta({
        description: "Account name on the site; derived from the e-mail when empty",
        "x-kubernetes-validations": [
          { rule: reservedUsernameRule, message: `must not be one of the reserved names ${RESERVED_USERNAMES.join(", ")}` },
        ],
      }),
    displayName: z
      .string()
      .max(128, { error: "must be at most 128 characters" })
      .regex(new RegExp(DISPLAY_NAME_PATTERN), { error: "must not contain control characters" })
      .optional()
      .meta({ description: "The customer's full name, used in the welcome mail" }),
    role: z
      .string()
      .max(64, { error: "must be at most 64 characters" })
      .regex(new RegExp(DRUPAL_ROLE_PATTERN), { error: "must be a Drupal role name of lowercase words" })
      .optional()
      .meta({ description: "Site role for the owner; defaults to the platform's owner role (manager)" }),
  })
  .meta({ description: "The customer's own account on the site (never uid 1)" });

export const Order = z
  .strictObject({
    source: OrderSource,
    subscription: z.string().max(255).regex(/^sub_[A-Za-z0-9]+$/, { error: "must be a Stripe subscription id (sub_...)" }).optional(),
    customer: z.string().max(255).regex(/^cus_[A-Za-z0-9]+$/, { error: "must be a Stripe customer id (cus_...)" }).optional(),
    checkoutSession: z
      .string()
      .max(255)
      .regex(/^cs_[A-Za-z0-9_]+$/, { error: "must be a Stripe Checkout Session id (cs_...)" })
      .optional(),
    cancelAt: rfc3339()
      .optional()
      .meta({ description: "When the subscription will end, once its cancellation is scheduled (Stripe's cancel_at_period_end or cancel_at); the site runs until then" }),
  })
  .superRefine((order, ctx) => {
    if (order.source !== "stripe") return;
    for (const field of ["subscription", "customer"] as const) {
      if (order[field] === undefined) ctx.addIssue({ code: "custom", path: [field], message: "is required when source is stripe" });
    }
  })
  .meta({
    description: "Where the order came from",
    "x-kubernetes-validations": [
      {
        rule: "self.source != 'stripe' || (has(self.subscription) && has(self.customer))",
        message: "subscription and customer are required when source is stripe",
      },
    ],
  });

export const HostedSiteSpec = z
  .strictObject({
    domain: fqdn().meta({
      description: "The site's primary domain; the Aegir site URI. Immutable.",
      "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "domain is immutable" }],
    }),
    aliases: uniqueList(fqdn(), MAX_ALIASES).optional().meta({ description: "Extra domains served by the site" }),
    https: HttpsMode.default("Disabled").meta({ description: "HTTPS: Disabled, Enabled, or Required (redirect)" }),
    profile: machineName().meta({ description: "Install profile machine name, e.g. openatrium" }),
    platform: machineName().optional().meta({ description: "Aegir platform; defaults to the server's platform for the profile" }),
    server: dns1123Subdomain().optional().meta({ description: "AegirServer name; chosen by capacity when empty" }),
    features: uniqueList(machineName(), MAX_FEATURES).default([]).meta({ description: "Module machine names to enable" }),
    theme: machineName().optional().meta({ description: "Default theme machine name; the profile's default when empty" }),
    userQuota: z
      .int({ error: "must be a whole number" })
      .min(MIN_USER_QUOTA, { error: `must be at least ${MIN_USER_QUOTA}` })
      .max(MAX_USER_QUOTA, { error: `must be at most ${MAX_USER_QUOTA}` })
      .meta({ description: "Maximum number of active users" }),
    support: Support,
    owner: Owner,
    expiresAt: rfc3339().optional().meta({ description: "When the site is disabled (data kept)" }),
    suspended: z.boolean().default(false).meta({ description: "true disables the site (payment trouble); data kept" }),
    deletionPolicy: DeletionPolicy.default("Delete").meta({ description: "Delete (back up, then delete) or Retain" }),
    order: Order.optional(),
    backups: BackupPolicy.optional(),
  })
  .superRefine((spec, ctx) => {
    const index = spec.aliases?.indexOf(spec.domain) ?? -1;
    if (index >= 0) ctx.addIssue({ code: "custom", path: ["aliases", index], message: "must not repeat spec.domain" });
  })
  .meta({
    description: "The hosted site as ordered",
    "x-kubernetes-validations": [
      { rule: "!has(self.aliases) || !(self.domain in self.aliases)", message: "aliases must not repeat domain" },
    ],
  });

export const HostedSiteStatus = z
  .strictObject({
    observedGeneration: z.int().min(0).optional().meta({ format: "int64" }),
    server: dns1123Subdomain().optional().meta({ description: "The AegirServer the site was placed on" }),
    platform: machineName().optional(),
    url: z.string().max(2048).optional().meta({ description: "The site's address" }),
    owner: z
      .strictObject({
        name: z.string().max(60).optional(),
        uid: z.int().min(2).optional().meta({ description: "Drupal uid of the owner account (never 1)" }),
        welcomedAt: rfc3339().optional().meta({ description: "When the site sent its welcome mail" }),
        welcome: z.enum(["Sent", "Unconfirmed", "Failed"]).optional().meta({ description: "Outcome of the welcome mail" }),
      })
      .optional(),
    users: z
      .strictObject({
        active: z.int().min(0),
        quota: z.int().min(0),
      })
      .optional(),
    appliedFeatures: uniqueList(machineName(), MAX_FEATURES)
      .optional()
      .meta({ description: "Features the operator enabled; one removed from spec.features is disabled" }),
    support: z
      .strictObject({
        account: z.string().max(60).optional().meta({ description: "The owner's account on the support tracker" }),
        role: z.string().max(64).optional().meta({ description: "Tracker role granted for the tier" }),
      })
      .optional(),
    backups: BackupsStatus.optional(),
    conditions: conditionList(32).optional(),
  })
  .meta({ description: "What the controller observed and did" });

export type HostedSiteSpec = z.infer<typeof HostedSiteSpec>;
export type HostedSiteStatus = z.infer<typeof HostedSiteStatus>;
export type HostedSiteSpecInput = z.input<typeof HostedSiteSpec>;
