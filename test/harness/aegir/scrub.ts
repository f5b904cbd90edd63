// The scrub-placeholder script on a simulated Drupal site: the placeholder domain (and, given the
// pool's zone, every spare domain of that zone the site names) replaced by the site's in every
// variable (nested values too) and every account's mail.
import type { DrupalSite } from "./drupal.ts";

function replaced(value: unknown, old: string, uri: string): unknown {
  if (typeof value === "string") return value.split(old).join(uri);
  if (Array.isArray(value)) return value.map((v) => replaced(v, old, uri));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaced(v, old, uri)]));
  return value;
}

const mentions = (value: unknown, old: string) => old !== "" && (JSON.stringify(value)?.includes(old) ?? false);

/** The spare domains of the zone the site names anywhere (a cloned spare carries its source's). */
function zoneDomains(drupal: DrupalSite, zone: string): string[] {
  const escaped = zone.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`spare-[0-9a-f]+-[0-9a-f]+\\.${escaped}`, "g");
  const texts = [...[...drupal.variables.values()].map((v) => JSON.stringify(v) ?? ""), ...[...drupal.users.values()].map((u) => u.mail)];
  return texts.flatMap((t) => t.match(pattern) ?? []);
}

export function scrubPlaceholder(drupal: DrupalSite, placeholder: string, uri: string, zone?: string): { variables: string[]; users: number; remaining: string[] } {
  const olds = [...new Set([placeholder, ...(zone === undefined ? [] : zoneDomains(drupal, zone))])];
  const variables = new Set<string>();
  let users = 0;
  const remaining = new Set<string>();
  for (const old of olds) {
    const one = scrubOne(drupal, old, uri);
    one.variables.forEach((v) => variables.add(v));
    users += one.users;
  }
  for (const old of olds) remainingOf(drupal, old).forEach((r) => remaining.add(r));
  return { variables: [...variables], users, remaining: [...remaining] };
}

function scrubOne(drupal: DrupalSite, old: string, uri: string): { variables: string[]; users: number } {
  const variables: string[] = [];
  for (const [name, value] of drupal.variables) {
    if (!mentions(value, old)) continue;
    drupal.variables.set(name, replaced(value, old, uri));
    variables.push(name);
  }
  let users = 0;
  for (const user of drupal.users.values()) {
    if (!mentions(user.mail, old)) continue;
    user.mail = user.mail.split(old).join(uri);
    users++;
  }
  return { variables, users };
}

function remainingOf(drupal: DrupalSite, old: string): string[] {
  return [
    ...[...drupal.variables].filter(([, value]) => mentions(value, old)).map(([name]) => name),
    ...[...drupal.users.values()].filter((u) => mentions(u.name, old) || mentions(u.mail, old)).map((u) => u.name),
  ];
}
