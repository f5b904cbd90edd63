// A clone task, as provision-clone and hosting_clone run it (research/aegir.md §2): a backup of
// the source, deployed as a copy under the new URI on the target platform. The copy's context is
// written by the task itself, without the source's SSL settings and aliases; then provision calls
// back into the front end for a forced verify of the platform (which finds the new site) and of
// the source site, sleeping 5 s between them. A deploy leaves what names the old domain inside the
// site (variables such as site_name, accounts, caches) as it was: the copy carries the source's
// traces. The node of the copy is made by the front end; how exactly (post-task hook or the
// platform verify's import) is UNCONFIRMED: here it appears enabled when the task ends.
import { type Hostmaster, type SiteNode, SITE_ENABLED } from "./model.ts";

/** Copies the source's Drupal state (deep) into a new enabled site node; returns why not (the task fails with it). */
export function cloneSite(hostmaster: Hostmaster, source: SiteNode, newUri: string, platformNid: number, now: number): string | undefined {
  if (!source.drupal) return `Could not find a Drupal site at sites/${source.uri} (PROVISION_DRUPAL_SITE_NOT_FOUND).`;
  if (!hostmaster.domainAllowed(newUri)) return `Domain ${newUri} is already in use by another site.`;
  const platform = hostmaster.platforms.get(platformNid);
  if (!platform) return `Target platform ${platformNid} does not exist.`;
  if (!platform.profiles.has(source.profile)) return `The profile ${source.profile} is not available on platform ${platform.name}.`;
  const copy = hostmaster.addSite({ uri: newUri, status: SITE_ENABLED, platform: platformNid, profile: source.profile, aliases: [], https: 0 });
  copy.aliasSaved = true;
  copy.drupal = structuredClone(source.drupal);
  // The copy has sent nothing: its outbox is the source's, not its own.
  copy.drupal.outbox = [];
  copy.applied = { aliases: [], https: 0 };
  copy.verified = now;
  source.verified = now;
  return undefined;
}
