// The re-sync pass against the real webhook (embedded PostgreSQL, the Stripe stub): orders whose
// events never came are repaired after one pass, unchanged ones are not read again.
import { describe, expect, it } from "vitest";
import { RESYNC_LOCK_KEY } from "../../webhook/db/resync.ts";
import { checkoutEvent } from "../harness/stripe/events.ts";
import { ensurePrice, seedOrder, stripeId } from "../harness/stripe/orders.ts";
import { deliver, eventually, order, settled, startTestWebhook, useWebhookPerTest } from "./support.ts";

const world = useWebhookPerTest((url, stub) => {
  stub.subscriptions.clear();
  return startTestWebhook(url, stub);
});


/** Every event and review processed (grace timers days ahead aside), every manifest applied. */
async function drained(timeoutMs = 15_000): Promise<void> {
  await eventually(async () => {
    const r = await world.service.pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM stripe_events WHERE state = 'pending' AND next_attempt_at < now() + interval '1 minute')
            + (SELECT count(*) FROM outbox WHERE applied_version < version) AS n`,
    );
    return Number(r.rows[0]?.n) === 0;
  }, timeoutMs, "reviews to be processed");
}

const listCalls = () => world.stub.requests.filter((r) => r === "GET /v1/subscriptions").length;

describe("re-sync pass", () => {
  it("gives a paid subscription whose events were never delivered its site after one pass", async () => {
    const { subscription } = seedOrder(world.stub, { items: { business_monthly: 1 }, subdomain: "nevertold" });
    const summary = await world.service.resyncNow();
    expect(summary).toMatchObject({ listed: 1, reviews: 1, unlisted: 0 });
    await drained();
    expect(world.service.applier.site(subscription.id)?.spec.domain).toBe("nevertold.sites.openatria.com");
    expect((await order(world.service, subscription.id))?.state).toBe("active");
  });

  it("stops a subscription canceled in Stripe without an event", async () => {
    const seeded = seedOrder(world.stub, { items: { business_monthly: 1 } });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
    await settled(world.service);
    await world.service.resyncNow();
    await drained();
    expect(world.service.applier.site(seeded.subscription.id)?.spec.expiresAt).toBeUndefined();

    const endedAt = Math.floor(Date.now() / 1000) - 30 * 86_400;
    Object.assign(seeded.subscription, { status: "canceled", canceled_at: endedAt, ended_at: endedAt });
    const summary = await world.service.resyncNow();
    expect(summary).toMatchObject({ listed: 1, reviews: 1 });
    await drained();
    expect((await order(world.service, seeded.subscription.id))?.state).toBe("ended");
    // Ended a month ago: expired already (the 14-day default), so the controller disables it now.
    const expiresAt = world.service.applier.site(seeded.subscription.id)?.spec.expiresAt;
    expect(expiresAt !== undefined && Date.parse(expiresAt) < Date.now()).toBe(true);
  });

  it("does not read an unchanged subscription again, and reads it when only Stripe knows it changed back", async () => {
    const seeded = seedOrder(world.stub, { items: { business_monthly: 1 } });
    await world.service.resyncNow();
    await drained();
    const reads = world.stub.requests.length;
    expect(await world.service.resyncNow()).toMatchObject({ listed: 1, reviews: 0 });
    expect(world.stub.requests.length - reads).toBe(1); // the listing alone

    // past_due reached the ledger through a pass; the return to active comes with no event.
    seeded.subscription.status = "past_due";
    expect(await world.service.resyncNow()).toMatchObject({ reviews: 1 });
    await drained();
    expect((await order(world.service, seeded.subscription.id))?.state).toBe("past_due");
    seeded.subscription.status = "active";
    expect(await world.service.resyncNow()).toMatchObject({ reviews: 1 });
    await drained();
    expect((await order(world.service, seeded.subscription.id))?.state).toBe("active");
  });

  it("leaves alone what the shop did not sell and what ended before it was known", async () => {
    const other = ensurePrice(world.stub, "someone_elses_product");
    world.stub.prices.set(other, { ...(world.stub.prices.get(other) as NonNullable<ReturnType<typeof world.stub.prices.get>>), lookup_key: null });
    const customer = stripeId("cus");
    world.stub.customers.set(customer, { id: customer, email: "x@example.com" });
    world.stub.subscriptions.set("sub_notours1", { id: "sub_notours1", customer, status: "active", items: [{ price: other }] });
    const old = seedOrder(world.stub, { items: { business_monthly: 1 }, status: "canceled" });
    const summary = await world.service.resyncNow();
    expect(summary).toMatchObject({ listed: 2, reviews: 0 });
    expect(await order(world.service, "sub_notours1")).toBeUndefined();
    expect(await order(world.service, old.subscription.id)).toBeUndefined();
  });

  it("pages through every subscription and re-reads an order Stripe no longer lists", async () => {
    const seeded = Array.from({ length: 230 }, (_, i) => seedOrder(world.stub, { items: { business_monthly: 1 }, subdomain: `paged${i}` }));
    const before = listCalls();
    expect(await world.service.resyncNow()).toMatchObject({ listed: 230, reviews: 230, pages: 3 });
    expect(listCalls() - before).toBe(3);
    await drained(90_000);
    const gone = seeded[0]?.subscription.id as string;
    world.stub.subscriptions.delete(gone);
    expect(await world.service.resyncNow()).toMatchObject({ listed: 229, reviews: 0, unlisted: 1 });
    const review = await world.service.pool.query<{ type: string }>("SELECT type FROM stripe_events WHERE subscription_id = $1 AND id LIKE 'resync:%' ORDER BY received_at DESC LIMIT 1", [gone]);
    expect(review.rows[0]?.type).toBe("review.resync_unlisted");
  }, 120_000);

  it("runs one pass at a time across replicas and records each", async () => {
    seedOrder(world.stub, { items: { business_monthly: 1 } });
    const other = await world.service.pool.connect();
    try {
      await other.query("SELECT pg_advisory_lock($1)", [RESYNC_LOCK_KEY]);
      expect(await world.service.resyncNow()).toBeNull();
      await other.query("SELECT pg_advisory_unlock($1)", [RESYNC_LOCK_KEY]);
    } finally {
      other.release();
    }
    expect(await world.service.resyncNow()).not.toBeNull();
    const passes = await world.service.pool.query<{ listed: number; error: string | null }>("SELECT listed, error FROM resync_passes WHERE finished_at IS NOT NULL");
    expect(passes.rows).toEqual([{ listed: 1, error: null }]);
  });

  it("records a failed pass and queues nothing for orders it could not list", async () => {
    const seeded = seedOrder(world.stub, { items: { business_monthly: 1 } });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", seeded.session.id))).toBe(200);
    await settled(world.service);
    world.stub.fail(Infinity, 503);
    try {
      await expect(world.service.resyncNow()).rejects.toThrow();
    } finally {
      world.stub.fail(0);
    }
    const passes = await world.service.pool.query<{ error: string | null; unlisted: number }>("SELECT error, unlisted FROM resync_passes");
    expect(passes.rows[0]?.error).toMatch(/injected failure/);
    expect(passes.rows[0]?.unlisted).toBe(0);
    expect((await world.service.pool.query("SELECT 1 FROM stripe_events WHERE id LIKE 'resync:%'")).rowCount).toBe(0);
  });

  it("runs in the webhook service every --resync-interval", async () => {
    await world.service.stop();
    const { subscription } = seedOrder(world.stub, { items: { business_monthly: 1 } });
    world.service = await startTestWebhook(await world.postgres.freshDatabase(), world.stub, { config: { resyncInterval: 3_600_000 } });
    await eventually(() => world.service.applier.site(subscription.id), 15_000, "the pass at start-up to provision the site");
  });
});
