// What a reconcile would do now, without doing it: place, resolve, observe (deep), plan.
// `aegir-operator plan` prints it.
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { planContext } from "./context.ts";
import { assignedServer, type Desired, resolveDesired } from "./desired.ts";
import { observeSite } from "./observe.ts";
import { placeSite, serverLoads } from "./placement.ts";
import { type Observed, type Plan, plan } from "./plan.ts";

export type Preview =
  | { server: string; placed: boolean; desired: Desired; observed: Observed; plan: Plan }
  | { error: string; message: string };

export async function previewSite(site: HostedSite, servers: readonly AegirServer[], driver: (server: string) => AegirDriver, now: Date): Promise<Preview> {
  let server = assignedServer(site);
  const placed = server === undefined;
  if (server === undefined) {
    const placement = placeSite(await serverLoads(servers, (name) => driver(name).serverStatus(), [site]), site.spec.profile, site.spec.platform);
    if ("error" in placement) return placement;
    server = placement.server;
  }
  const resolved = resolveDesired(site, server, servers, now);
  if ("error" in resolved) return resolved;
  const desired = resolved.desired;
  const observed = await observeSite({
    desired,
    status: () => driver(desired.server).serverStatus(),
    driver: driver(desired.server),
    tracker: desired.support ? driver(desired.support.server) : undefined,
    deep: true,
  });
  const thePlan = plan(desired, observed, planContext(site, observed, now, new Set()));
  return { server, placed, desired, observed, plan: thePlan };
}
