// Which orders a refill would get in front of. Aegir's queue is serial and a running install
// cannot be preempted, so a spare install started while an order is on its way into the queue
// delays that order by up to a whole install. Pure.
import type { AegirServer, HostedSite, SitePool } from "../../crds/kinds.ts";
import type { ServerStatus } from "../aegir/state.ts";
import { assignedServer } from "../hostedsite/desired.ts";
import { liveSite } from "../hostedsite/observe.ts";

/**
 * HostedSites whose first task on the pool's server is still to come: placed there (or not placed
 * yet while the server serves their profile) and not in Aegir under their domain yet, including
 * those holding a claim whose rename is not queued yet.
 */
export function customersWaiting(pool: SitePool, sites: readonly HostedSite[], server: AegirServer | undefined, status: ServerStatus): number {
  const serves = (site: HostedSite) => server?.spec.platforms.some((p) => p.profile === site.spec.profile) ?? false;
  return sites.filter((s) => {
    if (s.metadata.deletionTimestamp !== undefined) return false;
    const placed = assignedServer(s);
    if (placed === undefined ? !serves(s) : placed !== pool.spec.server) return false;
    return liveSite(status, s.spec.domain) === undefined;
  }).length;
}
