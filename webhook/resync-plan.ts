// Pure: which subscriptions a re-sync pass hands to the inbox worker for a re-read. The pass does
// not decide anything itself; a review row goes through the same load, decide and save as an
// event. The fingerprint of what Stripe listed is kept per subscription, so an unchanged
// subscription already reviewed is not read again, and any change (a missed or dead event) is.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Catalog } from "./catalog.ts";
import type { OrderState } from "./order-decision.ts";

/** The fields of a listed subscription that matter to an order; a change in any means a re-read. */
export const ListedSubscription = z.object({
  id: z.string().max(255).regex(/^sub_[A-Za-z0-9_]+$/, { error: "must be a Stripe id starting with sub_" }),
  status: z.string().max(64),
  customer: z.union([z.string(), z.object({ id: z.string() }).transform((c) => c.id)]),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  cancel_at_period_end: z.boolean().nullable().optional(),
  cancel_at: z.int().nullable().optional(),
  canceled_at: z.int().nullable().optional(),
  ended_at: z.int().nullable().optional(),
  pause_collection: z.unknown().optional(),
  latest_invoice: z.union([z.string(), z.object({ id: z.string() }).transform((i) => i.id)]).nullable().optional(),
  items: z.object({
    data: z.array(
      z.object({
        id: z.string().optional(),
        quantity: z.int().nullable().optional(),
        current_period_end: z.int().nullable().optional(),
        price: z.object({ id: z.string(), lookup_key: z.string().nullable().optional() }),
      }),
    ),
    has_more: z.boolean().optional(),
  }),
});
export type ListedSubscription = z.infer<typeof ListedSubscription>;

/** Statuses after which nothing new can be provisioned. */
const TERMINAL = new Set(["canceled", "incomplete_expired"]);

export interface ReviewRow {
  subscriptionId: string;
  type: "review.resync_changed" | "review.resync_unknown" | "review.resync_unlisted";
  /** Recorded once the review is queued; null for a subscription Stripe did not list. */
  fingerprint: string | null;
}

/** What the ledger knows of one subscription of the page. */
export interface LedgerEntry {
  /** Null: no order (yet), only an earlier review. */
  state: OrderState | null;
  subscriptionStatus: string | null;
  /** The fingerprint recorded when a pass last queued its re-read. */
  fingerprint: string | null;
}

export function fingerprint(sub: ListedSubscription): string {
  return createHash("sha256").update(JSON.stringify(sub)).digest("base64url").slice(0, 22);
}

/**
 * Reviews for one page of listed subscriptions: those changed since their last review, or whose
 * order records another status than Stripe's. A subscription without an order is read only if
 * it could become one: not ended, and one of its prices carries a catalog lookup key (the account
 * may sell other things; product-metadata items are not visible in a listing).
 */
export function reviewsForPage(catalog: Catalog, page: readonly ListedSubscription[], ledger: ReadonlyMap<string, LedgerEntry>): ReviewRow[] {
  const reviews: ReviewRow[] = [];
  for (const sub of page) {
    const known = ledger.get(sub.id);
    const print = fingerprint(sub);
    if (known?.fingerprint === print && (known.state === null || known.subscriptionStatus === sub.status)) continue;
    if (known !== undefined && known.state !== null) {
      reviews.push({ subscriptionId: sub.id, type: "review.resync_changed", fingerprint: print });
      continue;
    }
    if (TERMINAL.has(sub.status) || !sub.items.data.some((i) => i.price.lookup_key != null && Object.hasOwn(catalog.items, i.price.lookup_key))) continue;
    reviews.push({ subscriptionId: sub.id, type: "review.resync_unknown", fingerprint: print });
  }
  return reviews;
}

/** Orders not ended that Stripe did not list: the re-read tells (a 404 keeps the review failing, visibly). */
export function reviewsForUnlisted(openOrders: readonly string[], listed: ReadonlySet<string>): ReviewRow[] {
  return openOrders.filter((id) => !listed.has(id)).map((id) => ({ subscriptionId: id, type: "review.resync_unlisted", fingerprint: null }));
}
