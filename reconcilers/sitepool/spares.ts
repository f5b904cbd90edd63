// The spares of a pool as they are: the claim record in the pool's status joined with what the
// server shows. Pure.
import { createHash } from "node:crypto";
import type { AegirServer, SitePool } from "../../crds/kinds.ts";
import type { Spare } from "../../crds/sitepool.ts";
import { lastTask, pendingTask, type ServerStatus, type SiteSummary } from "../aegir/state.ts";

/** `spare-<pool>-` : every spare domain of a pool starts so, wherever its record went. */
export function sparePrefix(pool: SitePool): string {
  return `spare-${createHash("sha256").update(pool.metadata.name).digest("hex").slice(0, 6)}-`;
}

/** A fresh placeholder domain in the pool's reserved zone; `nonce` makes it unique. */
export function spareDomain(pool: SitePool, nonce: string): string {
  const id = createHash("sha256").update(`${pool.metadata.name}/${nonce}`).digest("hex").slice(0, 10);
  return `${sparePrefix(pool)}${id}.${pool.spec.placeholderZone}`;
}

export function isSpareOf(pool: SitePool, uri: string): boolean {
  return uri.startsWith(sparePrefix(pool)) && uri.endsWith(`.${pool.spec.placeholderZone}`);
}

/** Why the pool's platform cannot take spares, if it cannot. */
export function platformProblem(pool: SitePool, server: AegirServer | undefined, status: ServerStatus): string | undefined {
  if (server === undefined) return `AegirServer ${pool.spec.server} does not exist`;
  if (!server.spec.platforms.some((p) => p.name === pool.spec.platform)) return `Platform ${pool.spec.platform} is not configured on AegirServer ${pool.spec.server}`;
  const live = status.platforms.find((p) => p.name === pool.spec.platform);
  if (live === undefined || live.status !== 1) return `Platform ${pool.spec.platform} is not enabled in Aegir`;
  return undefined;
}

export type SpareCondition =
  /** Install queued or running, or asked for and not visible yet. */
  | "installing"
  /** Installed; the baseline features are still to be enabled. */
  | "installed"
  | "ready"
  /** Claimed: the claimer's, never touched by the pool. */
  | "claimed"
  /** To be deleted (failed install, stale platform, beyond the target, abandoned claim). */
  | "discard"
  /** Aegir failed to delete it: kept as Discarding for a person to look at, not retried. */
  | "stuck"
  /** Gone from Aegir: the record goes. */
  | "gone";

export interface SpareView {
  record: Spare;
  site: SiteSummary | undefined;
  condition: SpareCondition;
}

export interface SpareContext {
  pool: SitePool;
  status: ServerStatus;
  /** Whether the platform is fit for spares (platformProblem() is undefined). */
  platformUsable: boolean;
  /** HostedSites that exist, by namespace/name. */
  siteExists: (key: string) => boolean;
  now: Date;
  /** How long an install asked for may take to show up (twice the server's write timeout). */
  createSettleMs: number;
}

/** Each recorded spare, and every spare of the pool in Aegir that lost its record (adopted as unclaimed). */
export function viewSpares(ctx: SpareContext): SpareView[] {
  const { pool, status } = ctx;
  const records = pool.status?.spares ?? [];
  const live = new Map(status.sites.filter((s) => s.status !== "deleted" && isSpareOf(pool, s.uri)).map((s) => [s.uri, s]));
  const views = records.map((record) => ({ record, site: live.get(record.domain), condition: conditionOf(record, live.get(record.domain), ctx) }));
  for (const site of live.values()) {
    if (records.some((r) => r.domain === site.uri)) continue;
    const record: Spare = { domain: site.uri, state: "Installing", createdAt: ctx.now.toISOString() };
    views.push({ record, site, condition: conditionOf(record, site, ctx) });
  }
  return views;
}

function conditionOf(record: Spare, site: SiteSummary | undefined, ctx: SpareContext): SpareCondition {
  if (record.claimedBy !== undefined) {
    // A claim whose HostedSite went away before finishing: the half-renamed spare is not handed out again.
    if (ctx.siteExists(record.claimedBy)) return "claimed";
    return site === undefined ? "gone" : "discard";
  }
  if (site === undefined) {
    // A clone's copy appears only when its task ends, which may wait in the queue for long.
    if (record.state === "Installing" && record.source !== undefined) return cloneCondition(record, ctx);
    const age = ctx.now.getTime() - Date.parse(record.createdAt);
    return record.state === "Installing" && age < ctx.createSettleMs ? "installing" : "gone";
  }
  const pending = pendingTask(site);
  if (pending === undefined && lastTask(site, "delete")?.status === "failed") return "stuck";
  if (record.state === "Discarding") return "discard";
  if (site.status === "queued" || pending?.type === "install") return "installing";
  if (lastTask(site, "install")?.status === "failed" || site.status !== "enabled") return "discard";
  if (!ctx.platformUsable || site.platform !== ctx.pool.spec.platform) return "discard";
  // Being cloned: still the spare it was (a clone reads its source, it does not change it).
  if (pending !== undefined && pending.type !== "clone") return "discard";
  return record.state === "Ready" ? "ready" : "installed";
}

/**
 * A clone not visible yet: under way while its source has a clone task pending; gone when the
 * source's last clone failed (provision rolls a failed deploy back: nothing is left to delete).
 * Task times are the server's clock, so no time comparison: a record not queued yet whose source
 * failed an earlier clone goes at once, and the next reconcile refills again.
 */
function cloneCondition(record: Spare, ctx: SpareContext): SpareCondition {
  const source = ctx.status.sites.find((s) => s.uri === record.source && s.status !== "deleted");
  if (source !== undefined && pendingTask(source)?.type === "clone") return "installing";
  if (source !== undefined && lastTask(source, "clone")?.status === "failed") return "gone";
  return ctx.now.getTime() - Date.parse(record.createdAt) < ctx.createSettleMs ? "installing" : "gone";
}

/** The spare whose clone is being made from `source`, if one is recorded. */
export function cloneOf(records: readonly Spare[], source: string): Spare | undefined {
  return records.find((r) => r.state === "Installing" && r.source === source);
}
