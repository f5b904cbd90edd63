// The seller policies of the catalog, through the real webhook: signed events, embedded
// PostgreSQL, the Stripe stub, and HostedSites applied to the fake API server by client-node.
// Disputes flag (or suspend) the site, paused collection suspends after a grace, a scheduled
// cancellation shows before the end, refunds are only recorded.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { DEFAULT_CATALOG_FILE } from "../../webhook/catalog.ts";
import { GRACE_PERIOD_ENDS_ANNOTATION, siteName } from "../../webhook/hostedsite-manifest.ts";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import { COLLECTION_PAUSED_ANNOTATION, DISPUTE_ANNOTATION } from "../../webhook/policies.ts";
import type { WebhookService } from "../../webhook/service.ts";
import { startFakeApiServer, type FakeApiServer, type KubeObject } from "../harness/kube/index.ts";
import { chargeEvent, checkoutEvent, disputeEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { seedOrder, stripeId, type SeededOrder } from "../harness/stripe/orders.ts";
import type { StubDispute } from "../harness/stripe/stub.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { deliver, eventually, order, settled, startTestPostgres, startTestWebhook, type TestPostgres } from "./support.ts";

const TABLE_ACCEPT = "application/json;as=Table;v=v1;g=meta.k8s.io";

let postgres: TestPostgres;
let stub: StripeStub;
let api: FakeApiServer;
let catalogDir: string;

beforeAll(async () => {
  [postgres, stub, api] = await Promise.all([startTestPostgres(), startStripeStub(), startFakeApiServer({ namespaces: ["customers"] })]);
  catalogDir = mkdtempSync(join(tmpdir(), "seller-policies-"));
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), stub?.close(), api?.close()]);
  rmSync(catalogDir, { recursive: true, force: true });
});
beforeEach(() => {
  stub.fail(0);
});

/** The shipped catalog with its `policies` section replaced. */
function catalogWith(policies: string): string {
  const text = readFileSync(DEFAULT_CATALOG_FILE, "utf8");
  const start = text.indexOf("\npolicies:");
  const end = text.indexOf("\nkits:");
  if (start < 0 || end < start) throw new Error("the default catalog has no policies section before kits");
  const file = join(catalogDir, `catalog-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `${text.slice(0, start)}\n${policies.trim()}\n${text.slice(end)}`);
  return file;
}

async function webhook(catalog?: string): Promise<WebhookService> {
  const kc = new KubeConfig();
  kc.loadFromString(api.kubeconfigYaml("customers"));
  return startTestWebhook(await postgres.freshDatabase(), stub, { config: catalog === undefined ? {} : { catalog }, overrides: { applier: kubeApplier(kc) } });
}

const ref = (subscriptionId: string) => ({ apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers", name: siteName(subscriptionId) });
const specOf = (o: KubeObject) => (o as unknown as { spec: { suspended?: boolean; order?: { cancelAt?: string }; expiresAt?: string } }).spec;
const annotationsOf = (o: KubeObject) => o.metadata.annotations ?? {};

async function buy(service: WebhookService): Promise<SeededOrder> {
  const seeded = seedOrder(stub, { items: { business_monthly: 1 } });
  expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", seeded.session.id))).toBe(200);
  await api.objects.waitFor(ref(seeded.subscription.id));
  await settled(service);
  return seeded;
}

/** The order's invoice paid by a charge, as Stripe links them since basil (PaymentIntent → invoice payment → invoice). */
function paidCharge(seeded: SeededOrder, amount = 9900): string {
  const invoice = stripeId("in");
  const intent = stripeId("pi");
  const charge = stripeId("ch");
  stub.invoices.set(invoice, { id: invoice, subscription: seeded.subscription.id, customer: seeded.customerId, status: "paid", amount_due: amount, payment_intent: intent });
  seeded.subscription.latest_invoice = invoice;
  stub.charges.set(charge, { id: charge, customer: seeded.customerId, amount, payment_intent: intent, refunds: [] });
  return charge;
}

function openDispute(charge: string, reason = "fraudulent"): StubDispute {
  const dispute: StubDispute = { id: stripeId("dp"), charge, status: "needs_response", reason, amount: 9900 };
  stub.disputes.set(dispute.id, dispute);
  return dispute;
}

async function disputeRows(service: WebhookService, subscriptionId: string) {
  const r = await service.pool.query<{ dispute_id: string; status: string; amount: string }>(
    "SELECT dispute_id, status, amount::text FROM order_disputes WHERE subscription_id = $1 ORDER BY dispute_id",
    [subscriptionId],
  );
  return r.rows;
}

describe("disputes", () => {
  it("by default only flag the site, on the HostedSite and the order; a won dispute clears the flag", async () => {
    const service = await webhook();
    try {
      const seeded = await buy(service);
      const dispute = openDispute(paidCharge(seeded));
      expect(await deliver(service, disputeEvent(stub, "charge.dispute.created", dispute.id))).toBe(200);
      const flagged = await api.objects.waitFor(ref(seeded.subscription.id), (o) => DISPUTE_ANNOTATION in annotationsOf(o));
      expect(annotationsOf(flagged)[DISPUTE_ANNOTATION]).toBe(`payment disputed: ${dispute.id} is open (9900 usd, fraudulent)`);
      expect(specOf(flagged).suspended).toBe(false);
      await settled(service);
      expect(await order(service, seeded.subscription.id)).toMatchObject({ state: "active", reason: `payment disputed: ${dispute.id} is open (9900 usd, fraudulent) (flagged)` });
      expect(await disputeRows(service, seeded.subscription.id)).toEqual([{ dispute_id: dispute.id, status: "needs_response", amount: "9900" }]);

      dispute.status = "won";
      expect(await deliver(service, disputeEvent(stub, "charge.dispute.closed", dispute.id))).toBe(200);
      const cleared = await api.objects.waitFor(ref(seeded.subscription.id), (o) => !(DISPUTE_ANNOTATION in annotationsOf(o)));
      expect(specOf(cleared).suspended).toBe(false);
      await settled(service);
      expect(await order(service, seeded.subscription.id)).toMatchObject({ state: "active", reason: null });
      expect(await disputeRows(service, seeded.subscription.id)).toEqual([{ dispute_id: dispute.id, status: "won", amount: "9900" }]);
    } finally {
      await service.stop();
    }
  });

  it("suspend the site under the suspend policy, resume it when won, and keep it suspended when lost, whatever the order of the events", async () => {
    const service = await webhook(catalogWith("policies:\n  disputes: { open: suspend, lost: suspend }"));
    try {
      const seeded = await buy(service);
      const charge = paidCharge(seeded);
      const first = openDispute(charge);
      expect(await deliver(service, disputeEvent(stub, "charge.dispute.created", first.id))).toBe(200);
      await api.objects.waitFor(ref(seeded.subscription.id), (o) => specOf(o).suspended === true);
      await settled(service);
      expect(await order(service, seeded.subscription.id)).toMatchObject({ state: "suspended", reason: `payment disputed: ${first.id} is open (9900 usd, fraudulent)` });

      first.status = "won";
      expect(await deliver(service, disputeEvent(stub, "charge.dispute.closed", first.id))).toBe(200);
      await api.objects.waitFor(ref(seeded.subscription.id), (o) => specOf(o).suspended === false && !(DISPUTE_ANNOTATION in annotationsOf(o)));
      await settled(service);
      expect(await order(service, seeded.subscription.id)).toMatchObject({ state: "active", reason: null });

      // A second dispute, already lost when its events arrive, the closing one first.
      const second = openDispute(charge, "product_not_received");
      const created = disputeEvent(stub, "charge.dispute.created", second.id);
      second.status = "lost";
      expect(await deliver(service, disputeEvent(stub, "charge.dispute.closed", second.id))).toBe(200);
      expect(await deliver(service, created)).toBe(200);
      const lost = await api.objects.waitFor(ref(seeded.subscription.id), (o) => specOf(o).suspended === true);
      expect(annotationsOf(lost)[DISPUTE_ANNOTATION]).toBe(`payment dispute ${second.id} was lost (9900 usd, product_not_received)`);
      await settled(service);
      expect(await order(service, seeded.subscription.id)).toMatchObject({ state: "suspended" });
      expect((await disputeRows(service, seeded.subscription.id)).map((d) => d.status).sort()).toEqual(["lost", "won"]);
    } finally {
      await service.stop();
    }
  });

  it("of a payment that paid no order here are acknowledged and change nothing", async () => {
    const service = await webhook();
    try {
      const seeded = await buy(service);
      const stray = stripeId("ch");
      stub.charges.set(stray, { id: stray, customer: seeded.customerId, amount: 100, payment_intent: null });
      const dispute = openDispute(stray);
      expect(await deliver(service, disputeEvent(stub, "charge.dispute.created", dispute.id))).toBe(200);
      await settled(service);
      const r = await service.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM order_disputes");
      expect(r.rows[0]?.n).toBe(0);
      expect(annotationsOf(api.objects.get(ref(seeded.subscription.id)) as KubeObject)).not.toHaveProperty(DISPUTE_ANNOTATION);
    } finally {
      await service.stop();
    }
  });
});

describe("paused payment collection", () => {
  it("keeps the site up for the grace, then suspends it without another event, and resumes it when collection resumes", async () => {
    const service = await webhook(catalogWith("policies:\n  pausedCollection: { grace: 600ms }"));
    try {
      const seeded = await buy(service);
      const sub = seeded.subscription;
      sub.pause_collection = { behavior: "void", resumes_at: null };
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", sub.id))).toBe(200);
      const paused = await api.objects.waitFor(ref(sub.id), (o) => COLLECTION_PAUSED_ANNOTATION in annotationsOf(o));
      expect(specOf(paused).suspended).toBe(false);
      const since = Date.parse(annotationsOf(paused)[COLLECTION_PAUSED_ANNOTATION] ?? "");
      // Both in whole seconds, as Kubernetes writes times: the grace ends 600ms after the pause began.
      const graceEnds = Date.parse(annotationsOf(paused)[GRACE_PERIOD_ENDS_ANNOTATION] ?? "");
      expect(graceEnds - since).toBeGreaterThanOrEqual(0);
      expect(graceEnds - since).toBeLessThanOrEqual(1_000);

      // The durable timer ends the grace: no Stripe event comes.
      const suspended = await api.objects.waitFor(ref(sub.id), (o) => specOf(o).suspended === true, 10_000);
      expect(annotationsOf(suspended)[COLLECTION_PAUSED_ANNOTATION]).toBe(annotationsOf(paused)[COLLECTION_PAUSED_ANNOTATION]);
      await eventually(async () => (await order(service, sub.id))?.state === "suspended", 5_000, "the order suspended");
      expect((await order(service, sub.id))?.reason).toBe(`payment collection paused since ${annotationsOf(paused)[COLLECTION_PAUSED_ANNOTATION]}, beyond the 600ms grace`);

      sub.pause_collection = null;
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", sub.id))).toBe(200);
      const resumed = await api.objects.waitFor(ref(sub.id), (o) => specOf(o).suspended === false);
      expect(annotationsOf(resumed)).not.toHaveProperty(COLLECTION_PAUSED_ANNOTATION);
      await settled(service);
      expect(await order(service, sub.id)).toMatchObject({ state: "active", reason: null });
      const stored = await service.pool.query<{ since: Date | null }>("SELECT collection_paused_since AS since FROM orders WHERE subscription_id = $1", [sub.id]);
      expect(stored.rows[0]?.since).toBeNull();
    } finally {
      await service.stop();
    }
  });
});

describe("a scheduled cancellation", () => {
  it("shows on the HostedSite (spec.order.cancelAt, the Cancels column) until the end, and goes when taken back", async () => {
    const service = await webhook();
    try {
      const seeded = await buy(service);
      const sub = seeded.subscription;
      sub.current_period_end = Math.floor(Date.parse("2031-05-01T00:00:00Z") / 1000);
      sub.cancel_at_period_end = true;
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", sub.id))).toBe(200);
      const scheduled = await api.objects.waitFor(ref(sub.id), (o) => specOf(o).order?.cancelAt !== undefined);
      expect(specOf(scheduled)).toMatchObject({ suspended: false, order: { cancelAt: "2031-05-01T00:00:00Z" } });
      expect(specOf(scheduled).expiresAt).toBeUndefined();

      const table = await fetch(`${api.url}/apis/${API_VERSION}/namespaces/customers/hostedsites/${siteName(sub.id)}`, { headers: { accept: TABLE_ACCEPT } });
      const body = (await table.json()) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
      const column = body.columnDefinitions.findIndex((c) => c.name === "Cancels");
      expect(body.rows[0]?.cells[column]).toBe("2031-05-01T00:00:00Z");

      sub.cancel_at_period_end = false;
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", sub.id))).toBe(200);
      await api.objects.waitFor(ref(sub.id), (o) => specOf(o).order?.cancelAt === undefined);

      // Cancelled at a set time, then ended: the end is the expiry's business, not a schedule any more.
      sub.cancel_at = Math.floor(Date.parse("2031-06-15T12:00:00Z") / 1000);
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", sub.id))).toBe(200);
      await api.objects.waitFor(ref(sub.id), (o) => specOf(o).order?.cancelAt === "2031-06-15T12:00:00Z");
      sub.status = "canceled";
      sub.canceled_at = sub.cancel_at;
      sub.ended_at = sub.cancel_at;
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.deleted", sub.id))).toBe(200);
      const ended = await api.objects.waitFor(ref(sub.id), (o) => specOf(o).expiresAt !== undefined);
      expect(specOf(ended).order?.cancelAt).toBeUndefined();
    } finally {
      await service.stop();
    }
  });
});

describe("a refund without cancellation", () => {
  it("is recorded in the ledger with its amount and time, and changes nothing else", async () => {
    const service = await webhook();
    try {
      const seeded = await buy(service);
      const charge = paidCharge(seeded);
      const before = api.objects.get(ref(seeded.subscription.id)) as KubeObject;
      const refundedAt = Math.floor(Date.parse("2030-01-02T03:04:05Z") / 1000);
      const refund = { id: stripeId("re"), amount: 2500, created: refundedAt, reason: "requested_by_customer" as const };
      stub.charges.get(charge)?.refunds?.push(refund);
      expect(await deliver(service, chargeEvent(stub, "charge.refunded", charge))).toBe(200);
      await settled(service);
      await eventually(
        async () => (await service.pool.query("SELECT 1 FROM stripe_events WHERE state = 'pending'")).rowCount === 0,
        5_000,
        "the review to be processed",
      );
      const rows = await service.pool.query<{ refund_id: string; amount: string; currency: string; refunded_at: Date }>(
        "SELECT refund_id, amount::text, currency, refunded_at FROM order_refunds WHERE subscription_id = $1",
        [seeded.subscription.id],
      );
      expect(rows.rows).toEqual([{ refund_id: refund.id, amount: "2500", currency: "usd", refunded_at: new Date(refundedAt * 1000) }]);
      expect(await order(service, seeded.subscription.id)).toMatchObject({ state: "active", reason: null });
      const after = api.objects.get(ref(seeded.subscription.id)) as KubeObject;
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);

      // Redelivered or repeated, the same refund is recorded once.
      expect(await deliver(service, chargeEvent(stub, "charge.refunded", charge))).toBe(200);
      await settled(service);
      const again = await service.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM order_refunds");
      expect(again.rows[0]?.n).toBe(1);
    } finally {
      await service.stop();
    }
  });
});
