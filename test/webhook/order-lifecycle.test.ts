// The whole life of one order through the real webhook (signed deliveries, embedded PostgreSQL,
// the Stripe stub, client-node against the fake API server), on fake time: paid, past due,
// suspended, paid again, upgraded, cancelled at period end, cancelled, expired, and bought again
// by the same customer, who gets the same HostedSite back. Once more with the Stripe API down
// for an hour in the middle.
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { GRACE_PERIOD_ENDS_ANNOTATION, PAYMENT_STATUS_ANNOTATION, SUBSCRIPTION_LABEL, rfc3339, siteName } from "../../webhook/hostedsite-manifest.ts";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import type { WebhookService } from "../../webhook/service.ts";
import { startFakeApiServer, type FakeApiServer, type KubeObject } from "../harness/kube/index.ts";
import { checkoutEvent, invoiceEvent, subscriptionEvent, type StripeEvent } from "../harness/stripe/events.ts";
import { ensurePrice, seedOrder, setLatestInvoice, type SeededOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { WebhookClock } from "./fake-clock.ts";
import { deliver, eventually, order, settled, startTestPostgres, startTestWebhook, type TestPostgres } from "./support.ts";

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const GRACE = 7 * DAY;
const EXPIRE_AFTER = 14 * DAY;

let postgres: TestPostgres;
let stub: StripeStub;
let api: FakeApiServer;

beforeAll(async () => {
  [postgres, stub, api] = await Promise.all([startTestPostgres(), startStripeStub(), startFakeApiServer({ namespaces: ["customers"] })]);
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), stub?.close(), api?.close()]);
});

interface HostedSite extends KubeObject {
  metadata: KubeObject["metadata"] & { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** The one life of an order, from a fresh database; `outage` takes the Stripe API down for an hour around the plan upgrade. */
async function lifeOfOneOrder(outage: boolean): Promise<void> {
  const clock = new WebhookClock(new Date());
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfigYaml("customers"));
  const service: WebhookService = await startTestWebhook(await postgres.freshDatabase(), stub, {
    config: { pastDueGrace: GRACE, expireAfter: EXPIRE_AFTER },
    overrides: { applier: kubeApplier(kc), now: clock.now },
  });
  clock.attach(service.pool);
  const sitesOf = (domain: string) =>
    (api.objects.list(API_VERSION, "HostedSite", { namespace: "customers" }) as HostedSite[]).filter((s) => s.spec.domain === domain);
  const siteWhen = async (domain: string, what: string, predicate: (site: HostedSite) => boolean): Promise<HostedSite> =>
    eventually(() => sitesOf(domain).find(predicate), 10_000, what);
  const send = async (event: StripeEvent) => expect(await deliver(service, event)).toBe(200);
  const subscriptionChanged = (id: string) => send(subscriptionEvent(stub, "customer.subscription.updated", id));

  try {
    const domain = `${outage ? "outage" : "calm"}.sites.openatria.com`;
    const first: SeededOrder = seedOrder(stub, { items: { community_monthly: 1 }, subdomain: outage ? "outage" : "calm" });
    const sub = first.subscription;
    const site = siteName(sub.id);

    // Checkout paid: one HostedSite (its Ready condition is the controller's, see test/e2e).
    setLatestInvoice(stub, sub, { id: "in_first", status: "paid", status_transitions: { finalized_at: clock.unix(), paid_at: clock.unix() } });
    await send(checkoutEvent(stub, "checkout.session.completed", first.session.id));
    let hs = await siteWhen(domain, "the HostedSite", () => true);
    expect(hs.metadata.name).toBe(site);
    expect(hs.spec).toMatchObject({ suspended: false, userQuota: 10, order: { subscription: sub.id } });
    expect(await order(service, sub.id)).toMatchObject({ state: "active" });

    // A renewal fails: past due, still running, grace from the invoice's time at Stripe.
    await clock.advance(30 * DAY);
    sub.status = "past_due";
    setLatestInvoice(stub, sub, { id: "in_renewal", status: "open", status_transitions: { finalized_at: clock.unix(-2 * MINUTE) } });
    await send(invoiceEvent("invoice.payment_failed", sub.id));
    hs = await siteWhen(domain, "the past-due marker", (s) => s.metadata.annotations?.[PAYMENT_STATUS_ANNOTATION] === "past_due");
    expect(hs.spec.suspended).toBe(false);
    expect(hs.metadata.annotations?.[GRACE_PERIOD_ENDS_ANNOTATION]).toBe(rfc3339(new Date(clock.unix(-2 * MINUTE) * 1000 + GRACE)));

    // Stripe says nothing more; the grace period ends: suspended.
    await clock.advance(GRACE);
    await siteWhen(domain, "the suspension", (s) => s.spec.suspended === true);
    expect(await order(service, sub.id)).toMatchObject({ state: "suspended" });

    // The customer pays: resumed, the markers gone.
    sub.status = "active";
    setLatestInvoice(stub, sub, { id: "in_renewal", status: "paid", status_transitions: { finalized_at: clock.unix(-GRACE), paid_at: clock.unix() } });
    await send(invoiceEvent("invoice.paid", sub.id));
    hs = await siteWhen(domain, "the resumption", (s) => s.spec.suspended === false);
    expect(hs.metadata.annotations).toEqual({ [PAYMENT_STATUS_ANNOTATION]: "active" });

    // A plan upgrade, the Stripe API down for an hour meanwhile in the outage run.
    if (outage) stub.fail(Infinity, 429);
    sub.items = [{ price: ensurePrice(stub, "business_monthly"), quantity: 1 }, { price: ensurePrice(stub, "users_monthly"), quantity: 5 }];
    await subscriptionChanged(sub.id);
    if (outage) {
      for (let minute = 10; minute <= 60; minute += 10) {
        if (minute === 30) stub.fail(Infinity, 503);
        await clock.advance(10 * MINUTE);
        const attempted = await eventually(async () => {
          const r = await service.pool.query<{ attempts: number }>("SELECT max(attempts)::int AS attempts FROM stripe_events WHERE state = 'pending' AND kind = 'stripe'");
          return (r.rows[0]?.attempts ?? 0) >= minute / 10 ? true : undefined;
        }, 10_000, `a retry in minute ${minute} of the outage`);
        expect(attempted).toBe(true);
      }
      expect(sitesOf(domain)[0]?.spec.userQuota).toBe(10);
      stub.fail(0);
    }
    await siteWhen(domain, "the upgraded quota", (s) => s.spec.userQuota === 55);

    // Cancelled at the end of the period: the site keeps running until then, and says when it ends
    // (spec.order.cancelAt, shown as the CancellationScheduled condition and the Cancels column).
    sub.cancel_at_period_end = true;
    await subscriptionChanged(sub.id);
    hs = await siteWhen(domain, "the scheduled cancellation", (s) => (s.spec.order as { cancelAt?: string } | undefined)?.cancelAt !== undefined);
    expect(hs.spec).toMatchObject({ suspended: false, userQuota: 55 });

    // The period ends: canceled, with an expiry.
    await clock.advance(30 * DAY);
    Object.assign(sub, { status: "canceled", canceled_at: clock.unix(), ended_at: clock.unix() });
    await send(subscriptionEvent(stub, "customer.subscription.deleted", sub.id));
    hs = await siteWhen(domain, "the expiry", (s) => typeof s.spec.expiresAt === "string");
    const expiresAt = new Date(clock.unix() * 1000 + EXPIRE_AFTER);
    expect(hs.spec.expiresAt).toBe(rfc3339(expiresAt));
    expect(hs.spec.order).not.toHaveProperty("cancelAt");
    expect(await order(service, sub.id)).toMatchObject({ state: "ended" });

    // Expired (the controller disables the site at expiresAt).
    await clock.advance(EXPIRE_AFTER + MINUTE);
    expect(clock.now().getTime()).toBeGreaterThan(expiresAt.getTime());

    // The same customer buys again with the same domain: the site is handed over, not duplicated.
    const again = seedOrder(stub, { items: { business_yearly: 1 }, subdomain: outage ? "outage" : "calm" });
    stub.customers.delete(again.customerId);
    again.subscription.customer = again.session.customer = first.customerId;
    setLatestInvoice(stub, again.subscription, { id: "in_again", status: "paid", status_transitions: { finalized_at: clock.unix(), paid_at: clock.unix() } });
    await send(checkoutEvent(stub, "checkout.session.completed", again.session.id));
    hs = await siteWhen(domain, "the hand-over", (s) => s.metadata.labels?.[SUBSCRIPTION_LABEL] === again.subscription.id);
    expect(sitesOf(domain)).toHaveLength(1);
    expect(hs.metadata.name).toBe(site);
    expect(hs.spec).toMatchObject({ suspended: false, userQuota: 50, order: { subscription: again.subscription.id } });
    expect(hs.spec.expiresAt).toBeUndefined();
    await settled(service);

    const dead = await service.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM stripe_events WHERE state = 'dead'");
    expect(dead.rows[0]?.n).toBe(0);
    expect(await order(service, again.subscription.id)).toMatchObject({ state: "active", site_name: site });
  } finally {
    stub.fail(0);
    await service.stop();
  }
}

describe("the life of one order", () => {
  it("paid, past due, suspended, paid, upgraded, cancelled at period end, cancelled, expired, bought again", async () => {
    await lifeOfOneOrder(false);
  }, 60_000);

  it("the same, with the Stripe API answering 429 then 503 for an hour in the middle: nothing dead, all converges", async () => {
    await lifeOfOneOrder(true);
  }, 90_000);
});
