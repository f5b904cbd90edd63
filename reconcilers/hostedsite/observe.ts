// Observe one site, in tiers: the server's batched status always (shared by every site on the
// server), the deep per-site read and the support-tracker read only when asked.
import type { AegirDriver } from "../aegir/driver.ts";
import type { ServerStatus, SiteSummary } from "../aegir/state.ts";
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
  const deepDue = installed && options.deep && !desired.deleting;
  // The tracker changes with the site's own convergence (deep read) and at its end of life.
  const trackerDue = deepDue || desired.deleting || (options.deep && desired.expired);
  const support = trackerDue ? desired.support : undefined;
  // Two sites (often two servers), neither read depending on the other: read at once, so the
  // customer's wait holds one of them, not both.
  const [deep, account] = await Promise.all([
    deepDue ? driver.siteState(desired.uri, { name: desired.owner.name, mail: desired.owner.mail }) : undefined,
    support === undefined || tracker === undefined ? undefined : tracker.findAccount(support.site, { name: support.account, mail: support.mail }),
  ]);
  return { site, deep, tracker: account };
}

/** The live (not deleted) site with this URI; a deleted record of an earlier site does not count. */
export function liveSite(status: ServerStatus, uri: string): SiteSummary | undefined {
  return status.sites.find((s) => s.uri === uri && s.status !== "deleted");
}
