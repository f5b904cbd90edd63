// Where a new site goes when spec.server is empty: the reachable server with the most free
// capacity that serves the profile. Pure; the caller supplies the site counts.
import type { AegirServer } from "../../crds/kinds.ts";

export interface ServerLoad {
  server: AegirServer;
  /** Sites on the server plus HostedSites already placed on it and not yet created. */
  sites: number;
  reachable: boolean;
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
    return { error: "NoCapacity", message: `All ${serving.length} Aegir server(s) offering ${profile} are full or unreachable` };
  }
  return { server: best.name };
}
