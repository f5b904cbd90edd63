// The applier speaks server-side apply: the right content type, field manager and force flag,
// on the HostedSite's namespaced path; API errors come back as short messages; a hung API
// server is given up on.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubeApplier } from "../../webhook/kube-applier.ts";
import { SAMPLE_MANIFEST } from "./support.ts";

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

const seen: Seen[] = [];
let failWith = 0;
let hang = false;
const server = createServer((req: IncomingMessage, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    if (hang) return;
    seen.push({ method: req.method ?? "", url: req.url ?? "", contentType: req.headers["content-type"], body });
    res.setHeader("content-type", "application/json");
    if (failWith !== 0) {
      res.statusCode = failWith;
      res.end(JSON.stringify({ kind: "Status", status: "Failure", message: "etcdserver: leader changed", code: failWith }));
      return;
    }
    res.end(body);
  });
});

beforeAll(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)));
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

function applier(timeoutMs?: number) {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: "test", token: "t" }],
    contexts: [{ name: "test", cluster: "test", user: "test" }],
    currentContext: "test",
  });
  return kubeApplier(kc, timeoutMs === undefined ? {} : { timeoutMs });
}

const manifest = SAMPLE_MANIFEST;

describe("kubeApplier", () => {
  it("sends a server-side apply patch as field manager stripe-webhook", async () => {
    seen.length = 0;
    await applier().apply(manifest);
    expect(seen.map((s) => s.method)).toEqual(["PATCH"]);
    const patch = seen.find((s) => s.method === "PATCH");
    expect(patch?.url).toBe(`/apis/hosting.openatria.com/v1alpha1/namespaces/customers/hostedsites/${manifest.metadata.name}?fieldManager=stripe-webhook&force=true`);
    expect(patch?.contentType).toBe("application/apply-patch+yaml");
    expect(JSON.parse(patch?.body ?? "{}")).toEqual(manifest);
  });

  it("applies a List's objects in order, each on its kind's path", async () => {
    seen.length = 0;
    const space = { apiVersion: manifest.apiVersion, kind: "HostedSpace" as const, metadata: manifest.metadata, spec: { site: { hostedSite: "demo" }, title: "acme", machineName: "acme", memberQuota: 5, owner: manifest.spec.owner, support: { tier: "Basic" as const } } };
    await applier().apply({ apiVersion: "v1", kind: "List", items: [manifest, space] });
    expect(seen.map((s) => s.url.split("?")[0])).toEqual([
      `/apis/hosting.openatria.com/v1alpha1/namespaces/customers/hostedsites/${manifest.metadata.name}`,
      `/apis/hosting.openatria.com/v1alpha1/namespaces/customers/hostedspaces/${manifest.metadata.name}`,
    ]);
    expect(JSON.parse(seen[1]?.body ?? "{}")).toEqual(space);
  });

  it("reports API failures by status code and message", async () => {
    failWith = 503;
    try {
      await expect(applier().apply(manifest)).rejects.toThrow("kubernetes API: HTTP 503: etcdserver: leader changed");
    } finally {
      failWith = 0;
    }
  });

  it("gives up on an API server that does not answer", async () => {
    hang = true;
    try {
      await expect(applier(200).apply(manifest)).rejects.toThrow(/kubernetes API: .*(timeout|aborted)/i);
    } finally {
      hang = false;
    }
  });
});
