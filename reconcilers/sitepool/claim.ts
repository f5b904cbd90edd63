// A new HostedSite takes a spare instead of waiting for an install. The claim is written into the
// pool's spare list (guarded by the pool's resourceVersion: of two racing writers one gets 409)
// before anything changes in Aegir; from then on every reconcile, on any replica, resumes it from
// that record: rename the spare (migrate to the same platform with new_uri), scrub what the
// placeholder left on the site, drop the record. A rename Aegir refuses or fails marks the spare
// for discarding and the site is installed the usual way: a spare is never handed out dirty.
import { randomUUID } from "node:crypto";
import type { Logger } from "../../common/logger.ts";
import { isConflict } from "../../common/kube/rest.ts";
import type { AegirServer, HostedSite, SitePool } from "../../crds/kinds.ts";
import type { SitePoolStatus, Spare } from "../../crds/sitepool.ts";
import type { AegirDriver } from "../aegir/driver.ts";
import { AegirError } from "../aegir/errors.ts";
import { lastTask, pendingTask, type ServerStatus, type SiteSummary } from "../aegir/state.ts";
import { CREATE_PENDING_ANNOTATION } from "../hostedsite/names.ts";
import { liveSite } from "../hostedsite/observe.ts";
import type { ServerStatusCache } from "../hostedsite/server-status-cache.ts";
import type { PoolObserver, SitePoolStore } from "./reconciler.ts";
import { DEFAULT_RENAME_TIMING, nextRenameLook, RenameDurations, type RenameTiming } from "./rename-timing.ts";
import { cloneOf, spareDomain } from "./spares.ts";

/**
 * `none`: nothing to claim or the claim is done, converge as usual (with the server's status the
 * claim read last, when it saw the rename finished); `waiting`: the claim is under way, look
 * again in `retryAfterMs` if given.
 */
export type ClaimStep = { kind: "none"; status?: ServerStatus } | { kind: "waiting"; message: string; retryAfterMs?: number };

export interface SpareClaimsDeps {
  /** SitePools as the informer cache holds them (fresh copies are read before every claim write). */
  pools: () => readonly SitePool[];
  store: SitePoolStore;
  servers: () => readonly AegirServer[];
  statusCache: ServerStatusCache;
  driver: (server: string) => AegirDriver;
  now: () => Date;
  log: Logger;
  observer?: PoolObserver;
  /** When a claim looks again at its rename (default DEFAULT_RENAME_TIMING). */
  renameTiming?: RenameTiming;
  /** Makes the domain of a copy made for a claim unique (random by default). */
  nonce?: () => string;
}

const NONE: ClaimStep = { kind: "none" };
const WRITE_ATTEMPTS = 5;

interface Held {
  pool: SitePool;
  spare: Spare;
}

export class SpareClaims {
  private readonly deps: SpareClaimsDeps;
  private readonly timing: RenameTiming;
  private readonly durations: RenameDurations;
  /** Per claim (spare domain), when its rename was last known not to have started (this replica's memory). */
  private readonly renameQueuedAt = new Map<string, number>();

  constructor(deps: SpareClaimsDeps) {
    this.deps = deps;
    this.timing = deps.renameTiming ?? DEFAULT_RENAME_TIMING;
    this.durations = new RenameDurations(this.timing);
  }

  async step(site: HostedSite, server: string): Promise<ClaimStep> {
    const key = `${site.metadata.namespace}/${site.metadata.name}`;
    const platform = this.platformOf(site, server);
    const pools = this.deps.pools().filter((p) => p.spec.server === server && p.spec.platform === platform);
    if (pools.length === 0) return NONE;
    let held = heldBy(pools, key);
    if (held === undefined) {
      if (!isNew(site)) return NONE;
      if (liveSite(await this.deps.statusCache.get(server), site.spec.domain) !== undefined) return NONE;
      held = await this.claim(pools, key);
      if (held === undefined) return NONE;
    }
    return this.advance(site, server, held);
  }

  private platformOf(site: HostedSite, server: string): string | undefined {
    const spec = this.deps.servers().find((s) => s.metadata.name === server)?.spec;
    const platform = spec?.platforms.find((p) => (site.spec.platform ? p.name === site.spec.platform : p.profile === site.spec.profile));
    return platform?.profile === site.spec.profile ? platform.name : undefined;
  }

  /** Claim a ready spare in the first pool that has one, re-reading the pool on a conflict. */
  private async claim(pools: readonly SitePool[], key: string): Promise<Held | undefined> {
    for (const cached of pools) {
      for (let attempt = 1; ; attempt++) {
        const pool = await this.deps.store.get(cached.metadata.name);
        const spares = pool.status?.spares ?? [];
        // Another replica claimed for this site meanwhile: resume its claim.
        const mine = spares.find((s) => s.claimedBy === key);
        if (mine !== undefined) return { pool, spare: mine };
        const status = await this.deps.statusCache.get(pool.spec.server);
        // Ready spares first, then spares made but not given the baseline yet (a copy just finished:
        // the order's convergence enables its features anyway); an install still running is neither.
        const ready = [...spares.filter((s) => s.state === "Ready"), ...spares.filter((s) => s.state === "Installing")].filter((s) => s.claimedBy === undefined && usable(liveSite(status, s.domain), pool));
        // A clone's source is renamed only after its clone task ends: another ready spare goes first.
        // With none ready, a copy Aegir is making will be one sooner than an install would be (which
        // would queue behind that clone anyway).
        const underWay = spares.find((s) => s.claimedBy === undefined && cloneUnderWay(s, status));
        const free = ready.filter((s) => !isCloneSource(spares, s, status));
        const at = this.deps.now().toISOString();
        let spare = free[0] ?? ready[0] ?? underWay;
        if (spare === undefined) break;
        let claimed: Spare = { ...spare, state: "Claimed", claimedBy: key, claimedAt: at };
        // What the pool will have besides: spares ready, copies under way, installs under way.
        const coming = spares.filter((s) => s.claimedBy === undefined && s.state === "Installing" && !ready.includes(s) && (s.source === undefined || cloneUnderWay(s, status)));
        if (ready.length + coming.length === 1 && keepsTemplate(pool)) {
          // The last spare with nothing else coming: emptied, the pool's next refill would have to
          // install, and orders meanwhile too. Where a clone and a rename take far less than an
          // install, this order gets a copy of it (its own clone task, after the spare's own clone
          // if it is still being made) and the spare stays.
          spare = { domain: spareDomain(pool, this.deps.nonce?.() ?? randomUUID()), state: "Claimed", createdAt: at, source: spare.domain };
          claimed = { ...spare, claimedBy: key, claimedAt: at };
        }
        try {
          const written = await this.deps.store.updateStatus(pool, {
            ...pool.status,
            spares: spares.some((s) => s.domain === claimed.domain) ? spares.map((s) => (s.domain === claimed.domain ? claimed : s)) : [...spares, claimed],
            ready: Math.max(0, (pool.status?.ready ?? 1) - (spare.state === "Ready" ? 1 : 0)),
            claimed: (pool.status?.claimed ?? 0) + 1,
          });
          this.deps.log.info({ hostedsite: key, sitepool: pool.metadata.name, spare: spare.domain }, "spare claimed");
          return { pool: written, spare: claimed };
        } catch (error) {
          if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error;
        }
      }
    }
    return undefined;
  }

  /** One step of a recorded claim, from what Aegir shows now. */
  private async advance(site: HostedSite, server: string, held: Held): Promise<ClaimStep> {
    const { pool, spare } = held;
    const domain = site.spec.domain;
    const lookedAt = this.deps.now().getTime();
    const status = await this.deps.statusCache.get(server);
    const placeholder = liveSite(status, spare.domain);
    const renamed = liveSite(status, domain);
    if (placeholder !== undefined && renamed !== undefined) {
      // The customer's domain is taken by another site: the spare is untouched and goes back.
      await this.settle(pool, spare.domain, (s) => ({ domain: s.domain, state: "Ready", createdAt: s.createdAt }));
      return NONE;
    }
    if (placeholder !== undefined) {
      const pending = pendingTask(placeholder);
      if (pending !== undefined) {
        // The customer waits on this task alone: the next look reads the server afresh instead
        // of a status up to half a poll old (one status read per look while a rename runs).
        this.deps.statusCache.invalidate(server);
        // Not started yet (behind other tasks), or queued by another replica: counted from now.
        if (pending.status === "queued" || !this.renameQueuedAt.has(spare.domain)) this.renameQueuedAt.set(spare.domain, lookedAt);
        if (pending.status === "queued") await this.besideRefill(server, pool, pending.nid, status);
        return { kind: "waiting", message: `Renaming spare ${spare.domain}: Aegir is running its ${pending.type} task`, ...this.lookAgain(server, spare.domain) };
      }
      // Only a claim migrates a spare: a failed migrate is this claim's rename.
      if (lastTask(placeholder, "migrate")?.status === "failed") return this.discard(pool, spare, "Aegir's rename (migrate) task failed");
      let queued: number;
      try {
        queued = (await this.deps.driver(server).queueTask(spare.domain, "migrate", { targetPlatform: pool.spec.platform, newUri: domain })).nid;
      } catch (error) {
        if (error instanceof AegirError && error.kind === "permanent") {
          // Seen through a stale status: another replica may have renamed it a moment ago, or be
          // renaming it; or the site was installed meanwhile by a replica that found no spare
          // (the spare is untouched and goes back). Only a refusal of the idle spare discards it.
          this.deps.statusCache.invalidate(server);
          const fresh = await this.deps.statusCache.get(server);
          const now = liveSite(fresh, spare.domain);
          if (now === undefined) return { kind: "waiting", message: `Spare ${spare.domain} was renamed or removed meanwhile` };
          if (pendingTask(now) !== undefined) return { kind: "waiting", message: `Renaming spare ${spare.domain} to ${domain}` };
          if (liveSite(fresh, domain) !== undefined) {
            await this.settle(pool, spare.domain, (s) => ({ domain: s.domain, state: "Ready", createdAt: s.createdAt }));
            return NONE;
          }
          return this.discard(pool, spare, `Aegir refused the rename: ${error.message}`);
        }
        // Another replica queued it a moment ago.
        if (error instanceof AegirError && error.reason === "TaskPending") return { kind: "waiting", message: `Renaming spare ${spare.domain} to ${domain}` };
        throw error;
      }
      this.renameQueuedAt.set(spare.domain, this.deps.now().getTime());
      this.deps.statusCache.invalidate(server);
      await this.besideRefill(server, pool, queued, status);
      return { kind: "waiting", message: `Renaming spare ${spare.domain} to ${domain}`, ...this.lookAgain(server, spare.domain) };
    }
    if (renamed === undefined && cloneUnderWay(spare, status)) {
      // The copy this order takes: queued behind a pool task, it is the order's task now.
      const source = liveSite(status, spare.source ?? "");
      const clone = source === undefined ? undefined : pendingTask(source);
      if (clone?.status === "queued") await this.besideRefill(server, pool, clone.nid, status);
      this.deps.statusCache.invalidate(server);
      return { kind: "waiting", message: `Waiting for spare ${spare.domain}: Aegir is copying it from ${spare.source ?? ""} (clone task)` };
    }
    if (renamed === undefined && spare.source !== undefined) {
      // A copy not made yet and not under way: queue its clone (this claim's own, or a refill's the
      // pool recorded and never queued). A failed clone of the source voids the claim below.
      const source = liveSite(status, spare.source);
      if (source !== undefined && usable(source, pool) && lastTask(source, "clone")?.status !== "failed") return this.queueCopy(server, pool, spare, status);
      // Its source is itself a copy still being made: the clone of it follows.
      const record = pool.status?.spares?.find((s) => s.domain === spare.source);
      if (source === undefined && record !== undefined && cloneUnderWay(record, status)) {
        this.deps.statusCache.invalidate(server);
        return { kind: "waiting", message: `Waiting for spare ${spare.source ?? ""} to be made, then copied as ${spare.domain}` };
      }
    }
    if (renamed === undefined) {
      // The spare went away (deleted by hand, or its clone failed): the claim is void, the site is installed as usual.
      this.renameQueuedAt.delete(spare.domain);
      await this.settle(pool, spare.domain, () => undefined);
      return NONE;
    }
    const queuedAt = this.renameQueuedAt.get(spare.domain);
    if (queuedAt !== undefined) {
      this.renameQueuedAt.delete(spare.domain);
      this.durations.observe(server, lookedAt - queuedAt);
    }
    const pending = pendingTask(renamed);
    if (pending !== undefined) return { kind: "waiting", message: `Renaming spare ${spare.domain} to ${domain}: Aegir is running its ${pending.type} task` };
    // Another replica may have finished the claim since our copy of the pool: its scrub is done and
    // the owner may exist already, so scrubbing again would drop that account.
    const current = await this.deps.store.get(pool.metadata.name);
    if (!current.status?.spares?.some((s) => s.domain === spare.domain && s.claimedBy === spare.claimedBy)) return NONE;
    // A cloned spare carries the placeholders of the spares it was copied from: the zone's are all scrubbed.
    const scrub = await this.deps.driver(server).scrubPlaceholder(domain, spare.domain, pool.spec.placeholderZone);
    if (scrub.remaining.length > 0) {
      throw new AegirError("DrushFailed", `The site still names its placeholder ${spare.domain} in ${scrub.remaining.join(", ")}`);
    }
    // The rename's duration feeds the pool size rule (a claim's share of the refill cycle).
    const rename = lastTask(renamed, "migrate");
    await this.settle(pool, spare.domain, () => undefined, rename?.status === "succeeded" && rename.delta > 0 ? { renameSeconds: rename.delta } : {});
    const seconds = (this.deps.now().getTime() - Date.parse(spare.claimedAt ?? "")) / 1000;
    if (Number.isFinite(seconds)) this.deps.observer?.claimed(pool.metadata.name, seconds);
    this.deps.log.info({ hostedsite: `${site.metadata.namespace}/${site.metadata.name}`, spare: spare.domain, seconds }, "spare renamed into the site");
    // The read that saw the rename finished is the convergence's too: the scrub changed nothing it shows.
    return { kind: "none", status };
  }

  /** The next look at a waiting rename, when sooner than the progress poll may be. */
  private lookAgain(server: string, spareDomain: string): { retryAfterMs?: number } {
    const queuedAt = this.renameQueuedAt.get(spareDomain);
    if (queuedAt === undefined) return {};
    const ms = nextRenameLook(this.deps.now().getTime(), queuedAt, this.durations.estimate(server), this.timing);
    return ms === undefined ? {} : { retryAfterMs: ms };
  }

  private async queueCopy(server: string, pool: SitePool, spare: Spare, status: ServerStatus): Promise<ClaimStep> {
    const source = spare.source ?? "";
    const waiting: ClaimStep = { kind: "waiting", message: `Waiting for spare ${spare.domain}: Aegir is copying it from ${source} (clone task)` };
    try {
      const { nid } = await this.deps.driver(server).queueTask(source, "clone", { targetPlatform: pool.spec.platform, newUri: spare.domain });
      await this.besideRefill(server, pool, nid, status);
    } catch (error) {
      // The source has a task (another copy, a rename): look again at the next poll.
      if (error instanceof AegirError && error.reason === "TaskPending") return waiting;
      if (error instanceof AegirError && error.kind === "permanent") {
        // Another replica's clone of it may have just finished: only a refusal with no copy there voids the claim.
        this.deps.statusCache.invalidate(server);
        if (liveSite(await this.deps.statusCache.get(server), spare.domain) !== undefined) return waiting;
        this.deps.log.warn({ sitepool: pool.metadata.name, spare: spare.domain, source, reason: error.reason }, "copy for a claim refused, installing instead");
        await this.settle(pool, spare.domain, () => undefined);
        return NONE;
      }
      throw error;
    } finally {
      this.deps.statusCache.invalidate(server);
    }
    return waiting;
  }

  /**
   * The claim's queued task, started at once if hosting-queued is running a pool task (the
   * hostmaster decides from its own tables: run-task-beside). Best effort: where it does not start,
   * the queue runs it. Asked only while the status this look read shows pool work running, so a
   * rename queued behind another customer's task costs no command per look.
   */
  private async besideRefill(server: string, pool: SitePool, nid: number, status: ServerStatus): Promise<void> {
    if (!pool.spec.claimsBesideRefills || !poolWorkRunning(status, pool.spec.placeholderZone)) return;
    try {
      const outcome = await this.deps.driver(server).runTaskBeside(nid, pool.spec.placeholderZone);
      if (!outcome.started) return;
      this.deps.statusCache.invalidate(server);
      this.deps.observer?.besideRefill?.(pool.metadata.name);
      this.deps.log.info({ sitepool: pool.metadata.name, task: nid }, "claim's task started beside a refill");
    } catch (error) {
      this.deps.log.warn({ sitepool: pool.metadata.name, task: nid, err: error instanceof Error ? error.message : String(error) }, "could not start the claim's task beside the refill; it waits in the queue");
    }
  }

  private async discard(pool: SitePool, spare: Spare, why: string): Promise<ClaimStep> {
    this.renameQueuedAt.delete(spare.domain);
    this.deps.log.warn({ sitepool: pool.metadata.name, spare: spare.domain, why }, "claim abandoned, spare discarded");
    await this.settle(pool, spare.domain, (s) => ({ domain: s.domain, state: "Discarding", createdAt: s.createdAt }));
    return NONE;
  }

  /** Replace (or drop, on undefined) the spare's record in a fresh copy of the pool, with `also` in its status, retrying conflicts. */
  private async settle(cached: SitePool, domain: string, change: (spare: Spare) => Spare | undefined, also: Partial<SitePoolStatus> = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const pool = await this.deps.store.get(cached.metadata.name);
      const spares = pool.status?.spares ?? [];
      if (!spares.some((s) => s.domain === domain)) return;
      const next = spares.flatMap((s) => {
        if (s.domain !== domain) return [s];
        const changed = change(s);
        return changed === undefined ? [] : [changed];
      });
      try {
        await this.deps.store.updateStatus(pool, { ...pool.status, ...also, spares: next, claimed: next.filter((s) => s.claimedBy !== undefined).length });
        return;
      } catch (error) {
        if (!isConflict(error) || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }
}

function heldBy(pools: readonly SitePool[], key: string): Held | undefined {
  for (const pool of pools) {
    const spare = pool.status?.spares?.find((s) => s.claimedBy === key);
    if (spare !== undefined) return { pool, spare };
  }
  return undefined;
}

/** Nothing was ever created in Aegir for the site. */
function isNew(site: HostedSite): boolean {
  if (site.metadata.annotations?.[CREATE_PENDING_ANNOTATION] !== undefined) return false;
  return site.status?.conditions?.find((c) => c.type === "Installed")?.status !== "True";
}

/** A spare that can be handed out now: enabled, idle (or being cloned: its rename follows the clone), on the pool's platform. */
function usable(site: SiteSummary | undefined, pool: SitePool): boolean {
  if (site === undefined || site.status !== "enabled" || site.platform !== pool.spec.platform) return false;
  const pending = pendingTask(site);
  return pending === undefined || pending.type === "clone";
}

/** Aegir shows hosting-queued processing pool work: a task of a spare of the zone (a spare's migrate is a claim's rename; one the pool runs in its own process leaves the daemon free). */
function poolWorkRunning(status: ServerStatus, zone: string): boolean {
  return status.sites.some((s) => s.uri.endsWith(`.${zone}`) && s.tasks.some((t) => t.status === "processing" && t.type !== "migrate" && !t.background));
}

/** A spare recorded as a clone whose task Aegir shows queued or running on its source. */
function cloneUnderWay(spare: Spare, status: ServerStatus): boolean {
  if (spare.source === undefined || (spare.state !== "Installing" && spare.claimedBy === undefined)) return false;
  const source = liveSite(status, spare.source);
  return source !== undefined && pendingTask(source)?.type === "clone" && liveSite(status, spare.domain) === undefined;
}

/** The spare is being copied: a copy of it is recorded and not made yet, or Aegir shows its clone task pending. */
function isCloneSource(records: readonly Spare[], spare: Spare, status: ServerStatus): boolean {
  const site = liveSite(status, spare.domain);
  if (site !== undefined && pendingTask(site)?.type === "clone") return true;
  return cloneOf(records, spare.domain) !== undefined || records.some((r) => r.source === spare.domain && r.claimedBy !== undefined && liveSite(status, r.domain) === undefined);
}

/** Until a clone has been observed: the figure for cloning a complex site, 1-5 minutes, at its top (a spare is smaller). */
export const ASSUMED_CLONE_SECONDS = 300;

/**
 * Whether the pool keeps its last spare to copy for an order: refills clone, and a clone (as
 * observed, else ASSUMED_CLONE_SECONDS) takes less than half an install, so a clone and a rename
 * still beat an install.
 */
export function keepsTemplate(pool: SitePool): boolean {
  const clone = pool.status?.cloneSeconds ?? ASSUMED_CLONE_SECONDS;
  const install = pool.status?.installSeconds ?? pool.spec.installSeconds;
  const refused = pool.status?.conditions?.some((c) => c.type === "RefillByClone" && c.status === "False");
  return pool.spec.refill === "Clone" && refused !== true && clone > 0 && 2 * clone < install;
}
