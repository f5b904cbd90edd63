// HostedSpace: the free/demo tier, an Open Atrium space (an Organic Groups group) inside a shared
// site instead of a whole site. The single source of truth for its CRD schema and validation.
import { z } from "zod";
import { conditionList } from "./conditions.ts";
import { DeletionPolicy, MAX_USER_QUOTA, MIN_USER_QUOTA, Owner, Order, Support } from "./hostedsite.ts";
import { DISPLAY_NAME_PATTERN, dns1123Subdomain, fqdn, machineName, rfc3339 } from "./primitives.ts";

export const SpaceVisibility = z.enum(["Public", "Private"]);

/** Space Blueprint term names: printable text of one line (a taxonomy term name is at most 255). */
const blueprintName = () =>
  z
    .string()
    .min(1, { error: "must not be empty" })
    .max(255, { error: "must be at most 255 characters" })
    .regex(new RegExp(DISPLAY_NAME_PATTERN), { error: "must not contain control characters" });

export const SharedSite = z
  .strictObject({
    hostedSite: dns1123Subdomain().optional().meta({ description: "A HostedSite in the same namespace; its server and domain are used" }),
    uri: fqdn().optional().meta({ description: "An Aegir site URI not managed as a HostedSite; needs server" }),
    server: dns1123Subdomain().optional().meta({ description: "The AegirServer hosting uri" }),
  })
  .superRefine((site, ctx) => {
    if ((site.hostedSite === undefined) === (site.uri === undefined)) ctx.addIssue({ code: "custom", path: [], message: "must name exactly one of hostedSite and uri" });
    if (site.uri !== undefined && site.server === undefined) ctx.addIssue({ code: "custom", path: ["server"], message: "is required with uri" });
    if (site.hostedSite !== undefined && site.server !== undefined) ctx.addIssue({ code: "custom", path: ["server"], message: "must not be set with hostedSite (the HostedSite's server is used)" });
  })
  .meta({
    description: "The shared site the space lives in. Immutable.",
    "x-kubernetes-validations": [
      { rule: "has(self.hostedSite) != has(self.uri)", message: "must name exactly one of hostedSite and uri" },
      { rule: "!has(self.uri) || has(self.server)", message: "server is required with uri" },
      { rule: "!has(self.hostedSite) || !has(self.server)", message: "server must not be set with hostedSite" },
      { rule: "self == oldSelf", message: "site is immutable" },
    ],
  });

export const HostedSpaceSpec = z
  .strictObject({
    site: SharedSite,
    title: z
      .string()
      .min(1, { error: "must not be empty" })
      .max(128, { error: "must be at most 128 characters" })
      .regex(new RegExp(DISPLAY_NAME_PATTERN), { error: "must not contain control characters" })
      .meta({ description: "The space's title as members see it" }),
    machineName: machineName().meta({
      description: "The space's identity on the shared site (unique there). Immutable.",
      "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "machineName is immutable" }],
    }),
    blueprint: blueprintName().default("Default").meta({ description: "Space Blueprint (space_type term) the space is created from" }),
    visibility: SpaceVisibility.default("Private").meta({ description: "Public (anyone may read) or Private (members only)" }),
    memberQuota: z
      .int({ error: "must be a whole number" })
      .min(MIN_USER_QUOTA, { error: `must be at least ${MIN_USER_QUOTA}` })
      .max(MAX_USER_QUOTA, { error: `must be at most ${MAX_USER_QUOTA}` })
      .meta({ description: "Maximum number of active members, the owner included; the site refuses more" }),
    owner: Owner,
    support: Support,
    expiresAt: rfc3339().optional().meta({ description: "When the space is archived (unpublished, content kept)" }),
    suspended: z.boolean().default(false).meta({ description: "true archives the space (payment trouble); content kept" }),
    supersededBy: z
      .strictObject({ hostedSite: dns1123Subdomain().meta({ description: "The HostedSite, in the same namespace" }) })
      .optional()
      .meta({ description: "The customer's own site that replaces this space (an upgrade): until it is Ready the space is kept open, whatever expiresAt says" }),
    deletionPolicy: DeletionPolicy.default("Delete").meta({ description: "Delete (the space node and its memberships) or Retain" }),
    order: Order.optional(),
  })
  .meta({ description: "The hosted space as ordered" });

export const HostedSpaceStatus = z
  .strictObject({
    observedGeneration: z.int().min(0).optional().meta({ format: "int64" }),
    server: dns1123Subdomain().optional().meta({ description: "The AegirServer of the shared site" }),
    siteUri: fqdn().optional().meta({ description: "The shared site's URI" }),
    nid: z.int().min(1).optional().meta({ description: "The space's node id on the shared site" }),
    url: z.string().max(2048).optional().meta({ description: "The space's address" }),
    owner: z
      .strictObject({
        name: z.string().max(60).optional(),
        uid: z.int().min(2).optional().meta({ description: "Drupal uid of the owner account (never 1)" }),
        welcomedAt: rfc3339().optional().meta({ description: "When the site sent the space's welcome mail" }),
        welcome: z.enum(["Sent", "Unconfirmed", "Failed"]).optional(),
      })
      .optional(),
    members: z.strictObject({ active: z.int().min(0), quota: z.int().min(0) }).optional(),
    conditions: conditionList(16).optional(),
  })
  .meta({ description: "What the controller observed and did" });

export type HostedSpaceSpec = z.infer<typeof HostedSpaceSpec>;
export type HostedSpaceStatus = z.infer<typeof HostedSpaceStatus>;
export type HostedSpaceSpecInput = z.input<typeof HostedSpaceSpec>;
