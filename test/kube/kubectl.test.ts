// The real kubectl against the fake API server: what ops do with HostedSites must work the same
// way as against a cluster (apply, get with printer columns, watch, wait, delete with finalizers).
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_VERSION, GROUP } from "../../crds/kinds.ts";
import { type FakeApiServer, Kubectl, type KubectlResult, kubectlUnavailableReason, startFakeApiServer } from "../harness/kube/index.ts";
import { NAMESPACE, eventually, readyCondition, siteRef } from "./fixtures.ts";

const root = join(import.meta.dirname, "../..");
const example = (name: string) => join(root, "crds/examples", name);
const unavailable = kubectlUnavailableReason();
if (unavailable) console.warn(`skipping kubectl tests: ${unavailable}`);

const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

describe.skipIf(unavailable !== undefined)("kubectl against the fake API server", () => {
  let server: FakeApiServer;
  let kubectl: Kubectl;
  beforeAll(async () => {
    server = await startFakeApiServer();
    kubectl = new Kubectl(server, NAMESPACE);
  });
  afterAll(async () => {
    kubectl.dispose();
    await server.close();
  });

  const ok = async (args: string[], stdin?: string): Promise<string> => {
    const result = await kubectl.run(args, stdin);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    return result.stdout;
  };

  it("creates a namespace and a Secret with kubectl create (protobuf request bodies)", async () => {
    expect(await ok(["create", "namespace", NAMESPACE])).toBe(`namespace/${NAMESPACE} created\n`);
    await ok(["create", "secret", "generic", "aegir-1-ssh", "--type=kubernetes.io/ssh-auth", "--from-literal=ssh-privatekey=KEY"]);
    expect(server.objects.get({ apiVersion: "v1", kind: "Secret", name: "aegir-1-ssh", namespace: NAMESPACE })).toMatchObject({
      type: "kubernetes.io/ssh-auth",
      data: { "ssh-privatekey": Buffer.from("KEY").toString("base64") },
    });
  });

  it("applies the example manifests client-side, with the server validating fields (Strict)", async () => {
    server.requests.clear();
    const files = ["hostedsite-community.yaml", "hostedsite-business.yaml", "hostedsite-custom-domain.yaml", "aegirserver.yaml"];
    const out = await ok(["apply", ...files.flatMap((f) => ["-f", example(f)])]);
    expect(lines(out)).toEqual([
      "hostedsite.hosting.openatria.com/acme created",
      "hostedsite.hosting.openatria.com/initech created",
      "hostedsite.hosting.openatria.com/globex created",
      "aegirserver.hosting.openatria.com/aegir-1 created",
    ]);
    const creates = server.requests.find({ verb: "create" });
    expect(creates.map((r) => [r.resource, r.query.fieldManager, r.query.fieldValidation])).toEqual([
      ["hostedsites", "kubectl-client-side-apply", "Strict"],
      ["hostedsites", "kubectl-client-side-apply", "Strict"],
      ["hostedsites", "kubectl-client-side-apply", "Strict"],
      ["aegirservers", "kubectl-client-side-apply", "Strict"],
    ]);
    expect(server.objects.get(siteRef("acme"))?.spec).toMatchObject({ userQuota: 10, https: "Disabled" });

    server.requests.clear();
    expect(await ok(["apply", "-f", example("hostedsite-community.yaml")])).toBe("hostedsite.hosting.openatria.com/acme unchanged\n");
    expect(server.requests.find({ verb: "patch" })).toEqual([]);
  });

  it("prints the HostedSite printer columns in kubectl get", async () => {
    const acme = server.objects.get(siteRef("acme"))!;
    server.objects.put({ ...acme, status: { conditions: [readyCondition(1)] } }, { manager: "aegir-operator" });
    const [header, ...rows] = lines(await ok(["get", "hs"]));
    const names = header!.split(/\s+/);
    expect(names).toEqual(["NAME", "DOMAIN", "PROFILE", "TIER", "READY", "REASON", "CANCELS", "AGE"]);
    // Cells by the header's column positions: an absent value is printed as blanks.
    const starts = names.map((n) => header!.indexOf(n));
    const cells = (row: string) => starts.map((start, i) => row.slice(start, starts[i + 1]).trim());
    expect(rows.map(cells)).toEqual([
      ["acme", "acme.sites.openatria.com", "openatrium", "Basic", "True", "Installed", "", expect.stringMatching(/^\d+s$/)],
      ["globex", "intranet.globex.example.com", "openatrium", "Standard", "", "", "", expect.stringMatching(/^\d+s$/)],
      ["initech", "initech.sites.openatria.com", "openatrium", "Standard", "", "", "", expect.stringMatching(/^\d+s$/)],
    ]);
  });

  it("fails to apply an invalid manifest with the server's 422 message naming the field", async () => {
    const manifest = readFileSync(example("hostedsite-community.yaml"), "utf8").replace("name: acme", "name: zero-quota").replace("userQuota: 10", "userQuota: 0");
    const result = await kubectl.run(["apply", "-f", "-"], manifest);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The HostedSite "zero-quota" is invalid: spec.userQuota: Invalid value: 0: spec.userQuota in body should be greater than or equal to 1');

    const typo = await kubectl.run(["apply", "-f", "-"], manifest.replace("userQuota: 0", "userQouta: 5"));
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('strict decoding error: unknown field "spec.userQouta"');
    expect(server.objects.get(siteRef("zero-quota"))).toBeUndefined();
  });

  it("applies server-side, keeping what other managers changed", async () => {
    expect(await ok(["apply", "--server-side", "-f", example("hostedsite-enterprise.yaml")])).toBe("hostedsite.hosting.openatria.com/umbrella serverside-applied\n");
    const umbrella = server.objects.get(siteRef("umbrella"))!;
    expect(umbrella.metadata.managedFields?.map((m) => [m.manager, m.operation])).toEqual([["kubectl", "Apply"]]);
    // Ops add an alias by hand; the manifest does not mention aliases.
    server.objects.put({ ...umbrella, spec: { ...(umbrella.spec as object), aliases: ["www.umbrella.sites.openatria.com"] } }, { manager: "ops" });
    const changed = readFileSync(example("hostedsite-enterprise.yaml"), "utf8").replace("userQuota: 500", "userQuota: 600");
    await ok(["apply", "--server-side", "-f", "-"], changed);
    expect(server.objects.get(siteRef("umbrella"))?.spec).toMatchObject({ userQuota: 600, aliases: ["www.umbrella.sites.openatria.com"] });
  });

  it("follows changes with get -w and exits when the server ends the watch", async () => {
    server.requests.clear();
    const watching = kubectl.start(["get", "hs", "-w"]);
    await watching.waitForOutput("umbrella");
    await server.requests.waitFor({ verb: "watch", resource: "hostedsites" }, { includePast: true });
    const initech = server.objects.get(siteRef("initech"))!;
    server.objects.put({ ...initech, metadata: { ...initech.metadata, labels: { kit: "business" } } });
    await eventually(() => lines(watching.stdout()).filter((l) => l.startsWith("initech")).length === 2);
    server.faults.dropWatches();
    const result: KubectlResult = await watching.exited;
    expect([result.code, result.stderr]).toEqual([0, ""]);
  });

  it("waits for the Ready condition a controller writes through /status", async () => {
    const waiting = kubectl.start(["wait", "--for=condition=Ready", "hs/globex", "--timeout=10s"]);
    await server.requests.waitFor({ verb: "watch", resource: "hostedsites" });
    expect(waiting.child.exitCode).toBeNull();
    const globex = server.objects.get(siteRef("globex"))!;
    const response = await fetch(`${server.url}/apis/${GROUP}/v1alpha1/namespaces/${NAMESPACE}/hostedsites/globex/status`, {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ status: { observedGeneration: globex.metadata.generation, conditions: [readyCondition(globex.metadata.generation!)] } }),
    });
    expect(response.status).toBe(200);
    const result = await waiting.exited;
    expect([result.code, result.stdout, result.stderr]).toEqual([0, "hostedsite.hosting.openatria.com/globex condition met\n", ""]);
  });

  it("deletes a HostedSite with a finalizer only once the finalizer is removed", async () => {
    const initech = server.objects.get(siteRef("initech"))!;
    server.objects.put({ ...initech, metadata: { ...initech.metadata, finalizers: ["hosting.openatria.com/aegir-site"] } });
    expect(await ok(["delete", "hs", "initech", "--wait=false"])).toBe('hostedsite.hosting.openatria.com "initech" deleted\n');
    const pending = server.objects.get(siteRef("initech"))!;
    expect(pending.metadata.deletionTimestamp).toBeDefined();

    server.requests.clear();
    const deleting = kubectl.start(["delete", "hs", "initech", "--timeout=10s"]);
    await server.requests.waitFor({ verb: "watch", resource: "hostedsites" });
    expect(deleting.child.exitCode).toBeNull();
    server.objects.put({ ...pending, metadata: { ...pending.metadata, finalizers: [] } }, { manager: "aegir-operator" });
    const result = await deleting.exited;
    expect([result.code, result.stdout, result.stderr]).toEqual([0, 'hostedsite.hosting.openatria.com "initech" deleted\n', ""]);
    expect(server.objects.get(siteRef("initech"))).toBeUndefined();
  });

  it("reports the configured Kubernetes version (kubectl's dispatcher picks its kubectl by it)", async () => {
    const newer = await startFakeApiServer({ kubernetesVersion: "1.33.1", namespaces: [NAMESPACE] });
    const newerKubectl = new Kubectl(newer, NAMESPACE);
    try {
      const version = JSON.parse((await newerKubectl.run(["version", "-o", "json"])).stdout) as { serverVersion: { gitVersion: string } };
      expect(version.serverVersion.gitVersion).toBe("v1.33.1");
      const applied = await newerKubectl.run(["apply", "--server-side", "-f", example("hostedsite-community.yaml")]);
      expect([applied.code, applied.stderr]).toEqual([0, ""]);
      expect((await newerKubectl.run(["get", "hs", "-o", "name"])).stdout).toBe("hostedsite.hosting.openatria.com/acme\n");
    } finally {
      newerKubectl.dispose();
      await newer.close();
    }
  });

  it("installs the CRDs printed by `aegir-operator crds` on a server that has none", async () => {
    const bare = await startFakeApiServer({ installOperatorCrds: false });
    const bareKubectl = new Kubectl(bare);
    try {
      const child = spawn("sh", ["-c", `npx --no-install aegir-operator crds | kubectl --cache-dir=${bareKubectl.cacheDir} apply -f -`], { cwd: root, env: bareKubectl.env() });
      let stdout = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expect(code).toBe(0);
      expect(lines(stdout)).toEqual([
        "customresourcedefinition.apiextensions.k8s.io/hostedsites.hosting.openatria.com created",
        "customresourcedefinition.apiextensions.k8s.io/aegirservers.hosting.openatria.com created",
        "customresourcedefinition.apiextensions.k8s.io/hostedspaces.hosting.openatria.com created",
        "customresourcedefinition.apiextensions.k8s.io/hostedsiterestores.hosting.openatria.com created",
        "customresourcedefinition.apiextensions.k8s.io/sitepools.hosting.openatria.com created",
        "customresourcedefinition.apiextensions.k8s.io/platformrollouts.hosting.openatria.com created",
      ]);
      const established = await bareKubectl.run(["wait", "--for=condition=Established", "crd/hostedsites.hosting.openatria.com", "--timeout=5s"]);
      expect(established.code).toBe(0);
      const created = await bareKubectl.run(["apply", "-f", example("aegirserver.yaml")]);
      expect([created.code, created.stdout]).toEqual([0, "aegirserver.hosting.openatria.com/aegir-1 created\n"]);
      expect(bare.objects.get({ apiVersion: API_VERSION, kind: "AegirServer", name: "aegir-1" })?.spec).toMatchObject({ port: 22, user: "aegir" });
    } finally {
      bareKubectl.dispose();
      await bare.close();
    }
  });
});
