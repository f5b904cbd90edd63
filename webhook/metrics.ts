// Prometheus metrics of the webhook, on a registry of its own (nothing global).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface WebhookMetrics {
  registry: Registry;
  eventsReceived: Counter<"type" | "outcome">;
  signatureFailures: Counter<"reason">;
  inboxDepth: Gauge;
  stuckEvents: Gauge;
  processingDuration: Histogram<"outcome">;
  deadLettered: Counter;
  ordersParked: Counter;
  relayApplies: Counter;
  relayFailures: Counter;
}

export interface MetricsOptions {
  /** Pending inbox events, read when scraped. */
  inboxDepth: () => Promise<number>;
  /** Pending events and timers beyond the attempt budget, read when scraped. */
  stuckEvents: () => Promise<number>;
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions): WebhookMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    eventsReceived: new Counter({
      name: "stripe_webhook_events_received_total",
      help: "Verified Stripe events received, by type and outcome (stored, duplicate, ignored, malformed, unavailable)",
      labelNames: ["type", "outcome"],
      registers,
    }),
    signatureFailures: new Counter({
      name: "stripe_webhook_signature_failures_total",
      help: "Deliveries refused because of the Stripe-Signature header (missing, malformed, mismatch, stale)",
      labelNames: ["reason"],
      registers,
    }),
    inboxDepth: new Gauge({
      name: "stripe_webhook_inbox_depth",
      help: "Inbox events waiting to be processed",
      registers,
      async collect() {
        try {
          this.set(await options.inboxDepth());
        } catch {
          // Database unreachable: keep the last value; /readyz reports the outage.
        }
      },
    }),
    stuckEvents: new Gauge({
      name: "stripe_webhook_events_stuck",
      help: "Inbox events and timers that failed --max-attempts times or more and are still retried (Stripe or its key unavailable)",
      registers,
      async collect() {
        try {
          this.set(await options.stuckEvents());
        } catch {
          // As for the inbox depth.
        }
      },
    }),
    processingDuration: new Histogram({
      name: "stripe_webhook_processing_duration_seconds",
      help: "Time to process one subscription's pending events, by outcome (processed, parked, duplicate, retry, dead)",
      labelNames: ["outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    deadLettered: new Counter({ name: "stripe_webhook_dead_lettered_total", help: "Inbox events given up on because no retry can help (the object does not exist or is not ours), kept with their reason", registers }),
    ordersParked: new Counter({ name: "stripe_webhook_orders_parked_total", help: "Times an order was parked (unknown catalog item, bad domain...)", registers }),
    relayApplies: new Counter({ name: "stripe_webhook_relay_applies_total", help: "HostedSites applied to Kubernetes", registers }),
    relayFailures: new Counter({ name: "stripe_webhook_relay_failures_total", help: "Failed HostedSite applies (retried with backoff)", registers }),
  };
}
