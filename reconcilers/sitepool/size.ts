// How many spares a pool keeps. Each claim leaves a hole that the serial task queue fills after the
// claim's rename, one refill at a time: holes form a single-server queue with Poisson arrivals (the
// orders) and a fixed service time (a rename plus a refill). An order finds a ready spare when fewer
// holes than spares are open, so the target is the smallest n covering the holes an order sees with
// probability COVERAGE. Pure.
import type { AegirServer, HostedSite, SitePool } from "../../crds/kinds.ts";

/** The share of orders that should find a ready spare: the p99 of paid → welcome mail is then a claim's. */
export const COVERAGE = 0.99;

export interface CycleSeconds {
  /** A claim's rename (Aegir migrate of a spare), the customer's own task. */
  renameSeconds: number;
  /** One refill (the pool's install), which follows in the same queue. */
  refillSeconds: number;
}

export type PoolSize =
  | { target: number; load: number; reason: "Covered" | "AtMax" }
  /** Renames and refills together need more than the queue's time: spares only add work. */
  | { target: number; load: number; reason: "Overloaded" };

/**
 * The smallest n with P(an order finds fewer than n holes) ≥ COVERAGE, clamped to [min, max]. The
 * holes follow an M/D/1 queue of load ρ = rate × (rename + refill): the embedded-chain recursion
 * gives P(k holes) (as seen by an arriving order, PASTA). Orders that find no spare install on their
 * own and leave no hole, so the real pool loses fewer orders than this infinite queue: the rule errs
 * on the side of one spare more. The holes are counted at `sizedRate` (sizingRate: the rate the
 * window's count may hide); at the observed rate's ρ ≥ 1 the refills can never catch up: the pool
 * stays at min. Between the two (the sized ρ ≥ 1 only) it keeps max.
 */
export function poolSize(ordersPerHour: number, cycle: CycleSeconds, bounds: { min: number; max: number }, sizedRate = ordersPerHour): PoolSize {
  const perOrder = (cycle.renameSeconds + cycle.refillSeconds) / 3600;
  const load = ordersPerHour * perOrder;
  const clamp = (n: number) => Math.min(bounds.max, Math.max(bounds.min, n));
  if (load >= 1) return { target: bounds.min, load, reason: "Overloaded" };
  const sizedLoad = Math.max(load, sizedRate * perOrder);
  if (sizedLoad >= 1) return { target: bounds.max, load, reason: "AtMax" };
  const holes = holeDistribution(sizedLoad, bounds.max);
  let n = 0;
  let covered = 0;
  while (n < holes.length && covered + (holes[n] as number) < COVERAGE) covered += holes[n++] as number;
  // covered = P(fewer than n holes) < COVERAGE until n holes are also covered: n + 1 spares.
  const wanted = ordersPerHour === 0 && sizedRate === 0 ? 0 : n + 1;
  return { target: clamp(wanted), load, reason: wanted > bounds.max ? "AtMax" : "Covered" };
}

/** P(k holes), k = 0..max, in an M/D/1 queue of load ρ < 1 (departure epochs; equal to arrival epochs). */
export function holeDistribution(load: number, max: number): number[] {
  // a[k]: P(k orders arrive during one service time).
  const a: number[] = [Math.exp(-load)];
  for (let k = 1; k <= max + 1; k++) a.push(((a[k - 1] as number) * load) / k);
  const pi: number[] = [1 - load];
  for (let j = 0; j < max; j++) {
    let next = (pi[j] as number) - (pi[0] as number) * (a[j] as number);
    for (let i = 1; i <= j; i++) next -= (pi[i] as number) * (a[j - i + 1] as number);
    // Cancellation at far tails can leave a tiny negative: a probability is never below 0.
    pi.push(Math.max(0, next / (a[0] as number)));
  }
  return pi;
}

/** The platform a HostedSite lives or will live on: recorded, asked for, or the server's for its profile. */
export function sitePlatform(site: HostedSite, server: AegirServer | undefined): string | undefined {
  return site.status?.platform ?? site.spec.platform ?? server?.spec.platforms.find((p) => p.profile === site.spec.profile)?.name;
}

/** One-sided 90 % normal quantile: the pool is sized for a rate the window's count falls short of one time in ten. */
export const RATE_UPPER_Z = 1.28;

/**
 * The rate the pool is sized for: the upper 90 % bound of the rate behind the orders counted in
 * the window (Poisson count n: n + z√n + z²/2). At 10 orders/h an hour's count is off by a third
 * one time in three; sizing for the count alone left orders without a spare whenever a quiet hour
 * shrank the pool before a busy one. No orders, no spares.
 */
export function sizingRate(ordersPerHour: number, windowMinutes: number): number {
  const count = (ordersPerHour * windowMinutes) / 60;
  if (count <= 0) return 0;
  const upper = count + RATE_UPPER_Z * Math.sqrt(count) + (RATE_UPPER_Z * RATE_UPPER_Z) / 2;
  return (upper * 60) / windowMinutes;
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
