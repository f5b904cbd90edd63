// The sandbox (what `npm start` runs): examples converge, and an order placed with
// `aegir-operator sandbox order` goes through the real webhook and becomes a Ready HostedSite (a
// spare of the sandbox's pool, renamed), or for the demo kit a Ready HostedSpace in the shared demo site.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../controller/cli.ts";
import { API_VERSION } from "../../crds/group.ts";
import { OG_ADMINISTRATOR_ROLE, spaceByMachine } from "../harness/aegir/spaces.ts";
import { userByMail } from "../harness/aegir/drupal.ts";
import { DEV_COMMANDS } from "../harness/dev-commands.ts";
import type { Sandbox } from "../harness/sandbox.ts";
import { captureIO } from "../helpers/io.ts";
import { startTestSandbox } from "../helpers/sandbox.ts";
import { tempDir } from "../helpers/tmp.ts";
import { eventually, liveSpares } from "./stack.ts";

type Site = { metadata: { name: string; labels?: Record<string, string> }; spec: { domain: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
type Space = Omit<Site, "spec"> & { spec: { machineName: string; site: { hostedSite?: string } } };
const ready = (s: Site | Space) => s.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
const condition = (s: Site | Space | undefined, type: string) => s?.status?.conditions?.find((c) => c.type === type)?.status;
const SUBSCRIPTION = "hosting.openatria.com/stripe-subscription";

describe("sandbox", () => {
  const dir = tempDir();
  let sandbox: Sandbox;
  const sites = () => sandbox.api.objects.list(API_VERSION, "HostedSite", { namespace: "customers" }) as unknown as Site[];
  const spaces = () => sandbox.api.objects.list(API_VERSION, "HostedSpace", { namespace: "customers" }) as unknown as Space[];

  beforeAll(async () => {
    sandbox = await startTestSandbox(dir);
  }, 60_000);
  afterAll(() => sandbox?.stop());

  it("converges the five example sites, the shared demo site among them, and creates the example space in it", async () => {
    await eventually(() => (sites().length === 5 && sites().every(ready) ? true : undefined), 40_000, "the examples to be Ready");
    const state = (await (await fetch(sandbox.info.aegirState)).json()) as { sites: Array<{ uri: string }> };
    expect(state.sites.map((s) => s.uri)).toEqual(expect.arrayContaining(["acme.sites.openatria.com", "intranet.globex.example.com", "demo.sites.openatria.com"]));
    // Its expiry is a fixed date: created (and Ready until then), whatever day the test runs.
    const example = await eventually(() => spaces().find((s) => s.metadata.name === "acme-demo" && condition(s, "SpaceCreated") === "True"), 20_000, "the example space");
    expect(spaceByMachine(sandbox.sim.site("demo.sites.openatria.com")!.drupal!, example.spec.machineName)).toBeDefined();
  }, 65_000);

  it("reports the sandbox's AegirServer as passing check-server's checks", async () => {
    const server = () => (sandbox.api.objects.list(API_VERSION, "AegirServer") as unknown as Site[])[0];
    const conformant = await eventually(() => server()?.status?.conditions?.find((c) => c.type === "Conformant"), 20_000, "the Conformant condition");
    expect(conformant.status).toBe("True");
  }, 25_000);

  it("turns a signed test order into a Ready HostedSite through the webhook, a renamed spare of the pool", async () => {
    const pool = () => (sandbox.api.objects.list(API_VERSION, "SitePool") as unknown as Array<{ status?: { ready?: number } }>)[0];
    await eventually(() => ((pool()?.status?.ready ?? 0) > 0 ? true : undefined), 30_000, "a ready spare");
    const spares = new Set(liveSpares(sandbox.sim).map((s) => s.nid));
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
    // What the README tour points at: the site is a spare renamed by a migrate, not a new install.
    const nid = sandbox.sim.site("intranet.example.org")?.nid;
    expect(spares.has(nid ?? -1)).toBe(true);
    expect([...sandbox.sim.hostmaster.tasks.values()].filter((t) => t.rid === nid).map((t) => t.type)).toContain("migrate");
    // The pool's installs ran outside Aegir's queue (only the pool installs a site of its zone): the Aegir state shows them background, ended or not.
    const installs = sandbox.sim.state().tasks.filter((t) => t.site.endsWith(".pool.invalid") && t.type === "install");
    expect(installs.length).toBeGreaterThan(0);
    expect(installs.filter((t) => !t.background)).toEqual([]);
  }, 75_000);

  it("turns a demo order into a Ready HostedSpace in the shared demo site, its owner the space's administrator, welcomed once", async () => {
    const io = captureIO();
    expect(await main(["sandbox", "order", "--dir", dir, "--kit", "demo", "--subdomain", "tinker", "--email", "ada@tinker.example.com"], io, DEV_COMMANDS)).toBe(0);
    const subscription = /subscription (sub_\w+)/.exec(io.out())?.[1];
    const space = await eventually(() => spaces().find((s) => s.metadata.labels?.[SUBSCRIPTION] === subscription && ready(s)), 40_000, "the ordered space to be Ready");
    expect(io.out()).toContain(`It becomes the HostedSpace customers/${space.metadata.name}, a space in the shared site demo, owned by ada@tinker.example.com`);
    expect(io.out()).toContain("kubectl get hsp -l hosting.openatria.com/stripe-subscription=");
    expect(space.spec.site).toEqual({ hostedSite: "demo" });
    expect(sites().find((s) => s.metadata.labels?.[SUBSCRIPTION] === subscription)).toBeUndefined();

    const drupal = sandbox.sim.site("demo.sites.openatria.com")!.drupal!;
    const owner = userByMail(drupal, "ada@tinker.example.com")!;
    expect(owner.uid).toBeGreaterThan(1);
    expect(spaceByMachine(drupal, space.spec.machineName)?.members.get(owner.uid)?.roles).toContain(OG_ADMINISTRATOR_ROLE);
    expect(drupal.outbox.filter((m) => m.kind === "space_welcome" && m.uid === owner.uid)).toHaveLength(1);
  }, 45_000);

  it("says when no sandbox runs", async () => {
    const io = captureIO();
    expect(await main(["sandbox", "order", "--dir", `${dir}/nowhere`, "--kit", "community"], io, DEV_COMMANDS)).toBe(1);
    expect(io.err()).toContain("no running sandbox found");
  });
});
