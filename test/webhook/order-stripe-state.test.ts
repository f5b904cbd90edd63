// Orders judged by what Stripe says now: payment by the subscription and its latest invoice, the
// past-due grace by Stripe's clock, and every Checkout line item however many pages it takes.
import { describe, expect, it } from "vitest";
import { GRACE_PERIOD_ENDS_ANNOTATION, rfc3339 } from "../../webhook/hostedsite-manifest.ts";
import { checkoutEvent, invoiceEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { seedOrder, setLatestInvoice } from "../harness/stripe/orders.ts";
import { deliver, order, settled, startTestWebhook, useWebhookPerTest } from "./support.ts";

const HOUR = 3_600_000;
const GRACE = 72 * HOUR;

const world = useWebhookPerTest((url, stub) => startTestWebhook(url, stub, { config: { pastDueGrace: GRACE } }));


const unix = (ms: number) => Math.floor(ms / 1000);

describe("payment", () => {
  it("provisions once the invoice is paid by card after an async payment failed, although the session stays unpaid", async () => {
    const { subscription, session } = seedOrder(world.stub, { items: { community_monthly: 1 }, paymentStatus: "unpaid", status: "incomplete" });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", session.id))).toBe(200);
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.async_payment_failed", session.id))).toBe(200);
    await settled(world.service);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "awaiting_payment", provisioned: false });

    // The bank debit failed: Stripe voids nothing the session shows, the customer pays by card.
    subscription.status = "active";
    setLatestInvoice(world.stub, subscription, { id: "in_paidByCard", status: "paid", status_transitions: { finalized_at: unix(Date.now()), paid_at: unix(Date.now()) } });
    expect(await deliver(world.service, invoiceEvent("invoice.paid", subscription.id))).toBe(200);
    await settled(world.service);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "active", provisioned: true });
    expect(world.service.applier.site(subscription.id)?.spec.suspended).toBe(false);
  });

  it("does not provision an active subscription whose session is unpaid while its invoice is still open", async () => {
    // A bank debit in flight: Stripe may already call the subscription active.
    const { subscription, session } = seedOrder(world.stub, { items: { community_monthly: 1 }, paymentStatus: "unpaid" });
    setLatestInvoice(world.stub, subscription, { id: "in_debitPending", status: "open" });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", session.id))).toBe(200);
    await settled(world.service);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "awaiting_payment", provisioned: false });
    expect(world.service.applier.sites.size).toBe(0);
  });
});

describe("past-due grace", () => {
  it("counts from when the invoice fell due at Stripe, not from when a delayed event arrives", async () => {
    const { subscription, session } = seedOrder(world.stub, { items: { community_monthly: 1 } });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", session.id))).toBe(200);
    await settled(world.service);

    const dueAt = Date.now() - 10 * HOUR;
    subscription.status = "past_due";
    setLatestInvoice(world.stub, subscription, { id: "in_overdue", status: "open", status_transitions: { finalized_at: unix(dueAt) } });
    expect(await deliver(world.service, subscriptionEvent(world.stub, "customer.subscription.updated", subscription.id))).toBe(200);
    await settled(world.service);
    const site = world.service.applier.site(subscription.id);
    expect(site?.spec.suspended).toBe(false);
    expect(site?.metadata.annotations[GRACE_PERIOD_ENDS_ANNOTATION]).toBe(rfc3339(new Date(unix(dueAt) * 1000 + GRACE)));
  });

  it("suspends at once when the event arrives after the grace period already ended at Stripe", async () => {
    const { subscription, session } = seedOrder(world.stub, { items: { community_monthly: 1 } });
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", session.id))).toBe(200);
    await settled(world.service);

    // A send_invoice invoice due four days ago; the event comes now (an endpoint outage, say).
    subscription.status = "past_due";
    setLatestInvoice(world.stub, subscription, { id: "in_longOverdue", status: "open", due_date: unix(Date.now() - 96 * HOUR), status_transitions: { finalized_at: unix(Date.now() - 110 * HOUR) } });
    expect(await deliver(world.service, invoiceEvent("invoice.payment_failed", subscription.id))).toBe(200);
    await settled(world.service);
    expect(await order(world.service, subscription.id)).toMatchObject({ state: "suspended" });
    expect(world.service.applier.site(subscription.id)?.spec.suspended).toBe(true);
  });
});

describe("checkout line items", () => {
  it("pages through line items beyond the first page Stripe embeds: a one-time theme on page two is used", async () => {
    const { subscription, session } = seedOrder(world.stub, {
      items: {
        community_monthly: 1,
        addon_events: 1,
        addon_worktracker: 1,
        addon_files: 1,
        addon_analytics: 1,
        addon_markdown: 1,
        users_monthly: 3,
        users_pack_10_monthly: 1,
        support_standard: 1,
        https_required: 1,
      },
      oneTime: { theme_mercury: 1 },
    });
    expect(session.line_items.length).toBeGreaterThan(world.stub.embeddedItemLimit);
    expect(await deliver(world.service, checkoutEvent(world.stub, "checkout.session.completed", session.id))).toBe(200);
    await settled(world.service);
    expect(world.service.applier.site(subscription.id)?.spec).toMatchObject({ theme: "oa_mercury", https: "Required", userQuota: 23 });
    expect(world.stub.requests).toContain(`GET /v1/checkout/sessions/${session.id}/line_items`);
  });
});
