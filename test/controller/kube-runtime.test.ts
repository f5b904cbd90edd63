// Leader election, events and status writes against the fake API server, with the real
// client-node underneath.
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeEventRecorder } from "../../controller/kube/events.ts";
import { LeaderElector } from "../../controller/kube/leader-election.ts";
import { KubeRest } from "../../common/kube/rest.ts";
import { KubeHostedSiteStore } from "../../controller/kube/stores.ts";
import { createLogger } from "../../common/logger.ts";
import { API_VERSION, type HostedSite } from "../../crds/kinds.ts";
import { type FakeApiServer, type KubeObject, startFakeApiServer } from "../harness/kube/index.ts";
import { eventually } from "../e2e/stack.ts";
import { hostedSite } from "../hostedsite/fixtures.ts";

const log = createLogger({ name: "test", level: "silent" });
const LEASE = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "aegir-operator", name: "test-lease" };
type Lease = { spec?: { holderIdentity?: string } };

describe("controller runtime against the fake API server", () => {
  let api: FakeApiServer;
  let rest: KubeRest;

  beforeEach(async () => {
    api = await startFakeApiServer({ namespaces: ["aegir-operator", "customers"] });
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigYaml());
    rest = new KubeRest(kc);
  });
  afterEach(() => api.close());

  it("names the replica in its user agent", async () => {
    const kc = new KubeConfig();
    kc.loadFromString(api.kubeconfigYaml());
    await new KubeRest(kc, { userAgent: "aegir-operator-controller (replica-a)" }).request("GET", "/api/v1/namespaces");
    expect(api.requests.find({ path: "/api/v1/namespaces" }).map((r) => r.userAgent)).toEqual(["aegir-operator-controller (replica-a)"]);
  });

  const elector = (identity: string, events: string[]) =>
    new LeaderElector({
      rest,
      namespace: "aegir-operator",
      name: "test-lease",
      identity,
      log,
      leaseDurationMs: 1_000,
      renewDeadlineMs: 600,
      retryPeriodMs: 200,
      onStartedLeading: () => events.push(`${identity} leads`),
      onStoppedLeading: () => events.push(`${identity} lost`),
    });

  it("elects one leader, and the leader that cannot renew gives up", async () => {
    const events: string[] = [];
    const a = elector("a", events);
    a.start();
    await eventually(() => (events.includes("a leads") ? true : undefined), 5_000, "a to lead");
    const b = elector("b", events);
    b.start();
    await new Promise((r) => setTimeout(r, 800));
    expect(events).toEqual(["a leads"]);
    expect((api.objects.get(LEASE) as Lease | undefined)?.spec?.holderIdentity).toBe("a");

    await api.faults.unavailable("refuse");
    await eventually(() => (events.includes("a lost") ? true : undefined), 5_000, "a to give up");
    expect(a.isLeader).toBe(false);
    await api.faults.available();
    await eventually(() => (events.includes("b leads") ? true : undefined), 5_000, "b to take over");
    await b.stop();
    await a.stop();
    expect((api.objects.get(LEASE) as Lease | undefined)?.spec?.holderIdentity ?? "").toBe("");
  });

  it("aggregates repeated events into a series", async () => {
    const recorder = new KubeEventRecorder({ rest, controller: "aegir-operator", instance: "test", log });
    const regarding = { apiVersion: "hosting.openatria.com/v1alpha1", kind: "HostedSite", name: "acme", namespace: "customers", uid: "u1" };
    recorder.record(regarding, "Warning", "ReconcileError", "Reconcile", "server unreachable");
    await eventually(() => api.objects.list("events.k8s.io/v1", "Event", { namespace: "customers" }).length === 1 || undefined, 5_000, "the event");
    recorder.record(regarding, "Warning", "ReconcileError", "Reconcile", "server unreachable");
    recorder.record(regarding, "Warning", "ReconcileError", "Reconcile", "server unreachable");
    const events = await eventually(() => {
      const list = api.objects.list("events.k8s.io/v1", "Event", { namespace: "customers" }) as Array<KubeObject & { series?: { count: number } }>;
      return list[0]?.series?.count === 3 ? list : undefined;
    }, 5_000, "the series to count 3");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: "ReconcileError", type: "Warning", regarding: { name: "acme" }, reportingController: "aegir-operator" });
  });

  it("writes status through /status without touching the spec, and finalizers with conflict retry", async () => {
    const created = api.objects.create({ ...hostedSite(), metadata: { name: "acme", namespace: "customers" } }) as unknown as HostedSite;
    const store = new KubeHostedSiteStore(rest);
    api.faults.conflictNext({ verb: "patch" }, 1);
    const withFinalizer = await store.addFinalizer(created, "hosting.openatria.com/aegir-site");
    expect(withFinalizer.metadata.finalizers).toEqual(["hosting.openatria.com/aegir-site"]);
    const written = await store.updateStatus(withFinalizer, { server: "aegir-1", observedGeneration: 1, users: { active: 2, quota: 10 } });
    expect(written.status).toMatchObject({ server: "aegir-1", users: { active: 2, quota: 10 } });
    const cleared = await store.updateStatus(written, { server: "aegir-1", observedGeneration: 1 });
    expect(cleared.status).toEqual({ server: "aegir-1", observedGeneration: 1 });
    expect(cleared.metadata.generation).toBe(withFinalizer.metadata.generation);
    const statusWrites = api.requests.find({ subresource: "status" });
    expect(statusWrites.map((r) => r.verb)).toEqual(["patch", "patch"]);
  });

  it("refuses a status write from a stale copy instead of overwriting a newer status", async () => {
    const created = api.objects.create({ ...hostedSite(), metadata: { name: "acme", namespace: "customers" } }) as unknown as HostedSite;
    const store = new KubeHostedSiteStore(rest);
    const fresh = await store.updateStatus(created, { server: "aegir-1", observedGeneration: 1, users: { active: 5, quota: 10 } });
    // `created` is what a lagging cache would still hold.
    const stale = store.updateStatus(created, { server: "aegir-1", observedGeneration: 1, users: { active: 0, quota: 10 } });
    await expect(stale).rejects.toMatchObject({ code: 409 });
    expect((api.objects.get({ apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers", name: "acme" }) as unknown as HostedSite).status).toEqual(fresh.status);
  });

  it("refuses an annotation written from a stale copy", async () => {
    const created = api.objects.create({ ...hostedSite(), metadata: { name: "acme", namespace: "customers" } }) as unknown as HostedSite;
    const store = new KubeHostedSiteStore(rest);
    const annotated = await store.annotate(created, { "hosting.openatria.com/create-pending": "2027-03-01T09:00:00.000Z" });
    expect(annotated.metadata.annotations?.["hosting.openatria.com/create-pending"]).toBe("2027-03-01T09:00:00.000Z");
    await expect(store.annotate(created, { "hosting.openatria.com/create-pending": null })).rejects.toMatchObject({ code: 409 });
    const stored = api.objects.get({ apiVersion: API_VERSION, kind: "HostedSite", namespace: "customers", name: "acme" }) as unknown as HostedSite;
    expect(stored.metadata.annotations?.["hosting.openatria.com/create-pending"]).toBe("2027-03-01T09:00:00.000Z");
  });
});
