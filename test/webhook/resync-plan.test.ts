// Which listed subscriptions a re-sync pass queues for a re-read (pure).
import { beforeAll, describe, expect, it } from "vitest";
import { loadCatalog, type Catalog } from "../../webhook/catalog.ts";
import { fingerprint, ListedSubscription, reviewsForPage, reviewsForUnlisted, type LedgerEntry } from "../../webhook/resync-plan.ts";

let catalog: Catalog;
beforeAll(async () => {
  catalog = await loadCatalog();
});

const listed = (id: string, status = "active", lookupKey: string | null = "business_monthly") =>
  ListedSubscription.parse({ id, status, customer: "cus_1", items: { data: [{ id: "si_1", quantity: 1, price: { id: "price_1", lookup_key: lookupKey } }] } });

describe("reviewsForPage", () => {
  it("queues a sellable subscription the ledger does not know, and nothing ended or sold by someone else", () => {
    const page = [listed("sub_new"), listed("sub_old", "canceled"), listed("sub_gone", "incomplete_expired"), listed("sub_other", "active", "not_in_catalog"), listed("sub_nokey", "active", null)];
    expect(reviewsForPage(catalog, page, new Map()).map((r) => [r.subscriptionId, r.type])).toEqual([["sub_new", "review.resync_unknown"]]);
  });

  it("queues a known order when the subscription changed since its last review or the ledger has another status", () => {
    const sub = listed("sub_a");
    const seen: LedgerEntry = { state: "active", subscriptionStatus: "active", fingerprint: fingerprint(sub) };
    expect(reviewsForPage(catalog, [sub], new Map([["sub_a", seen]]))).toEqual([]);
    expect(reviewsForPage(catalog, [sub], new Map([["sub_a", { ...seen, fingerprint: "older" }]]))).toEqual([{ subscriptionId: "sub_a", type: "review.resync_changed", fingerprint: fingerprint(sub) }]);
    expect(reviewsForPage(catalog, [sub], new Map([["sub_a", { ...seen, subscriptionStatus: "past_due" }]]))).toHaveLength(1);
    // Known orders are re-read whatever they are, even ended or no longer sellable.
    const ended = listed("sub_b", "canceled", "not_in_catalog");
    expect(reviewsForPage(catalog, [ended], new Map([["sub_b", { state: "active", subscriptionStatus: "active", fingerprint: null }]]))).toHaveLength(1);
  });

  it("does not queue again a subscription without an order whose review is already queued", () => {
    const sub = listed("sub_q");
    expect(reviewsForPage(catalog, [sub], new Map([["sub_q", { state: null, subscriptionStatus: null, fingerprint: fingerprint(sub) }]]))).toEqual([]);
  });

  it("fingerprints every field an order depends on", () => {
    const base = listed("sub_f");
    const changed = [
      { ...base, status: "past_due" },
      { ...base, cancel_at_period_end: true },
      { ...base, latest_invoice: "in_2" },
      { ...base, metadata: { subdomain: "x" } },
      { ...base, items: { data: [{ ...base.items.data[0]!, quantity: 2 }] } },
    ];
    for (const c of changed) expect(fingerprint(c)).not.toBe(fingerprint(base));
    expect(fingerprint(listed("sub_f"))).toBe(fingerprint(base));
  });

  it("names the field of a listed object that is not a subscription", () => {
    const parsed = ListedSubscription.safeParse({ id: "cus_1", status: "active", customer: "cus_1", items: { data: [] } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["id"]);
  });
});

describe("reviewsForUnlisted", () => {
  it("queues the orders not ended that Stripe did not list", () => {
    expect(reviewsForUnlisted(["sub_1", "sub_2"], new Set(["sub_1"]))).toEqual([{ subscriptionId: "sub_2", type: "review.resync_unlisted", fingerprint: null }]);
  });
});
