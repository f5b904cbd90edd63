// The Stripe side of a chaos run: customers check out (the Stripe stub holds their purchases),
// their subscriptions change later, and every event is delivered the way Stripe does it — signed,
// possibly several times, out of order, concurrently to both webhook replicas, and retried
// until a replica answers 2xx.
import { Random } from "../harness/aegir/random.ts";
import { checkoutEvent, invoiceEvent, signedDelivery, subscriptionEvent, type StripeEvent } from "../harness/stripe/events.ts";
import { seedOrder } from "../harness/stripe/orders.ts";
import type { StripeStub } from "../harness/stripe/stub.ts";
import type { OrderPlan } from "./schedule.ts";

export interface PlacedOrder {
  plan: OrderPlan;
  subscription: string;
  email: string;
  /** The subscription was changed to its final status. */
  changed: boolean;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 1_000;

export class Customers {
  readonly orders: PlacedOrder[] = [];
  /** Deliveries attempted, answered non-2xx or not at all, and events finally accepted. */
  readonly counts = { attempts: 0, refused: 0, accepted: 0, duplicates: 0, lost: 0 };
  /** Order actions whose events are still to lose (see lose()). */
  private toLose = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly random: Random;
  private readonly stub: StripeStub;
  private readonly webhookUrls: () => string[];
  private readonly secret: string;
  private stopped = false;

  constructor(stub: StripeStub, webhookUrls: () => string[], secret: string, seed: number) {
    this.stub = stub;
    this.webhookUrls = webhookUrls;
    this.secret = secret;
    this.random = new Random(seed ^ 0x5eed);
  }

  place(plan: OrderPlan): PlacedOrder {
    const items: Record<string, number> = { [`${plan.kit}_monthly`]: 1, ...(plan.users > 0 ? { users_monthly: plan.users } : {}) };
    const seeded = seedOrder(this.stub, { items, ...plan.address });
    const order: PlacedOrder = { plan, subscription: seeded.subscription.id, email: seeded.session.email ?? "", changed: false };
    this.orders.push(order);
    this.send(plan, [
      checkoutEvent(this.stub, "checkout.session.completed", seeded.session.id),
      subscriptionEvent(this.stub, "customer.subscription.created", seeded.subscription.id),
      invoiceEvent("invoice.paid", seeded.subscription.id),
    ]);
    return order;
  }

  /** The subscription moves to the plan's final status, and Stripe tells the webhook. */
  change(order: PlacedOrder): void {
    const sub = this.stub.subscriptions.get(order.subscription);
    if (sub === undefined || order.changed) return;
    order.changed = true;
    if (order.plan.final === "active") return;
    sub.status = order.plan.final;
    const events: StripeEvent[] = [];
    if (order.plan.final === "canceled") {
      const now = Math.floor(Date.now() / 1000);
      sub.canceled_at = now;
      sub.ended_at = now;
      events.push(subscriptionEvent(this.stub, "customer.subscription.deleted", sub.id));
    } else {
      if (order.plan.final === "past_due") events.push(invoiceEvent("invoice.payment_failed", sub.id));
      events.push(subscriptionEvent(this.stub, "customer.subscription.updated", sub.id));
    }
    this.send(order.plan, events);
  }

  /** Every event of the next `count` purchases or subscription changes is lost for good (0: none more). */
  lose(count: number): void {
    this.toLose = count;
  }

  /** Resolves when every delivery so far has been accepted (or the run stopped). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  stop(): void {
    this.stopped = true;
  }

  private send(plan: OrderPlan, events: StripeEvent[]): void {
    if (this.toLose > 0) {
      this.toLose--;
      this.counts.lost += events.length;
      return;
    }
    const copies = events.flatMap((e) => Array.from({ length: plan.copies }, () => e));
    this.counts.duplicates += copies.length - events.length;
    if (plan.concurrent) {
      // Shuffled and all at once: duplicates race each other on the two replicas.
      for (let i = copies.length - 1; i > 0; i--) {
        const j = Math.floor(this.random.next() * (i + 1));
        [copies[i], copies[j]] = [copies[j]!, copies[i]!];
      }
      for (const event of copies) this.track(this.deliver(event));
    } else {
      this.track(
        (async () => {
          for (const event of copies) await this.deliver(event);
        })(),
      );
    }
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** One event until a replica accepts it, re-signed per attempt like Stripe's retries. */
  private async deliver(event: StripeEvent): Promise<void> {
    let wait = RETRY_FIRST_MS;
    while (!this.stopped) {
      const urls = this.webhookUrls();
      const url = urls[Math.floor(this.random.next() * urls.length)]!;
      const { payload, headers } = signedDelivery(event, this.secret);
      this.counts.attempts++;
      try {
        const response = await fetch(`${url}/stripe/webhook`, { method: "POST", headers, body: payload, signal: AbortSignal.timeout(5_000) });
        await response.arrayBuffer();
        if (response.ok) {
          this.counts.accepted++;
          return;
        }
      } catch {
        // Connection refused or timed out: Stripe retries.
      }
      this.counts.refused++;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }
}
