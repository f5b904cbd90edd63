// Scenario 5: one re-sync pass with Stripe over N orders (embedded PostgreSQL, the Stripe stub,
// the webhook service with its default read rate). The ledger is filled first by a pass of a
// webhook without a rate limit (not counted); then some subscriptions change in Stripe with no
// event: new ones bought (their events lost) and canceled ones. Measured: the pass until every
// drifted order is repaired, its Stripe requests and their peak per second (against Stripe's 100
// read requests/s), and a pass over the same orders when nothing changed.
//   node test/bench/resync.ts [--orders 10000] [--drift 100] [--rate 25]
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../../common/config.ts";
import { createLogger } from "../../common/logger.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { startEmbeddedPostgres } from "../../webhook/db/embedded-postgres.ts";
import type { HostedSiteManifest } from "../../webhook/hostedsite-manifest.ts";
import { startWebhookService, type WebhookService } from "../../webhook/service.ts";
import { seedOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";

export interface ResyncBenchOptions {
  orders: number;
  /** Subscriptions bought without their events reaching the webhook, and as many canceled. */
  drift: number;
  /** Stripe requests/s of the measured webhook (its default). */
  readRate: number;
  progress?: (line: string) => void;
}

export interface PassMeasure {
  seconds: number;
  requests: number;
  listRequests: number;
  peakPerSecond: number;
  reviews: number;
}

export interface ResyncBenchResult {
  orders: number;
  drift: number;
  readRate: number;
  populate: { seconds: number; requests: number };
  drifted: PassMeasure & { repaired: number; expectedRepaired: number; boundSeconds: number; boundRequests: number };
  steady: PassMeasure;
}

/** Stripe requests the stub served, counted every 50 ms: the most in any one-second window. */
function requestSampler(stub: StripeStub) {
  const samples: [number, number][] = [];
  const timer = setInterval(() => samples.push([performance.now(), stub.requests.length]), 50);
  samples.push([performance.now(), stub.requests.length]);
  return {
    stop(): number {
      clearInterval(timer);
      samples.push([performance.now(), stub.requests.length]);
      let peak = 0;
      let j = 0;
      for (let i = 0; i < samples.length; i++) {
        const [t, n] = samples[i] as [number, number];
        while ((samples[j] as [number, number])[0] < t - 1000) j++;
        // The window ending at sample i and starting at the earliest sample within the last second.
        peak = Math.max(peak, n - (samples[Math.max(0, j - 1)] as [number, number])[1]);
      }
      return peak;
    },
  };
}

async function reviewsLeft(service: WebhookService): Promise<number> {
  const r = await service.pool.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM stripe_events WHERE state = 'pending' AND next_attempt_at < now() + interval '1 day')
          + (SELECT count(*) FROM outbox WHERE applied_version < version) AS n`,
  );
  return Number(r.rows[0]?.n);
}

async function drain(service: WebhookService): Promise<void> {
  while ((await reviewsLeft(service)) > 0) await new Promise((r) => setTimeout(r, 100));
}

export async function runResyncBench(o: ResyncBenchOptions): Promise<ResyncBenchResult> {
  const say = o.progress ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), "resync-bench-"));
  chmodSync(dir, 0o755);
  const pg = await startEmbeddedPostgres({ dir: join(dir, "pg"), unsafeFast: true });
  const stub = await startStripeStub();
  const logger = createLogger({ name: "resync-bench", level: "warn" });
  const sites = new Map<string, HostedSiteManifest>();
  const applier = { apply: (m: HostedSiteManifest) => Promise.resolve(void sites.set(m.metadata.name, m)) };
  const configOf = (rate: number) =>
    loadConfig(WEBHOOK_OPTIONS, new Map(), {
      STRIPE_WEBHOOK_SECRETS: "whsec_benchSecret",
      STRIPE_API_KEY: stub.apiKey,
      STRIPE_API_BASE: stub.url,
      DATABASE_URL: pg.connectionString,
      WEBHOOK_PORT: "0",
      STRIPE_READ_RATE: String(rate),
      RESYNC_INTERVAL: "0s",
      WEBHOOK_WORKERS: "8",
    });
  try {
    for (let i = 0; i < o.orders; i++) seedOrder(stub, { items: { business_monthly: 1, users_monthly: 1 + (i % 20) } });
    say(`  populating the ledger: ${o.orders} orders through an unthrottled pass ...`);
    const fast = await startWebhookService(configOf(1000), logger, { applier, pollMs: 50 });
    const populateStarted = performance.now();
    const populateRequests = stub.requests.length;
    try {
      await fast.resyncNow();
      await drain(fast);
    } finally {
      await fast.stop();
    }
    const populate = { seconds: (performance.now() - populateStarted) / 1000, requests: stub.requests.length - populateRequests };
    say(`  ${JSON.stringify(populate)}`);

    // Drift with no event at all: new purchases and cancellations only Stripe knows of.
    const canceled = [...stub.subscriptions.values()].slice(0, o.drift);
    const endedAt = Math.floor(Date.now() / 1000) - 86_400;
    for (const s of canceled) Object.assign(s, { status: "canceled", canceled_at: endedAt, ended_at: endedAt });
    const bought = Array.from({ length: o.drift }, () => seedOrder(stub, { items: { business_monthly: 1 } }).subscription);

    const service = await startWebhookService(configOf(o.readRate), logger, { applier, pollMs: 50 });
    try {
      const measure = async (): Promise<PassMeasure & { pages: number }> => {
        const before = stub.requests.length;
        const listBefore = stub.requests.filter((r) => r === "GET /v1/subscriptions").length;
        const sampler = requestSampler(stub);
        const started = performance.now();
        const summary = await service.resyncNow();
        if (summary === null) throw new Error("another pass holds the lock");
        await drain(service);
        const seconds = (performance.now() - started) / 1000;
        return {
          seconds,
          requests: stub.requests.length - before,
          listRequests: stub.requests.filter((r) => r === "GET /v1/subscriptions").length - listBefore,
          peakPerSecond: sampler.stop(),
          reviews: summary.reviews + summary.unlisted,
          pages: summary.pages,
        };
      };
      say(`  measured pass at ${o.readRate} requests/s: ${o.drift} bought and ${o.drift} canceled without events ...`);
      const drifted = await measure();
      const names = new Map([...sites.values()].map((m) => [m.metadata.labels["hosting.openatria.com/stripe-subscription"], m]));
      const repaired =
        bought.filter((s) => names.get(s.id) !== undefined).length + canceled.filter((s) => names.get(s.id)?.spec.expiresAt !== undefined).length;
      // The pass's own pacing: the listing at the rate, then one review per 4 / (rate / 2) s.
      const boundSeconds = drifted.pages / o.readRate + (drifted.reviews * 4) / (o.readRate / 2);
      const boundRequests = drifted.pages + drifted.reviews * 4;
      say(`  ${JSON.stringify({ ...drifted, repaired })}`);
      say("  a pass when nothing changed ...");
      const steady = await measure();
      say(`  ${JSON.stringify(steady)}`);
      return { orders: o.orders, drift: o.drift, readRate: o.readRate, populate, drifted: { ...drifted, repaired, expectedRepaired: 2 * o.drift, boundSeconds, boundRequests }, steady };
    } finally {
      await service.stop();
    }
  } finally {
    await stub.close();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { orders: { type: "string", default: "10000" }, drift: { type: "string", default: "100" }, rate: { type: "string", default: "25" } } });
  const r = await runResyncBench({ orders: Number(values.orders), drift: Number(values.drift), readRate: Number(values.rate), progress: (l) => process.stderr.write(`${l}\n`) });
  console.log(JSON.stringify(r, null, 2));
}
