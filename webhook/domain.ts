// Pure: the site's domain from what the customer typed at Checkout (custom fields) or what the
// order carries in metadata, validated with the HostedSite patterns.
import { domainToASCII } from "node:url";
import type { Catalog } from "./catalog.ts";
import { dns1123Label, fqdn } from "../crds/primitives.ts";

export type DomainResult = { ok: true; domain: string } | { ok: false; reason: string };

/** `sources` in order of precedence, e.g. [checkout custom fields, checkout metadata, subscription metadata]. */
export function resolveDomain(catalog: Catalog, sources: readonly Record<string, string>[]): DomainResult {
  const { subdomainField, customDomainField } = catalog.domain;
  for (const source of sources) {
    const custom = normalize(source[customDomainField]);
    if (custom !== "") return customDomain(catalog, custom);
    const sub = normalize(source[subdomainField]);
    if (sub !== "") return subdomain(catalog, sub);
  }
  return {
    ok: false,
    reason: `no domain: the order names neither a subdomain (field "${subdomainField}") nor its own domain (field "${customDomainField}")`,
  };
}

function normalize(value: string | undefined): string {
  return (value ?? "").trim().toLowerCase().replace(/\.$/, "");
}

function subdomain(catalog: Catalog, label: string): DomainResult {
  const checked = dns1123Label().safeParse(label);
  if (!checked.success) return { ok: false, reason: `subdomain "${printable(label)}": ${checked.error.issues[0]?.message ?? "invalid"}` };
  const domain = `${label}.${catalog.managedZone}`;
  const full = fqdn().safeParse(domain);
  return full.success ? { ok: true, domain } : { ok: false, reason: `domain "${domain}": ${full.error.issues[0]?.message ?? "invalid"}` };
}

function customDomain(catalog: Catalog, domain: string): DomainResult {
  const checked = fqdn().safeParse(domain);
  if (!checked.success) return { ok: false, reason: `domain "${printable(domain)}": ${checked.error.issues[0]?.message ?? "invalid"}` };
  const zone = catalog.managedZone;
  if (domain === zone || domain.endsWith(`.${zone}`)) {
    return { ok: false, reason: `domain "${domain}" is inside the managed zone ${zone}: order it as a subdomain instead` };
  }
  return { ok: true, domain };
}

/** Customer input goes into reasons and logs: keep it short and free of control characters. */
function printable(value: string): string {
  const cleaned = value.replace(/[^\x20-\x7e]/g, "?");
  return cleaned.length > 80 ? `${cleaned.slice(0, 80)}...` : cleaned;
}

/** An e-mail address with its domain in ASCII (punycode), the form the HostedSite and Drupal take. */
export function asciiEmail(address: string): string {
  const trimmed = address.trim();
  const at = trimmed.lastIndexOf("@");
  if (at < 0) return trimmed;
  const domain = domainToASCII(trimmed.slice(at + 1));
  return domain === "" ? trimmed : `${trimmed.slice(0, at)}@${domain}`;
}
