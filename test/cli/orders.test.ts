// `aegir-operator orders`: the ledger as support staff see it, against a real webhook (embedded
// PostgreSQL, the Stripe stub): an active, a parked and a dead order, retry and resync.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { siteName } from "../../webhook/hostedsite-manifest.ts";
import type { WebhookService } from "../../webhook/service.ts";
import { checkoutEvent, stripeEvent } from "../harness/stripe/events.ts";
import { seedOrder, type SeededOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { captureIO } from "../helpers/io.ts";
import { deliver, eventually, order, settled, startTestPostgres, startTestWebhook, type FakeApplier, type TestPostgres } from "../webhook/support.ts";

let postgres: TestPostgres;
let stub: StripeStub;
let service: WebhookService & { applier: FakeApplier };
let databaseUrl: string;
let active: SeededOrder;
let parked: SeededOrder;
const deadSubscription = "sub_neverInStripe1";

beforeAll(async () => {
  [postgres, stub] = await Promise.all([startTestPostgres(), startStripeStub()]);
  databaseUrl = await postgres.freshDatabase();
  service = await startTestWebhook(databaseUrl, stub);
  active = seedOrder(stub, { items: { business_monthly: 1 }, subdomain: "acme" });
  parked = seedOrder(stub, { items: { business_monthly: 1 }, subdomain: "acme" });
  expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", active.session.id))).toBe(200);
  await settled(service);
  expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", parked.session.id))).toBe(200);
  // Stripe answers 404 for it: the event is dead-lettered at once.
  expect(await deliver(service, stripeEvent("customer.subscription.updated", { id: deadSubscription, object: "subscription", status: "active", customer: active.customerId }))).toBe(200);
  await settled(service);
}, 120_000);
afterAll(async () => {
  await service?.stop();
  await Promise.all([postgres?.stop(), stub?.close()]);
});

async function run(...args: string[]) {
  const io = captureIO();
  const code = await main(["orders", ...args, "--database-url", databaseUrl], io);
  return { code, out: io.out(), err: io.err() };
}

describe("aegir-operator orders", () => {
  it("lists every order with its state, why and HostedSite, as a table and as JSON", async () => {
    const table = await run("list");
    expect(table.code).toBe(0);
    const lines = table.out.trim().split("\n");
    expect(lines[0]).toMatch(/^SUBSCRIPTION +STATE +STRIPE +DOMAIN +HOSTEDSITE +UPDATED +WHY$/);
    expect(lines.find((l) => l.startsWith(active.subscription.id))).toMatch(new RegExp(`active +active +acme\\.sites\\.openatria\\.com +customers/${siteName(active.subscription.id)} `));
    // Parked before it was ever provisioned: no HostedSite.
    expect(lines.find((l) => l.startsWith(parked.subscription.id))).toMatch(/ parked +active +- +- .*domain acme\.sites\.openatria\.com is already taken/);
    expect(lines.find((l) => l.startsWith(deadSubscription))).toMatch(/ unknown .*1 dead; PermanentError: stripe: No such object/);

    const json = await run("list", "-o", "json", "--state", "trouble");
    const rows = JSON.parse(json.out) as { subscription: string; state: string; deadEvents: number }[];
    expect(rows.map((r) => r.subscription).sort()).toEqual([deadSubscription, parked.subscription.id].sort());
    expect(JSON.parse((await run("list", "-o", "json", "--state", "dead")).out)).toMatchObject([{ subscription: deadSubscription, deadEvents: 1 }]);
  });

  it("shows one order in full: ledger, relay and events", async () => {
    const shown = await run("show", active.subscription.id);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^state: +active$/m);
    expect(shown.out).toMatch(/^relay: +version 1, applied 1 at \S+; suspended no; expires never$/m);
    expect(shown.out).toMatch(/checkout\.session\.completed +processed/);
    const json = JSON.parse((await run("show", deadSubscription, "-o", "json")).out) as { events: { state: string; lastError: string }[] };
    expect(json.events[0]).toMatchObject({ state: "dead", lastError: expect.stringMatching(/No such object/) as unknown });
  });

  it("refuses what is not a subscription id, and says when nothing is known of one", async () => {
    const bad = await run("show", "cus_123");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("SUBSCRIPTION: must be a Stripe id starting with sub_");
    const unknown = await run("show", "sub_nothingKnown");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain("no order and no events for sub_nothingKnown");
    expect((await run("frobnicate")).code).toBe(2);
    expect((await run("list", "--state", "happy")).err).toContain("--state / ORDERS_STATE");
  });

  it("retry revives a dead order once its cause is gone, and reviews a parked one", async () => {
    // The subscription turns out to exist after all (a key of the wrong account was in use).
    stub.subscriptions.set(deadSubscription, { ...structuredClone(active.subscription), id: deadSubscription, metadata: { subdomain: "revived" } });
    const retried = await run("retry", deadSubscription);
    expect(retried.code).toBe(0);
    expect(retried.out).toContain("1 dead events revived");
    await eventually(async () => (await order(service, deadSubscription))?.state === "active", 15_000, "the revived order to be processed");

    // The domain's holder cancels; a retry of the parked order is a review (nothing is pending).
    const before = (await order(service, parked.subscription.id))?.reason;
    expect(before).toMatch(/already taken/);
    const review = await run("retry", parked.subscription.id, "-o", "json");
    expect(JSON.parse(review.out)).toMatchObject({ revived: 0, reviewQueued: true });
    await eventually(
      async () => (await service.pool.query("SELECT 1 FROM stripe_events WHERE subscription_id = $1 AND type = 'review.operator_retry' AND state = 'processed'", [parked.subscription.id])).rowCount === 1,
      15_000,
      "the review to be processed",
    );
  });

  it("resync runs a pass now and reports it", async () => {
    const io = captureIO();
    const code = await main(["orders", "resync", "--database-url", databaseUrl, "--stripe-api-key", stub.apiKey, "--stripe-api-base", stub.url, "-o", "json"], io);
    expect(io.err()).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ listed: stub.subscriptions.size, pages: 1 });
  });
});
