// The relay against the fake Kubernetes API server (test/harness/kube), through the real
// client-node adapter: HostedSites appear by server-side apply, ops' edits to fields the webhook
// does not own survive re-applies, and an API outage only delays the apply. The storefront's reads
// of HostedSites go through the same audit of the chart's RBAC.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import { kubeSiteDirectory } from "../../webhook/storefront/site-directory.ts";
import { siteName } from "../../webhook/hostedsite-manifest.ts";
import { startFakeApiServer, type FakeApiServer, type KubeObject } from "../harness/kube/index.ts";
import { auditRequests, grantsOf } from "../harness/kube/rbac.ts";
import { checkoutEvent, subscriptionEvent } from "../harness/stripe/events.ts";
import { ensurePrice, seedOrder } from "../harness/stripe/orders.ts";
import { startStripeStub, type StripeStub } from "../harness/stripe/stub.ts";
import { webhookEventRecorder } from "../../webhook/kube-events.ts";
import { deliver, eventually, quietLogger, settled, startTestPostgres, startTestWebhook, type TestPostgres } from "./support.ts";

let postgres: TestPostgres;
let stub: StripeStub;
let api: FakeApiServer;

beforeAll(async () => {
  [postgres, stub, api] = await Promise.all([startTestPostgres(), startStripeStub(), startFakeApiServer({ namespaces: ["customers"] })]);
});
afterAll(async () => {
  await Promise.all([postgres?.stop(), stub?.close(), api?.close()]);
});

function spec(object: KubeObject): Record<string, unknown> {
  return (object as { spec?: Record<string, unknown> }).spec ?? {};
}

describe("relay with client-node against the fake API server", () => {
  it("applies HostedSites, keeps ops' own fields, and waits out an outage", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigYaml("customers"));
    const service = await startTestWebhook(await postgres.freshDatabase(), stub, { overrides: { applier: kubeApplier(kc) } });
    try {
      const { subscription, session } = seedOrder(stub, { items: { community_monthly: 1 }, subdomain: "umbrella" });
      const ref = { apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers", name: siteName(subscription.id) };
      expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", session.id))).toBe(200);
      const created = await api.objects.waitFor(ref);
      expect(spec(created)).toMatchObject({ domain: "umbrella.sites.openatria.com", userQuota: 10, suspended: false });

      // Ops pins the server and keeps the data on deletion, with their own field manager.
      api.objects.apply({ apiVersion: API_VERSION, kind: "HostedSite", metadata: { name: ref.name, namespace: "customers" }, spec: { server: "aegir-2", deletionPolicy: "Retain" } }, { manager: "ops" });

      subscription.items = [{ price: ensurePrice(stub, "business_monthly"), quantity: 1 }];
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", subscription.id))).toBe(200);
      const upgraded = await api.objects.waitFor(ref, (o) => spec(o).userQuota === 50);
      expect(spec(upgraded)).toMatchObject({ server: "aegir-2", deletionPolicy: "Retain", theme: "oa_radix", support: { tier: "Standard" } });

      await api.faults.unavailable("refuse");
      subscription.status = "unpaid";
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", subscription.id))).toBe(200);
      await eventually(async () => /relay_failures_total \d*[1-9]/.test(await service.metrics.registry.metrics()), 5_000, "a failed apply");
      await api.faults.available();
      const suspended = await api.objects.waitFor(ref, (o) => spec(o).suspended === true, 5_000);
      expect(spec(suspended)).toMatchObject({ server: "aegir-2", deletionPolicy: "Retain", userQuota: 50 });
    } finally {
      await service.stop();
    }
  });

  it("the storefront reads HostedSites through client-node: the domain check lists them, the order page gets its site", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigYaml("customers"));
    const service = await startTestWebhook(await postgres.freshDatabase(), stub, {
      config: { storefront: true },
      overrides: { applier: kubeApplier(kc), sites: kubeSiteDirectory("customers", kc) },
    });
    try {
      const cart = await service.app.inject({ method: "GET", url: "/shop/cart?kit=community&subdomain=umbrella" });
      expect(cart.body).toContain("umbrella.sites.openatria.com is already taken");
      const { subscription, session } = seedOrder(stub, { items: { community_monthly: 1 }, subdomain: "shopper" });
      expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", session.id))).toBe(200);
      await api.objects.waitFor({ apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers", name: siteName(subscription.id) });
      api.objects.apply(
        { apiVersion: API_VERSION, kind: "HostedSite", metadata: { name: siteName(subscription.id), namespace: "customers" }, status: { conditions: [{ type: "Installed", status: "True", reason: "Done", message: "", lastTransitionTime: "2026-12-07T06:00:00Z" }] } },
        { manager: "aegir-operator", subresource: "status" },
      );
      const order = await eventually(async () => {
        const body = (await service.app.inject({ method: "GET", url: `/shop/orders/${session.id}` })).body;
        return body.includes("Site installed") ? body : undefined;
      }, 10_000, "the order page to read the site's status");
      expect(order).toContain("Payment confirmed");
    } finally {
      await service.stop();
    }
  });

  it("applies a demo order's HostedSpace, and on the upgrade the HostedSite beside the superseded space", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigYaml("customers"));
    const service = await startTestWebhook(await postgres.freshDatabase(), stub, { overrides: { applier: kubeApplier(kc) } });
    try {
      const { subscription, session } = seedOrder(stub, { items: { demo_monthly: 1 }, subdomain: "wayne" });
      const name = siteName(subscription.id);
      expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", session.id))).toBe(200);
      const space = await api.objects.waitFor({ apiVersion: API_VERSION, kind: "HostedSpace", namespace: "customers", name });
      expect(spec(space)).toMatchObject({ site: { hostedSite: "demo" }, title: "wayne", memberQuota: 5 });

      subscription.items = [{ price: ensurePrice(stub, "business_monthly"), quantity: 1 }];
      expect(await deliver(service, subscriptionEvent(stub, "customer.subscription.updated", subscription.id))).toBe(200);
      const site = await api.objects.waitFor({ apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers", name });
      expect(spec(site)).toMatchObject({ domain: "wayne.sites.openatria.com", userQuota: 50 });
      const kept = await api.objects.waitFor({ apiVersion: API_VERSION, kind: "HostedSpace", namespace: "customers", name }, (o) => spec(o).supersededBy !== undefined);
      expect(spec(kept)).toMatchObject({ supersededBy: { hostedSite: name }, expiresAt: spec(space).expiresAt });
    } finally {
      await service.stop();
    }
  });

  it("reports a parked order as a Warning Event on its HostedSite, a repeat as the same Event's series", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigYaml("customers"));
    const events = webhookEventRecorder(quietLogger(), kc);
    const service = await startTestWebhook(await postgres.freshDatabase(), stub, { overrides: { applier: kubeApplier(kc), events } });
    try {
      const { subscription, session } = seedOrder(stub, { items: { no_such_item: 1 } });
      for (let i = 0; i < 2; i++) {
        expect(await deliver(service, checkoutEvent(stub, "checkout.session.completed", session.id))).toBe(200);
        await settled(service);
      }
      const event = await eventually(
        () => api.objects.list("events.k8s.io/v1", "Event", { namespace: "customers" }).find((e) => (e as { series?: { count: number } }).series?.count === 2),
        5_000,
        "the event and its repeat",
      );
      expect(event).toMatchObject({ type: "Warning", reason: "OrderParkedCatalog", regarding: { kind: "HostedSite", name: siteName(subscription.id), namespace: "customers" } });
    } finally {
      await service.stop();
    }
  });

  it("makes only the API calls the chart's RBAC grants the webhook (storefront on), and uses every grant", () => {
    const rbac = readFileSync(join(import.meta.dirname, "../../charts/aegir-operator/rbac.yaml"), "utf8");
    const grants = [...grantsOf(rbac, "aegir-operator-webhook"), ...grantsOf(rbac, "aegir-operator-webhook-storefront")];
    const { denied, unused } = auditRequests(grants, api.requests.all());
    expect(denied).toEqual([]);
    expect(unused).toEqual([]);
  });
});
