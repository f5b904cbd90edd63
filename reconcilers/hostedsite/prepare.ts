// What a reconcile works from: where the site goes, then desired → observed → plan. Shared by the
// reconciler and `aegir-operator plan`, so the printed plan is the one a reconcile would run.
import type { AegirServer, HostedSite } from "../../crds/kinds.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import type { ServerStatus } from "../aegir/state.ts";
import { planContext } from "./context.ts";
import { assignedServer, type Desired, resolveDesired } from "./desired.ts";
import { observeSite } from "./observe.ts";
import { placeSite, serverLoads } from "./placement.ts";
import { type Aspect, type Observed, type Plan, plan } from "./plan.ts";

/** The cluster and the Aegir servers as one reconcile sees them. */
export interface World {
  servers: readonly AegirServer[];
  /** HostedSites already placed count against a server's capacity. */
  sites: readonly HostedSite[];
  /** The server's batched status (cached by the reconciler). */
  status: (server: string) => Promise<ServerStatus>;
  driver: (server: string) => AegirDriver;
  now: Date;
}

export type Location = { server: string; placed: boolean } | { error: string; message: string };

/** The server the site lives on, or the one placement picks (`placed`) when none is assigned yet. */
export async function locate(site: HostedSite, world: World): Promise<Location> {
  const server = assignedServer(site);
  if (server !== undefined) return { server, placed: false };
  const placement = placeSite(await serverLoads(world.servers, world.status, world.sites), site.spec.profile, site.spec.platform);
  return "error" in placement ? placement : { server: placement.server, placed: true };
}

export interface PrepareOptions {
  /** Whether the deep per-site read is due. */
  deep: boolean;
  /** Aspects not retried (permanent failure at this generation). */
  blocked: ReadonlySet<Aspect>;
}

export type Preparation =
  | { kind: "ready"; desired: Desired; observed: Observed; plan: Plan }
  | { kind: "problem"; reason: string; message: string }
  | { kind: "unreachable"; server: string; error: AegirError };

export async function prepare(site: HostedSite, server: string, world: World, options: PrepareOptions): Promise<Preparation> {
  const resolved = resolveDesired(site, server, world.servers, world.now);
  if ("error" in resolved) return { kind: "problem", reason: resolved.error, message: resolved.message };
  const desired = resolved.desired;
  let observed: Observed;
  try {
    observed = await observeSite({
      desired,
      status: () => world.status(desired.server),
      driver: world.driver(desired.server),
      tracker: desired.support ? world.driver(desired.support.server) : undefined,
      deep: options.deep,
    });
  } catch (error) {
    return { kind: "unreachable", server, error: error instanceof AegirError ? error : new AegirError("ConnectionLost", String(error)) };
  }
  return { kind: "ready", desired, observed, plan: plan(desired, observed, planContext(site, observed, world.now, options.blocked)) };
}
