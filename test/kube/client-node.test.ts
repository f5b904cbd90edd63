// The real @kubernetes/client-node 2.x against the fake API server: the calls and informer
// behaviour the controller and the webhook relay rely on.
import * as k8s from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, GROUP, VERSION } from "../../crds/kinds.ts";
import { type FakeApiServer, type FakeApiServerOptions, type KubeObject, startFakeApiServer } from "../harness/kube/index.ts";
import { NAMESPACE, eventually, hostedSite, readyCondition } from "./fixtures.ts";

/** What client-node's informers and object API hold. */
type Site = k8s.KubernetesObject & { spec?: Record<string, unknown> };
const asSite = (o: KubeObject) => o as unknown as Site;

const SITES_PATH = `/apis/${GROUP}/${VERSION}/namespaces/${NAMESPACE}/hostedsites`;
const sites = { group: GROUP, version: VERSION, namespace: NAMESPACE, plural: "hostedsites" };

function kubeConfig(server: FakeApiServer): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfigYaml(NAMESPACE));
  return kc;
}

/** The Status body of a failed call. */
async function failure(call: Promise<unknown>): Promise<{ code: number; reason: string; message: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof k8s.ApiException) {
      const status = JSON.parse((error as k8s.ApiException<string>).body) as { reason: string; message: string };
      return { code: error.code, reason: status.reason, message: status.message };
    }
    throw error;
  }
  throw new Error("expected the call to fail");
}

async function withServer(options: FakeApiServerOptions = {}) {
  const server = await startFakeApiServer({ namespaces: [NAMESPACE], ...options });
  const kc = kubeConfig(server);
  return { server, kc, api: kc.makeApiClient(k8s.CustomObjectsApi) };
}

describe("@kubernetes/client-node against the fake API server", () => {
  let server: FakeApiServer;
  let kc: k8s.KubeConfig;
  let api: k8s.CustomObjectsApi;
  beforeAll(async () => {
    ({ server, kc, api } = await withServer());
  });
  afterAll(() => server.close());

  it("creates, reads, lists, replaces and deletes custom objects", async () => {
    const created = (await api.createNamespacedCustomObject({ ...sites, body: { ...hostedSite("crud"), metadata: { name: "crud", labels: { kit: "community" } } } })) as KubeObject;
    expect(created.metadata).toMatchObject({ name: "crud", namespace: NAMESPACE, generation: 1 });
    const read = (await api.getNamespacedCustomObject({ ...sites, name: "crud" })) as KubeObject;
    expect(read.spec).toMatchObject({ https: "Disabled" });
    const listed = (await api.listNamespacedCustomObject({ ...sites, labelSelector: "kit=community" })) as { items: KubeObject[]; metadata: { resourceVersion: string } };
    expect(listed.items.map((i) => i.metadata.name)).toEqual(["crud"]);
    expect(listed.metadata.resourceVersion).toBe(server.resourceVersion());

    const replaced = (await api.replaceNamespacedCustomObject({ ...sites, name: "crud", body: { ...read, spec: { ...(read.spec as object), userQuota: 15 } } })) as KubeObject;
    expect(replaced.metadata.generation).toBe(2);
    expect(await failure(api.replaceNamespacedCustomObject({ ...sites, name: "crud", body: read }))).toMatchObject({ code: 409, reason: "Conflict" });

    await api.deleteNamespacedCustomObject({ ...sites, name: "crud" });
    expect(await failure(api.getNamespacedCustomObject({ ...sites, name: "crud" }))).toEqual({
      code: 404,
      reason: "NotFound",
      message: 'hostedsites.hosting.openatria.com "crud" not found',
    });
  });

  it("patches with JSON patch (the default), merge patch and server-side apply, and patches status", async () => {
    await api.createNamespacedCustomObject({ ...sites, body: hostedSite("patched") });
    const json = (await api.patchNamespacedCustomObject({ ...sites, name: "patched", body: [{ op: "replace", path: "/spec/userQuota", value: 20 }] })) as KubeObject;
    expect(json.spec).toMatchObject({ userQuota: 20 });
    const merged = (await api.patchNamespacedCustomObject(
      { ...sites, name: "patched", body: { spec: { theme: "oa_radix" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    )) as KubeObject;
    expect(merged.spec).toMatchObject({ userQuota: 20, theme: "oa_radix" });

    const apply = (body: KubeObject, force = false) =>
      api.patchNamespacedCustomObject({ ...sites, name: body.metadata.name!, body, fieldManager: "stripe-webhook", force }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.ServerSideApply));
    const applied = (await apply(hostedSite("ordered", { userQuota: 5 }))) as KubeObject;
    expect(applied.metadata.managedFields?.[0]).toMatchObject({ manager: "stripe-webhook", operation: "Apply" });
    expect(await failure(apply(hostedSite("patched", { userQuota: 7 })))).toMatchObject({ code: 409, reason: "Conflict" });
    expect(((await apply(hostedSite("patched", { userQuota: 7 }), true)) as KubeObject).spec).toMatchObject({ userQuota: 7, theme: "oa_radix" });

    const status = (await api.patchNamespacedCustomObjectStatus(
      { ...sites, name: "ordered", body: { status: { observedGeneration: 1, conditions: [readyCondition(1)] } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    )) as KubeObject;
    expect(status.status).toMatchObject({ conditions: [{ type: "Ready", status: "True" }] });
    expect(status.metadata.generation).toBe(1);

    // KubernetesObjectApi defaults to strategic merge patch, which custom resources refuse.
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    expect(await failure(objects.patch(asSite(hostedSite("ordered", { userQuota: 6 }))))).toMatchObject({ code: 415, reason: "UnsupportedMediaType" });
  });

  it("keeps an informer's cache in step: add, update and delete", async () => {
    const seen: string[] = [];
    const informer = k8s.makeInformer<Site>(kc, SITES_PATH, () => api.listNamespacedCustomObject(sites) as Promise<k8s.KubernetesListObject<Site>>);
    for (const verb of [k8s.ADD, k8s.UPDATE, k8s.DELETE] as const) informer.on(verb, (o) => seen.push(`${verb} ${o.metadata?.name}`));
    await informer.start();
    try {
      await api.createNamespacedCustomObject({ ...sites, body: hostedSite("informed") });
      await api.patchNamespacedCustomObject({ ...sites, name: "informed", body: [{ op: "add", path: "/metadata/labels", value: { a: "b" } }] });
      await api.deleteNamespacedCustomObject({ ...sites, name: "informed" });
      await eventually(() => seen.includes("delete informed"));
      expect(seen.filter((s) => s.endsWith(" informed"))).toEqual(["add informed", "update informed", "delete informed"]);
      expect(informer.get("informed", NAMESPACE)).toBeUndefined();
    } finally {
      await informer.stop();
    }
  });

  it("creates and renews a Lease with optimistic locking", async () => {
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const lease = await coordination.createNamespacedLease({
      namespace: NAMESPACE,
      body: { metadata: { name: "aegir-operator" }, spec: { holderIdentity: "pod-a", leaseDurationSeconds: 15, renewTime: new k8s.V1MicroTime() } },
    });
    expect(lease.spec?.holderIdentity).toBe("pod-a");
    const renewed = await coordination.replaceNamespacedLease({ namespace: NAMESPACE, name: "aegir-operator", body: { ...lease, spec: { ...lease.spec, renewTime: new k8s.V1MicroTime() } } });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(lease.metadata?.resourceVersion));
    expect(await failure(coordination.replaceNamespacedLease({ namespace: NAMESPACE, name: "aegir-operator", body: { ...lease, spec: { ...lease.spec, holderIdentity: "pod-b" } } }))).toMatchObject({
      code: 409,
      reason: "Conflict",
    });
  });

  it("records events.k8s.io Events that core clients see too", async () => {
    const events = kc.makeApiClient(k8s.EventsV1Api);
    const event = await events.createNamespacedEvent({
      namespace: NAMESPACE,
      body: {
        metadata: { generateName: "acme." },
        eventTime: new k8s.V1MicroTime(),
        reportingController: "hosting.openatria.com/aegir-operator",
        reportingInstance: "aegir-operator-0",
        action: "Install",
        reason: "Installed",
        note: "site installed",
        type: "Normal",
        regarding: { apiVersion: API_VERSION, kind: "HostedSite", name: "acme", namespace: NAMESPACE },
      },
    });
    expect(event.metadata?.name).toMatch(/^acme\./);
    const core = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({ namespace: NAMESPACE, fieldSelector: "involvedObject.name=acme" });
    expect(core.items.map((e) => [e.reason, e.message, e.involvedObject.kind])).toEqual([["Installed", "site installed", "HostedSite"]]);
  });
});

describe("client-node informers when watches fail", () => {
  const servers: FakeApiServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers.length = 0;
  });

  async function startInformer(options: FakeApiServerOptions = {}) {
    const { server, kc, api } = await withServer(options);
    servers.push(server);
    const informer = k8s.makeInformer<Site>(kc, SITES_PATH, () => api.listNamespacedCustomObject(sites) as Promise<k8s.KubernetesListObject<Site>>);
    const errors: unknown[] = [];
    const added: string[] = [];
    informer.on(k8s.ERROR, (e) => errors.push(e));
    informer.on(k8s.ADD, (o) => added.push(o.metadata!.name!));
    await informer.start();
    return { server, informer, errors, added };
  }

  it.each(["event", "status"] as const)("relists after a 410 for a too-old resourceVersion (reported as %s)", async (expiredWatch) => {
    const { server, informer, errors, added } = await startInformer({ expiredWatch });
    try {
      server.objects.create(hostedSite("before"));
      await eventually(() => added.includes("before"));
      server.faults.expireWatchHistory();
      const relisted = server.requests.waitFor({ verb: "list", resource: "hostedsites" });
      server.faults.dropWatches();
      await relisted;
      server.objects.create(hostedSite("after"));
      await eventually(() => added.includes("after"));
      expect(errors).toEqual([]);
      const lists = server.requests.find({ verb: "list", resource: "hostedsites" });
      expect(lists).toHaveLength(2);
    } finally {
      await informer.stop();
    }
  });

  it("emits an error and stops when a watch fails with 500", async () => {
    const { server, informer, errors } = await startInformer();
    try {
      server.faults.failNext({ verb: "watch" }, { status: 500 });
      server.faults.dropWatches();
      await eventually(() => errors.length > 0);
      expect(String(errors[0])).toContain("Internal Server Error");
      expect(server.watches.count()).toBe(0);
    } finally {
      await informer.stop();
    }
  });
});
