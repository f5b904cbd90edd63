// Where a new site goes when spec.server is empty: the reachable server with the most free
// capacity that serves the profile; and on which platform, while a PlatformRollout moves its
// default platform's sites. Pure; the caller supplies the site counts and the rollouts.
import type { AegirServer, HostedSite, PlatformRollout } from "../../crds/kinds.ts";
import { matchesSelector } from "../platformrollout/selector.ts";
import { AegirError } from "../aegir/errors.ts";
import { hostedSites, type ServerStatus } from "../aegir/state.ts";

export interface ServerLoad {
  server: AegirServer;
  /** Sites on the server plus HostedSites already placed on it and not yet created. */
  sites: number;
  reachable: boolean;
  /** Why it could not be read, when unreachable. */
  problem?: string;
}

export type Placement = { server: string } | { error: "NoServerForProfile" | "NoCapacity"; message: string };

export function placeSite(loads: readonly ServerLoad[], profile: string, platform: string | undefined): Placement {
  const serving = loads.filter(({ server }) =>
    server.spec.platforms.some((p) => p.profile === profile && (platform === undefined || p.name === platform)),
  );
  if (serving.length === 0) {
    return { error: "NoServerForProfile", message: `No Aegir server offers the ${profile} profile${platform ? ` on platform ${platform}` : ""}` };
  }
  const candidates = serving
    .filter((l) => l.reachable && l.sites < l.server.spec.capacity.maxSites)
    .map((l) => ({ name: l.server.metadata.name, free: 1 - l.sites / l.server.spec.capacity.maxSites }))
    .sort((a, b) => b.free - a.free || a.name.localeCompare(b.name));
  const best = candidates[0];
  if (best === undefined) {
    const why = serving.filter((l) => l.problem).map((l) => `${l.server.metadata.name}: ${l.problem}`);
    return { error: "NoCapacity", message: `All ${serving.length} Aegir server(s) offering ${profile} are full or unreachable${why.length ? ` (${why.join("; ")})` : ""}` };
  }
  return { server: best.name };
}

/**
 * Each server's load: its sites plus HostedSites placed on it but not there yet. A server whose
 * status cannot be read counts as unreachable.
 */
export async function serverLoads(
  servers: readonly AegirServer[],
  status: (server: string) => Promise<ServerStatus>,
  sites: readonly HostedSite[],
): Promise<ServerLoad[]> {
  return Promise.all(
    servers.map(async (server) => {
      const name = server.metadata.name;
      try {
        const live = new Set(hostedSites(await status(name)).map((s) => s.uri));
        const placedHere = sites.filter((s) => s.status?.server === name && !live.has(s.spec.domain)).length;
        return { server, sites: live.size + placedHere, reachable: true };
      } catch (error) {
        const problem = error instanceof AegirError ? `${error.reason}: ${error.message}` : String(error);
        return { server, sites: 0, reachable: false, problem };
      }
    }),
  );
}

/**
 * The platform a new site without spec.platform gets on its server when a rollout (running,
 * paused or complete) moves the server's default platform for its profile elsewhere: the
 * rollout's toPlatform, if the server serves the profile there. The first such rollout by name.
 */
export function rolloutPlatform(site: HostedSite, server: AegirServer | undefined, rollouts: readonly PlatformRollout[]): string | undefined {
  if (site.spec.platform !== undefined || server === undefined) return undefined;
  const platforms = server.spec.platforms;
  const byDefault = platforms.find((p) => p.profile === site.spec.profile)?.name;
  const rollout = [...rollouts]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .find(
      (r) =>
        r.metadata.deletionTimestamp === undefined &&
        r.spec.fromPlatform === byDefault &&
        platforms.some((p) => p.name === r.spec.toPlatform && p.profile === site.spec.profile) &&
        matchesSelector(r.spec.selector, site.metadata.labels),
    );
  return rollout?.spec.toPlatform;
}
