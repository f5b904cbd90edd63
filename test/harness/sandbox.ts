// The whole stack on 127.0.0.1 with embedded defaults: the fake Kubernetes API server with the
// CRDs, the simulated Aegir behind an SSH server (an AegirServer and its key Secret applied, a
// support-tracker site), the controller, the Stripe webhook with an embedded PostgreSQL and a
// local Stripe API stub (with the catalog's products and prices, and a hosted Checkout page that
// delivers signed events to the webhook), the storefront, and the examples: the HostedSites (the
// shared demo site among them) and the HostedSpace in it. What `aegir-operator sandbox` runs.
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { loadConfig } from "../../common/config.ts";
import type { Logger } from "../../common/logger.ts";
import { type RunningManager, startManager } from "../../controller/manager.ts";
import { validateManifestText } from "../../crds/manifests.ts";
import { planCatalogSync } from "../../webhook/catalog-sync.ts";
import { applySyncAction, readRemoteCatalog } from "../../webhook/catalog-sync-stripe.ts";
import { WEBHOOK_OPTIONS } from "../../webhook/config.ts";
import { siteName } from "../../webhook/hostedsite-manifest.ts";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import { startWebhookService, type WebhookService } from "../../webhook/service.ts";
import { kubeSiteDirectory } from "../../webhook/storefront/site-directory.ts";
import { createStripeClient } from "../../webhook/stripe-reader.ts";
import { API_VERSION } from "../../crds/group.ts";
import { registerAegirServer } from "./aegir-server.ts";
import { AegirSimulator, type SimulatorOptions, type SimulatorServer, openAtriumPlatform } from "./aegir/index.ts";
import { type FakeApiServer, type KubeObject, startFakeApiServer } from "./kube/index.ts";
import { generateKeyPair } from "./ssh/keys.ts";
import { startTestSshServer, type TestSshServer } from "./ssh/server.ts";
import { checkoutEvent, signedDelivery } from "./stripe/events.ts";
import { seedOrder } from "./stripe/orders.ts";
import { type StripeStub, startStripeStub } from "./stripe/stub.ts";

export interface SandboxOptions {
  dir: string;
  /** 0 picks free ports. */
  ports: { api: number; webhook: number; metrics: number; probes: number; aegirState: number; control: number };
  /** Seconds per drush command and per Aegir task, before the time factor. */
  latency: { commandMs: number; timeFactor: number };
  /** Apply the example HostedSites and HostedSpaces from crds/examples. */
  examples: boolean;
  log: Logger;
}

export interface SandboxInfo {
  storefront: string;
  kubeconfig: string;
  apiServer: string;
  webhookUrl: string;
  webhookSecret: string;
  metrics: string;
  probes: string;
  webhookMetrics: string;
  aegirState: string;
  control: string;
}

export interface Sandbox {
  info: SandboxInfo;
  api: FakeApiServer;
  sim: AegirSimulator;
  stripe: StripeStub;
  stop(): Promise<void>;
}

export const TRACKER = "support.openatria.com";
export const WEBHOOK_SECRET = "whsec_sandbox_test_signing_secret";
const STRIPE_KEY = "sk_test_sandbox";
const KITS = ["demo", "community", "business", "enterprise"] as const;
export type Kit = (typeof KITS)[number];

export async function startSandbox(o: SandboxOptions): Promise<Sandbox> {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  // Run as root, PostgreSQL runs as the `postgres` user, who must be able to enter the directory.
  chmodSync(dir, 0o755);
  const stops: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s();
  };
  try {
    const sim = new AegirSimulator({
      ...sandboxAegir(),
      latency: { ...benchmarkShape(), commandMs: o.latency.commandMs, timeFactor: o.latency.timeFactor },
    });
    stops.push(() => sim.close());
    const aegirState: SimulatorServer = await sim.listen({ port: o.ports.aegirState });
    stops.push(() => aegirState.close());

    const client = generateKeyPair({ comment: "aegir-operator-sandbox" });
    const ssh: TestSshServer = await startTestSshServer({ handler: sim.execHandler(), authorizedKey: client.publicKey });
    stops.push(() => ssh.close());

    const api = await startFakeApiServer({ port: o.ports.api, namespaces: ["customers", "aegir-operator"] });
    stops.push(() => api.close());
    const kubeconfig = join(dir, "kubeconfig");
    api.writeKubeconfig(kubeconfig, "customers");
    registerAegirServer(api, { name: "aegir-1", ssh, privateKey: client.privateKey, maxSites: 200, tracker: TRACKER });
    // A warm pool of 2 spares: orders are renamed spares instead of waiting for an install.
    api.objects.create({
      apiVersion: API_VERSION,
      kind: "SitePool",
      metadata: { name: "aegir-1-openatrium" },
      spec: { server: "aegir-1", platform: "platform_openatrium2652", features: ["oa_wiki"], size: { min: 2, max: 2 } },
    });

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const manager: RunningManager = await startManager(
      {
        bindAddress: "127.0.0.1",
        metricsPort: o.ports.metrics,
        probePort: o.ports.probes,
        leaderElect: true,
        leaseNamespace: "aegir-operator",
        leaseName: "aegir-operator.hosting.openatria.com",
        maxConcurrentReconciles: 8,
        gracefulShutdownMs: 5_000,
        reconciler: { pollIntervalMs: 10_000, progressPollMs: 1_000, driftCheckMs: 300_000 },
      },
      kc,
      o.log.child({ component: "controller" }),
    );
    stops.push(() => manager.stop());

    const stripe: StripeStub = await startStripeStub(STRIPE_KEY);
    stops.push(() => stripe.close());
    const flags = new Map([
      ["host", "127.0.0.1"],
      ["port", String(o.ports.webhook)],
      ["webhook-secrets", WEBHOOK_SECRET],
      ["stripe-api-key", STRIPE_KEY],
      ["stripe-api-base", stripe.url],
      ["postgres-dir", join(dir, "postgres")],
      ["namespace", "customers"],
      ["storefront", "true"],
      // A fresh form-token key per sandbox: forms opened before a restart ask to be reloaded.
      ["storefront-form-key", randomBytes(32).toString("base64url")],
    ]);
    const webhook: WebhookService = await startWebhookService(loadConfig(WEBHOOK_OPTIONS, flags, {}), o.log.child({ component: "webhook" }), {
      applier: kubeApplier(kc),
      sites: kubeSiteDirectory("customers", kc),
    });
    stops.push(() => webhook.stop());
    // What `catalog sync` does for a seller: the catalog's products and prices, in the stub.
    const stripeClient = createStripeClient({ apiKey: STRIPE_KEY, apiBase: new URL(stripe.url) });
    for (const action of planCatalogSync(webhook.catalog, await readRemoteCatalog(stripeClient, webhook.catalog)).actions) await applySyncAction(stripeClient, action);
    stripe.checkout.deliverTo = { url: `${webhook.url}/stripe/webhook`, secret: WEBHOOK_SECRET };

    const control = await serveControl(o.ports.control, stripe, webhook);
    stops.push(() => new Promise<void>((r) => control.close(() => r())));

    if (o.examples) applyExamples(api);

    const info: SandboxInfo = {
      storefront: `${webhook.url}/shop/`,
      kubeconfig,
      apiServer: api.url,
      webhookUrl: `${webhook.url}/stripe/webhook`,
      webhookSecret: WEBHOOK_SECRET,
      metrics: `http://127.0.0.1:${manager.metricsPort}/metrics`,
      probes: `http://127.0.0.1:${manager.probePort}/readyz`,
      webhookMetrics: `${webhook.url}/metrics`,
      aegirState: `${aegirState.url}/state`,
      control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
    };
    writeFileSync(join(dir, "sandbox.json"), `${JSON.stringify(info, null, 2)}\n`);
    return { info, api, sim, stripe, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The sandbox's Aegir: an Open Atrium platform with a manager role and the premium themes, and the support tracker. */
export function sandboxAegir(): Pick<SimulatorOptions, "hostmaster" | "platforms" | "sites"> {
  return {
    hostmaster: { uri: "aegir.sandbox.localhost" },
    platforms: [openAtriumPlatform({ extraRoles: ["manager"], extraThemes: ["oa_mercury", "oa_corporate"] })],
    sites: [{ uri: TRACKER, roles: ["customer", "customer standard", "customer premium"] }],
  };
}

/** Benchmark-shaped latency: the same proportions as a real Aegir, scaled by the time factor. */
function benchmarkShape() {
  return {
    commands: { "pm-enable": 6_000, "pm-disable": 4_000 },
    tasks: { install: 180_000, verify: 30_000, backup: 20_000, delete: 45_000, disable: 15_000, enable: 15_000, migrate: 120_000 },
    defaultTaskMs: 30_000,
    taskStartDelayMs: 1_000,
  };
}

function applyExamples(api: FakeApiServer): void {
  const examples = join(import.meta.dirname, "../../crds/examples");
  for (const file of readdirSync(examples).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const manifest of validateManifestText(readFileSync(join(examples, file), "utf8")).valid) {
      if (manifest.kind === "HostedSite" || manifest.kind === "HostedSpace") api.objects.create(manifest.object as unknown as KubeObject, { manager: "kubectl-client-side-apply" });
    }
  }
}

export interface OrderRequest {
  kit: Kit;
  domain?: string;
  subdomain?: string;
  email?: string;
  users?: number;
}

/** What POST /orders answers: the order, and the object the webhook makes of it. */
export interface OrderReceipt {
  subscription: string;
  checkoutSession: string;
  webhookStatus: number;
  email: string;
  /** A HostedSite, or for a demo kit a HostedSpace in the shared site `sharedSite`. */
  object: { kind: "HostedSite" | "HostedSpace"; namespace: string; name: string; sharedSite?: string };
}

/**
 * POST /orders: the sandbox's stand-in for a customer checking out. It creates the subscription
 * and checkout session in the Stripe stub, then delivers a signed checkout.session.completed
 * to the real webhook endpoint, as Stripe would.
 */
function serveControl(port: number, stripe: StripeStub, webhook: WebhookService): Promise<Server> {
  const server = createServer((req, res) => {
    const reply = (code: number, body: unknown) => res.writeHead(code, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
    if (req.method !== "POST" || req.url !== "/orders") return reply(404, { error: "POST /orders" });
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      void (async () => {
        const order = JSON.parse(text) as OrderRequest;
        if (!KITS.includes(order.kit)) return reply(400, { error: `kit must be one of ${KITS.join(", ")}` });
        const items: Record<string, number> = { [`${order.kit}_monthly`]: 1, ...(order.users ? { users_monthly: order.users } : {}) };
        const seeded = seedOrder(stripe, {
          items,
          ...(order.email ? { email: order.email } : {}),
          ...(order.domain ? { domain: order.domain } : {}),
          ...(order.subdomain ? { subdomain: order.subdomain } : {}),
        });
        const delivery = signedDelivery(checkoutEvent(stripe, "checkout.session.completed", seeded.session.id), WEBHOOK_SECRET);
        const response = await fetch(`${webhook.url}/stripe/webhook`, { method: "POST", headers: delivery.headers, body: delivery.payload });
        const space = webhook.catalog.kits[order.kit]?.space;
        const receipt: OrderReceipt = {
          subscription: seeded.subscription.id,
          checkoutSession: seeded.session.id,
          webhookStatus: response.status,
          email: seeded.session.email ?? "",
          object: { kind: space ? "HostedSpace" : "HostedSite", namespace: "customers", name: siteName(seeded.subscription.id), ...(space ? { sharedSite: space.hostedSite } : {}) },
        };
        reply(response.ok ? 200 : 502, receipt);
      })().catch((error: unknown) => reply(500, { error: String(error) }));
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}
