// `aegir-operator crds | kubectl apply --dry-run=client -f -` must parse. kubectl needs API
// discovery even for a client-side dry run, so a loopback stub answers just that.
import { execFileSync, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allCrdsYaml } from "../../crds/generate.ts";
import { tempDir } from "../helpers/tmp.ts";

function hasKubectl(): boolean {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const kubectlPresent = hasKubectl();
if (!kubectlPresent) console.warn("skipping kubectl tests: kubectl is not installed (install it, e.g. apt-get install kubernetes-client)");

const discovery: Record<string, unknown> = {
  "/version": { major: "1", minor: "32", gitVersion: "v1.32.4" },
  "/api": { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] },
  "/api/v1": { kind: "APIResourceList", groupVersion: "v1", resources: [] },
  "/apis": {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [
      {
        name: "apiextensions.k8s.io",
        versions: [{ groupVersion: "apiextensions.k8s.io/v1", version: "v1" }],
        preferredVersion: { groupVersion: "apiextensions.k8s.io/v1", version: "v1" },
      },
    ],
  },
  "/apis/apiextensions.k8s.io/v1": {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: "apiextensions.k8s.io/v1",
    resources: [
      { name: "customresourcedefinitions", singularName: "customresourcedefinition", namespaced: false, kind: "CustomResourceDefinition", verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], shortNames: ["crd", "crds"] },
    ],
  },
};

describe.skipIf(!kubectlPresent)("kubectl", () => {
  let server: Server;
  let kubeconfig: string;
  const dir = tempDir();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const body = discovery[path];
      res.writeHead(body ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(body ?? { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: "not found" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: stub, cluster: {server: "http://127.0.0.1:${port}"}}]\ncontexts: [{name: stub, context: {cluster: stub, user: stub}}]\ncurrent-context: stub\nusers: [{name: stub, user: {}}]\n`,
    );
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("parses the output of `aegir-operator crds` in a client-side dry run", async () => {
    const child = spawn("kubectl", ["apply", "--dry-run=client", "--validate=false", `--cache-dir=${join(dir, "cache")}`, "-f", "-", "-o", "name"], {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdin.end(allCrdsYaml());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out.trim().split("\n")).toEqual([
      "customresourcedefinition.apiextensions.k8s.io/hostedsites.hosting.openatria.com",
      "customresourcedefinition.apiextensions.k8s.io/aegirservers.hosting.openatria.com",
    ]);
  });
});
