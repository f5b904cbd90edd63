// A migrate with a new_uri renames the site, as hosting_migrate does when the front end's Migrate
// form is given another domain: provision-migrate deploys the backup under the new name (the site
// directory and its drush alias move), and the post-task hook retitles the node, so the
// hosting_context row moves with it and the old URI is free. What a deploy does not touch (the
// variables naming the old domain, such as site_name, and the caches) stays as it was.
import type { Hostmaster, SiteNode } from "./model.ts";

/** Renames the site; returns why not (the task fails with it), or undefined. */
export function renameSite(hostmaster: Hostmaster, site: SiteNode, newUri: string): string | undefined {
  if (newUri === site.uri) return undefined;
  if (!hostmaster.domainAllowed(newUri, site.nid)) return `Domain ${newUri} is already in use by another site.`;
  hostmaster.contexts.delete(site.uri);
  hostmaster.contexts.set(newUri, site.nid);
  site.uri = newUri;
  return undefined;
}
