// Throughput of `aegir-operator webhook` on loopback: embedded PostgreSQL (durable settings),
// the Stripe stub, and a load generator sending signed events over HTTP keep-alive connections.
// Prints accepted events/s, p50/p99 latency, and whether the inbox worker kept up.
// The load generator runs in a worker thread so its timing is not skewed by the server's event loop.
//   node test/bench/webhook-throughput.ts [--events 5000] [--concurrency 32] [--workers 4] [--rate 500]
// Without --rate it is a burst (the most events/s); with it, an open-loop offered load, latency
// counted from when each event was due.
// runWebhookBench() is the same run as a function, for test/bench/run.ts.
import { request, Agent } from "node:http";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { mkdtempSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../../common/config.ts";
import { createLogger } from "../../common/logger.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { inboxDepth } from "../../webhook/inbox.ts";
import { startWebhookService } from "../../webhook/service.ts";
import { checkoutEvent, invoiceEvent, signedDelivery, subscriptionEvent, type Delivery } from "../harness/stripe/events.ts";
import { seedOrder } from "../harness/stripe/orders.ts";
import { startStripeStub } from "../harness/stripe/stub.ts";

interface LoadJob {
  url: string;
  concurrency: number;
  deliveries: Delivery[];
  /** Offered load (open loop); unset: as fast as the connections allow. */
  ratePerSecond?: number;
}

interface LoadResult {
  seconds: number;
  latencies: number[];
  statuses: [number, number][];
}

/** Sends every delivery over `concurrency` keep-alive connections; runs in the worker thread. */
async function generateLoad(job: LoadJob): Promise<LoadResult> {
  const url = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const post = (d: Delivery) =>
    new Promise<number>((resolve, reject) => {
      const req = request(url, { method: "POST", agent, headers: { ...d.headers, "content-length": Buffer.byteLength(d.payload) } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(d.payload);
    });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  const rate = job.ratePerSecond;
  if (rate !== undefined) {
    // Open loop: delivery i is due at start + i/rate whatever the earlier ones are doing (at most
    // `concurrency` in flight), and its latency counts from when it was due, so a server falling
    // behind shows in the latency instead of slowing the generator down (coordinated omission).
    const inflight = new Set<Promise<void>>();
    for (const [i, d] of job.deliveries.entries()) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (inflight.size >= job.concurrency) await Promise.race(inflight);
      const sent = post(d).then((status) => {
        latencies.push(performance.now() - due);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      inflight.add(sent);
      void sent.finally(() => inflight.delete(sent));
    }
    await Promise.all(inflight);
    agent.destroy();
    return { seconds: (performance.now() - started) / 1000, latencies, statuses: [...statuses] };
  }
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.deliveries.length) {
        const d = job.deliveries[next++] as Delivery;
        const t = performance.now();
        const status = await post(d);
        latencies.push(performance.now() - t);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  agent.destroy();
  return { seconds: (performance.now() - started) / 1000, latencies, statuses: [...statuses] };
}

export interface WebhookBenchOptions {
  events: number;
  concurrency: number;
  workers: number;
  /** Offered load in events/s; unset: a burst as fast as the connections allow. */
  ratePerSecond?: number;
  /** Print the report lines (the script does; run.ts prints its table instead). */
  print?: boolean;
}

export interface WebhookBenchResult {
  events: number;
  accepted: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  workerKeptUp: boolean;
  endToEndEventsPerSecond: number;
  drainSeconds: number;
}

if (!isMainThread) parentPort?.postMessage(await generateLoad(workerData as LoadJob));
else if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "5000" },
      concurrency: { type: "string", default: "32" },
      workers: { type: "string", default: "4" },
      rate: { type: "string" },
    },
  });
  await runWebhookBench({
    events: Number(values.events),
    concurrency: Number(values.concurrency),
    workers: Number(values.workers),
    ...(values.rate === undefined ? {} : { ratePerSecond: Number(values.rate) }),
    print: true,
  });
}

export async function runWebhookBench(options: WebhookBenchOptions): Promise<WebhookBenchResult> {
  const EVENTS = options.events;
  const CONCURRENCY = options.concurrency;
  const SECRET = "whsec_benchSecret";
  const EVENTS_PER_ORDER = 4;

  const dir = mkdtempSync(join(tmpdir(), "webhook-bench-"));
  chmodSync(dir, 0o755);
  const stub = await startStripeStub();
  const logger = createLogger({ name: "webhook-bench", level: "warn" });
  const config = loadConfig(WEBHOOK_OPTIONS, new Map(), {
    STRIPE_WEBHOOK_SECRETS: SECRET,
    STRIPE_API_KEY: stub.apiKey,
    STRIPE_API_BASE: stub.url,
    POSTGRES_DIR: join(dir, "pg"),
    WEBHOOK_PORT: "0",
    WEBHOOK_WORKERS: String(options.workers),
  });
  let applies = 0;
  const service = await startWebhookService(config, logger, {
    applier: {
      apply: () => {
        applies++;
        return Promise.resolve();
      },
    },
  });

  try {
    // Each order produces the events Stripe sends for a Checkout purchase; signed up front so the
    // generator measures the server, not HMAC on the client.
    const orders = Math.ceil(EVENTS / EVENTS_PER_ORDER);
    const deliveries: Delivery[] = [];
    for (let i = 0; i < orders; i++) {
      const { subscription, session } = seedOrder(stub, { items: { business_monthly: 1, users_monthly: 1 + (i % 20) } });
      deliveries.push(
        signedDelivery(checkoutEvent(stub, "checkout.session.completed", session.id), SECRET),
        signedDelivery(subscriptionEvent(stub, "customer.subscription.created", subscription.id), SECRET),
        signedDelivery(invoiceEvent("invoice.paid", subscription.id), SECRET),
        signedDelivery(subscriptionEvent(stub, "customer.subscription.updated", subscription.id), SECRET),
      );
    }
    deliveries.length = EVENTS;


    let maxDepth = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxDepth = Math.max(maxDepth, await inboxDepth(service.pool));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const started = performance.now();
    const job: LoadJob = {
      url: new URL("/stripe/webhook", service.url).toString(),
      concurrency: CONCURRENCY,
      deliveries,
      ...(options.ratePerSecond === undefined ? {} : { ratePerSecond: options.ratePerSecond }),
    };
    const result = await new Promise<LoadResult>((resolve, reject) => {
      const generator = new Worker(new URL(import.meta.url), { workerData: job });
      generator.once("message", (m: LoadResult) => resolve(m));
      generator.once("error", reject);
    });
    const sendSeconds = result.seconds;
    const latencies = result.latencies;
    const statuses = new Map(result.statuses);
    const depthAtEnd = await inboxDepth(service.pool);
    const drainStarted = performance.now();
    for (;;) {
      const left = await service.pool.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM stripe_events WHERE state = 'pending' AND kind = 'stripe')
              + (SELECT count(*) FROM outbox WHERE applied_version < version) AS n`,
      );
      if (Number(left.rows[0]?.n) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const drainSeconds = (performance.now() - drainStarted) / 1000;
    sampling = false;
    await sampler;

    const durations = (await service.metrics.processingDuration.get()).values;
    const sum = durations.filter((v) => v.metricName?.endsWith("_sum")).reduce((a, v) => a + v.value, 0);
    const count = durations.filter((v) => v.metricName?.endsWith("_count")).reduce((a, v) => a + v.value, 0);
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
    const pct = (p: number) => at(p).toFixed(2);
    const accepted = statuses.get(200) ?? 0;
    const totalSeconds = (performance.now() - started) / 1000;
    const keptUp = depthAtEnd <= CONCURRENCY * 2;
    if (options.print) console.log(
      [
        `events sent:        ${deliveries.length} over ${CONCURRENCY} connections (${orders} subscriptions, ${config.workers} inbox workers), ${options.ratePerSecond === undefined ? "as fast as possible" : `offered at ${options.ratePerSecond}/s`}`,
        `responses:          ${[...statuses].map(([s, n]) => `${s}x${n}`).join(" ")}`,
        `accepted:           ${(accepted / sendSeconds).toFixed(0)} events/s sustained (${sendSeconds.toFixed(2)} s)`,
        `latency:            p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms`,
        `inbox:              max depth ${maxDepth}, ${depthAtEnd} pending when sending stopped, inbox and outbox drained ${drainSeconds.toFixed(2)} s later`,
        `worker kept up:     ${keptUp ? "yes" : "no"}: ${(accepted / totalSeconds).toFixed(0)} events/s (${(orders / totalSeconds).toFixed(0)} subscriptions/s) processed end to end; ${applies} HostedSites applied`,
        `processing:         ${count} subscription runs, mean ${((sum / Math.max(1, count)) * 1000).toFixed(1)} ms each`,
      ].join("\n"),
    );
    return {
      events: deliveries.length,
      accepted,
      eventsPerSecond: accepted / sendSeconds,
      p50Ms: at(50),
      p99Ms: at(99),
      maxMs: at(100),
      workerKeptUp: keptUp,
      endToEndEventsPerSecond: accepted / totalSeconds,
      drainSeconds,
    };
  } finally {
    await service.stop();
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
