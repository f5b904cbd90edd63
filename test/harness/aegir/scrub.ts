// The scrub-placeholder script on a simulated Drupal site: the placeholder domain replaced by the
// site's in every variable (nested values too) and every account's mail.
import type { DrupalSite } from "./drupal.ts";

function replaced(value: unknown, old: string, uri: string): unknown {
  if (typeof value === "string") return value.split(old).join(uri);
  if (Array.isArray(value)) return value.map((v) => replaced(v, old, uri));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaced(v, old, uri)]));
  return value;
}

const mentions = (value: unknown, old: string) => old !== "" && (JSON.stringify(value)?.includes(old) ?? false);

export function scrubPlaceholder(drupal: DrupalSite, old: string, uri: string): { variables: string[]; users: number; remaining: string[] } {
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
  const remaining = [
    ...[...drupal.variables].filter(([, value]) => mentions(value, old)).map(([name]) => name),
    ...[...drupal.users.values()].filter((u) => mentions(u.name, old) || mentions(u.mail, old)).map((u) => u.name),
  ];
  return { variables, users, remaining };
}
