// POST /stripe/webhook against real PostgreSQL: signatures (replay, tamper, wrong and rotated
// secrets), body limits, duplicates and concurrent deliveries, ignored types, probes, metrics.
import { describe, expect, it } from "vitest";
import { invoiceEvent, signedDelivery, stripeEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { seedOrder } from "../harness/stripe/orders.ts";
import { OLD_SECRET, SECRET, deliver, settled, startTestWebhook, useWebhookPerTest } from "./support.ts";

const world = useWebhookPerTest((url, stub) => startTestWebhook(url, stub, { config: { webhookSecrets: [SECRET, OLD_SECRET], bodyLimit: 64 * 1024 } }));


async function post(payload: string, headers: Record<string, string>) {
  return world.service.app.inject({ method: "POST", url: "/stripe/webhook", headers, payload });
}

async function storedEvents(): Promise<number> {
  const r = await world.service.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stripe_events");
  return r.rows[0]?.n ?? -1;
}

function someEvent() {
  const { subscription } = seedOrder(world.stub, { items: { community_monthly: 1 } });
  return subscriptionEvent(world.stub, "customer.subscription.created", subscription.id);
}

describe("signature verification", () => {
  it("stores a correctly signed event and answers 200", async () => {
    const response = await post(...delivery(someEvent(), SECRET));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: true, duplicate: false });
    expect(await storedEvents()).toBe(1);
  });

  it("accepts the old secret while it is rolled, and a header signed with both", async () => {
    expect((await post(...delivery(someEvent(), OLD_SECRET))).statusCode).toBe(200);
    expect((await post(...delivery(someEvent(), [OLD_SECRET, SECRET]))).statusCode).toBe(200);
    expect(await storedEvents()).toBe(2);
  });

  it("refuses a wrong secret, a tampered body, a missing or garbled header, and a replayed old signature", async () => {
    const event = someEvent();
    const wrong = await post(...delivery(event, "whsec_somebodyElse"));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({ error: "signature verification failed: mismatch" });

    const { payload, headers } = signedDelivery(event, SECRET);
    const tampered = await post(payload.replace('"active"', '"trialing"'), headers);
    expect(tampered.statusCode).toBe(400);

    const unsigned = Object.fromEntries(Object.entries(headers).filter(([name]) => name !== "stripe-signature"));
    expect((await post(payload, unsigned)).json()).toEqual({ error: "signature verification failed: missing" });
    expect((await post(payload, { ...headers, "stripe-signature": "nonsense" })).json()).toEqual({ error: "signature verification failed: malformed" });

    const replayed = signedDelivery(event, SECRET, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    const stale = await post(replayed.payload, replayed.headers);
    expect(stale.statusCode).toBe(400);
    expect(stale.json()).toEqual({ error: "signature verification failed: stale" });

    // Beyond the tolerance in the future is no more acceptable than in the past.
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now + 365 * 86_400, now + 301]) {
      const early = signedDelivery(event, SECRET, { timestamp });
      expect((await post(early.payload, early.headers)).json()).toEqual({ error: "signature verification failed: stale" });
    }
    const skewed = signedDelivery(event, SECRET, { timestamp: now + 60 });
    expect((await post(skewed.payload, skewed.headers)).statusCode).toBe(200);
    await world.service.pool.query("DELETE FROM stripe_events");

    expect(await storedEvents()).toBe(0);
    const metrics = await world.service.metrics.registry.getSingleMetricAsString("stripe_webhook_signature_failures_total");
    for (const reason of ["mismatch", "missing", "malformed", "stale"]) expect(metrics).toContain(`reason="${reason}"`);
  });
});

describe("bodies", () => {
  it("refuses an oversized body with 413 and stores nothing", async () => {
    const event = stripeEvent("customer.subscription.updated", { id: "sub_Big", customer: "cus_Big", padding: "x".repeat(70 * 1024) });
    expect((await post(...delivery(event, SECRET))).statusCode).toBe(413);
    expect(await storedEvents()).toBe(0);
  });

  it("refuses with 400, not 503, a signed body nested deeper than PostgreSQL can store", async () => {
    await world.service.stop();
    world.service = await startTestWebhook(await world.postgres.freshDatabase(), world.stub, { config: { bodyLimit: 1024 * 1024 } });
    const depth = 200_000;
    const event = JSON.stringify(stripeEvent("customer.subscription.updated", { id: "sub_Deep", customer: "cus_Deep", nested: null })).replace(
      '"nested":null',
      `"nested":${"[".repeat(depth)}${"]".repeat(depth)}`,
    );
    const response = await post(...delivery(event, SECRET));
    expect(response.statusCode).toBe(400);
    expect(response.json<{ error: string }>().error).toMatch(/^event cannot be stored: stack depth limit exceeded/);
    expect(await storedEvents()).toBe(0);
  });

  it("refuses a non-JSON content type with 415, and a signed body that is not JSON with 400", async () => {
    const { headers } = signedDelivery("hello", SECRET);
    expect((await post("hello", { ...headers, "content-type": "text/plain" })).statusCode).toBe(415);
    const signedGarbage = signedDelivery("{not json", SECRET);
    const response = await post(signedGarbage.payload, signedGarbage.headers);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: "signature verification failed: malformed" });
    const notAnEvent = signedDelivery(JSON.stringify({ hello: "world" }), SECRET);
    expect((await post(notAnEvent.payload, notAnEvent.headers)).json()).toEqual({ error: "not a Stripe event" });
    expect(await storedEvents()).toBe(0);
  });
});

describe("inbox", () => {
  it("acknowledges unknown event types and invoices without subscription, and ignores them", async () => {
    const unknown = await post(...delivery(stripeEvent("payout.paid", { id: "po_1", object: "payout" }), SECRET));
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toEqual({ received: true, ignored: "event type not used" });
    const oneOff = await post(...delivery(stripeEvent("invoice.paid", { id: "in_1", parent: null }), SECRET));
    expect(oneOff.json()).toMatchObject({ received: true, ignored: "invoice without subscription" });
    expect(await storedEvents()).toBe(0);
  });

  it("stores a redelivered event once and answers 200 both times", async () => {
    const event = someEvent();
    expect((await post(...delivery(event, SECRET))).json()).toEqual({ received: true, duplicate: false });
    expect((await post(...delivery(event, SECRET))).json()).toEqual({ received: true, duplicate: true });
    expect(await storedEvents()).toBe(1);
  });

  it("stores one row for many concurrent deliveries of the same event", async () => {
    const event = invoiceEvent("invoice.paid", seedOrder(world.stub, { items: { business_monthly: 1 } }).subscription.id);
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(...delivery(event, SECRET))));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    expect(responses.filter((r) => r.json<{ duplicate: boolean }>().duplicate === false)).toHaveLength(1);
    expect(await storedEvents()).toBe(1);
    await settled(world.service);
    expect(world.service.applier.applies).toBe(1);
  });
});

describe("probes and metrics", () => {
  it("serves /healthz, /readyz and /metrics with the webhook's series", async () => {
    expect((await world.service.app.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await world.service.app.inject({ url: "/readyz" })).statusCode).toBe(200);
    expect(await deliver(world.service, someEvent())).toBe(200);
    await post(...delivery(stripeEvent("payout.paid", { id: "po_1", object: "payout" }), SECRET));
    const text = (await world.service.app.inject({ url: "/metrics" })).body;
    expect(text).toContain('stripe_webhook_events_received_total{type="customer.subscription.created",outcome="stored"} 1');
    expect(text).toContain('stripe_webhook_events_received_total{type="payout.paid",outcome="ignored"} 1');
    expect(text).toMatch(/^stripe_webhook_inbox_depth \d+$/m);
    for (const name of ["stripe_webhook_processing_duration_seconds", "stripe_webhook_dead_lettered_total", "stripe_webhook_relay_applies_total", "stripe_webhook_relay_failures_total"]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
  });
});

function delivery(event: Parameters<typeof signedDelivery>[0], secrets: string | string[]): [string, Record<string, string>] {
  const { payload, headers } = signedDelivery(event, secrets);
  return [payload, headers];
}
