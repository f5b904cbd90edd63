// Parked orders and dead events reach whoever watches the cluster: a Warning Event on the
// HostedSite the order is for, and gauges by reason kind read from the ledger.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventRecorder, Regarding } from "../../common/events.ts";
import { siteName } from "../../webhook/hostedsite-manifest.ts";
import { deadKind, eventReason, parkKind } from "../../webhook/order-reasons.ts";
import type { WebhookService } from "../../webhook/service.ts";
import { checkoutEvent, stripeEvent } from "../harness/stripe/events.ts";
import { seedOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { deliver, eventually, settled, startTestPostgres, startTestWebhook, type FakeApplier, type TestPostgres } from "./support.ts";

interface Recorded {
  regarding: Regarding;
  type: string;
  reason: string;
  note: string;
}

let postgres: TestPostgres;
let stub: StripeStub;
let service: WebhookService & { applier: FakeApplier };
const recorded: Recorded[] = [];
const recorder: EventRecorder = { record: (regarding, type, reason, _action, note) => recorded.push({ regarding, type, reason, note }) };

beforeAll(async () => {
  [postgres, stub] = await Promise.all([startTestPostgres(), startStripeStub()]);
  service = await startTestWebhook(await postgres.freshDatabase(), stub, { overrides: { events: recorder } });
}, 60_000);
afterAll(async () => {
  await service?.stop();
  await Promise.all([postgres?.stop(), stub?.close()]);
});

const gauge = async (name: string, reason: string) => {
  const text = await service.metrics.registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{reason="${reason}"}`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
};

describe("parked and dead orders", () => {
  it("become Warning Events on their HostedSite and gauges by reason", async () => {
    expect(await gauge("stripe_webhook_orders_parked", "domain_taken")).toBe(0);
    const first = seedOrder(stub, { items: { business_monthly: 1 }, subdomain: "taken" });
    const second = seedOrder(stub, { items: { business_monthly: 1 }, subdomain: "taken" });
    for (const s of [first, second]) {
      expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", s.session.id))).toBe(200);
      await settled(service);
    }
    expect(await deliver(service, stripeEvent("customer.subscription.updated", { id: "sub_notInStripe9", object: "subscription", status: "active", customer: first.customerId }))).toBe(200);
    await settled(service);

    await eventually(() => recorded.length >= 2, 5_000, "two events recorded");
    const parkedEvent = recorded.find((r) => r.regarding.name === siteName(second.subscription.id));
    expect(parkedEvent).toMatchObject({
      regarding: { apiVersion: "hosting.openatria.com/v1alpha1", kind: "HostedSite", name: siteName(second.subscription.id), namespace: "customers" },
      type: "Warning",
      reason: "OrderParkedDomainTaken",
    });
    expect(parkedEvent?.note).toContain(`already taken by subscription ${first.subscription.id}`);
    expect(recorded.find((r) => r.regarding.name === siteName("sub_notInStripe9"))).toMatchObject({ type: "Warning", reason: "OrderDeadNotFound" });
    expect(await gauge("stripe_webhook_orders_parked", "domain_taken")).toBe(1);
    expect(await gauge("stripe_webhook_orders_parked", "catalog")).toBe(0);
    expect(await gauge("stripe_webhook_orders_dead", "not_found")).toBe(1);
  });
});

describe("reason kinds", () => {
  it("sort every reason the decision gives into a few bounded labels", () => {
    expect(parkKind("domain a.example.com is already taken by subscription sub_1")).toBe("domain_taken");
    expect(parkKind('subdomain "-x": must be a DNS label')).toBe("domain_invalid");
    expect(parkKind('no domain: the order names neither a subdomain (field "subdomain") nor its own domain (field "domain")')).toBe("domain_invalid");
    expect(parkKind("items not in the service catalog: price_x")).toBe("catalog");
    expect(parkKind("several product kits in one subscription: a, b")).toBe("catalog");
    expect(parkKind("user quota 0 is outside 1..10000")).toBe("catalog");
    expect(parkKind("no customer e-mail address")).toBe("email");
    expect(parkKind("the order does not make a valid HostedSite: spec.owner.email: bad")).toBe("invalid_site");
    expect(parkKind(null)).toBe("other");
    expect(deadKind("PermanentError: stripe: No such object: 'sub_1'")).toBe("not_found");
    expect(deadKind("PermanentError: checkout session cs_1 belongs to sub_2, not sub_1")).toBe("not_ours");
    expect(eventReason("OrderParked", "domain_taken")).toBe("OrderParkedDomainTaken");
  });
});
