// `aegir-operator crds | kubectl apply --dry-run=client -f -` must parse. kubectl needs API
// discovery even for a client-side dry run; the fake API server provides it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allCrdsYaml } from "../../crds/generate.ts";
import { type FakeApiServer, Kubectl, kubectlUnavailableReason, startFakeApiServer } from "../harness/kube/index.ts";

const unavailable = kubectlUnavailableReason();
if (unavailable) console.warn(`skipping kubectl tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("kubectl", () => {
  let server: FakeApiServer;
  let kubectl: Kubectl;

  beforeAll(async () => {
    server = await startFakeApiServer({ installOperatorCrds: false });
    kubectl = new Kubectl(server);
  });
  afterAll(async () => {
    kubectl.dispose();
    await server.close();
  });

  it("parses the output of `aegir-operator crds` in a client-side dry run", async () => {
    const { code, stdout, stderr } = await kubectl.run(["apply", "--dry-run=client", "-f", "-", "-o", "name"], allCrdsYaml());
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toEqual([
      "customresourcedefinition.apiextensions.k8s.io/hostedsites.hosting.openatria.com",
      "customresourcedefinition.apiextensions.k8s.io/aegirservers.hosting.openatria.com",
      "customresourcedefinition.apiextensions.k8s.io/hostedspaces.hosting.openatria.com",
      "customresourcedefinition.apiextensions.k8s.io/hostedsiterestores.hosting.openatria.com",
      "customresourcedefinition.apiextensions.k8s.io/sitepools.hosting.openatria.com",
      "customresourcedefinition.apiextensions.k8s.io/platformrollouts.hosting.openatria.com",
    ]);
    expect(server.requests.find({ verb: "create" })).toEqual([]);
  });
});
