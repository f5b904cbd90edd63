// The sandbox (what `npm start` runs): examples converge, and an order placed with
// `aegir-operator sandbox order` goes through the real webhook and becomes a Ready HostedSite.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { API_VERSION } from "../../crds/group.ts";
import { DEV_COMMANDS } from "../harness/dev-commands.ts";
import type { Sandbox } from "../harness/sandbox.ts";
import { captureIO } from "../helpers/io.ts";
import { startTestSandbox } from "../helpers/sandbox.ts";
import { tempDir } from "../helpers/tmp.ts";
import { eventually } from "./stack.ts";

type Site = { metadata: { name: string; labels?: Record<string, string> }; spec: { domain: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
const ready = (s: Site) => s.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

describe("sandbox", () => {
  const dir = tempDir();
  let sandbox: Sandbox;
  const sites = () => sandbox.api.objects.list(API_VERSION, "HostedSite", { namespace: "customers" }) as unknown as Site[];

  beforeAll(async () => {
    sandbox = await startTestSandbox(dir);
  }, 60_000);
  afterAll(() => sandbox?.stop());

  it("converges the four example sites", async () => {
    await eventually(() => (sites().length === 4 && sites().every(ready) ? true : undefined), 40_000, "the examples to be Ready");
    const state = (await (await fetch(sandbox.info.aegirState)).json()) as { sites: Array<{ uri: string }> };
    expect(state.sites.map((s) => s.uri)).toEqual(expect.arrayContaining(["acme.sites.openatria.com", "intranet.globex.example.com"]));
  }, 45_000);

  it("reports the sandbox's AegirServer as passing check-server's checks", async () => {
    const server = () => (sandbox.api.objects.list(API_VERSION, "AegirServer") as unknown as Site[])[0];
    const conformant = await eventually(() => server()?.status?.conditions?.find((c) => c.type === "Conformant"), 20_000, "the Conformant condition");
    expect(conformant.status).toBe("True");
  }, 25_000);

  it("turns a signed test order into a Ready HostedSite through the webhook", async () => {
    const io = captureIO();
    expect(await main(["sandbox", "order", "--dir", dir, "--kit", "business", "--domain", "intranet.example.org", "--email", "ceo@example.org"], io, DEV_COMMANDS)).toBe(0);
    const subscription = /subscription (sub_\w+)/.exec(io.out())?.[1];
    expect(subscription).toBeDefined();
    const site = await eventually(
      () => sites().find((s) => s.metadata.labels?.["hosting.openatria.com/stripe-subscription"] === subscription && ready(s)),
      40_000,
      "the ordered site to be Ready",
    );
    expect(site.spec.domain).toBe("intranet.example.org");
    expect(sandbox.sim.site("intranet.example.org")?.drupal?.variables.get("theme_default")).toBe("oa_radix");
  }, 45_000);

  it("says when no sandbox runs", async () => {
    const io = captureIO();
    expect(await main(["sandbox", "order", "--dir", `${dir}/nowhere`, "--kit", "community"], io, DEV_COMMANDS)).toBe(1);
    expect(io.err()).toContain("no running sandbox found");
  });
});
