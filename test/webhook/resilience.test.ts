// Whole-system properties: PostgreSQL restarted while events arrive, several workers and
// processes on one database, exactly one HostedSite per paid order, migrations run concurrently.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMigrations, migrate } from "../../webhook/db/migrate.ts";
import { pruneProcessedEvents, storeEvent } from "../../webhook/inbox.ts";
import { createStripeClient, stripeReader, type StripeReader } from "../../webhook/stripe-reader.ts";
import { startWebhookService } from "../../webhook/service.ts";
import { checkoutEvent, invoiceEvent, signedDelivery, subscriptionEvent, type StripeEvent } from "../harness/stripe/events.ts";
import { seedOrder, type SeededOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { FakeApplier, SECRET, deliver, order, quietLogger, settled, startTestPostgres, startTestWebhook, testConfig, type TestPostgres } from "./support.ts";

let postgres: TestPostgres;
let stub: StripeStub;

beforeAll(async () => {
  [postgres, stub] = await Promise.all([startTestPostgres(), startStripeStub()]);
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), stub?.close()]);
});

/** Deterministic shuffle (mulberry32), so a failing order of events can be replayed. */
function shuffle<T>(values: T[], seed: number): T[] {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function eventsOf(seeded: SeededOrder): StripeEvent[] {
  return [
    checkoutEvent(stub, "checkout.session.completed", seeded.session.id),
    subscriptionEvent(stub, "customer.subscription.created", seeded.subscription.id),
    invoiceEvent("invoice.paid", seeded.subscription.id),
  ];
}

describe("PostgreSQL restarted mid-stream", () => {
  it("processes every event that got a 2xx, and refuses with 503 what arrived while it was down", async () => {
    const service = await startTestWebhook(await postgres.freshDatabase(), stub);
    try {
      const orders = Array.from({ length: 12 }, () => seedOrder(stub, { items: { community_monthly: 1 } }));
      const events = shuffle(orders.flatMap(eventsOf), 7);
      const statuses: number[] = [];
      // Like Stripe: every event is delivered until it gets a 2xx.
      const sender = (async () => {
        for (const event of events) {
          for (;;) {
            const status = await deliver(service, event);
            statuses.push(status);
            if (status === 200) break;
            await new Promise((r) => setTimeout(r, 25));
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 60));
      await postgres.server.stop();
      expect(await deliver(service, eventsOf(orders[0] as SeededOrder)[0] as StripeEvent)).toBe(503);
      await new Promise((r) => setTimeout(r, 300));
      await postgres.server.start();
      await sender;

      expect(statuses).toContain(503);
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      await settled(service, 20_000);
      for (const o of orders) expect(await order(service, o.subscription.id)).toMatchObject({ state: "active" });
      expect(service.applier.sites.size).toBe(orders.length);
      expect(service.applier.applies).toBe(orders.length);
    } finally {
      await service.stop();
    }
  });
});

describe("many workers", () => {
  it("yields exactly one HostedSite per paid order, never processing one subscription twice at once", async () => {
    const url = await postgres.freshDatabase();
    const applier = new FakeApplier();
    const inFlight = new Map<string, number>();
    let overlaps = 0;
    // Counts concurrent reads of one subscription across all three processes' workers.
    const tracked = (inner: StripeReader): StripeReader => ({
      ...inner,
      async subscription(id) {
        const n = (inFlight.get(id) ?? 0) + 1;
        inFlight.set(id, n);
        if (n > 1) overlaps++;
        try {
          await new Promise((r) => setTimeout(r, 3));
          return await inner.subscription(id);
        } finally {
          inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
        }
      },
      checkoutSession: (id) => inner.checkoutSession(id),
      checkoutSessionOf: (id) => inner.checkoutSessionOf(id),
      customer: (id) => inner.customer(id),
    });
    const reader = tracked(stripeReader(createStripeClient({ apiKey: stub.apiKey, apiBase: new URL(stub.url) })));
    const services = await Promise.all(
      [0, 1, 2].map(() => startTestWebhook(url, stub, { applier, config: { workers: 4 }, overrides: { reader } })),
    );
    try {
      const paid = Array.from({ length: 30 }, (_, i) =>
        seedOrder(stub, { items: i % 3 === 0 ? { enterprise_monthly: 1 } : { community_monthly: 1, users_monthly: i } }),
      );
      const unpaid = Array.from({ length: 6 }, () => seedOrder(stub, { items: { business_monthly: 1 }, status: "incomplete", paymentStatus: "unpaid" }));
      const all = [...paid, ...unpaid].flatMap(eventsOf);
      const deliveries = shuffle([...all, ...all, ...all], 42);
      // Eight concurrent senders, round-robin over the three processes.
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < deliveries.length) {
            const index = next++;
            const service = services[index % services.length];
            if (service === undefined) continue;
            expect(await deliver(service, deliveries[index] as StripeEvent)).toBe(200);
          }
        }),
      );
      await settled(services[0] as (typeof services)[0], 20_000);
      expect(overlaps).toBe(0);
      expect(applier.sites.size).toBe(paid.length);
      expect(applier.applies).toBe(paid.length);
      for (const p of paid) {
        const site = applier.site(p.subscription.id);
        expect(site?.spec.order?.subscription).toBe(p.subscription.id);
      }
      for (const u of unpaid) expect(await order(services[0] as (typeof services)[0], u.subscription.id)).toMatchObject({ state: "awaiting_payment" });
      const stored = await services[0]!.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stripe_events WHERE kind = 'stripe'");
      expect(stored.rows[0]?.n).toBe(all.length);
    } finally {
      await Promise.all(services.map((s) => s.stop()));
    }
  });
});

describe("migrations and the embedded default", () => {
  it("applies migrations once when several processes start together, and again is a no-op", async () => {
    const url = await postgres.freshDatabase();
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: url, max: 2 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      expect(results.flat()).toEqual((await loadMigrations()).map((m) => m.version));
      expect(await migrate(pools[0] as pg.Pool)).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("forgets processed events after the retention, keeping pending and dead ones", async () => {
    const pool = new pg.Pool({ connectionString: await postgres.freshDatabase(), max: 2 });
    try {
      await migrate(pool);
      for (const id of ["evt_old", "evt_pending", "evt_dead", "evt_recent"]) {
        await storeEvent(pool, { id, type: "invoice.paid", key: "sub_X", checkoutSessionId: null, livemode: false, apiVersion: null, created: 0, rawJson: "{}" });
      }
      await pool.query("UPDATE stripe_events SET state = 'processed', processed_at = now() - interval '50 days' WHERE id = 'evt_old'");
      await pool.query("UPDATE stripe_events SET state = 'dead' WHERE id = 'evt_dead'");
      await pool.query("UPDATE stripe_events SET state = 'processed', processed_at = now() WHERE id = 'evt_recent'");
      expect(await pruneProcessedEvents(pool, 45 * 86_400_000)).toBe(1);
      const left = await pool.query<{ id: string }>("SELECT id FROM stripe_events ORDER BY id");
      expect(left.rows.map((r) => r.id)).toEqual(["evt_dead", "evt_pending", "evt_recent"]);
      // A redelivery of a forgotten event would be stored again; one still kept is a duplicate.
      expect(await storeEvent(pool, { id: "evt_recent", type: "invoice.paid", key: "sub_X", checkoutSessionId: null, livemode: false, apiVersion: null, created: 0, rawJson: "{}" })).toBe("duplicate");
    } finally {
      await pool.end();
    }
  });

  it("starts its own PostgreSQL when no DATABASE_URL is given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "webhook-embedded-"));
    chmodSync(dir, 0o755);
    const config = { ...testConfig("postgres://unused@127.0.0.1/x", stub), databaseUrl: undefined, postgresDir: join(dir, "pg") };
    const service = await startWebhookService(config, quietLogger(), { applier: new FakeApplier(), pollMs: 50 });
    try {
      expect((await service.app.inject({ url: "/readyz" })).statusCode).toBe(200);
      const { payload, headers } = signedDelivery(invoiceEvent("invoice.paid", seedOrder(stub, { items: { community_monthly: 1 } }).subscription.id), SECRET);
      expect((await service.app.inject({ method: "POST", url: "/stripe/webhook", payload, headers })).statusCode).toBe(200);
    } finally {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
