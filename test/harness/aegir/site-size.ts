// How big a site is, as far as copying it goes: a migrate or clone is a backup, a deploy and a
// verify, so its time grows with the site's database and files. The simulator knows no sizes;
// it tells a freshly installed site (nobody but uid 1 ever had an account: a spare) from a site
// in use, whose copy takes what a complex site's does.
import type { SiteNode } from "./model.ts";

export function isFreshSite(site: SiteNode | undefined): boolean {
  const drupal = site?.drupal;
  return drupal !== undefined && drupal.nextUid <= 2;
}
