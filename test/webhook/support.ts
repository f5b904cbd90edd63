// Shared set-up of the webhook tests: one embedded PostgreSQL per test file (a fresh database per
// test), the Stripe stub, a fake Kubernetes applier, and the webhook service wired to them.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { loadConfig } from "../../common/config.ts";
import { createLogger, type Logger } from "../../common/logger.ts";
import { WEBHOOK_OPTIONS, type WebhookConfig } from "../../webhook/config.ts";
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from "../../webhook/db/embedded-postgres.ts";
import { buildManifest, type HostedSiteManifest } from "../../webhook/hostedsite-manifest.ts";
import { itemsOf, type HostedSpaceManifest, type OrderManifest } from "../../webhook/hostedspace-manifest.ts";
import type { SiteApplier } from "../../webhook/relay.ts";
import { startWebhookService, type ServiceOverrides, type WebhookService } from "../../webhook/service.ts";
import { signedDelivery, type StripeEvent } from "../harness/stripe/events.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";

export const SECRET = "whsec_testSecretOne";
export const OLD_SECRET = "whsec_testSecretOld";

/** A HostedSite the relay and the applier tests send. */
export const SAMPLE_MANIFEST = buildManifest({
  namespace: "customers",
  subscriptionId: "sub_1Qexample",
  spec: { domain: "acme.sites.openatria.com", profile: "openatrium", userQuota: 10, support: { tier: "Basic" }, owner: { email: "jane@acme.example.com" } },
  subscriptionStatus: "active",
  graceEndsAt: null,
});

export interface TestPostgres {
  server: EmbeddedPostgresServer;
  /** A new empty database on the server; returns its connection string. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

let databaseCounter = 0;

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "webhook-pg-"));
  // mkdtemp makes the directory 0700; the server runs as another OS user when tests run as root.
  chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres({ dir, unsafeFast: true });
  return {
    server,
    async freshDatabase() {
      const name = `test_${process.pid}_${++databaseCounter}`;
      const admin = new pg.Client({ connectionString: server.connectionString });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(server.connectionString);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function quietLogger(): Logger {
  return createLogger({ name: "webhook-test", level: process.env.TEST_LOG_LEVEL ?? "silent" });
}

export const FORM_KEY = "test-storefront-form-key-0123456789abcdef";

export function testConfig(databaseUrl: string, stub: StripeStub, overrides: Partial<WebhookConfig> = {}): WebhookConfig {
  const base = loadConfig(WEBHOOK_OPTIONS, new Map(), {
    STRIPE_WEBHOOK_SECRETS: SECRET,
    STRIPE_API_KEY: stub.apiKey,
    STRIPE_API_BASE: stub.url,
    DATABASE_URL: databaseUrl,
    WEBHOOK_PORT: "0",
    WEBHOOK_RETRY_BASE: "50ms",
    WEBHOOK_RETRY_MAX: "400ms",
    WEBHOOK_MAX_ATTEMPTS: "5",
    STOREFRONT_FORM_KEY: FORM_KEY,
    // The stub is no rate-limited API, and a test runs a re-sync pass when it means to.
    STRIPE_READ_RATE: "1000",
    RESYNC_INTERVAL: "0s",
  });
  return { ...base, ...overrides };
}

/** Records applies like an API server that keeps the last applied object per name. */
export class FakeApplier implements SiteApplier {
  readonly sites = new Map<string, HostedSiteManifest>();
  readonly spaces = new Map<string, HostedSpaceManifest>();
  applies = 0;
  failures = 0;
  down = false;

  apply(manifest: OrderManifest): Promise<void> {
    if (this.down) {
      this.failures++;
      return Promise.reject(new Error("connect ECONNREFUSED (fake API server down)"));
    }
    this.applies++;
    for (const object of itemsOf(manifest)) {
      const key = `${object.metadata.namespace}/${object.metadata.name}`;
      if (object.kind === "HostedSite") this.sites.set(key, structuredClone(object));
      else this.spaces.set(key, structuredClone(object));
    }
    return Promise.resolve();
  }

  space(subscriptionId: string): HostedSpaceManifest | undefined {
    return [...this.spaces.values()].find((m) => m.metadata.labels["hosting.openatria.com/stripe-subscription"] === subscriptionId);
  }

  site(subscriptionId: string): HostedSiteManifest | undefined {
    return [...this.sites.values()].find((m) => m.metadata.labels["hosting.openatria.com/stripe-subscription"] === subscriptionId);
  }
}

export async function startTestWebhook(
  databaseUrl: string,
  stub: StripeStub,
  options: { config?: Partial<WebhookConfig>; applier?: FakeApplier; overrides?: ServiceOverrides } = {},
): Promise<TestWebhook> {
  const applier = options.applier ?? new FakeApplier();
  const service = await startWebhookService(testConfig(databaseUrl, stub, options.config), quietLogger(), {
    applier,
    pollMs: 50,
    relayLeaseMs: 5_000,
    ...options.overrides,
  });
  return Object.assign(service, { applier });
}

export type TestWebhook = WebhookService & { applier: FakeApplier };

export interface WebhookWorld {
  postgres: TestPostgres;
  stub: StripeStub;
  /** The service of the running test, on a database of its own. */
  service: TestWebhook;
}

/**
 * One embedded PostgreSQL and one Stripe stub for the test file, and per test a fresh database and
 * a webhook service `start` makes (the default one unless given); the stub's injected faults are
 * cleared after each test.
 */
export function useWebhookPerTest(start: (databaseUrl: string, stub: StripeStub) => Promise<TestWebhook> = startTestWebhook): WebhookWorld {
  const world = {} as WebhookWorld;
  beforeAll(async () => {
    [world.postgres, world.stub] = await Promise.all([startTestPostgres(), startStripeStub()]);
  });
  afterAll(async () => {
    await Promise.all([(world.postgres as TestPostgres | undefined)?.stop(), (world.stub as StripeStub | undefined)?.close()]);
  });
  beforeEach(async () => {
    world.service = await start(await world.postgres.freshDatabase(), world.stub);
  });
  afterEach(async () => {
    world.stub.fail(0);
    await world.service.stop();
  });
  return world;
}

/** Delivers an event the way Stripe does (over HTTP via inject); returns the status code. */
export async function deliver(service: WebhookService, event: StripeEvent, secrets: string | string[] = SECRET): Promise<number> {
  const { payload, headers } = signedDelivery(event, secrets);
  const response = await service.app.inject({ method: "POST", url: "/stripe/webhook", headers, payload });
  return response.statusCode;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ""}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Resolves once every Stripe event in the inbox is processed or dead and the outbox is fully applied. */
export async function settled(service: WebhookService, timeoutMs = 10_000): Promise<void> {
  await eventually(
    async () => {
      const r = await service.pool.query<{ pending: number; unapplied: number }>(
        `SELECT (SELECT count(*)::int FROM stripe_events WHERE state = 'pending' AND kind = 'stripe') AS pending,
                (SELECT count(*)::int FROM outbox WHERE applied_version < version) AS unapplied`,
      );
      const row = r.rows[0];
      return row !== undefined && row.pending === 0 && row.unapplied === 0;
    },
    timeoutMs,
    "inbox and outbox to drain",
  );
}

export interface OrderRow {
  state: string;
  reason: string | null;
  domain: string | null;
  customer_email: string | null;
  site_name: string;
  subscription_status: string | null;
  options: { kit: string; items: { item: string; quantity: number }[] } | null;
  provisioned: boolean;
}

export async function order(service: WebhookService, subscriptionId: string): Promise<OrderRow | undefined> {
  const r = await service.pool.query<OrderRow>(
    "SELECT state, reason, domain, customer_email, site_name, subscription_status, options, provisioned FROM orders WHERE subscription_id = $1",
    [subscriptionId],
  );
  return r.rows[0];
}
