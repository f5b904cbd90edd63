// How many spares a pool keeps: enough to cover the orders expected during one install time, the
// time a refill takes. Pure.
import type { AegirServer, HostedSite, SitePool } from "../../crds/kinds.ts";

/** The share of install times in which the spares cover every order. */
export const COVERAGE = 0.95;

/**
 * The smallest n with P(at most n orders during one install) ≥ COVERAGE, orders arriving as a
 * Poisson stream at the observed rate, clamped to [min, max].
 */
export function poolTarget(ordersPerHour: number, installSeconds: number, bounds: { min: number; max: number }): number {
  const expected = (ordersPerHour * installSeconds) / 3600;
  let n = 0;
  let term = Math.exp(-expected);
  let cumulative = term;
  while (cumulative < COVERAGE && n < bounds.max) {
    n++;
    term *= expected / n;
    cumulative += term;
  }
  return Math.min(bounds.max, Math.max(bounds.min, n));
}

/** The platform a HostedSite lives or will live on: recorded, asked for, or the server's for its profile. */
export function sitePlatform(site: HostedSite, server: AegirServer | undefined): string | undefined {
  return site.status?.platform ?? site.spec.platform ?? server?.spec.platforms.find((p) => p.profile === site.spec.profile)?.name;
}

/** Orders per hour for the pool's server and platform: HostedSites created within the rate window. */
export function orderRate(pool: SitePool, sites: readonly HostedSite[], servers: readonly AegirServer[], now: Date): number {
  const windowMs = pool.spec.rateWindowMinutes * 60_000;
  const server = servers.find((s) => s.metadata.name === pool.spec.server);
  const since = now.getTime() - windowMs;
  let orders = 0;
  for (const site of sites) {
    if ((site.spec.server ?? site.status?.server) !== pool.spec.server) continue;
    if (sitePlatform(site, server) !== pool.spec.platform) continue;
    const created = Date.parse(site.metadata.creationTimestamp ?? "");
    if (created > since && created <= now.getTime()) orders++;
  }
  return (orders * 3_600_000) / windowMs;
}
