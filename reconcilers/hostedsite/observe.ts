// Observe one site, in tiers: the server's batched status always (shared by every site on the
// server), the deep per-site read and the support-tracker read only when asked.
import type { AegirDriver } from "../aegir/driver.ts";
import type { Account, ServerStatus, SiteState, SiteSummary } from "../aegir/state.ts";
import type { Desired } from "./desired.ts";
import type { Observed } from "./plan.ts";

export interface ObserveOptions {
  desired: Desired;
  status: () => Promise<ServerStatus>;
  driver: AegirDriver;
  /** Driver of the support tracker's server. */
  tracker: AegirDriver | undefined;
  /** Whether the deep read is due (spec changed, after writes, drift check). */
  deep: boolean;
}

export async function observeSite(options: ObserveOptions): Promise<Observed> {
  const { desired, driver, tracker } = options;
  const site = liveSite(await options.status(), desired.uri);
  const installed = site !== undefined && (site.status === "enabled" || site.status === "disabled");
  let deep: SiteState | undefined;
  if (installed && options.deep && !desired.deleting) deep = await driver.siteState(desired.uri, { name: desired.owner.name, mail: desired.owner.mail });
  // The tracker changes with the site's own convergence (deep read) and at its end of life.
  let account: Account | null | undefined;
  const trackerDue = deep !== undefined || desired.deleting || (options.deep && desired.expired);
  if (tracker !== undefined && desired.support !== undefined && trackerDue) {
    account = await tracker.findAccount(desired.support.site, { name: desired.support.account, mail: desired.support.mail });
  }
  return { site, deep, tracker: account };
}

/** The live (not deleted) site with this URI; a deleted record of an earlier site does not count. */
export function liveSite(status: ServerStatus, uri: string): SiteSummary | undefined {
  return status.sites.find((s) => s.uri === uri && s.status !== "deleted");
}
