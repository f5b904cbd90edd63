// Zod building blocks shared by the HostedSite and AegirServer schemas.
// Every pattern here is RE2-compatible (no look-around, no back-references) so the same
// expression is enforced by zod in the CLI/webhook and by the API server from the CRD.
import { z } from "zod";

const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";

/** Lowercase FQDN: two or more labels of <= 63 chars, no wildcard, no trailing dot. */
export const FQDN_PATTERN = `^(${LABEL}\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`;
/** Drupal/Aegir machine name (module, theme, profile, platform). */
export const MACHINE_NAME_PATTERN = "^[a-z][a-z0-9_]*$";
/** Kubernetes object name (DNS-1123 subdomain). */
export const DNS1123_SUBDOMAIN_PATTERN = `^${LABEL}(\\.${LABEL})*$`;
/** Kubernetes namespace or label-like name (DNS-1123 label). */
export const DNS1123_LABEL_PATTERN = `^${LABEL}$`;
/**
 * Practical e-mail address: the dot-atom local part without the characters that have a
 * meaning to a shell or to PHP (`$`, backtick, quotes, braces, `|`, ...), and a DNS domain.
 */
// The local part is an RFC 5322 dot-atom (o'brien, a+b, x/y...), as Stripe and Drupal 7 accept it;
// internationalised domains arrive in their ASCII (punycode) form.
export const EMAIL_PATTERN =
  "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$";
/** RFC 3339 date-time with a mandatory offset (`Z` or `+hh:mm`). */
export const RFC3339_PATTERN =
  "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";
/** Drupal user name as the operator creates it: lowercase, no spaces, shell-inert. */
export const DRUPAL_USERNAME_PATTERN = "^[a-z0-9][a-z0-9._-]*$";
/** Drupal role name: words of lowercase letters, digits, `_` or `-`, single spaces between. */
export const DRUPAL_ROLE_PATTERN = "^[a-z][a-z0-9_-]*( [a-z0-9_-]+)*$";
/** Person's display name: printable text without control characters. */
export const DISPLAY_NAME_PATTERN = "^[^\\x00-\\x1f\\x7f]+$";

export const MAX_DOMAIN_LENGTH = 253;
export const MAX_MACHINE_NAME_LENGTH = 64;

export const fqdn = () =>
  z
    .string()
    .max(MAX_DOMAIN_LENGTH, { error: `must be at most ${MAX_DOMAIN_LENGTH} characters` })
    .regex(new RegExp(FQDN_PATTERN), {
      error:
        "must be a lowercase fully qualified domain name (letters a-z, digits, '-', labels of at most 63 characters, no wildcard, no trailing dot)",
    });

export const machineName = () =>
  z
    .string()
    .max(MAX_MACHINE_NAME_LENGTH, { error: `must be at most ${MAX_MACHINE_NAME_LENGTH} characters` })
    .regex(new RegExp(MACHINE_NAME_PATTERN), {
      error: "must be a machine name: a lowercase letter, then lowercase letters, digits or '_'",
    });

export const email = () =>
  z
    .string()
    .max(254, { error: "must be at most 254 characters" })
    .regex(new RegExp(EMAIL_PATTERN), { error: "must be an e-mail address like name@example.com" });

/** RFC 3339 timestamp; the calendar date must exist (no 30 February). */
export const rfc3339 = () =>
  z
    .string()
    .max(64, { error: "must be at most 64 characters" })
    .regex(new RegExp(RFC3339_PATTERN), {
      error: "must be an RFC 3339 date-time with a time zone, like 2027-01-31T00:00:00Z",
    })
    .refine(isRealDate, { error: "must be a date that exists in the calendar" })
    .meta({ format: "date-time" });

function isRealDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split("-").map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export const dns1123Subdomain = () =>
  z
    .string()
    .max(253, { error: "must be at most 253 characters" })
    .regex(new RegExp(DNS1123_SUBDOMAIN_PATTERN), {
      error: "must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.')",
    });

export const dns1123Label = () =>
  z
    .string()
    .max(63, { error: "must be at most 63 characters" })
    .regex(new RegExp(DNS1123_LABEL_PATTERN), { error: "must be a lowercase RFC 1123 label (a-z, 0-9, '-')" });

/**
 * A list with set semantics: duplicates are an error (reported at the duplicate's index),
 * matching `x-kubernetes-list-type: set` on the API server.
 */
export function uniqueList<T extends z.ZodType<string>>(item: T, maxItems: number) {
  return z
    .array(item)
    .max(maxItems, { error: `must have at most ${maxItems} items` })
    .superRefine((values, ctx) => {
      const seen = new Set<string>();
      values.forEach((value, index) => {
        if (seen.has(value)) ctx.addIssue({ code: "custom", path: [index], message: `duplicate value "${value}"` });
        seen.add(value);
      });
    })
    .meta({ "x-kubernetes-list-type": "set" });
}

/**
 * A list of objects keyed by one field, like `x-kubernetes-list-type: map`: two entries with
 * the same key are an error.
 */
export function keyedList<T extends z.ZodObject, K extends string & keyof z.infer<T>>(item: T, key: K, maxItems: number) {
  return z
    .array(item)
    .max(maxItems, { error: `must have at most ${maxItems} items` })
    .superRefine((values, ctx) => {
      const seen = new Set<unknown>();
      values.forEach((value, index) => {
        const k = (value as Record<string, unknown>)[key];
        if (seen.has(k)) ctx.addIssue({ code: "custom", path: [index], message: `duplicate ${key} "${String(k)}"` });
        seen.add(k);
      });
    })
    .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [key] });
}
