// Object semantics of the fake API server, in-process: resourceVersion and history, generation,
// conflicts, finalizers, defaults and validation, server-side apply ownership, cascades.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/kinds.ts";
import { ApiError, type FakeApiServer, type KubeObject, startFakeApiServer } from "../harness/kube/index.ts";
import { Store } from "../harness/kube/store.ts";
import { NAMESPACE, hostedSite, readyCondition, siteRef } from "./fixtures.ts";

/** The ApiError a call throws (fails the test when it does not throw one). */
function apiError(call: () => unknown): ApiError {
  try {
    call();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error("expected an ApiError");
}

const object = (name: string, namespace?: string): KubeObject => ({ metadata: { name, ...(namespace ? { namespace } : {}) } });

describe("Store", () => {
  it("bumps one global resourceVersion on every change, whatever the kind", () => {
    const store = new Store(100);
    const seen: string[] = [];
    store.subscribe((e) => seen.push(`${e.type} ${e.storage} ${e.object.metadata.name} ${e.resourceVersion}`));
    expect(store.create("/configmaps", object("a", "ns")).metadata.resourceVersion).toBe("1");
    expect(store.create("/secrets", object("b", "ns")).metadata.resourceVersion).toBe("2");
    expect(store.update("/configmaps", object("a", "ns")).metadata.resourceVersion).toBe("3");
    expect(store.remove("/secrets", "ns", "b")?.metadata.resourceVersion).toBe("4");
    expect(store.currentRevision()).toBe(4);
    expect(seen).toEqual(["ADDED /configmaps a 1", "ADDED /secrets b 2", "MODIFIED /configmaps a 3", "DELETED /secrets b 4"]);
  });

  it("replays changes after a resourceVersion and answers 410 Expired once they left the bounded history", () => {
    const store = new Store(2);
    store.create("/configmaps", object("a"));
    store.create("/configmaps", object("b"));
    store.create("/configmaps", object("c"));
    expect(store.eventsSince(1).map((e) => e.object.metadata.name)).toEqual(["b", "c"]);
    expect(store.eventsSince(3)).toEqual([]);
    const error = apiError(() => store.eventsSince(0));
    expect([error.code, error.reason, error.message]).toEqual([410, "Expired", "too old resource version: 0 (1)"]);
  });

  it("compaction makes every resourceVersion handed out so far too old, but not the next list's", () => {
    const store = new Store(100);
    store.create("/configmaps", object("a"));
    const before = store.currentRevision();
    store.compact();
    expect(apiError(() => store.eventsSince(before)).code).toBe(410);
    expect(store.eventsSince(store.currentRevision())).toEqual([]);
    store.create("/configmaps", object("b"));
    expect(store.eventsSince(store.currentRevision() - 1).map((e) => e.object.metadata.name)).toEqual(["b"]);
  });
});

describe("object semantics", () => {
  let server: FakeApiServer;
  beforeAll(async () => {
    server = await startFakeApiServer({ namespaces: [NAMESPACE] });
  });
  afterAll(() => server.close());

  it("starts generation at 1 and bumps it on spec changes only", () => {
    const created = server.objects.create(hostedSite("gen"));
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const labelled = server.objects.put({ ...created, metadata: { ...created.metadata, labels: { tier: "basic" } } });
    expect(labelled.metadata.generation).toBe(1);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));

    const withStatus = server.objects.put({ ...labelled, status: { conditions: [readyCondition(1)] } });
    expect(withStatus.metadata.generation).toBe(1);
    expect(withStatus.status).toEqual({ conditions: [readyCondition(1)] });

    const changed = server.objects.put({ ...withStatus, spec: { ...(withStatus.spec as object), userQuota: 20 } });
    expect(changed.metadata.generation).toBe(2);
  });

  it("ignores status in main-resource writes and everything but status in status writes", () => {
    const site = server.objects.create(hostedSite("split", {}));
    expect(site.status).toBeUndefined(); // a create drops status too
    const viaMain = server.objects.apply({ ...hostedSite("split"), status: { url: "https://split.example.com" } }, { manager: "ops" });
    expect(viaMain.status).toBeUndefined();
    const viaStatus = server.objects.apply(
      { ...hostedSite("split", { userQuota: 99 }), status: { url: "https://split.example.com" } },
      { manager: "controller", subresource: "status" },
    );
    expect(viaStatus.status).toEqual({ url: "https://split.example.com" });
    expect((viaStatus.spec as { userQuota: number }).userQuota).toBe(10);
  });

  it("refuses a write with a stale resourceVersion (409) and a custom resource update without one (422)", () => {
    const site = server.objects.create(hostedSite("conflict"));
    server.objects.put({ ...site, spec: { ...(site.spec as object), userQuota: 11 } });
    const stale = apiError(() => server.objects.put({ ...site, spec: { ...(site.spec as object), userQuota: 12 } }));
    expect([stale.code, stale.reason]).toEqual([409, "Conflict"]);
    expect(stale.message).toBe(
      'Operation cannot be fulfilled on hostedsites.hosting.openatria.com "conflict": the object has been modified; please apply your changes to the latest version and try again',
    );

    const cm = server.objects.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "unconditional", namespace: NAMESPACE }, data: { a: "1" } });
    expect(server.objects.put({ ...cm, metadata: { name: "unconditional", namespace: NAMESPACE }, data: { a: "2" } }).data).toEqual({ a: "2" });
  });

  it("keeps an object with finalizers until they are removed, and refuses new ones meanwhile", () => {
    const events: string[] = [];
    const stop = server.objects.onChange((type, o) => {
      if (o.metadata.name === "final") events.push(`${type} ${o.metadata.deletionTimestamp ? "deleting" : "live"}`);
    });
    const site = server.objects.create({ ...hostedSite("final"), metadata: { ...hostedSite("final").metadata, finalizers: ["hosting.openatria.com/aegir-site"] } });
    const pending = server.objects.delete(siteRef("final"));
    expect(pending?.metadata.deletionTimestamp).toBeDefined();
    expect(pending?.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(server.objects.delete(siteRef("final"))?.metadata.resourceVersion).toBe(pending?.metadata.resourceVersion); // no second change

    const added = apiError(() => server.objects.put({ ...pending!, metadata: { ...pending!.metadata, finalizers: ["hosting.openatria.com/aegir-site", "example.com/more"] } }));
    expect(added.code).toBe(422);
    expect(added.message).toContain("no new finalizers can be added if the object is being deleted");

    server.objects.put({ ...pending!, metadata: { ...pending!.metadata, finalizers: [] } });
    expect(server.objects.get(siteRef("final"))).toBeUndefined();
    stop();
    expect(site.metadata.deletionTimestamp).toBeUndefined();
    expect(events).toEqual(["ADDED live", "MODIFIED deleting", "DELETED deleting"]);
  });

  it("applies the CRD's defaults and answers schema violations with 422 causes naming the field", () => {
    const site = server.objects.create(hostedSite("defaults"));
    expect(site.spec).toMatchObject({ https: "Disabled", features: [], suspended: false, deletionPolicy: "Delete", support: { tier: "Basic", hours: "8x5", channels: ["email"] } });

    const error = apiError(() => server.objects.create(hostedSite("invalid", { userQuota: 0, https: "Sometimes" })));
    expect([error.code, error.reason]).toEqual([422, "Invalid"]);
    expect(error.message).toBe(
      'HostedSite.hosting.openatria.com "invalid" is invalid: [spec.userQuota: Invalid value: 0: spec.userQuota in body should be greater than or equal to 1, spec.https: Unsupported value: "Sometimes": supported values: "Disabled", "Enabled", "Required"]',
    );
    expect(error.details?.causes).toEqual([
      { reason: "FieldValueInvalid", message: "Invalid value: 0: spec.userQuota in body should be greater than or equal to 1", field: "spec.userQuota" },
      { reason: "FieldValueNotSupported", message: 'Unsupported value: "Sometimes": supported values: "Disabled", "Enabled", "Required"', field: "spec.https" },
    ]);
    expect(apiError(() => server.objects.create({ ...hostedSite("Bad_Name") })).message).toContain('metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain');
  });

  it("refuses unknown fields from the test API (Strict) with the API server's decode error", () => {
    const error = apiError(() => server.objects.create(hostedSite("typo", { userQouta: 3 })));
    expect([error.code, error.message]).toEqual([400, 'HostedSite in version "v1alpha1" cannot be handled as a HostedSite: strict decoding error: unknown field "spec.userQouta"']);
  });

  describe("server-side apply", () => {
    it("keeps fields other managers set, and removes fields the applier stops sending", () => {
      const applied = server.objects.apply(hostedSite("ssa", { theme: "oa_radix", features: ["oa_wiki"] }), { manager: "stripe-webhook" });
      expect(applied.metadata.managedFields?.map((m) => [m.manager, m.operation])).toEqual([["stripe-webhook", "Apply"]]);

      // Ops set the platform by hand; the webhook never sends that field.
      server.objects.put({ ...applied, spec: { ...(applied.spec as object), platform: "platform_oa2" } }, { manager: "kubectl-edit" });
      const reapplied = server.objects.apply(hostedSite("ssa", { features: ["oa_wiki", "oa_events"] }), { manager: "stripe-webhook" });
      expect(reapplied.spec).toMatchObject({ platform: "platform_oa2", features: ["oa_wiki", "oa_events"] });
      expect((reapplied.spec as { theme?: string }).theme).toBeUndefined();
      expect(reapplied.metadata.managedFields?.map((m) => m.manager).sort()).toEqual(["kubectl-edit", "stripe-webhook"]);
      expect(reapplied.metadata.generation).toBe(3);
    });

    it("refuses to change a field another manager owns unless forced", () => {
      const applied = server.objects.apply(hostedSite("owned"), { manager: "stripe-webhook" });
      server.objects.put({ ...applied, spec: { ...(applied.spec as object), userQuota: 50 } }, { manager: "ops" });
      const error = apiError(() => server.objects.apply(hostedSite("owned", { userQuota: 25 }), { manager: "stripe-webhook" }));
      expect([error.code, error.reason]).toEqual([409, "Conflict"]);
      expect(error.message).toBe('Apply failed with 1 conflict: conflict with "ops" using hosting.openatria.com/v1alpha1: .spec.userQuota');
      expect(error.details?.causes).toEqual([{ reason: "FieldManagerConflict", message: 'conflict with "ops" using hosting.openatria.com/v1alpha1', field: ".spec.userQuota" }]);

      const forced = server.objects.apply(hostedSite("owned", { userQuota: 25 }), { manager: "stripe-webhook", force: true });
      expect((forced.spec as { userQuota: number }).userQuota).toBe(25);
      const ops = forced.metadata.managedFields?.find((m) => m.manager === "ops");
      expect(ops).toBeUndefined(); // its only field went to the webhook
    });

    it("merges list-map items by key, so two managers can each own their condition", () => {
      server.objects.create(hostedSite("conditions"));
      const status = (type: string) => ({ ...hostedSite("conditions"), status: { conditions: [{ ...readyCondition(1), type }] } });
      server.objects.apply(status("Ready"), { manager: "controller", subresource: "status" });
      const both = server.objects.apply(status("Synced"), { manager: "auditor", subresource: "status" });
      expect((both.status as { conditions: Array<{ type: string }> }).conditions.map((c) => c.type)).toEqual(["Ready", "Synced"]);
      const fieldsOf = (manager: string) => both.metadata.managedFields?.find((m) => m.manager === manager);
      expect(fieldsOf("controller")).toMatchObject({ operation: "Apply", subresource: "status" });
      expect(Object.keys((fieldsOf("auditor")?.fieldsV1 as { "f:status": { "f:conditions": object } })["f:status"]["f:conditions"])).toEqual(['k:{"type":"Synced"}']);
    });
  });

  it("deletes a namespace's contents with it, waiting for their finalizers", () => {
    server.objects.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
    server.objects.create({ ...hostedSite("held", {}, "doomed"), metadata: { name: "held", namespace: "doomed", finalizers: ["example.com/hold"] } });
    server.objects.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "doomed" } });
    const nsRef = { apiVersion: "v1", kind: "Namespace", name: "doomed" };
    expect(server.objects.delete(nsRef)?.status).toEqual({ phase: "Terminating" });
    expect(server.objects.get({ apiVersion: "v1", kind: "ConfigMap", name: "cm", namespace: "doomed" })).toBeUndefined();
    const held = server.objects.get(siteRef("held", "doomed"))!;
    expect(held.metadata.deletionTimestamp).toBeDefined();
    const refused = apiError(() => server.objects.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late", namespace: "doomed" } }));
    expect([refused.code, refused.message]).toEqual([403, 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated']);

    server.objects.put({ ...held, metadata: { ...held.metadata, finalizers: [] } });
    expect(server.objects.get(nsRef)).toBeUndefined();
  });

  it("garbage-collects objects whose owners are all gone", () => {
    const owner = server.objects.create(hostedSite("owner"));
    const ownerRef = { apiVersion: API_VERSION, kind: "HostedSite", name: "owner", uid: owner.metadata.uid! };
    server.objects.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "owned", namespace: NAMESPACE, ownerReferences: [ownerRef] }, stringData: { password: "x" } });
    const secretRef = { apiVersion: "v1", kind: "Secret", name: "owned", namespace: NAMESPACE };
    expect(server.objects.get(secretRef)?.data).toEqual({ password: "eA==" });
    server.objects.delete(siteRef("owner"));
    expect(server.objects.get(secretRef)).toBeUndefined();
  });

  it("stores events.k8s.io Events once, readable as core Events, and validates the required fields", () => {
    const event = server.objects.create({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { generateName: "site.", namespace: NAMESPACE },
      eventTime: "2026-01-01T00:00:00.000000Z",
      reportingController: "hosting.openatria.com/controller",
      reportingInstance: "controller-0",
      action: "Reconcile",
      reason: "Installed",
      note: "site installed",
      type: "Normal",
      regarding: { apiVersion: API_VERSION, kind: "HostedSite", name: "acme", namespace: NAMESPACE },
    });
    expect(event.metadata.name).toMatch(/^site\.[a-z0-9]{5}$/);
    const core = server.objects.get({ apiVersion: "v1", kind: "Event", name: event.metadata.name!, namespace: NAMESPACE })!;
    expect(core).toMatchObject({ message: "site installed", involvedObject: { kind: "HostedSite", name: "acme" }, reportingComponent: "hosting.openatria.com/controller" });
    expect(server.objects.list("v1", "Event", { namespace: NAMESPACE, fieldSelector: "involvedObject.name=acme" })).toHaveLength(1);

    const error = apiError(() => server.objects.create({ apiVersion: "events.k8s.io/v1", kind: "Event", metadata: { name: "bad", namespace: NAMESPACE }, type: "Info" }));
    expect(error.details?.causes?.map((c) => c.field)).toEqual(["eventTime", "reportingController", "reportingInstance", "action", "reason", "type"]);
  });

  it("stops serving a CRD's kind once the CRD and its objects are deleted", () => {
    const crdRef = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: "widgets.example.com" };
    const crd = server.objects.create({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: crdRef.name },
      spec: {
        group: "example.com",
        names: { plural: "widgets", kind: "Widget" },
        scope: "Cluster",
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer", default: 3 } } } } } } }],
      },
    });
    expect(crd.status).toMatchObject({ acceptedNames: { kind: "Widget", listKind: "WidgetList", singular: "widget" }, storedVersions: ["v1"] });
    expect(server.objects.create({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: {} }).spec).toEqual({ size: 3 });
    server.objects.delete(crdRef);
    expect(server.objects.get(crdRef)).toBeUndefined();
    expect(() => server.objects.list("example.com/v1", "Widget")).toThrow("the server does not serve Widget in example.com/v1");
  });
});
