// The re-sync pass: lists every subscription of the Stripe account (status=all, 100 a page) and
// queues a review for each one the ledger may have wrong (see resync-plan.ts), and for each order
// not ended that Stripe did not list. The inbox worker re-reads and decides those like any event,
// so an event that never came (or died) leaves an order wrong for one pass at most. One replica
// runs a pass at a time (advisory lock); the others skip it.
import type Stripe from "stripe";
import type pg from "pg";
import type { Logger } from "../common/logger.ts";
import type { Catalog } from "./catalog.ts";
import { finishPass, lastReviewDue, ledgerEntries, openOrderIds, queueReviews, RESYNC_LOCK_KEY, sinceLastPass, startPass, type PassCounts } from "./db/resync.ts";
import type { WebhookMetrics } from "./metrics.ts";
import { ListedSubscription, reviewsForPage, reviewsForUnlisted } from "./resync-plan.ts";
import { startWorkLoop, type WorkLoop } from "./work-loop.ts";

/** One page of `GET /v1/subscriptions?status=all`, as Stripe sent it. */
export interface SubscriptionPage {
  data: readonly unknown[];
  hasMore: boolean;
}

export type SubscriptionLister = (startingAfter: string | undefined) => Promise<SubscriptionPage>;

export function stripeSubscriptionLister(stripe: Stripe): SubscriptionLister {
  return async (startingAfter) => {
    const page = await stripe.subscriptions.list({ status: "all", limit: 100, ...(startingAfter === undefined ? {} : { starting_after: startingAfter }) });
    return { data: page.data, hasMore: page.has_more };
  };
}

/** Stripe reads one review costs at most: subscription, Checkout Session (found by list), customer. */
const READS_PER_REVIEW = 4;
/** The part of the read rate a pass's reviews may use; the rest stays for the events arriving meanwhile. */
const RESYNC_SHARE = 0.5;

export interface ResyncOptions {
  pool: pg.Pool;
  list: SubscriptionLister;
  catalog: Catalog;
  /** The Stripe read rate of the process that will re-read (--stripe-read-rate): reviews are paced to it. */
  readRatePerSecond: number;
  logger: Logger;
  metrics?: WebhookMetrics;
}

export interface ResyncSummary extends PassCounts {
  pass: number;
  pages: number;
  /** Listed objects that were not a readable subscription (skipped, logged). */
  invalid: number;
  /** When the last review queued is due. */
  lastDueAt: Date | null;
  seconds: number;
}

/** Runs one pass now; resolves null when another replica is running one. */
export async function runResyncPass(options: ResyncOptions): Promise<ResyncSummary | null> {
  const { pool, logger } = options;
  const lock = await pool.connect();
  let broken = false;
  try {
    const locked = await lock.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [RESYNC_LOCK_KEY]);
    if (locked.rows[0]?.ok !== true) return null;
    try {
      return await pass(options);
    } finally {
      await lock.query("SELECT pg_advisory_unlock($1)", [RESYNC_LOCK_KEY]).catch(() => (broken = true));
    }
  } catch (error) {
    broken = true;
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, "re-sync pass failed");
    throw error;
  } finally {
    lock.release(broken);
  }
}

async function pass(options: ResyncOptions): Promise<ResyncSummary> {
  const { pool, catalog, logger } = options;
  const started = performance.now();
  const id = await startPass(pool);
  const spacingMs = (READS_PER_REVIEW * 1000) / (options.readRatePerSecond * RESYNC_SHARE);
  const counts: PassCounts = { listed: 0, reviews: 0, unlisted: 0 };
  let pages = 0;
  let invalid = 0;
  let nextDue = new Date(Math.max(Date.now(), ((await lastReviewDue(pool))?.getTime() ?? 0) + spacingMs));
  const queue = async (rows: Parameters<typeof queueReviews>[2]) => {
    await queueReviews(pool, id, rows, nextDue, spacingMs);
    if (rows.length > 0) nextDue = new Date(nextDue.getTime() + rows.length * spacingMs);
    for (const r of rows) options.metrics?.resyncReviews.inc({ type: r.type.replace("review.resync_", "") });
  };
  try {
    const listed = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await options.list(after);
      pages++;
      const subs: ListedSubscription[] = [];
      for (const raw of page.data) {
        const parsed = ListedSubscription.safeParse(raw);
        if (parsed.success) subs.push(parsed.data);
        else {
          invalid++;
          logger.warn({ pass: id, problem: parsed.error.issues[0]?.message, path: parsed.error.issues[0]?.path.join(".") }, "listed object is not a readable subscription: skipped");
        }
        const rawId = (raw as { id?: unknown } | null)?.id;
        if (typeof rawId === "string") after = rawId;
      }
      for (const s of subs) listed.add(s.id);
      counts.listed += subs.length;
      const reviews = reviewsForPage(catalog, subs, await ledgerEntries(pool, subs.map((s) => s.id)));
      await queue(reviews);
      counts.reviews += reviews.length;
      if (!page.hasMore || page.data.length === 0) break;
    }
    const unlisted = reviewsForUnlisted(await openOrderIds(pool), listed);
    await queue(unlisted);
    counts.unlisted = unlisted.length;
    await finishPass(pool, id, counts, null);
  } catch (error) {
    await finishPass(pool, id, counts, error instanceof Error ? error.message : String(error)).catch(() => undefined);
    throw error;
  }
  const queued = counts.reviews + counts.unlisted;
  const summary: ResyncSummary = {
    pass: id,
    pages,
    invalid,
    ...counts,
    lastDueAt: queued === 0 ? null : new Date(nextDue.getTime() - spacingMs),
    seconds: (performance.now() - started) / 1000,
  };
  options.metrics?.resyncLastSuccess.setToCurrentTime();
  logger.info(summary, "re-sync pass done");
  return summary;
}

export interface ResyncLoopOptions extends ResyncOptions {
  intervalMs: number;
}

/** Runs a pass whenever the last one (of any replica) finished an interval ago or more. */
export function startResyncLoop(options: ResyncLoopOptions): WorkLoop {
  return startWorkLoop({
    name: "resync",
    concurrency: 1,
    pollMs: Math.min(options.intervalMs, 60_000),
    errorPauseMs: Math.min(options.intervalMs, 60_000),
    logger: options.logger,
    step: async () => {
      const since = await sinceLastPass(options.pool);
      // The last pass of any replica, so that the replicas that skip report it too (the alert).
      if (since !== null) options.metrics?.resyncLastSuccess.set((Date.now() - since) / 1000);
      if (since === null || since >= options.intervalMs) await runResyncPass(options);
      return false;
    },
  });
}
