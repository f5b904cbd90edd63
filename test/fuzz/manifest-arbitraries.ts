// fast-check arbitraries for HostedSite and AegirServer manifests that the schemas accept,
// built from the schemas' own patterns and bounds (crds/*.ts), so they follow the schemas.
import * as fc from "fast-check";
import { COMMAND_PATH_PATTERN, DRUSH_ALIAS_PATTERN, HOST_KEY_PATTERN, HOST_PATTERN, UNIX_USER_PATTERN } from "../../crds/aegirserver.ts";
import { API_VERSION } from "../../crds/group.ts";
import { MAX_ALIASES, MAX_FEATURES, MAX_USER_QUOTA, MIN_USER_QUOTA, RESERVED_USERNAMES } from "../../crds/hostedsite.ts";
import {
  DNS1123_LABEL_PATTERN,
  DNS1123_SUBDOMAIN_PATTERN,
  DRUPAL_ROLE_PATTERN,
  DRUPAL_USERNAME_PATTERN,
  EMAIL_PATTERN,
  FQDN_PATTERN,
  MACHINE_NAME_PATTERN,
} from "../../crds/primitives.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Strings of a pattern, at most `max` long (the schemas bound every string). */
const matching = (pattern: string, max: number) =>
  fc.stringMatching(new RegExp(pattern), { size: "small" }).filter((s) => s.length <= max);

export const fqdn = matching(FQDN_PATTERN, 253);
export const machineName = matching(MACHINE_NAME_PATTERN, 64);
export const dnsSubdomain = matching(DNS1123_SUBDOMAIN_PATTERN, 253);
export const dnsLabel = matching(DNS1123_LABEL_PATTERN, 63);
export const email = matching(EMAIL_PATTERN, 254);
const role = matching(DRUPAL_ROLE_PATTERN, 64);
const username = matching(DRUPAL_USERNAME_PATTERN, 60).filter((n) => !(RESERVED_USERNAMES as readonly string[]).includes(n));
/** Any printable text, Unicode included (well-formed: the CLI reads UTF-8). */
const displayName = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  // eslint-disable-next-line no-control-regex
  .filter((s) => s.length <= 128 && !/[\x00-\x1f\x7f]/.test(s));
const stripeId = (prefix: string) => fc.stringMatching(/^[A-Za-z0-9]{1,24}$/).map((s) => `${prefix}_${s}`);

/** RFC 3339 with a zone, on a date that exists; with or without fractions, Z or an offset. */
export const rfc3339 = fc
  .record({
    date: fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z"), noInvalidDate: true }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
    offset: fc.constantFrom("Z", "+00:00", "+05:30", "-08:00", "+14:00"),
  })
  .map(({ date, fraction, offset }) => `${date.toISOString().slice(0, 19)}${fraction === undefined ? "" : `.${fraction}`}${offset}`);

const labelKey = fc.stringMatching(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?$/);
const labelValue = fc.stringMatching(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,20})?[A-Za-z0-9])?$/);

function metadata(namespaced: boolean) {
  return fc.record(
    {
      name: dnsSubdomain,
      ...(namespaced ? { namespace: dnsLabel } : {}),
      labels: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }),
      annotations: fc.dictionary(labelKey, fc.string({ unit: "grapheme", maxLength: 30 }), { maxKeys: 3 }),
    },
    { requiredKeys: ["name"] },
  );
}

const support = fc.record(
  {
    tier: fc.constantFrom("Basic", "Standard", "Premium"),
    hours: fc.constantFrom("8x5", "24x7"),
    channels: fc.uniqueArray(fc.constantFrom("email", "phone", "forum"), { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: ["tier"] },
);

const owner = fc.record({ email, name: username, displayName, role }, { requiredKeys: ["email"] });

const order = fc.oneof(
  fc.record(
    { source: fc.constant("manual"), subscription: stripeId("sub"), customer: stripeId("cus"), checkoutSession: stripeId("cs") },
    { requiredKeys: ["source"] },
  ),
  fc.record(
    { source: fc.constant("stripe"), subscription: stripeId("sub"), customer: stripeId("cus"), checkoutSession: stripeId("cs_test") },
    { requiredKeys: ["source", "subscription", "customer"] },
  ),
);

export const hostedSiteSpec = fc
  .record(
    {
      domain: fqdn,
      aliases: fc.uniqueArray(fqdn, { maxLength: MAX_ALIASES }),
      https: fc.constantFrom("Disabled", "Enabled", "Required"),
      profile: machineName,
      platform: machineName,
      server: dnsSubdomain,
      features: fc.uniqueArray(machineName, { maxLength: MAX_FEATURES, size: "small" }),
      theme: machineName,
      userQuota: fc.integer({ min: MIN_USER_QUOTA, max: MAX_USER_QUOTA }),
      support,
      owner,
      expiresAt: rfc3339,
      suspended: fc.boolean(),
      deletionPolicy: fc.constantFrom("Delete", "Retain"),
      order,
    },
    { requiredKeys: ["domain", "profile", "userQuota", "support", "owner"] },
  )
  // The one cross-field rule: an alias must not repeat the domain.
  .map((spec) => (spec.aliases === undefined ? spec : { ...spec, aliases: spec.aliases.filter((a) => a !== spec.domain) }));

export const hostedSite = fc
  .record({ metadata: metadata(true), spec: hostedSiteSpec })
  .map(({ metadata: m, spec }): JsonObject => ({ apiVersion: API_VERSION, kind: "HostedSite", metadata: m, spec }));

const platform = fc.record({ name: machineName, profile: machineName, ownerRole: role }, { requiredKeys: ["name", "profile"] });

export const aegirServerSpec = fc.record(
  {
    host: matching(HOST_PATTERN, 253),
    port: fc.integer({ min: 1, max: 65535 }),
    user: matching(UNIX_USER_PATTERN, 32).filter((u) => u !== "root"),
    hostKeySHA256: fc.stringMatching(new RegExp(HOST_KEY_PATTERN)),
    privateKeySecretRef: fc.record(
      { name: dnsSubdomain, namespace: dnsLabel, key: fc.stringMatching(/^[-._a-zA-Z0-9]{1,40}$/) },
      { requiredKeys: ["name", "namespace"] },
    ),
    hostmasterAlias: matching(DRUSH_ALIAS_PATTERN, 253),
    drushPath: matching(COMMAND_PATH_PATTERN, 1024),
    capacity: fc.record(
      { maxSites: fc.integer({ min: 1, max: 100_000 }), maxConcurrentOperations: fc.integer({ min: 1, max: 32 }) },
      { requiredKeys: ["maxSites"] },
    ),
    platforms: fc.uniqueArray(platform, { minLength: 1, maxLength: 5, selector: (p) => p.name }),
    supportTracker: fc.record({
      site: matching(DRUSH_ALIAS_PATTERN, 253),
      tierRoles: fc.record({ Basic: role, Standard: role, Premium: role }),
    }),
  },
  { requiredKeys: ["host", "hostKeySHA256", "privateKeySecretRef", "capacity", "platforms"] },
);

export const aegirServer = fc
  .record({ metadata: metadata(false), spec: aegirServerSpec })
  .map(({ metadata: m, spec }): JsonObject => ({ apiVersion: API_VERSION, kind: "AegirServer", metadata: m, spec }));

export const manifest = fc.oneof(hostedSite, aegirServer);
