// End to end, claims racing: two controller replicas without leader election (both reconcile
// everything) against the same fake API server and simulated Aegir; three orders arrive at once
// while one spare is ready. The spare goes to one of them, exactly once; no site keeps a trace of
// a placeholder; all become Ready; `kubectl get aegirservers` shows the pool.
import { describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/group.ts";
import type { SitePool } from "../../crds/kinds.ts";
import { kubectlUnavailableReason } from "../harness/kube/index.ts";
import { PLATFORM } from "../hostedsite/harness.ts";
import { Stack, eventually, liveSpares, useStack } from "./stack.ts";

const noKubectl = kubectlUnavailableReason();
if (noKubectl) console.warn(`skipping the racing-claims end-to-end test: ${noKubectl}`);

const ORDERS = ["acme", "globex", "initech"];

describe.skipIf(noKubectl !== undefined)("warm pool, two replicas racing for one spare", () => {
  const e2e = useStack(new Stack());
  const { stack } = e2e;

  const pool = () => stack.api.objects.get({ apiVersion: API_VERSION, kind: "SitePool", name: "aegir-1-openatrium" }) as SitePool | undefined;

  it("hands the one spare to one order only, leaves no placeholder anywhere, and every site becomes Ready", async () => {
    const replicas = ["replica-a", "replica-b"].map((id) => stack.controller(id, ["--leader-elect=false"]));
    const manifest = { apiVersion: API_VERSION, kind: "SitePool", metadata: { name: "aegir-1-openatrium" }, spec: { server: "aegir-1", platform: PLATFORM, features: ["oa_wiki"], size: { min: 1, max: 1 } } };
    expect((await e2e.kubectl.run(["apply", "-f", "-"], JSON.stringify(manifest))).stderr).toBe("");
    const live = () => liveSpares(stack.sim).map((s) => s.uri);
    // Both replicas may have started a refill; the surplus spare is discarded: the one left is the one to race for.
    const one = () => pool()?.status?.ready === 1 && pool()?.status?.spares?.length === 1 && live().length === 1;
    await eventually(() => (one() ? true : undefined), 60_000, "one ready spare, and no other");
    const spare = pool()?.status?.spares?.find((s) => s.state === "Ready");
    const spareNid = stack.sim.site(spare!.domain)?.nid;
    const servers = await eventually(async () => {
      const out = (await e2e.kubectl.run(["get", "aegirservers"])).stdout;
      return /SPARES/.test(out) && /aegir-1\s+\S+\s+\d+\s+\d+\s+1\/1\s/.test(out) ? out : undefined;
    }, 30_000, "the pool in kubectl get aegirservers");
    expect(servers).toMatch(/HOST\s+SITES\s+MAX\s+SPARES\s+REACHABLE/);

    // All three at once: both replicas see them and race for the spare.
    type Manifest = Parameters<typeof stack.api.objects.create>[0];
    for (const name of ORDERS) stack.api.objects.create(JSON.parse(stack.hostedSite(name, `${name}.sites.example.com`)) as Manifest);
    for (const name of ORDERS) {
      const wait = await e2e.kubectl.run(["wait", "--for=condition=Ready", `hs/${name}`, "--timeout=90s"]);
      expect(wait.stdout, wait.stderr).toContain("condition met");
    }

    const nodes = ORDERS.map((name) => stack.sim.site(`${name}.sites.example.com`));
    expect(new Set(nodes.map((n) => n?.nid)).size).toBe(ORDERS.length);
    // The spare became exactly one customer's site, renamed once; the others were installed.
    expect(nodes.filter((n) => n?.nid === spareNid)).toHaveLength(1);
    const migrates = [...stack.sim.hostmaster.tasks.values()].filter((t) => t.type === "migrate");
    expect(migrates.filter((t) => t.rid === spareNid)).toHaveLength(1);
    expect(stack.sim.hostmaster.context(spare!.domain)).toBeUndefined();
    for (const node of nodes) {
      const drupal = node?.drupal;
      expect(node?.aliases.filter((a) => a.endsWith(".pool.invalid"))).toEqual([]);
      expect([...(drupal?.variables ?? [])].filter(([, v]) => JSON.stringify(v).includes(".pool.invalid"))).toEqual([]);
      expect([...(drupal?.users.values() ?? [])].filter((u) => `${u.name} ${u.mail}`.includes(".pool.invalid"))).toEqual([]);
      expect(drupal?.outbox.filter((m) => m.kind === "register_admin_created")).toHaveLength(1);
    }
    // No claim left behind, and every spare in Aegir is one the pool knows, once both replicas'
    // pool controllers (no leader election here) have settled their installs and discards.
    const settled = () => {
      const spares = pool()?.status?.spares ?? [];
      const same = JSON.stringify(live().sort()) === JSON.stringify(spares.map((s) => s.domain).sort());
      return pool()?.status?.ready === 1 && same ? spares : undefined;
    };
    const spares = await eventually(settled, 60_000, "the pool refilled and its record matching Aegir");
    expect(spares.filter((s) => s.claimedBy !== undefined)).toEqual([]);
    expect(replicas.every((r) => r.child.exitCode === null)).toBe(true);
    // A replica resuming a claim the other already finished neither discards the spare nor scrubs again.
    const logs = replicas.flatMap((r) => r.logs());
    expect(logs.filter((l) => l.includes("claim abandoned"))).toEqual([]);
    // Each spare claimed once. Without leader election both replicas may refill the max-1 pool, so
    // a second spare can be ready in time for another of the orders: that is a claim of its own.
    const claims = logs.filter((l) => l.includes('"msg":"spare claimed"')).map((l) => (JSON.parse(l) as { spare: string }).spare);
    expect(claims).toContain(spare!.domain);
    expect(claims.length).toBe(new Set(claims).size);
  }, 180_000);
});
