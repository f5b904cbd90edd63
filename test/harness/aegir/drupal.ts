// The Drupal 7 side of one site: what `drush @site …` reads and changes.
import type { ProfileSpec } from "./platforms.ts";

export interface DrupalUser {
  uid: number;
  name: string;
  mail: string;
  /** users.status: 1 active, 0 blocked. */
  status: 0 | 1;
  /** Role names besides "authenticated user". */
  roles: string[];
  created: number;
}

export interface SentMail {
  to: string;
  uid: number;
  /** drupal_mail key, e.g. `register_admin_created` (the welcome mail) or `install`. */
  kind: string;
  subject: string;
  /** Unix seconds. */
  at: number;
}

export interface DrupalSite {
  profile: string;
  /** Enabled modules, in the order they were enabled; the profile counts as a module in D7. */
  modules: string[];
  themes: string[];
  variables: Map<string, unknown>;
  /** Roles besides anonymous and authenticated user. */
  roles: string[];
  users: Map<number, DrupalUser>;
  nextUid: number;
  outbox: SentMail[];
}

export interface InstallOptions {
  uri: string;
  /** uid 1's mail: the provider's address (the Aegir user owning the install task). */
  adminMail: string;
  now: number;
}

/** What an install of the profile leaves behind: its modules and theme, its roles, uid 1 `admin`. */
export function installDrupal(profile: ProfileSpec, options: InstallOptions): DrupalSite {
  const site: DrupalSite = {
    profile: profile.name,
    modules: [...profile.defaultModules, profile.name],
    themes: [profile.defaultTheme],
    variables: new Map<string, unknown>([
      ["theme_default", profile.defaultTheme],
      ["site_name", options.uri],
      ["site_mail", options.adminMail],
      ["install_profile", profile.name],
    ]),
    roles: [...profile.roles],
    users: new Map(),
    nextUid: 1,
    outbox: [],
  };
  addUser(site, { name: "admin", mail: options.adminMail, roles: profile.roles.includes("administrator") ? ["administrator"] : [], now: options.now });
  return site;
}

export function addUser(site: DrupalSite, user: { name: string; mail: string; roles?: string[]; status?: 0 | 1; now: number }): DrupalUser {
  const account: DrupalUser = { uid: site.nextUid++, name: user.name, mail: user.mail, status: user.status ?? 1, roles: [...(user.roles ?? [])], created: user.now };
  site.users.set(account.uid, account);
  return account;
}

/** Names compare like MySQL's default collation: case-insensitively. */
export function userByName(site: DrupalSite, name: string): DrupalUser | undefined {
  const wanted = name.toLowerCase();
  for (const user of site.users.values()) if (user.name.toLowerCase() === wanted) return user;
  return undefined;
}

export function userByMail(site: DrupalSite, mail: string): DrupalUser | undefined {
  const wanted = mail.toLowerCase();
  for (const user of site.users.values()) if (user.mail.toLowerCase() === wanted) return user;
  return undefined;
}

/** drush's user lookup for arguments: a uid, a name or a mail (in that order, like UserList). */
export function findUser(site: DrupalSite, key: string): DrupalUser | undefined {
  if (/^\d+$/.test(key)) {
    const byUid = site.users.get(Number(key));
    if (byUid) return byUid;
  }
  return userByName(site, key) ?? userByMail(site, key);
}
